package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The ticket lifecycle is enforced here, on every event any writer appends
// (console, mail intake, CLI, SSH commands, workers): the operations in
// ops.go build events, and putEvents runs each of them through allow before
// it is written. A writer that appends raw events with Update is held to the
// same table.

// Role says what an actor may do.
type Role string

const (
	RoleViewer   Role = "viewer"   // reads only
	RoleOperator Role = "operator" // triages, replies, resolves
	RoleLead     Role = "lead"     // also approves incident reports
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleOperator || r == RoleLead }

// SetRoles tells the store who is a viewer and who a lead; an actor not in
// roles (the mail intake, workers, an operator the config does not list) is
// an operator. cmd/desk calls it at start and on every reload.
func (s *Store) SetRoles(roles map[string]Role) {
	c := make(map[string]Role, len(roles))
	for k, v := range roles {
		c[k] = v
	}
	s.roles.Store(&c)
}

// RoleOf is the role the store holds actor to.
func (s *Store) RoleOf(actor string) Role {
	if m := s.roles.Load(); m != nil {
		if r, ok := (*m)[actor]; ok && r.Valid() {
			return r
		}
	}
	return RoleOperator
}

// ErrRefused is what every *RefusedError matches with errors.Is.
var ErrRefused = errors.New("refused")

// RefusedError is a write the lifecycle does not allow. Its message says
// why, in an operator's words, and what would make it allowed.
type RefusedError struct {
	Ticket TicketID
	Why    string // "SD-4 was P2 while open and its incident report is not approved"
	Fix    string // "a lead approves it with desk approve SD-4 (or A in the console)"
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	if e.Ticket != 0 && !strings.HasPrefix(e.Why, e.Ticket.String()) {
		b.WriteString(e.Ticket.String() + ": ")
	}
	b.WriteString(e.Why)
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	return b.String()
}

func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func refuse(id TicketID, why, fix string) error { return &RefusedError{Ticket: id, Why: why, Fix: fix} }

// ConflictError: the field no longer has the value the caller saw, because
// someone changed it meanwhile. Nothing was written.
type ConflictError struct {
	Ticket TicketID
	Field  Field
	Seen   string // what the caller saw
	Now    string // what it is now
	By     string // who changed it last
	At     time.Time
}

func (e *ConflictError) Error() string {
	by := e.By
	if by == "" {
		by = "someone else"
	}
	return fmt.Sprintf("%s: %s set %s to %s meanwhile; press again to override",
		e.Ticket, by, e.Field, orDash(e.Now))
}

// Is lets callers treat a conflict like a stale read.
func (e *ConflictError) Is(target error) bool { return target == ErrStale }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// allow is the transition table. cur is the projection before e (earlier
// events of the same write already folded in), so a write may resolve and
// close in one go but never skip what the table asks for.
func (s *Store) allow(cur *Ticket, e *Event, role Role) error {
	id := cur.ID
	if role == RoleViewer {
		return refuse(id, e.Actor+" is a viewer and cannot change tickets", "a lead can give the operator role in the config ([[operators]] role)")
	}
	if err := s.allowMajor(cur, e); err != nil {
		return err
	}
	switch e.Kind {
	case EvStatus:
		from, to := cur.Status, Status(e.To)
		if from == to {
			return refuse(id, fmt.Sprintf("%s is %s already", id, to), "")
		}
		switch to {
		case StatusResolved:
			if strings.TrimSpace(e.Text) == "" {
				return refuse(id, "resolving needs a resolution text (it is mailed to the requester)", "write the resolution: s → resolved in the console, or desk resolve "+id.String()+" TEXT")
			}
		case StatusClosed:
			if from == StatusNew {
				return refuse(id, id.String()+" is new and nobody has answered it", "resolve it first (the resolution is mailed to the requester), then close it")
			}
			if from != StatusResolved {
				return refuse(id, fmt.Sprintf("%s is %s, not resolved: closing needs a resolution", id, from),
					"resolve it first, or close it with a resolution text (desk resolve "+id.String()+" TEXT, then close)")
			}
			if cur.Peak != 0 && cur.Peak <= 2 && (cur.Report == nil || cur.Report.Approved.IsZero()) {
				why := fmt.Sprintf("%s was %s while open and needs an approved incident report to close", id, cur.Peak)
				if cur.Report == nil {
					return refuse(id, why, "write one (I in the console, or desk report-incident "+id.String()+") and have a lead approve it")
				}
				return refuse(id, why+" (version "+fmt.Sprint(cur.Report.Version)+" by "+cur.Report.Author+" is not approved yet)",
					"a lead approves it (A in the console, or desk approve "+id.String()+")")
			}
		case StatusEscalated:
			if strings.TrimSpace(cur.Team) == "" {
				return refuse(id, "escalating needs a 3rd-level team", "escalate with e in the console, or desk update "+id.String()+" --team TEAM")
			}
		}
	case EvField:
		if e.Field == FieldTeam && strings.TrimSpace(e.To) == "" && cur.Status == StatusEscalated {
			return refuse(id, id.String()+" is escalated: clearing its team would leave it with nobody", "hand it back to 2nd line with a note (desk update "+id.String()+" --status open)")
		}
	case EvReport:
		r := e.Report
		if r == nil || strings.TrimSpace(r.Summary) == "" {
			return refuse(id, "an incident report needs at least a summary", "give --summary (and impact, root cause, actions, timeline)")
		}
	case EvApproved:
		if role != RoleLead {
			return refuse(id, e.Actor+" is not a lead: incident reports are approved by a lead", "ask a lead to approve it")
		}
		if cur.Report == nil {
			return refuse(id, id.String()+" has no incident report to approve", "write one first (desk report-incident "+id.String()+")")
		}
		if !cur.Report.Approved.IsZero() {
			return refuse(id, fmt.Sprintf("the incident report of %s is approved already (by %s)", id, cur.Report.Approver), "")
		}
	}
	return nil
}

// allowInWrite holds the rules that depend on the write as a whole: a
// resolution reaches a requester who has an address in the same write,
// and master/child links are written by Link, both sides together, after
// its loop check.
func allowInWrite(cur *Ticket, e *Event, w *writeSet, mailed bool) error {
	id := cur.ID
	switch e.Kind {
	case EvStatus:
		if Status(e.To) == StatusResolved && cur.Requester.Email != "" && !mailed {
			return refuse(id, "the resolution must be mailed to the requester in the same write", "resolve with Resolve (s → resolved, desk resolve)")
		}
	case EvMajorEnd:
		if !w.following {
			return refuse(id, "a major incident ends when its ticket is resolved", "resolve "+id.String())
		}
	case EvEscalation:
		if !w.escalating {
			return refuse(id, "escalation steps are fired by the store when they come due, once each", "the ladder is in the config ([sla.escalation])")
		}
	case EvLinked:
		if e.Link != nil && (e.Link.Kind == LinkMaster || e.Link.Kind == LinkChild) && !w.linking {
			return refuse(id, "master links are made with Link, which checks for loops and writes both tickets", "use m in the console or desk link")
		}
	}
	return nil
}

// peakFromHistory sets t.Peak from its history, for records written
// before the projection kept it.
func peakFromHistory(txn *badger.Txn, t *Ticket) error {
	var r Ticket
	err := prefixScan(txn, eventPrefix(t.ID), false, func(item *badger.Item) (bool, error) {
		var e Event
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
			return false, fmt.Errorf("store: read history of %s: %w", t.ID, err)
		}
		Apply(&r, e)
		return true, nil
	})
	if err != nil {
		return err
	}
	t.Peak = r.Peak
	if t.Peak == 0 {
		t.Peak = t.Priority
	}
	return nil
}
