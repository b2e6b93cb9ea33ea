// Package board is the shared read model of every console session: one
// in-memory index of all tickets, loaded once from the store, kept current
// from its change feed and against the clock, and handed to sessions as
// immutable snapshots.
//
// It is built for 10^6 tickets on one node. A clock is re-projected only
// when its state can change (slaengine.Policy.NextChange, kept in a heap),
// so a second in which nothing warns or breaches costs a heap peek and
// publishes nothing; sessions tick their own visible countdowns. The order
// (List) and the hot set (Hot) are persistent trees copied along the
// changed paths once per batch, never a board-sized copy per change, and
// the counts sessions show (per status, per assignee) are kept here, so no
// session loops over all rows to count.
package board

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// Snapshot is an immutable picture of the board that any number of
// sessions may read at once. Its maps are shared between snapshots: read
// them, never write them.
type Snapshot struct {
	Version uint64
	// RowsVersion changes only when tickets change (not when a clock moves
	// into warning or breach), so sessions refilter their queues only when
	// there is something new.
	RowsVersion uint64
	Rows        List // every ticket, in default order
	// Now is when the states below were evaluated. Snapshots are published
	// only when something changed, so it may lie seconds or hours back.
	Now time.Time
	// Hot holds the active tickets whose watched clock is in warning or
	// breached at Now.
	Hot Hot
	// HotRows are the Hot tickets in default order (the Breaching queue).
	HotRows List
	// NextBreach is the running clock in default order that is not yet
	// breached (nil when none); NextBreachIn its time left at Now.
	NextBreach   *Row
	NextBreachIn time.Duration
	ByStatus     map[store.Status]int
	// ByAssignee counts the active tickets of each assignee (the Mine tab).
	ByAssignee map[string]int
	Active     int // not resolved or closed; Rows[:Active] are these
	Unassigned int // active and assigned to no one
	Breached   int // among Hot, those already breached
	Warning    int // among Hot, those in warning
	// Alerts are the most recent alerts (see Alert), oldest first.
	Alerts []Alert
	// Majors are the open major incidents, oldest first: every session
	// shows them in its banner.
	Majors []*Row
}

// Assigned is the number of active tickets assigned to op.
func (s *Snapshot) Assigned(op string) int { return s.ByAssignee[op] }

// Board is the one in-memory index of all tickets that every console
// session shares. Sessions get immutable snapshots and a wake-up when a new
// one is out.
type Board struct {
	st     *store.Store
	now    func() time.Time
	policy func() slaengine.Policy

	mu       sync.Mutex // guards the fields up to snap; held only by the board's own goroutines
	rows     index
	list     List
	hot      Hot
	hotList  List
	due      dueHeap // when each running clock's state can next change
	next     rowHeap // running clocks not yet breached, in default order (lazily pruned)
	replaced int     // rows replaced or dropped since the heaps were last compacted
	byStatus map[store.Status]int
	byAssign map[string]int
	active   int
	unassign int
	epoch    uint64
	ver      uint64
	rowsVer  uint64
	evalAt   time.Time
	alerts   []Alert                 // the last keptAlerts; published snapshots share it
	majors   map[store.TicketID]*Row // open major incidents
	// majorList is majors in order, made again only after they changed;
	// published snapshots share it.
	majorList []*Row
	alertSeq  uint64

	snap atomic.Pointer[Snapshot]

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}
}

// New loads every ticket and keeps the board current until ctx ends: it
// follows the change feed and evaluates the clocks every second. now is
// the clock (nil: time.Now).
func New(ctx context.Context, st *store.Store, now func() time.Time) (*Board, error) {
	b := newBoard(now, st.Policy)
	b.st = st
	// Watch before loading, so nothing committed between the load and the
	// first change is missed (a change seen twice is harmless).
	changes := st.Watch(ctx)
	if err := b.load(st.Tickets); err != nil {
		return nil, err
	}
	go b.follow(ctx, changes)
	go b.run(ctx)
	return b, nil
}

// FromTickets is a board over tickets held in memory, without a store:
// for benchmarks and tests of what reads boards (a store of 10^6 tickets
// takes minutes to build). It runs no goroutine; call Tick after moving
// the clock.
func FromTickets(tickets []store.Ticket, p slaengine.Policy, now func() time.Time) *Board {
	b := newBoard(now, func() slaengine.Policy { return p })
	_ = b.load(func(yield func(store.Ticket) bool) error {
		for _, t := range tickets {
			if !yield(t) {
				break
			}
		}
		return nil
	})
	return b
}

func newBoard(now func() time.Time, policy func() slaengine.Policy) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now, policy: policy, byStatus: map[store.Status]int{}, byAssign: map[string]int{},
		subs: map[chan struct{}]struct{}{}}
}

// Policy is the SLA policy in force (it changes on a config reload).
func (b *Board) Policy() slaengine.Policy { return b.policy() }

// Snapshot returns the current snapshot.
func (b *Board) Snapshot() *Snapshot { return b.snap.Load() }

// Subscribe returns a channel that receives a value whenever a new snapshot
// is published, and the function that ends the subscription (it closes the
// channel, so a session's waiting Cmd returns instead of leaking). Wake-ups
// coalesce: a slow session sees the latest snapshot, never a backlog.
func (b *Board) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.subMu.Lock()
	b.subs[ch] = struct{}{}
	b.subMu.Unlock()
	return ch, func() {
		b.subMu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
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

// edit starts a batch: nodes of the published snapshot are copied before
// they change, nodes made in this batch are changed in place.
func (b *Board) edit() editor {
	b.epoch++
	return editor{epoch: b.epoch}
}

// load builds the board from every ticket scan yields. Decoding (in scan)
// and making rows, their sort keys and the first evaluation of their clocks
// (in a second goroutine) overlap: at 10^6 tickets each is about half of
// the work, and a desk server has more than one core. Tickets pass in
// chunks, so the whole store never sits in memory twice.
func (b *Board) load(scan func(yield func(store.Ticket) bool) error) error {
	now := b.now()
	p := b.policy()
	const chunk = 1024
	work := make(chan []store.Ticket, 4)
	free := make(chan []store.Ticket, 8)
	var keys []sortKey
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ts := range work {
			for i := range ts {
				r := newRow(ts[i])
				k := keyOf(r)
				if r.Group() == GroupRunning {
					ev := evaluate(p, r, now)
					k.at, k.code = ev.at, ev.code
				}
				keys = append(keys, k)
				ts[i] = store.Ticket{}
			}
			select {
			case free <- ts[:0]:
			default:
			}
		}
	}()
	cur := make([]store.Ticket, 0, chunk)
	err := scan(func(t store.Ticket) bool {
		cur = append(cur, t)
		if len(cur) == chunk {
			work <- cur
			select {
			case cur = <-free:
			default:
				cur = make([]store.Ticket, 0, chunk)
			}
		}
		return true
	})
	work <- cur
	close(work)
	<-done
	if err != nil {
		return err
	}
	slices.SortFunc(keys, cmpKey)

	sorted := make([]*Row, len(keys))
	var hot, next []*Row
	e := b.edit()
	b.due = make(dueHeap, 0, len(keys)/2)
	for i, k := range keys {
		r := k.r
		sorted[i] = r
		b.rows.set(r.T.ID, r)
		b.count(r, 1)
		if r.Group() != GroupRunning {
			continue
		}
		if k.code != codeNone {
			hot = append(hot, r)
			b.hot = e.setHot(b.hot, r.T.ID, k.code)
		}
		if k.code != codeBreached {
			next = append(next, r) // in default order, so already a heap
		}
		if k.at != 0 {
			b.due = append(b.due, due{at: k.at, r: r})
		}
	}
	b.due.init()
	b.next = rowHeap(next)
	b.list = buildList(sorted)
	b.hotList = buildList(hot)
	b.evalAt = now
	b.rowsVer++
	b.mu.Lock()
	b.publish()
	b.mu.Unlock()
	return nil
}

// eval is a running clock's state at some instant and the next instant
// (Unix ns, 0 for never) at which it can change.
type eval struct {
	at   int64
	code uint8
}

func evaluate(p slaengine.Policy, r *Row, now time.Time) eval {
	typ, prio := string(r.T.Type), slaengine.Priority(r.T.Priority)
	c, which := p.ProjectFor(typ, prio, r.T.SLA, now).Next()
	raw := r.T.SLA.Resolution
	if which == "response" {
		raw = r.T.SLA.Response
	}
	ev := eval{code: codeOf(c.State)}
	if t := p.NextChange(typ, prio, raw, now); !t.IsZero() {
		ev.at = nanos(t)
	}
	return ev
}

func (b *Board) count(r *Row, d int) {
	if r.T.Major.Open() {
		switch {
		case d > 0:
			if b.majors == nil {
				b.majors = map[store.TicketID]*Row{}
			}
			b.majors[r.T.ID] = r
			b.majorList = nil
		case b.majors[r.T.ID] == r:
			delete(b.majors, r.T.ID)
			b.majorList = nil
		}
	}
	b.byStatus[r.T.Status] += d
	if b.byStatus[r.T.Status] == 0 {
		delete(b.byStatus, r.T.Status)
	}
	if r.Group() == GroupDone {
		return
	}
	b.active += d
	if r.T.Assignee == "" {
		b.unassign += d
		return
	}
	b.byAssign[r.T.Assignee] += d
	if b.byAssign[r.T.Assignee] == 0 {
		delete(b.byAssign, r.T.Assignee)
	}
}

// follow applies the change feed in small batches: at intake speed tickets
// a few milliseconds apart would otherwise each make a snapshot.
func (b *Board) follow(ctx context.Context, changes <-chan store.Change) {
	const batchWindow = 30 * time.Millisecond
	for {
		batch := map[store.TicketID]bool{}
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			batch[c.Ticket] = true
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
		var fresh []store.Ticket
		var gone []store.TicketID
		var esc []Alert
		for id := range batch {
			t, err := b.st.Get(id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				gone = append(gone, id)
			case err != nil:
				// Keep the row as it was; the ticket's next change reads it again.
			default:
				fresh = append(fresh, t)
				var fired []string
				if old := b.Find(id); old != nil {
					fired = old.T.Fired // only this goroutine replaces rows
				}
				esc = append(esc, b.escalationAlerts(fired, t)...)
			}
		}
		b.apply(fresh, gone, esc...)
	}
}

// apply puts changed tickets on the board and takes gone ones off, as one
// new snapshot with the alerts the changes make (esc: those of escalation
// steps, read by the caller outside the lock).
func (b *Board) apply(fresh []store.Ticket, gone []store.TicketID, esc ...Alert) {
	if len(fresh) == 0 && len(gone) == 0 {
		return
	}
	now := b.now()
	p := b.policy()
	rows := make([]*Row, len(fresh))
	for i := range fresh {
		rows[i] = newRow(fresh[i])
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.edit()
	// Published snapshots hold the maps.
	b.byStatus, b.byAssign = maps.Clone(b.byStatus), maps.Clone(b.byAssign)
	for _, id := range gone {
		if old := b.rows.get(id); old != nil {
			b.drop(e, old)
			b.rows.set(id, nil)
			b.replaced++
		}
	}
	for _, r := range rows {
		old := b.rows.get(r.T.ID)
		oldCode := b.hot.code(uint64(r.T.ID))
		if old != nil {
			b.drop(e, old)
			b.replaced++
		}
		b.rows.set(r.T.ID, r)
		b.list = e.insert(b.list, r)
		b.count(r, 1)
		code := codeNone
		if r.Group() == GroupRunning {
			ev := evaluate(p, r, now)
			code = ev.code
			b.setState(e, r, ev.code)
			if ev.at != 0 {
				b.due.push(due{at: ev.at, r: r})
			}
			if ev.code != codeBreached {
				b.next.push(r)
			}
		}
		b.changeAlerts(old, r, oldCode, code, now)
	}
	for _, a := range esc {
		b.addAlert(a, now)
	}
	// The clocks of untouched rows were last evaluated at evalAt; bring
	// them to now as well, so that the snapshot has one Now.
	b.advance(e, now, p)
	b.rowsVer++
	b.publish()
}

// drop takes a row off the board's order, counts and hot set. Its entries
// in the heaps stay and are skipped when they come up: rows are compared by
// identity with the index.
func (b *Board) drop(e editor, r *Row) {
	b.list = e.remove(b.list, r)
	b.count(r, -1)
	b.setState(e, r, codeNone)
}

func (b *Board) setState(e editor, r *Row, code uint8) bool {
	old := b.hot.code(uint64(r.T.ID))
	if old == code {
		return false
	}
	switch {
	case old == codeNone:
		b.hotList = e.insert(b.hotList, r)
	case code == codeNone:
		b.hotList = e.remove(b.hotList, r)
	}
	b.hot = e.setHot(b.hot, r.T.ID, code)
	return true
}

// Tick evaluates the clocks whose state can have changed by the board's
// clock and publishes a snapshot when one did. The board does this every
// second by itself; a board from FromTickets only when asked.
func (b *Board) Tick() {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.due) == 0 || b.due[0].at > nanos(now) {
		return // the common second: nothing can have changed, so nothing to do
	}
	e := b.edit()
	if b.advance(e, now, b.policy()) {
		b.publish()
	}
}

// advance re-evaluates the clocks whose next change is due by now and
// reports whether any state changed.
func (b *Board) advance(e editor, now time.Time, p slaengine.Policy) bool {
	if now.After(b.evalAt) {
		b.evalAt = now
	}
	t := nanos(now)
	changed := false
	for len(b.due) > 0 && b.due[0].at <= t {
		d := b.due.pop()
		if b.rows.get(d.r.T.ID) != d.r {
			continue // replaced since
		}
		ev := evaluate(p, d.r, now)
		was := b.hot.code(uint64(d.r.T.ID))
		if b.setState(e, d.r, ev.code) {
			changed = true
			if ev.code == codeBreached && was != codeBreached {
				b.breachAlert(d.r, now)
			}
		}
		if ev.at != 0 {
			b.due.push(due{at: ev.at, r: d.r})
		}
	}
	return changed
}

func (b *Board) run(ctx context.Context) {
	for {
		now := b.now()
		wait := now.Truncate(time.Second).Add(time.Second).Sub(now)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			b.Tick()
		}
	}
}

// publish hands out a snapshot of the current state (b.mu held).
func (b *Board) publish() {
	b.ver++
	b.compact()
	for len(b.next) > 0 {
		r := b.next[0]
		if b.rows.get(r.T.ID) == r && b.hot.code(uint64(r.T.ID)) != codeBreached {
			break
		}
		b.next.pop() // replaced or breached: a breached clock stays breached
	}
	s := &Snapshot{Version: b.ver, RowsVersion: b.rowsVer, Rows: b.list, Now: b.evalAt,
		Hot: b.hot, HotRows: b.hotList, ByStatus: b.byStatus, ByAssignee: b.byAssign,
		Active: b.active, Unassigned: b.unassign, Breached: b.hot.Breached(), Warning: b.hot.Len() - b.hot.Breached(),
		Alerts: b.alerts, Majors: b.openMajors()}
	if len(b.next) > 0 {
		r := b.next[0]
		c, _ := b.policy().ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, b.evalAt).Next()
		s.NextBreach, s.NextBreachIn = r, c.Left
	}
	b.snap.Store(s)
	b.notify()
}

// openMajors are the open major incidents, oldest first; there are few.
func (b *Board) openMajors() []*Row {
	if len(b.majors) == 0 {
		return nil
	}
	if b.majorList != nil {
		return b.majorList
	}
	out := make([]*Row, 0, len(b.majors))
	for _, r := range b.majors {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, c *Row) int {
		if n := a.T.Major.Declared.Compare(c.T.Major.Declared); n != 0 {
			return n
		}
		return cmp.Compare(a.T.ID, c.T.ID)
	})
	b.majorList = out
	return out
}

// compact drops the heap entries of replaced (and, in next, breached) rows
// once a sixteenth of the board has been replaced since the last time:
// they are otherwise skipped only when they reach the top, and each keeps
// its old Row alive (at 100k tickets with escalations firing at start, a
// bound of twice the rows kept ~50 MB of replaced rows). Linear, at most
// once per sixteenth of the board changed; the entries' count is bounded
// too, for breached rows left in next.
func (b *Board) compact() {
	n := b.list.Len()
	limit := n + n/8 + 1024
	if b.replaced > n/16+256 {
		limit = 0 // compact both now
		b.replaced = 0
	}
	if len(b.due) > limit {
		live := b.due[:0]
		for _, d := range b.due {
			if b.rows.get(d.r.T.ID) == d.r {
				live = append(live, d)
			}
		}
		clear(b.due[len(live):])
		b.due = live
		b.due.init()
	}
	if len(b.next) > limit {
		live := b.next[:0]
		for _, r := range b.next {
			if b.rows.get(r.T.ID) == r && b.hot.code(uint64(r.T.ID)) != codeBreached {
				live = append(live, r)
			}
		}
		clear(b.next[len(live):])
		b.next = live
		b.next.init()
	}
}

// Find is the current row of ticket id, or nil: what a console shows
// while an id is being typed (the master a link would go to).
func (b *Board) Find(id store.TicketID) *Row {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rows.get(id)
}
