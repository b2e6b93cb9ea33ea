package board

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

var (
	millionOnce sync.Once
	million     []store.Ticket
	benchPolicy = slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())
)

// millionTickets is built once per test binary: Compute for 10^6 tickets
// takes seconds.
func millionTickets() []store.Ticket {
	millionOnce.Do(func() { million = syntheticTickets(1_000_000, benchPolicy, base) })
	return million
}

func reportCore(b *testing.B) {
	// A tick runs once a second, so its ns are a share of a core.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9*100, "%core")
}

// BenchmarkTickIdle is the board's once-a-second work at 10^6 tickets (60%
// of them with a running clock, tens of thousands breached).
//
// quiet: a second in which no clock's next change has come (the clock is
// set back to the same second, so every tick after the first finds the
// heap's top in the future). busy: the clock moves a second per tick
// through a spread of 500,000 s of creation times, so every tick warns or
// breaches some clocks and publishes, as a real busy desk does.
func BenchmarkTickIdle(b *testing.B) {
	ts := millionTickets()
	b.Run("tickets=1000000/quiet", func(b *testing.B) {
		clk := &fakeClock{t: base}
		bd := FromTickets(ts, benchPolicy, clk.Now)
		clk.Add(time.Second)
		bd.Tick()
		v := bd.Snapshot().Version
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			bd.Tick()
		}
		b.StopTimer()
		reportCore(b)
		if bd.Snapshot().Version != v {
			b.Fatal("a quiet tick published a snapshot")
		}
	})
	b.Run("tickets=1000000/busy", func(b *testing.B) {
		clk := &fakeClock{t: base}
		bd := FromTickets(ts, benchPolicy, clk.Now)
		v := bd.Snapshot().Version
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			clk.Add(time.Second)
			bd.Tick()
		}
		b.StopTimer()
		reportCore(b)
		b.ReportMetric(float64(bd.Snapshot().Version-v)/float64(b.N), "snapshots/tick")
		s := bd.Snapshot()
		b.ReportMetric(float64(s.Breached), "breached")
	})
}

// BenchmarkLoad is building the board: from 10^6 tickets in memory (rows,
// order, first evaluation of every clock) and from a real store of 100,000
// (the scan and decoding too).
func BenchmarkLoad(b *testing.B) {
	b.Run("tickets=1000000/memory", func(b *testing.B) {
		ts := millionTickets()
		b.ReportAllocs()
		b.ResetTimer()
		var keep *Board
		var ms0, ms1 runtime.MemStats
		for range b.N {
			keep = nil
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			keep = FromTickets(ts, benchPolicy, func() time.Time { return base })
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		// What a row costs in the heap, beyond the tickets the benchmark holds.
		b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(keep.Snapshot().Rows.Len()), "heapB/row")
	})
	b.Run("tickets=100000/store", func(b *testing.B) {
		st := benchStore(b, 100_000)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ctx, cancel := context.WithCancel(context.Background())
			if _, err := New(ctx, st, nil); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
}

func benchStore(b *testing.B, n int) *store.Store {
	st, err := store.Open(b.TempDir(), store.Options{Policy: benchPolicy})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const writers = 4
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := w; i < n; i += writers {
				if _, err := st.Create("bench", store.NewTicket{Type: store.Incident, Priority: store.Priority(i%4 + 1),
					Subject: fmt.Sprintf("Ticket %d: borger.dk login fails", i), Requester: store.Person{Name: "Anna Ærø", Email: "a@x.dk"}}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range writers {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkApply is one batch of 100 changed tickets on a board of 10^6:
// the change feed's unit of work at intake speed.
func BenchmarkApply(b *testing.B) {
	ts := millionTickets()
	clk := &fakeClock{t: base}
	bd := FromTickets(ts, benchPolicy, clk.Now)
	const batch = 100
	versions := [2][]store.Ticket{}
	for v := range versions {
		for i := range batch {
			t := ts[i*9973%len(ts)]
			t.Assignee = []string{"mette", "jonas"}[v]
			t.Status = []store.Status{store.StatusOpen, store.StatusEscalated}[(i+v)%2]
			t.Events += v + 1
			versions[v] = append(versions[v], t)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bd.apply(versions[i%2], nil)
	}
}
