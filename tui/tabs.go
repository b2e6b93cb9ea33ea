package tui

import (
	"fmt"
	"strings"

	"github.com/deskhq/desk/board"

	"charm.land/lipgloss/v2"
	"github.com/deskhq/desk/store"
)

// queueTabs is the row of queues under the status line and what decides
// which rows the list shows: the tab, a queue and the / filter.
type queueTabs struct {
	snap        *Snapshot
	rowsVersion uint64
	tab         int
	queue       string // "" = all queues
	service     string // "" = all services
	filter      string
	counts      [len(tabs)]int // per tab, after queue and filter
}

type tabDef struct {
	name, short string // short: when the line must make room for what narrows the list
	match       func(r *Row, me string) bool
}

var tabs = [...]tabDef{
	{"Unassigned", "Unas", func(r *Row, _ string) bool { return active(r) && r.T.Assignee == "" }},
	{"Mine", "Mine", func(r *Row, me string) bool { return active(r) && r.T.Assignee == me }},
	{"All open", "All", func(r *Row, _ string) bool { return active(r) }},
	{"Waiting", "Wait", func(r *Row, _ string) bool { return r.T.Status == store.StatusWaiting }},
	// Breached and warning: the clocks to act on now. The status line
	// counts the two apart.
	{"At risk", "Risk", nil},
	{"Resolved", "Res", func(r *Row, _ string) bool { return !active(r) }},
}

const (
	tabUnassigned = iota
	tabMine
	tabAll
	tabWaiting
	tabAtRisk
	tabResolved
)

func (q *queueTabs) narrowed() bool { return q.filter != "" || q.queue != "" || q.service != "" }

// refresh rebuilds the visible queue from the latest snapshot. Filtering is
// linear in the number of tickets and runs only when tickets, the tab or
// the filter changed: never on a clock tick or a key that moves.
func (m *Model) refresh(rowsChanged bool) {
	q := &m.queues
	s := q.snap
	// The snapshot's Now is when states last changed; countdowns follow
	// the session's own clock.
	m.list.now, m.detail.now = m.now, m.now
	p := m.o.Board.Policy()
	m.list.policy, m.detail.policy = p, p
	if !rowsChanged && q.tab != tabAtRisk {
		return
	}
	q.rowsVersion = s.RowsVersion
	me := m.o.Operator
	if !q.narrowed() {
		// The default order puts active tickets first, so "All open" and
		// "Resolved" are slices of the snapshot: shared, nothing copied.
		q.counts = [len(tabs)]int{s.Unassigned, s.Assigned(me), s.Active, s.ByStatus[store.StatusWaiting], s.HotRows.Len(),
			s.ByStatus[store.StatusResolved] + s.ByStatus[store.StatusClosed]}
		switch q.tab {
		case tabAtRisk:
			m.list.SetRows(s.HotRows)
		case tabAll:
			m.list.SetRows(s.Rows.Slice(0, s.Active))
		case tabResolved:
			m.list.SetRows(s.Rows.Slice(s.Active, s.Rows.Len()))
		default:
			m.list.SetRows(filterRows(s.Rows, func(r *Row) bool { return tabs[q.tab].match(r, me) }))
		}
	} else {
		// One pass counts every tab under the filter and keeps the rows of
		// the current one, so the counts say what the filter leaves.
		f := strings.ToLower(q.filter)
		keep := func(r *Row) bool {
			return (q.queue == "" || r.T.Queue == q.queue) && (q.service == "" || strings.EqualFold(r.T.Service, q.service)) &&
				(f == "" || strings.Contains(r.Search, f))
		}
		q.counts = [len(tabs)]int{}
		var out []*Row
		s.Rows.Range(0, func(_ int, r *Row) bool {
			if !keep(r) {
				return true
			}
			for i, t := range tabs {
				if t.match != nil && t.match(r, me) {
					q.counts[i]++
					if i == q.tab {
						out = append(out, r)
					}
				}
			}
			return true
		})
		hot := filterRows(s.HotRows, keep)
		q.counts[tabAtRisk] = len(hot)
		if q.tab == tabAtRisk {
			out = hot
		}
		m.list.SetRows(rowSlice(out))
	}
	switch {
	case q.filter != "":
		m.list.empty = "no ticket matches \"" + q.filter + "\" in this queue — esc clears the filter"
	case q.tab == tabMine:
		m.list.empty = "nothing assigned to you — press a on a ticket to take it"
	default:
		m.list.empty = "no tickets here"
	}
}

func filterRows(rows board.List, keep func(*Row) bool) rowSlice {
	out := make(rowSlice, 0, 64)
	rows.Range(0, func(_ int, r *Row) bool {
		if keep(r) {
			out = append(out, r)
		}
		return true
	})
	return out
}

func (m *Model) setFilter(f string) {
	m.queues.filter = strings.TrimSpace(f)
	m.refresh(true)
}

func (m *Model) switchTab(d int) {
	m.queues.tab = (m.queues.tab + d + len(tabs)) % len(tabs)
	m.refresh(true)
}

// tabsLine names every queue with its count; what narrows them (a service,
// a queue, a filter) follows on the same line, and the names are shortened
// rather than the narrowing cut: it says why the list looks as it does.
func (m *Model) tabsLine() string {
	q := &m.queues
	names := func(short bool) string {
		var parts []string
		for i, t := range tabs {
			name := t.name
			if short {
				name = t.short
			}
			label := fmt.Sprintf("%s %d", name, q.counts[i])
			if i == q.tab {
				parts = append(parts, m.styles.TabActive.Render("["+label+"]"))
			} else {
				parts = append(parts, m.styles.Tab.Render(" "+label+" "))
			}
		}
		return strings.Join(parts, "")
	}
	line := names(false)
	var extra []string
	if q.service != "" {
		extra = append(extra, "service:"+q.service)
	}
	if q.queue != "" {
		extra = append(extra, "queue:"+q.queue)
	}
	if q.filter != "" {
		extra = append(extra, "/"+SafeLine(q.filter))
	}
	if len(extra) > 0 {
		ex := " " + m.styles.Dim.Render(strings.Join(extra, " "))
		if lipgloss.Width(line+ex) > m.width {
			line = names(true)
		}
		line += ex
	}
	return fitHeight(line, 1, m.width)
}
