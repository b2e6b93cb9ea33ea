package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// Apply folds one event into the projection t. It is pure: the store calls
// it inside the transaction that appends e, and replaying a whole history
// through it from a zero Ticket gives the stored projection. Events it cannot
// make sense of (an unknown field, a bad priority) change nothing but
// Updated and Events; the store refuses such events before they are written.
func Apply(t *Ticket, e Event) {
	switch e.Kind {
	case EvCreated:
		if e.Created != nil {
			*t = cloneTicket(*e.Created)
		}
		t.ID = e.Ticket
		if t.Created.IsZero() {
			t.Created = e.At
		}
		if t.Status == "" {
			t.Status = StatusNew
		}
		for _, l := range t.Links {
			if l.Kind == "master" {
				t.Master = l.To
			}
		}
		t.Events = 0
		t.SLA = slaengine.Clocks{}
		t.Deadline = time.Time{}
	case EvStatus:
		st := Status(e.To)
		if st.Valid() {
			t.Status = st
			switch {
			case st == StatusResolved:
				t.Resolved = e.At
			case st == StatusClosed:
				if t.Resolved.IsZero() {
					t.Resolved = e.At
				}
			default:
				t.Resolved = time.Time{} // reopened
			}
		}
	case EvField:
		applyField(t, e.Field, e.To)
	case EvLinked:
		if e.Link != nil && e.Link.To != 0 {
			if !slices.Contains(t.Links, *e.Link) {
				t.Links = append(t.Links, *e.Link)
			}
			if e.Link.Kind == "master" {
				t.Master = e.Link.To
			}
		}
	case EvResponded:
		if t.Responded.IsZero() {
			t.Responded = e.At
		}
	case EvMessageIn, EvMessageOut:
		if m := e.Message; m != nil {
			if e.Kind == EvMessageOut && len(m.To) > 0 && t.Responded.IsZero() {
				t.Responded = e.At
			}
			t.Participants = addParticipant(t.Participants, m.From.Email)
			for _, a := range m.To {
				t.Participants = addParticipant(t.Participants, a)
			}
			for _, a := range m.Cc {
				t.Participants = addParticipant(t.Participants, a)
			}
		}
	}
	t.Updated = e.At
	t.Events++
}

func applyField(t *Ticket, field, to string) {
	switch field {
	case "type":
		t.Type = Type(to)
	case "priority":
		var p Priority
		if p.UnmarshalText([]byte(to)) == nil {
			t.Priority = p
		}
	case "queue":
		t.Queue = to
	case "assignee":
		t.Assignee = to
	case "team":
		t.Team = to
	case "category":
		t.Category = to
	case "subject":
		t.Subject = to
	case "external":
		if to != "" && !slices.Contains(t.External, to) {
			t.External = append(t.External, to)
		}
	}
}

func addParticipant(list []string, addr string) []string {
	a := strings.ToLower(strings.TrimSpace(addr))
	if a == "" || slices.Contains(list, a) {
		return list
	}
	return append(list, a)
}

// cloneTicket copies t so that appending to the copy's slices never writes
// into memory the original shares.
func cloneTicket(t Ticket) Ticket {
	t.Links = slices.Clip(slices.Clone(t.Links))
	t.External = slices.Clip(slices.Clone(t.External))
	t.Participants = slices.Clip(slices.Clone(t.Participants))
	return t
}

// FieldValue is the current value of a field as field and status events
// name it ("priority" reads "P2"; "status" the status).
func FieldValue(t *Ticket, field string) string {
	switch field {
	case "status":
		return string(t.Status)
	case "type":
		return string(t.Type)
	case "priority":
		if t.Priority == 0 {
			return ""
		}
		return t.Priority.String()
	case "queue":
		return t.Queue
	case "assignee":
		return t.Assignee
	case "team":
		return t.Team
	case "category":
		return t.Category
	case "subject":
		return t.Subject
	}
	return ""
}

// checkEvent refuses events Apply could not make sense of, and fills in From
// for field and status changes from the current state.
func checkEvent(t *Ticket, e *Event) error {
	switch e.Kind {
	case EvCreated:
		return fmt.Errorf("%s: a created event cannot be appended; use Create", t.ID)
	case EvStatus:
		if !Status(e.To).Valid() {
			return fmt.Errorf("%s: status %q is unknown; use one of %v", t.ID, e.To, Statuses)
		}
		if e.From == "" {
			e.From = string(t.Status)
		}
	case EvField:
		switch e.Field {
		case "type":
			if !slices.Contains(Types, Type(e.To)) {
				return fmt.Errorf("%s: type %q is unknown; use one of %v", t.ID, e.To, Types)
			}
		case "priority":
			var p Priority
			if err := p.UnmarshalText([]byte(e.To)); err != nil {
				return fmt.Errorf("%s: %w", t.ID, err)
			}
			e.To = p.String()
		case "external":
			if strings.TrimSpace(e.To) == "" {
				return fmt.Errorf("%s: an external reference must not be empty", t.ID)
			}
		case "queue", "assignee", "team", "category", "subject":
		default:
			return fmt.Errorf("%s: field %q cannot be changed; use type, priority, queue, assignee, team, category, subject or external", t.ID, e.Field)
		}
		if e.From == "" {
			e.From = FieldValue(t, e.Field)
		}
	case EvLinked:
		if e.Link == nil || e.Link.To == 0 {
			return fmt.Errorf("%s: a link event needs a target ticket", t.ID)
		}
		if e.Link.To == t.ID {
			return fmt.Errorf("%s: a ticket cannot be linked to itself", t.ID)
		}
		if e.Link.Kind == "" {
			return fmt.Errorf("%s: a link needs a kind (master, child, related, follow-up)", t.ID)
		}
	case EvMessageIn, EvMessageOut:
		if e.Message == nil {
			return fmt.Errorf("%s: a %s event needs a message", t.ID, e.Kind)
		}
	case EvNote, EvResponded:
	default:
		return fmt.Errorf("%s: event kind %q is unknown", t.ID, e.Kind)
	}
	return nil
}

// point is what changed between two projections that matters to the SLA
// clocks; ok is false when nothing did.
func point(before, after *Ticket, at time.Time) (slaengine.Point, bool) {
	p := slaengine.Point{At: at}
	ok := false
	if after.Status != before.Status {
		p.Status = string(after.Status)
		ok = true
	}
	if after.Priority != before.Priority {
		p.Priority = slaengine.Priority(after.Priority)
		ok = true
	}
	if before.Responded.IsZero() && !after.Responded.IsZero() {
		p.Responded = true
		ok = true
	}
	return p, ok
}

// Timeline rebuilds the SLA timeline of a history (oldest event first), the
// same one the store keeps incrementally.
func Timeline(history []Event) slaengine.Timeline {
	var tl slaengine.Timeline
	var t Ticket
	for _, e := range history {
		before := t
		Apply(&t, e)
		if e.Kind == EvCreated {
			tl = slaengine.Timeline{Created: t.Created, Priority: slaengine.Priority(t.Priority), Status: string(t.Status)}
			continue
		}
		if p, ok := point(&before, &t, e.At); ok {
			tl.Points = append(tl.Points, p)
		}
	}
	tl.Type = string(t.Type)
	return tl
}
