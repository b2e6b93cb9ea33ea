// Package handover is the shift handover: what a shift registered,
// escalated, breached and resolved, the open major incidents, and what is
// hot now, for the operator who takes over (desk handover, :handover).
package handover

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// Item is one ticket in a section, with what happened to it.
type Item struct {
	Ticket   store.TicketID `json:"ticket"`
	Priority string         `json:"priority"`
	Subject  string         `json:"subject"`
	Assignee string         `json:"assignee,omitempty"`
	At       time.Time      `json:"at"`             // when it happened (for Hot: when the clock breaches or breached)
	What     string         `json:"what,omitempty"` // "response breached", "escalated to security", ...
}

// Handover is the shift from Since to Now.
type Handover struct {
	Since      time.Time `json:"since"`
	Now        time.Time `json:"now"`
	Registered []Item    `json:"registered"`
	Escalated  []Item    `json:"escalated"`
	Breached   []Item    `json:"breached"`
	Resolved   []Item    `json:"resolved"`
	Majors     []Item    `json:"major_incidents"`
	Hot        []Item    `json:"hot"` // active tickets breached or in warning now, soonest first
}

// hotShown is how many hot tickets the handover lists: the next shift
// reads the rest in the console's At risk tab.
const hotShown = 15

// Build reads the store: every ticket's projection, and the history of
// those changed during the shift (the rest cannot have events in it).
func Build(st *store.Store, since, now time.Time) (Handover, error) {
	h := Handover{Since: since, Now: now}
	p := st.Policy()
	var changed []store.Ticket
	err := st.Tickets(func(t store.Ticket) bool {
		item := func(at time.Time, what string) Item {
			return Item{Ticket: t.ID, Priority: t.Priority.String(), Subject: termtext.Line(t.Subject), Assignee: t.Assignee, At: at, What: what}
		}
		if !t.Created.Before(since) && !t.Created.After(now) {
			h.Registered = append(h.Registered, item(t.Created, string(t.Type)))
		}
		if !t.Resolved.IsZero() && !t.Resolved.Before(since) && !t.Status.Active() {
			h.Resolved = append(h.Resolved, item(t.Resolved, string(t.Status)))
		}
		if t.Major.Open() {
			h.Majors = append(h.Majors, item(t.Major.Declared, "service "+orDash(t.Major.Service)+fmt.Sprintf(", %d update(s)", t.Major.Updates)))
		}
		c := p.ProjectFor(string(t.Type), slaengine.Priority(t.Priority), t.SLA, now)
		for _, k := range []struct {
			name string
			c    slaengine.Clock
		}{{"response", c.Response}, {"resolution", c.Resolution}} {
			if k.c.State == slaengine.StateBreached && !k.c.Due.Before(since) && !k.c.Due.After(now) {
				h.Breached = append(h.Breached, item(k.c.Due, k.name+" breached"))
			}
		}
		if t.Status.Active() {
			if n, _ := c.Next(); n.State == slaengine.StateBreached || n.State == slaengine.StateWarning {
				h.Hot = append(h.Hot, item(n.Due, string(n.State)))
			}
		}
		if !t.Updated.Before(since) {
			changed = append(changed, t)
		}
		return true
	})
	if err != nil {
		return h, fmt.Errorf("reading the tickets: %w", err)
	}
	for _, t := range changed {
		evs, err := st.History(t.ID)
		if err != nil {
			return h, fmt.Errorf("reading the history of %s: %w", t.ID, err)
		}
		for _, e := range evs {
			if e.At.Before(since) || e.At.After(now) {
				continue
			}
			what := ""
			switch {
			case e.Kind == store.EvStatus && e.To == string(store.StatusEscalated):
				what = "to team " + orDash(t.Team) + " by " + e.Actor
			case e.Kind == store.EvEscalation && e.Escalation != nil && e.Escalation.Clock != store.ClockUpdate:
				what = "ladder: " + e.Escalation.Clock + " " + e.Escalation.Step
			default:
				continue
			}
			h.Escalated = append(h.Escalated, Item{Ticket: t.ID, Priority: t.Priority.String(), Subject: termtext.Line(t.Subject),
				Assignee: t.Assignee, At: e.At, What: termtext.Line(what)})
		}
	}
	byAt := func(a, b Item) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Ticket, b.Ticket)) }
	for _, s := range []*[]Item{&h.Registered, &h.Escalated, &h.Breached, &h.Resolved, &h.Majors, &h.Hot} {
		slices.SortFunc(*s, byAt)
	}
	if len(h.Hot) > hotShown {
		h.Hot = h.Hot[:hotShown]
	}
	return h, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Text is the handover for a terminal or a mail, times in loc.
func (h Handover) Text(loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shift handover %s – %s\n", h.Since.In(loc).Format("Mon 02 Jan 15:04"), h.Now.In(loc).Format("Mon 02 Jan 15:04"))
	fmt.Fprintf(&b, "%d registered · %d escalations · %d breaches · %d resolved · %d major incident(s) open\n",
		len(h.Registered), len(h.Escalated), len(h.Breached), len(h.Resolved), len(h.Majors))
	section := func(title string, items []Item, empty string) {
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(items))
		if len(items) == 0 {
			b.WriteString("  " + empty + "\n")
		}
		for _, it := range items {
			fmt.Fprintf(&b, "  %s %-7s %s  %-28s %s\n", it.At.In(loc).Format("02 Jan 15:04"), it.Ticket, it.Priority, trunc(it.What, 28), trunc(it.Subject, 60))
		}
	}
	section("Major incidents open", h.Majors, "none")
	section("Hot now (breached or in warning, soonest first)", h.Hot, "nothing at risk")
	section("Breached during the shift", h.Breached, "no clock breached")
	section("Escalated during the shift", h.Escalated, "no escalation")
	section("Registered", h.Registered, "no new tickets")
	section("Resolved", h.Resolved, "nothing resolved")
	return b.String()
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
