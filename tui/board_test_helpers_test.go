package tui

import (
	"sort"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// staticBoard is a board over rows made in memory, for benchmarks of the
// panes that need no store (View with a million tickets).
func staticBoard(tickets []store.Ticket, p slaengine.Policy, now time.Time) *Board {
	b := &Board{now: func() time.Time { return now }, policy: func() slaengine.Policy { return p },
		rows: map[store.TicketID]*Row{}, subs: map[chan struct{}]struct{}{}}
	for _, t := range tickets {
		r := newRow(t)
		b.rows[t.ID] = r
		b.sorted = append(b.sorted, r)
	}
	sort.Slice(b.sorted, func(i, j int) bool { return less(b.sorted[i], b.sorted[j]) })
	b.publish()
	return b
}
