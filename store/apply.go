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
			if l.Kind == LinkMaster {
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
				t.Resolution = e.Text
			case st == StatusClosed:
				if t.Resolved.IsZero() {
					t.Resolved = e.At
				}
				if e.Text != "" {
					t.Resolution = e.Text
				}
			default:
				t.Resolved, t.Resolution = time.Time{}, "" // reopened
			}
		}
	case EvField:
		applyField(t, e.Field, e.To)
	case EvLinked:
		if e.Link != nil && e.Link.To != 0 {
			if !slices.Contains(t.Links, *e.Link) {
				t.Links = append(t.Links, *e.Link)
			}
			if e.Link.Kind == LinkMaster {
				t.Master = e.Link.To
			}
		}
	case EvResponded:
		if t.Responded.IsZero() {
			t.Responded = e.At
		}
	case EvReport:
		if e.Report != nil {
			r := *e.Report
			r.Author, r.Written, r.Approver, r.Approved = e.Actor, e.At, "", time.Time{}
			r.Version = 1
			if t.Report != nil {
				r.Version = t.Report.Version + 1
			}
			t.Report = &r
		}
	case EvEscalation:
		switch x := e.Escalation; {
		case x == nil:
		case x.Clock == ClockUpdate:
			if t.Major.Open() {
				m := *t.Major
				m.Reminded = m.Updates + 1
				t.Major = &m
			}
		case !slices.Contains(t.Fired, x.Key()):
			t.Fired = append(t.Fired, x.Key())
		}
	case EvMajor, EvMajorNote, EvMajorEnd:
		applyMajor(t, e)
	case EvApproved:
		if t.Report != nil {
			r := *t.Report
			r.Approver, r.Approved = e.Actor, e.At
			t.Report = &r
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
	if t.Status.Active() && t.Priority != 0 && (t.Peak == 0 || t.Priority < t.Peak) {
		t.Peak = t.Priority
	}
	t.Updated = e.At
	t.Events++
}

func applyField(t *Ticket, field Field, to string) {
	switch field {
	case FieldType:
		t.Type = Type(to)
	case FieldPriority:
		var p Priority
		if p.UnmarshalText([]byte(to)) == nil {
			t.Priority = p
		}
	case FieldQueue:
		t.Queue = to
	case FieldAssignee:
		t.Assignee = to
	case FieldTeam:
		t.Team = to
	case FieldCategory:
		t.Category = to
	case FieldSubject:
		t.Subject = to
	case FieldService:
		t.Service = to
	case FieldExternal:
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
	t.Fired = slices.Clip(slices.Clone(t.Fired))
	if t.Report != nil {
		r := *t.Report
		t.Report = &r
	}
	if t.Major != nil {
		m := *t.Major
		t.Major = &m
	}
	return t
}

// FieldValue is the current value of a field as field and status events
// name it ("priority" reads "P2"; "status" the status).
func FieldValue(t *Ticket, field Field) string {
	switch field {
	case FieldStatus:
		return string(t.Status)
	case FieldType:
		return string(t.Type)
	case FieldPriority:
		if t.Priority == 0 {
			return ""
		}
		return t.Priority.String()
	case FieldQueue:
		return t.Queue
	case FieldAssignee:
		return t.Assignee
	case FieldTeam:
		return t.Team
	case FieldCategory:
		return t.Category
	case FieldSubject:
		return t.Subject
	case FieldService:
		return t.Service
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
		case FieldType:
			if !slices.Contains(Types, Type(e.To)) {
				return fmt.Errorf("%s: type %q is unknown; use one of %v", t.ID, e.To, Types)
			}
		case FieldPriority:
			var p Priority
			if err := p.UnmarshalText([]byte(e.To)); err != nil {
				return fmt.Errorf("%s: %w", t.ID, err)
			}
			e.To = p.String()
		case FieldExternal:
			r, err := ParseReference(e.To)
			if err != nil {
				return fmt.Errorf("%s: %w", t.ID, err)
			}
			e.To = r
		case FieldQueue, FieldAssignee, FieldTeam, FieldCategory, FieldSubject, FieldService:
		default:
			return fmt.Errorf("%s: field %q cannot be changed; use type, priority, queue, assignee, team, category, subject, service or external", t.ID, e.Field)
		}
		if e.From == "" {
			e.From = FieldValue(t, e.Field)
		}
	case EvEscalation:
		if e.Escalation == nil || e.Escalation.Step == "" {
			return fmt.Errorf("%s: an escalation event needs its step", t.ID)
		}
	case EvLinked:
		if e.Link == nil || e.Link.To == 0 {
			return fmt.Errorf("%s: a link event needs a target ticket", t.ID)
		}
		if e.Link.To == t.ID {
			return fmt.Errorf("%s: a ticket cannot be linked to itself", t.ID)
		}
		switch e.Link.Kind {
		case LinkMaster, LinkChild, LinkRelated, LinkFollowUp:
		default:
			return fmt.Errorf("%s: link kind %q is unknown; use master, child, related or follow-up", t.ID, e.Link.Kind)
		}
	case EvMessageIn, EvMessageOut:
		if e.Message == nil {
			return fmt.Errorf("%s: a %s event needs a message", t.ID, e.Kind)
		}
	case EvReport:
		if e.Report == nil {
			return fmt.Errorf("%s: a report event needs the report", t.ID)
		}
	case EvNote, EvResponded, EvApproved, EvMajor, EvMajorNote, EvMajorEnd:
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
