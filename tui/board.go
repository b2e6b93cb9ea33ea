package tui

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// Row is one ticket as the list shows it: the stored projection plus what
// the list needs precomputed, so that View does no work per ticket beyond
// the visible ones. Rows are immutable once published; a change makes a new Row.
type Row struct {
	T      store.Ticket
	search string // lowercased, sanitised id, subject and requester for the / filter
	group  int    // 0 running clock, 1 active without a running clock, 2 done
}

func newRow(t store.Ticket) *Row {
	r := &Row{T: t}
	r.search = strings.ToLower(t.ID.String() + "\x00" + SafeLine(t.Subject) + "\x00" + SafeLine(t.Requester.Name) +
		"\x00" + SafeLine(t.Requester.Email) + "\x00" + SafeLine(t.Requester.Organisation))
	switch {
	case !t.Status.Active():
		r.group = 2
	case t.Deadline.IsZero():
		r.group = 1
	}
	return r
}

// less is the default order: what breaches next first; then active tickets
// whose clocks are paused or stopped, most urgent priority first; then the
// resolved and closed, most recently changed first.
func less(a, b *Row) bool {
	if a.group != b.group {
		return a.group < b.group
	}
	switch a.group {
	case 0:
		if !a.T.Deadline.Equal(b.T.Deadline) {
			return a.T.Deadline.Before(b.T.Deadline)
		}
	case 1:
		if a.T.Priority != b.T.Priority {
			return a.T.Priority < b.T.Priority
		}
	case 2:
		if !a.T.Updated.Equal(b.T.Updated) {
			return a.T.Updated.After(b.T.Updated)
		}
	}
	return a.T.ID < b.T.ID
}

// Snapshot is an immutable picture of the board that any number of sessions
// may read at once.
type Snapshot struct {
	Version uint64
	// RowsVersion changes only when tickets change (not on clock ticks), so
	// sessions refilter their queues only when there is something new.
	RowsVersion uint64
	Rows        []*Row // in default order
	Now         time.Time
	// Hot holds the active tickets whose watched clock is in warning or
	// breached at Now.
	Hot map[store.TicketID]slaengine.State
	// HotRows are the Hot tickets in default order (the Breaching queue).
	HotRows []*Row
	// NextBreach is the running clock that breaches soonest (nil when none).
	NextBreach   *Row
	NextBreachIn time.Duration
	ByStatus     map[store.Status]int
	Active       int
	Unassigned   int            // active and assigned to no one
	Breached     int            // among Hot, those already breached
	assigned     map[string]int // active tickets per assignee
}

// Mine is how many active tickets are assigned to op: counted once per
// snapshot for every operator, not by each session.
func (s *Snapshot) Mine(op string) int { return s.assigned[op] }

// Board is the one in-memory index of all tickets that every console session
// shares: loaded once from the store, kept current from the store's change
// feed, and re-evaluated against the clock once a second. Sessions get
// immutable snapshots and a wake-up when a new one is out.
type Board struct {
	st     *store.Store
	now    func() time.Time
	policy func() slaengine.Policy

	mu      sync.Mutex // guards rows and sorted; held only by the board's own goroutines
	rows    map[store.TicketID]*Row
	sorted  []*Row
	ver     uint64
	rowsVer uint64

	snap atomic.Pointer[Snapshot]

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}
}

// NewBoard loads every ticket and keeps the board current until ctx ends.
func NewBoard(ctx context.Context, st *store.Store, now func() time.Time) (*Board, error) {
	if now == nil {
		now = time.Now
	}
	b := &Board{st: st, now: now, policy: st.Policy, rows: map[store.TicketID]*Row{}, subs: map[chan struct{}]struct{}{}}
	// Watch before loading, so nothing committed between the load and the
	// first change is missed (a change seen twice is harmless).
	changes := st.Watch(ctx)
	err := st.Tickets(func(t store.Ticket) bool {
		r := newRow(t)
		b.rows[t.ID] = r
		b.sorted = append(b.sorted, r)
		return true
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(b.sorted, func(i, j int) bool { return less(b.sorted[i], b.sorted[j]) })
	b.publish()
	go b.follow(ctx, changes)
	go b.tick(ctx)
	return b, nil
}

// Policy is the SLA policy in force (it changes on a config reload).
func (b *Board) Policy() slaengine.Policy { return b.policy() }

// Snapshot returns the current snapshot.
func (b *Board) Snapshot() *Snapshot { return b.snap.Load() }

// Subscribe returns a channel that receives a value whenever a new snapshot
// is published. Wake-ups coalesce: a slow session sees the latest snapshot,
// never a backlog.
func (b *Board) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.subMu.Lock()
	b.subs[ch] = struct{}{}
	b.subMu.Unlock()
	return ch, func() {
		b.subMu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch) // ends the session's waiting Cmd instead of leaking it
		}
		b.subMu.Unlock()
	}
}

func (b *Board) notify() {
	b.subMu.Lock()
	for ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	b.subMu.Unlock()
}

// follow applies the change feed in small batches: at intake speed a
// ticket a few milliseconds apart would otherwise rebuild the order for each.
func (b *Board) follow(ctx context.Context, changes <-chan store.Change) {
	const batchWindow = 30 * time.Millisecond
	for {
		var batch map[store.TicketID]bool
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			batch = map[store.TicketID]bool{c.Ticket: true}
		}
		timer := time.NewTimer(batchWindow)
	collect:
		for {
			select {
			case c, ok := <-changes:
				if !ok {
					break collect
				}
				batch[c.Ticket] = true
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		b.apply(batch)
	}
}

func (b *Board) apply(ids map[store.TicketID]bool) {
	fresh := make([]*Row, 0, len(ids))
	for id := range ids {
		t, err := b.st.Get(id)
		if err != nil {
			continue // deleted tickets do not exist; a failed read is retried by the next change
		}
		fresh = append(fresh, newRow(t))
	}
	sort.Slice(fresh, func(i, j int) bool { return less(fresh[i], fresh[j]) })

	b.mu.Lock()
	// Merge: the old order without the changed tickets, plus the changed
	// ones in place. Linear in the board size, and a new slice, because
	// sessions may be reading the old one.
	merged := make([]*Row, 0, len(b.sorted)+len(fresh))
	i := 0
	for _, r := range b.sorted {
		if ids[r.T.ID] {
			continue
		}
		for i < len(fresh) && less(fresh[i], r) {
			merged = append(merged, fresh[i])
			i++
		}
		merged = append(merged, r)
	}
	merged = append(merged, fresh[i:]...)
	for _, r := range fresh {
		b.rows[r.T.ID] = r
	}
	b.sorted = merged
	b.rowsVer++
	b.mu.Unlock()
	b.publish()
}

func (b *Board) tick(ctx context.Context) {
	for {
		now := b.now()
		wait := now.Truncate(time.Second).Add(time.Second).Sub(now)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
			b.publish()
		}
	}
}

// publish evaluates every running clock at now and hands out a new
// snapshot. Only tickets with a running clock can change state with time,
// and they are the first group of the order.
func (b *Board) publish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ver++
	now := b.now()
	policy := b.policy()
	s := &Snapshot{Version: b.ver, RowsVersion: b.rowsVer, Rows: b.sorted, Now: now, Hot: map[store.TicketID]slaengine.State{}, ByStatus: map[store.Status]int{}, assigned: map[string]int{}}
	first := true
	for _, r := range b.sorted {
		s.ByStatus[r.T.Status]++
		if r.group == 2 {
			continue
		}
		s.Active++
		if r.T.Assignee == "" {
			s.Unassigned++
		} else {
			s.assigned[r.T.Assignee]++
		}
		if r.group != 0 {
			continue
		}
		c, _ := policy.ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, now).Next()
		if c.State == slaengine.StateWarning || c.State == slaengine.StateBreached {
			s.Hot[r.T.ID] = c.State
			s.HotRows = append(s.HotRows, r)
			if c.State == slaengine.StateBreached {
				s.Breached++
			}
		}
		if first && c.State != slaengine.StateBreached {
			// The first running clock not yet breached is the next breach.
			s.NextBreach, s.NextBreachIn = r, c.Left
			first = false
		}
	}
	b.snap.Store(s)
	b.notify()
}

// Find is the row of ticket id, or nil.
func (s *Snapshot) Find(id store.TicketID) *Row {
	for _, r := range s.Rows {
		if r.T.ID == id {
			return r
		}
	}
	return nil
}
