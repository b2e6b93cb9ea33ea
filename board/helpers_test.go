package board

import (
	"fmt"
	"math/rand"
	"sync"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

var base = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	testStatuses = []store.Status{store.StatusNew, store.StatusOpen, store.StatusOpen, store.StatusWaiting, store.StatusEscalated,
		store.StatusResolved, store.StatusClosed}
	testAssignees = []string{"", "", "mette", "jonas", "ana"}
)

// randTicket is a ticket as the store would hold it at now: clocks
// evaluated at its last change, somewhere in the last days.
func randTicket(rng *rand.Rand, id store.TicketID, p slaengine.Policy, now time.Time) store.Ticket {
	created := now.Add(-time.Duration(rng.Int63n(int64(4 * 24 * time.Hour))))
	st := testStatuses[rng.Intn(len(testStatuses))]
	prio := store.Priority(1 + rng.Intn(4))
	tl := slaengine.Timeline{Created: created, Priority: slaengine.Priority(prio), Status: "new", Type: string(store.Incident)}
	at := created
	step := func() time.Time {
		at = at.Add(time.Duration(rng.Int63n(int64(now.Sub(at)) + 1)))
		return at
	}
	if rng.Intn(3) == 0 {
		tl.Points = append(tl.Points, slaengine.Point{At: step(), Responded: true})
	}
	if st != store.StatusNew {
		tl.Points = append(tl.Points, slaengine.Point{At: step(), Status: string(st)})
	}
	t := store.Ticket{ID: id, Type: store.Incident, Priority: prio, Status: st, Queue: "2nd-line",
		Assignee: testAssignees[rng.Intn(len(testAssignees))],
		Subject:  fmt.Sprintf("Ticket %d: Borger.dk login fails", id), Requester: store.Person{Name: "Søren Østergård", Email: "so@aarhus.dk"},
		Created: created, Updated: at, Events: 1 + len(tl.Points)}
	t.SLA = slaengine.Compute(p, tl, at)
	t.Deadline = t.SLA.Deadline()
	return t
}

// syntheticTickets makes n tickets with real SLA clocks without a store,
// spread so that some warn or breach in every second of a benchmark.
func syntheticTickets(n int, p slaengine.Policy, now time.Time) []store.Ticket {
	out := make([]store.Ticket, n)
	statuses := []store.Status{store.StatusNew, store.StatusOpen, store.StatusWaiting, store.StatusResolved, store.StatusOpen}
	for i := range out {
		created := now.Add(-time.Duration(i%500_000) * time.Second)
		st := statuses[i%len(statuses)]
		t := store.Ticket{
			ID: store.TicketID(i + 1), Type: store.Types[i%3], Priority: store.Priority(i%4 + 1), Status: st,
			Queue: "2nd-line", Assignee: testAssignees[i%len(testAssignees)], Subject: fmt.Sprintf("Ticket %d: borger.dk login fails with MitID error", i),
			Requester: store.Person{Name: "Søren Østergård", Email: "so@aarhus.dk", Organisation: "Aarhus Kommune"},
			Created:   created, Updated: created, Events: 1,
		}
		tl := slaengine.Timeline{Created: created, Priority: slaengine.Priority(t.Priority), Status: string(st), Type: string(t.Type)}
		t.SLA = slaengine.Compute(p, tl, created)
		t.Deadline = t.SLA.Deadline()
		out[i] = t
	}
	return out
}

// brute is what the board must show, the slow way: every running clock
// projected to now, as the board before this package did every second.
type brute struct {
	rows       []*Row
	hot        map[store.TicketID]slaengine.State
	hotRows    []*Row
	next       *Row
	byStatus   map[store.Status]int
	byAssignee map[string]int
	active     int
	unassigned int
	breached   int
}

func bruteForce(rows []*Row, p slaengine.Policy, now time.Time) brute {
	rows = append([]*Row(nil), rows...)
	sortRows(rows)
	w := brute{rows: rows, hot: map[store.TicketID]slaengine.State{}, byStatus: map[store.Status]int{}, byAssignee: map[string]int{}}
	for _, r := range rows {
		w.byStatus[r.T.Status]++
		if r.Group() == GroupDone {
			continue
		}
		w.active++
		if r.T.Assignee == "" {
			w.unassigned++
		} else {
			w.byAssignee[r.T.Assignee]++
		}
		if r.Group() != GroupRunning {
			continue
		}
		c, _ := p.ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, now).Next()
		if c.State == slaengine.StateWarning || c.State == slaengine.StateBreached {
			w.hot[r.T.ID] = c.State
			w.hotRows = append(w.hotRows, r)
			if c.State == slaengine.StateBreached {
				w.breached++
			}
		}
		if w.next == nil && c.State != slaengine.StateBreached {
			w.next = r
		}
	}
	return w
}

func sortRows(rows []*Row) {
	for i := 1; i < len(rows); i++ { // insertion sort: independent of the code under test
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}
