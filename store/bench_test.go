package store

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// go test -run '^$' -bench . -benchmem ./store/

func benchTicket(i int) NewTicket {
	return NewTicket{
		Type: Types[i%3], Priority: Priority(i%4 + 1), Queue: []string{"1st-line", "2nd-line", "network"}[i%3],
		Subject:   fmt.Sprintf("Printer on floor %d does not print colour pages since the update", i%40),
		Requester: Person{Name: "Requester " + fmt.Sprint(i%997), Email: fmt.Sprintf("user%d@example.org", i%997), Organisation: "Agency"},
		Message: &Message{MessageID: fmt.Sprintf("m%d@example.org", i), From: Person{Email: fmt.Sprintf("user%d@example.org", i%997)},
			To: []string{"support@desk.test"}, Subject: "Printer", Body: "It prints only black and white pages since Monday."},
		Inbound: true,
	}
}

func BenchmarkCreate(b *testing.B) {
	s, _ := newTestStore(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Create("bench", benchTicket(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, clk := newTestStore(b)
	const n = 1000
	for i := range n {
		mustCreate(b, s, benchTicket(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clk.Add(time.Second)
		st := []Status{StatusOpen, StatusWaiting}[i%2]
		if _, err := s.Update(TicketID(i%n+1), "bench", events(setStatus(st), Event{Kind: EvNote, Text: "checked"})); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// big100k is a store of 100,000 tickets built once per process and reused
// by the benchmarks that need it.
var big100k struct {
	once sync.Once
	dir  string
	err  error
}

const bigN = 100_000

func bigStore(b *testing.B) string {
	big100k.once.Do(func() {
		dir, err := os.MkdirTemp("", "desk-store-bench-")
		if err != nil {
			big100k.err = err
			return
		}
		big100k.dir = dir
		clk := newClock()
		s, err := Open(dir, Options{Policy: testPolicy(), Now: clk.Now, MailDomain: "desk.test"})
		if err != nil {
			big100k.err = err
			return
		}
		defer s.Close()
		// The real create path, 200 tickets per transaction to build it
		// in seconds rather than a minute.
		for i := 0; i < bigN; i += 200 {
			clk.Add(time.Minute)
			err := s.write(func(txn *badger.Txn, w *writeSet) error {
				for j := i; j < i+200; j++ {
					if _, err := s.createIn(txn, w, "bench", benchTicket(j), nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				big100k.err = err
				return
			}
		}
	})
	if big100k.err != nil {
		b.Fatal(big100k.err)
	}
	return big100k.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big100k.dir != "" {
		os.RemoveAll(big100k.dir)
	}
	os.Exit(code)
}

func BenchmarkOpen100k(b *testing.B) {
	dir := bigStore(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(dir, Options{Policy: testPolicy()})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkTickets100k(b *testing.B) {
	dir := bigStore(b)
	s, err := Open(dir, Options{Policy: testPolicy()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := s.Tickets(func(Ticket) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
		if n != bigN {
			b.Fatalf("%d tickets", n)
		}
	}
}

func BenchmarkByDeadline100k(b *testing.B) {
	dir := bigStore(b)
	s, err := Open(dir, Options{Policy: testPolicy()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := s.ByDeadline(func(TicketID, time.Time) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatal("no deadlines")
		}
	}
}

// BenchmarkMemory100k reports the process's heap and resident memory after
// opening the 100k store and streaming every projection once (the console's
// start), without keeping the tickets.
func BenchmarkMemory100k(b *testing.B) {
	dir := bigStore(b)
	for b.Loop() {
		runtime.GC()
		s, err := Open(dir, Options{Policy: testPolicy()})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Tickets(func(Ticket) bool { return true }); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MB-heap")
		b.ReportMetric(rssMB(), "MB-rss")
		s.Close()
	}
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
