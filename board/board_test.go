package board

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

func ids(rs []*Row) []store.TicketID {
	out := make([]store.TicketID, len(rs))
	for i, r := range rs {
		out[i] = r.T.ID
	}
	return out
}

// checkAgainst compares the board's snapshot with a full re-evaluation at
// the clock's now (the snapshot may be older: nothing changed since).
func checkAgainst(t *testing.T, b *Board, p slaengine.Policy, now time.Time, step string) {
	t.Helper()
	s := b.Snapshot()
	rows := s.Rows.Append(nil)
	w := bruteForce(rows, p, now)
	if got, want := ids(rows), ids(w.rows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: rows out of order:\n got %v\nwant %v", step, got, want)
	}
	for _, r := range rows {
		if got, want := s.Hot.State(r.T.ID), w.hot[r.T.ID]; got != want {
			c, which := p.ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, now).Next()
			t.Fatalf("%s: %s hot state %q, full re-evaluation %q of its %s clock %+v (stored %+v)", step, r.T.ID, got, want, which, c, r.T.SLA)
		}
	}
	if got, want := ids(s.HotRows.Append(nil)), ids(w.hotRows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: hot rows\n got %v\nwant %v", step, got, want)
	}
	if s.Hot.Len() != len(w.hot) || s.Breached != w.breached || s.Warning != len(w.hot)-w.breached {
		t.Fatalf("%s: %d hot, %d breached, %d warning; want %d, %d, %d", step, s.Hot.Len(), s.Breached, s.Warning, len(w.hot), w.breached, len(w.hot)-w.breached)
	}
	if (s.NextBreach == nil) != (w.next == nil) || (w.next != nil && s.NextBreach.T.ID != w.next.T.ID) {
		t.Fatalf("%s: next breach %v, want %v", step, s.NextBreach, w.next)
	}
	if s.Active != w.active || s.Unassigned != w.unassigned || !maps.Equal(s.ByStatus, w.byStatus) || !maps.Equal(s.ByAssignee, w.byAssignee) {
		t.Fatalf("%s: counts active %d unassigned %d by status %v by assignee %v; want %d %d %v %v", step,
			s.Active, s.Unassigned, s.ByStatus, s.ByAssignee, w.active, w.unassigned, w.byStatus, w.byAssignee)
	}
	for i := range rows[:s.Active] {
		if rows[i].Group() == GroupDone {
			t.Fatalf("%s: Rows[:Active] holds the done ticket %s", step, rows[i].T.ID)
		}
	}
}

// TestBoardMatchesFullReevaluation moves a fake clock by random steps (a
// second to hours) and applies random batches of changes, and after each
// compares everything the board publishes with a full re-evaluation of
// every clock at that instant.
func TestBoardMatchesFullReevaluation(t *testing.T) {
	for _, cal := range []*slaengine.Calendar{slaengine.AlwaysOpen(), slaengine.DefaultBusinessCalendar()} {
		t.Run(cal.Name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(8))
			p := slaengine.DefaultPolicy(cal)
			clk := &fakeClock{t: base}
			var ts []store.Ticket
			for i := 1; i <= 1500; i++ {
				ts = append(ts, randTicket(rng, store.TicketID(i), p, base))
			}
			b := FromTickets(ts, p, clk.Now)
			checkAgainst(t, b, p, clk.Now(), "load")
			nextID := store.TicketID(len(ts) + 1)
			changes, published := 0, 0
			for step := 0; step < 300; step++ {
				switch rng.Intn(4) {
				case 0:
					clk.Add(time.Second)
				case 1:
					clk.Add(time.Duration(rng.Intn(600)) * time.Second)
				default:
					clk.Add(time.Duration(rng.Int63n(int64(3 * time.Hour))))
				}
				ver := b.Snapshot().Version
				if rng.Intn(3) == 0 {
					var fresh []store.Ticket
					var gone []store.TicketID
					for n := rng.Intn(20); n > 0; n-- {
						id := store.TicketID(1 + rng.Intn(int(nextID-1)))
						if rng.Intn(5) == 0 {
							id, nextID = nextID, nextID+1
						}
						if rng.Intn(15) == 0 {
							gone = append(gone, id)
							continue
						}
						fresh = append(fresh, randTicket(rng, id, p, clk.Now()))
					}
					b.apply(fresh, gone)
					if len(fresh)+len(gone) == 0 {
						b.Tick() // an empty batch is no batch; the second still ticks
					}
					changes++
				} else {
					b.Tick()
				}
				if b.Snapshot().Version != ver {
					published++
				}
				checkAgainst(t, b, p, clk.Now(), fmt.Sprintf("step %d at %s", step, clk.Now()))
			}
			s := b.Snapshot()
			t.Logf("%d batches, %d snapshots in 300 steps; at the end %d hot, %d breached of %d", changes, published, s.Hot.Len(), s.Breached, s.Rows.Len())
			if s.Breached == 0 || s.Warning == 0 && published == changes {
				t.Fatalf("the generator made no breaches or no clock change by time alone: it proves nothing")
			}
		})
	}
}

// TestIdleTickPublishesNothing: a second in which no clock changes state
// makes no snapshot, so sessions are not woken to redraw nothing.
func TestIdleTickPublishesNothing(t *testing.T) {
	p := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	clk := &fakeClock{t: base}
	created := base.Add(-time.Minute)
	tk := store.Ticket{ID: 1, Type: store.Incident, Priority: 1, Status: store.StatusOpen, Created: created, Updated: created}
	tk.SLA = slaengine.Compute(p, slaengine.Timeline{Created: created, Priority: 1, Status: "open"}, created)
	tk.Deadline = tk.SLA.Deadline()
	b := FromTickets([]store.Ticket{tk}, p, clk.Now)
	ch, stop := b.Subscribe()
	defer stop()
	v := b.Snapshot().Version
	for range 10 { // P1 response: 15m, warning from 11m15s
		clk.Add(time.Second)
		b.Tick()
	}
	if b.Snapshot().Version != v || len(ch) != 0 {
		t.Fatalf("ten quiet seconds published snapshots (version %d → %d)", v, b.Snapshot().Version)
	}
	clk.Add(10*time.Minute + 5*time.Second) // 11m15s after creation
	b.Tick()
	s := b.Snapshot()
	if s.Version == v || s.Hot.State(1) != slaengine.StateWarning || len(ch) != 1 {
		t.Fatalf("at the warning instant: version %d (was %d), state %q, %d wake-ups", s.Version, v, s.Hot.State(1), len(ch))
	}
}

func TestSubscribeCoalescesAndUnsubscribeCloses(t *testing.T) {
	p := slaengine.DefaultPolicy(nil)
	b := FromTickets(nil, p, func() time.Time { return base })
	ch, stop := b.Subscribe()
	for i := range 3 {
		b.apply([]store.Ticket{{ID: store.TicketID(i + 1), Status: store.StatusNew}}, nil)
	}
	if len(ch) != 1 {
		t.Fatalf("three snapshots left %d wake-ups queued, want 1", len(ch))
	}
	<-ch
	stop()
	if _, ok := <-ch; ok {
		t.Fatal("the channel is still open after unsubscribing")
	}
	stop() // twice is harmless
	b.subMu.Lock()
	n := len(b.subs)
	b.subMu.Unlock()
	if n != 0 {
		t.Fatalf("%d subscriptions left after unsubscribing", n)
	}
}

func TestSearchText(t *testing.T) {
	for _, tk := range []store.Ticket{
		{ID: 12, Subject: "Login FAILS", Requester: store.Person{Name: "Søren ØSTERGÅRD", Email: "SO@Aarhus.dk", Organisation: "ÆØÅ İ K"}},
		{ID: 7, Subject: "a\x1b[31mred\x1b[0m\nline\u202e", Requester: store.Person{Name: "\xff\xfe bad"}},
	} {
		want := strings.ToLower(tk.ID.String() + "\x00" + termtext.Line(tk.Subject) + "\x00" + termtext.Line(tk.Requester.Name) +
			"\x00" + termtext.Line(tk.Requester.Email) + "\x00" + termtext.Line(tk.Requester.Organisation))
		if got := newRow(tk).Search; got != want {
			t.Errorf("Search = %q, want %q", got, want)
		}
	}
}

// TestChangeFeedApplied: a board over a real store sees writes made after
// it loaded, through the change feed.
func TestChangeFeedApplied(t *testing.T) {
	p := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	st, err := store.Open(t.TempDir(), store.Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 5 {
		if _, err := st.Create("test", store.NewTicket{Type: store.Incident, Priority: store.Priority(i%4 + 1),
			Subject: fmt.Sprintf("Ticket %d", i), Requester: store.Person{Name: "Anna", Email: "a@x.dk"}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := New(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := b.Snapshot(); s.Rows.Len() != 5 || s.Active != 5 || s.Unassigned != 5 {
		t.Fatalf("loaded %d rows, %d active, %d unassigned; want 5, 5, 5", s.Rows.Len(), s.Active, s.Unassigned)
	}
	ch, stop := b.Subscribe()
	defer stop()
	if _, err := st.SetField(2, "mette", store.FieldAssignee, "", "mette"); err != nil {
		t.Fatal(err)
	}
	nt, err := st.Create("test", store.NewTicket{Type: store.Incident, Priority: 1, Subject: "New one", Requester: store.Person{Name: "Bo", Email: "b@x.dk"}})
	if err != nil {
		t.Fatal(err)
	}
	fail := time.After(10 * time.Second) // only a failure waits this long
	for {
		s := b.Snapshot()
		if s.Rows.Len() == 6 && s.Assigned("mette") == 1 {
			if s.Unassigned != 5 || s.Rows.At(s.Rows.Len()-1).T.ID == nt.ID {
				t.Fatalf("after the changes: %d unassigned, the new P1 %s last; want 5 and it among the running clocks", s.Unassigned, nt.ID)
			}
			checkAgainst(t, b, p, s.Now, "after the change feed")
			return
		}
		select {
		case <-ch:
		case <-fail:
			t.Fatalf("the board never showed the changes: %d rows, mette has %d", s.Rows.Len(), s.Assigned("mette"))
		}
	}
}

// Rows replaced by changes are not kept alive by the heaps' stale entries
// beyond a sixteenth of the board (they hold the old Row until compacted).
func TestReplacedRowsAreCompactedAway(t *testing.T) {
	p := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	clk := &fakeClock{t: base}
	mk := func(id int, prio store.Priority, at time.Time) store.Ticket {
		tk := store.Ticket{ID: store.TicketID(id), Type: store.Incident, Priority: prio, Status: store.StatusOpen, Created: base, Updated: at}
		tk.SLA = slaengine.Compute(p, slaengine.Timeline{Created: base, Priority: slaengine.Priority(prio), Status: "open"}, at)
		tk.Deadline = tk.SLA.Deadline()
		return tk
	}
	const n = 4000
	var ts []store.Ticket
	for i := 1; i <= n; i++ {
		ts = append(ts, mk(i, 3, base))
	}
	b := FromTickets(ts, p, clk.Now)
	for round := range 5 { // every ticket changed five times
		clk.Add(time.Second)
		fresh := make([]store.Ticket, 0, n)
		for i := 1; i <= n; i++ {
			fresh = append(fresh, mk(i, store.Priority(3+round%2), clk.Now()))
		}
		b.apply(fresh, nil)
	}
	b.mu.Lock()
	due, next := len(b.due), len(b.next)
	b.mu.Unlock()
	if limit := n + n/16 + 256; due > limit || next > limit {
		t.Errorf("after 5 changes of each of %d tickets the heaps hold %d and %d entries, want at most %d", n, due, next, limit)
	}
	checkAgainst(t, b, p, clk.Now(), "after the changes")
}

// A ticket's old Row is freed once it is replaced and no snapshot holds it
// any more: nothing of the board's (a list built at start, a heap) keeps
// it. Before, the leaves of the list built at start shared one array,
// which kept every first Row alive.
func TestReplacedRowsAreFreed(t *testing.T) {
	p := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	clk := &fakeClock{t: base}
	mk := func(id int, at time.Time) store.Ticket {
		tk := store.Ticket{ID: store.TicketID(id), Type: store.Incident, Priority: 3, Status: store.StatusOpen, Created: base, Updated: at}
		tk.SLA = slaengine.Compute(p, slaengine.Timeline{Created: base, Priority: 3, Status: "open"}, at)
		tk.Deadline = tk.SLA.Deadline()
		return tk
	}
	const n = 3000
	var ts []store.Ticket
	for i := 1; i <= n; i++ {
		ts = append(ts, mk(i, base))
	}
	b := FromTickets(ts, p, clk.Now)
	var freed atomic.Int64
	watched := 0
	func() {
		s := b.Snapshot()
		s.Rows.Range(0, func(i int, r *Row) bool {
			if i%10 == 0 && r.T.ID <= n/2 { // the first half is changed below
				runtime.AddCleanup(r, func(*atomic.Int64) { freed.Add(1) }, &freed)
				watched++
			}
			return true
		})
	}()
	clk.Add(time.Second)
	var fresh []store.Ticket
	for i := 1; i <= n/2; i++ { // leaves of the second half stay untouched
		fresh = append(fresh, mk(i, clk.Now()))
	}
	b.apply(fresh, nil)
	for try := 0; try < 50 && freed.Load() < int64(watched); try++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := freed.Load(); got != int64(watched) {
		t.Errorf("%d of %d replaced rows freed", got, watched)
	}
	runtime.KeepAlive(b)
}
