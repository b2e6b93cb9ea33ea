package mailin

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is one desk (a real store) wired to an in-process IMAP server and an
// in-process SMTP sink.
type rig struct {
	t    testing.TB
	st   *store.Store
	im   *LocalIMAP
	sink *LocalSink
	cfg  Config
	opt  Options
	clk  *clock
	svc  *Service
}

func testLogger(t testing.TB) *log.Logger {
	if os.Getenv("MAILIN_TEST_LOG") != "" {
		return log.New(os.Stderr, t.Name()+" ", log.Lmicroseconds)
	}
	return nil
}

func openStore(t testing.TB, dir string, clk *clock) *store.Store {
	return openStoreTagged(t, dir, clk, "", nil)
}

// openStoreTagged opens a store with a subject tag prefix and, with a mail
// key, Message-IDs tagged as cmd/desk tags them.
func openStoreTagged(t testing.TB, dir string, clk *clock, prefix string, key []byte) *store.Store {
	t.Helper()
	var idTag func(string) string
	if key != nil {
		idTag = func(local string) string { return MessageIDTag(key, local) }
	}
	st, err := store.Open(dir, store.Options{
		Policy: slaengine.DefaultPolicy(slaengine.AlwaysOpen()), Holder: "mailin test",
		MailDomain: "desk.test", SupportAddress: "support@desk.test", Now: clk.Now, TagPrefix: prefix, MessageIDTag: idTag,
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newRig(t testing.TB, tune func(*Config, *Options)) *rig {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	im, err := StartLocalIMAP("support", "secret", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	sink, err := StartLocalSink("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	r := &rig{t: t, im: im, sink: sink, clk: clk}
	r.cfg = Config{
		IMAP:      "imap://support@" + im.Addr + "/INBOX",
		SMTP:      "smtp://" + sink.Addr,
		Address:   "support@desk.test",
		StartFrom: "all",
		password:  "secret",
	}
	r.opt = Options{Now: clk.Now, Log: testLogger(t)}
	if tune != nil {
		tune(&r.cfg, &r.opt)
	}
	r.st = openStoreTagged(t, t.TempDir(), clk, r.cfg.TagPrefix, r.opt.SelfKey)
	r.svc, err = New(r.cfg, r.st, r.opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func (r *rig) deliver(raw string) {
	r.t.Helper()
	if err := r.im.Append("INBOX", []byte(raw)); err != nil {
		r.t.Fatalf("deliver: %v", err)
	}
}

func (r *rig) once() Stats {
	r.t.Helper()
	st, err := r.svc.Once(context.Background())
	if err != nil {
		r.t.Fatalf("Once: %v", err)
	}
	return st
}

func (r *rig) tickets() []store.Ticket {
	r.t.Helper()
	var out []store.Ticket
	if err := r.st.Tickets(func(t store.Ticket) bool { out = append(out, t); return true }); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *rig) history(id store.TicketID) []store.Event {
	r.t.Helper()
	h, err := r.st.History(id)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// messagesIn counts the inbound messages on a ticket.
func (r *rig) messagesIn(id store.TicketID) int {
	n := 0
	for _, e := range r.history(id) {
		if e.Kind == store.EvMessageIn || (e.Kind == store.EvCreated && e.Message != nil) {
			n++
		}
	}
	return n
}

var seq int

// mk builds a plain mail; headers are "Key: value" lines added verbatim.
func mk(from, subject, body string, headers ...string) string {
	seq++
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: support@desk.test\r\nSubject: %s\r\nDate: Mon, 02 Mar 2026 08:%02d:00 +0000\r\n", from, subject, seq%60)
	hasID := false
	for _, h := range headers {
		if strings.HasPrefix(strings.ToLower(h), "message-id:") {
			hasID = true
		}
		b.WriteString(h + "\r\n")
	}
	if !hasID {
		fmt.Fprintf(&b, "Message-ID: <t%d.%d@client.example>\r\n", seq, time.Now().UnixNano())
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(body + "\r\n")
	return b.String()
}
