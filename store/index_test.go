package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

func TestIndexesFollowChanges(t *testing.T) {
	s, clk := newTestStore(t)
	var ids []TicketID
	for i := range 12 {
		tk := mustCreate(t, s, NewTicket{
			Priority: Priority(i%4 + 1), Queue: []string{"1st", "2nd"}[i%2],
			Requester: Person{Email: []string{"Ann@X.org", "bob@y.org", ""}[i%3]},
		})
		ids = append(ids, tk.ID)
		clk.Add(time.Minute)
	}
	checkIndexes(t, s)
	// Move tickets around: status, queue, priority (moves the deadline),
	// pause, resolve (drops the deadline), reopen (brings it back).
	mustUpdate(t, s, ids[0], setStatus(StatusOpen), setField("queue", "3rd"))
	mustUpdate(t, s, ids[1], setField("priority", "P1"))
	mustUpdate(t, s, ids[2], setStatus(StatusWaiting))
	mustResolve(t, s, ids[3])
	mustResolve(t, s, ids[4])
	clk.Add(time.Hour)
	mustUpdate(t, s, ids[4], setStatus(StatusOpen))
	mustUpdate(t, s, ids[5], setField("priority", "P3"))
	mustResolve(t, s, ids[5])
	s.SetRoles(map[string]Role{"lead": RoleLead})
	if _, err := s.ReportIncident(ids[5], "bob", IncidentReport{Summary: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveReport(ids[5], "lead", 0); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, ids[5], setStatus(StatusClosed))
	mustUpdate(t, s, ids[6], Event{Kind: EvResponded})
	checkIndexes(t, s)

	get := func(id TicketID) Ticket {
		tk, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	if d := get(ids[2]).Deadline; !d.IsZero() {
		t.Errorf("waiting ticket has deadline %s; its clocks are paused", d)
	}
	for _, id := range []TicketID{ids[3], ids[5]} {
		if d := get(id).Deadline; !d.IsZero() {
			t.Errorf("%s is done but has deadline %s", id, d)
		}
	}
	if get(ids[4]).Deadline.IsZero() || get(ids[1]).Deadline.IsZero() {
		t.Errorf("reopened or re-prioritised tickets lost their deadline")
	}

	// ByStatus with and without queue.
	open, _ := idsOf(func(f func(TicketID) bool) error { return s.ByStatus(StatusOpen, "", f) })
	if !slices.Equal(sortedIDs(open), []TicketID{ids[0], ids[4]}) {
		t.Errorf("open = %v", open)
	}
	open3, _ := idsOf(func(f func(TicketID) bool) error { return s.ByStatus(StatusOpen, "3rd", f) })
	if !slices.Equal(open3, []TicketID{ids[0]}) {
		t.Errorf("open in 3rd = %v", open3)
	}
	new2, _ := idsOf(func(f func(TicketID) bool) error { return s.ByStatus(StatusNew, "2nd", f) })
	if !slices.Equal(new2, []TicketID{ids[1], ids[7], ids[9], ids[11]}) {
		t.Errorf("new in 2nd = %v", new2)
	}
	// ByRequester is case-insensitive.
	ann, _ := idsOf(func(f func(TicketID) bool) error { return s.ByRequester(" ann@x.ORG", f) })
	if !slices.Equal(ann, []TicketID{ids[0], ids[3], ids[6], ids[9]}) {
		t.Errorf("ann's tickets = %v", ann)
	}
	// ByDeadline is sorted and matches the projections.
	var dues []time.Time
	var byDue []TicketID
	err := s.ByDeadline(func(id TicketID, due time.Time) bool {
		if !get(id).Deadline.Equal(due) {
			t.Errorf("%s: index says %s, ticket says %s", id, due, get(id).Deadline)
		}
		byDue = append(byDue, id)
		dues = append(dues, due)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(dues, func(a, b time.Time) int { return a.Compare(b) }) || len(byDue) != 9 {
		t.Errorf("ByDeadline gave %v at %v", byDue, dues)
	}
	// Early stop.
	n := 0
	s.ByDeadline(func(TicketID, time.Time) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("ByDeadline did not stop: %d calls", n)
	}
}

func TestSetPolicyRecomputes(t *testing.T) {
	clk := newClock()
	s := openTest(t, t.TempDir(), clk, slaengine.Policy{})
	for i := range 5 {
		mustCreate(t, s, NewTicket{Priority: Priority(i%4 + 1)})
	}
	mustResolve(t, s, 5)
	n := 0
	s.ByDeadline(func(TicketID, time.Time) bool { n++; return true })
	if n != 0 {
		t.Fatalf("without a policy %d tickets have deadlines", n)
	}
	ch := s.Watch(context.Background())
	if err := s.SetPolicy(testPolicy()); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, s)
	if err := s.ByDeadline(func(TicketID, time.Time) bool { n++; return true }); err != nil || n != 4 {
		t.Errorf("after SetPolicy %d deadlines (%v), want 4", n, err)
	}
	tk, _ := s.Get(1)
	if want := tk.Created.Add(4 * time.Hour); tk.SLA.Resolution.Due.IsZero() || !tk.Deadline.Equal(tk.Created.Add(15*time.Minute)) || !tk.SLA.Resolution.Due.Equal(want) {
		t.Errorf("P1 clocks after SetPolicy: %+v, deadline %s", tk.SLA, tk.Deadline)
	}
	if len(s.Policy().Targets) != 4 {
		t.Errorf("Policy() = %+v", s.Policy())
	}
	for range 4 {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("SetPolicy changes did not reach the feed")
		}
	}
}

// Many writers on one ticket and many creating tickets: every update lands,
// ids are gap-free. With noLocks the per-ticket locks are off, so writers
// really conflict and the ErrConflict retry is what saves them.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	for _, noLocks := range []bool{false, true} {
		t.Run(fmt.Sprintf("noLocks=%v", noLocks), func(t *testing.T) {
			s, _ := newTestStore(t)
			s.noLocks = noLocks
			hot := mustCreate(t, s, NewTicket{Subject: "hot"})
			const writers, each = 20, 50
			var wg sync.WaitGroup
			errs := make(chan error, writers*each*2)
			for w := range writers {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := range each {
						text := fmt.Sprintf("w%d-%d", w, i)
						if _, err := s.Update(hot.ID, "w", events(Event{Kind: EvNote, Text: text})); err != nil {
							errs <- err
						}
					}
				}()
				go func() {
					defer wg.Done()
					for i := range each / 2 {
						if _, err := s.Create("c", NewTicket{Subject: fmt.Sprintf("c%d-%d", w, i)}); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			h, err := s.History(hot.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 1+writers*each {
				t.Fatalf("history has %d events, want %d", len(h), 1+writers*each)
			}
			seen := map[string]bool{}
			for i, e := range h {
				if e.Seq != i {
					t.Fatalf("event %d has seq %d", i, e.Seq)
				}
				if e.Kind == EvNote {
					if seen[e.Text] {
						t.Errorf("note %s twice", e.Text)
					}
					seen[e.Text] = true
				}
			}
			if tk, _ := s.Get(hot.ID); tk.Events != 1+writers*each {
				t.Errorf("projection counts %d events", tk.Events)
			}
			var got []TicketID
			s.Tickets(func(tk Ticket) bool { got = append(got, tk.ID); return true })
			for i, id := range got {
				if id != TicketID(i+1) {
					t.Fatalf("ids not gap-free: %v", got)
				}
			}
			if len(got) != 1+writers*each/2 {
				t.Errorf("%d tickets, want %d", len(got), 1+writers*each/2)
			}
			checkIndexes(t, s)
			t.Logf("conflicts retried: %d", s.conflicts.Load())
		})
	}
}

func TestWatchSeesEveryChange(t *testing.T) {
	s, _ := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Watch(ctx)
	var want []Change
	for i := range 30 {
		if i%3 == 0 {
			tk := mustCreate(t, s, NewTicket{})
			want = append(want, Change{tk.ID, tk.Events})
		} else {
			tk := mustUpdate(t, s, TicketID(i/3+1), Event{Kind: EvNote, Text: "n"})
			want = append(want, Change{tk.ID, tk.Events})
		}
	}
	var got []Change
	for len(got) < len(want) {
		select {
		case c := <-ch:
			got = append(got, c)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d changes: %v", len(got), len(want), got)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("feed:\n%v\nwant (commit order):\n%v", got, want)
	}
	cancel()
	for range ch { // closed after cancel
	}
}

// A watcher that does not read must not block writers; when it catches up
// it has the latest Seq of every ticket.
func TestWatchSlowConsumer(t *testing.T) {
	s, _ := newTestStore(t)
	slow := s.Watch(context.Background())
	const tickets, rounds = 50, 30
	for range tickets {
		mustCreate(t, s, NewTicket{})
	}
	for range rounds {
		for id := TicketID(1); id <= tickets; id++ {
			mustUpdate(t, s, id, Event{Kind: EvNote, Text: "x"})
		}
	}
	// Total changes 50 + 1500 > coalesceAt: the tail was coalesced.
	last := map[TicketID]int{}
	n := 0
	for len(last) < tickets || !allAt(last, 1+rounds) {
		select {
		case c := <-slow:
			n++
			if c.Seq < last[c.Ticket] {
				t.Errorf("%s went back from %d to %d", c.Ticket, last[c.Ticket], c.Seq)
			}
			last[c.Ticket] = c.Seq
		case <-time.After(10 * time.Second):
			t.Fatalf("after %d changes the watcher has %v", n, last)
		}
	}
	if n > coalesceAt+tickets+16 {
		t.Errorf("slow watcher got %d changes; the queue was not bounded", n)
	}
	s.Close()
	if _, ok := <-slow; ok {
		// drain whatever was buffered in the channel itself
		for range slow {
		}
	}
}

func allAt(m map[TicketID]int, seq int) bool {
	for _, v := range m {
		if v != seq {
			return false
		}
	}
	return true
}

func TestSecondOpenSaysWhoHoldsTheStore(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s, err := Open(dir, Options{Holder: "desk console", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Holder: "desk serve"})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second open: %v, want *LockedError", err)
	}
	host, _ := os.Hostname()
	if le.Dir != dir || !strings.Contains(le.Holder, "desk console") || !strings.Contains(le.Holder, fmt.Sprintf("pid %d", os.Getpid())) ||
		!strings.Contains(le.Holder, host) || !strings.Contains(err.Error(), "in use by desk console") {
		t.Errorf("LockedError = %+v (%v)", le, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, holderFile)); !os.IsNotExist(err) {
		t.Errorf("holder file left after Close: %v", err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
}
