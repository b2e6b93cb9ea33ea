package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The lifecycle operations. Each is one transaction (tickets it touches
// together, such as a master and its linked tickets, are written together),
// goes through the transition table (allow) and returns the ticket as it is
// after the write. Refusals are *RefusedError, stale edits *ConflictError.
// They take no Badger types, so a second backend can implement the same set.

// op is one operation's transaction: it reads tickets as they are with the
// writes it already made, and appends events to any of them.
type op struct {
	s     *Store
	txn   *badger.Txn
	w     *writeSet
	actor string
}

func (o *op) get(id TicketID) (Ticket, error) { return getTicket(o.txn, id) }

func (o *op) add(id TicketID, evs ...Event) (Ticket, error) {
	cur, err := getTicket(o.txn, id)
	if err != nil {
		return Ticket{}, err
	}
	return o.s.appendIn(o.txn, o.w, cur, evs, o.actor)
}

// history reads a ticket's events inside the transaction.
func (o *op) history(id TicketID) ([]Event, error) {
	var evs []Event
	err := prefixScan(o.txn, eventPrefix(id), false, func(item *badger.Item) (bool, error) {
		var e Event
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
			return false, fmt.Errorf("store: read history of %s: %w", id, err)
		}
		evs = append(evs, e)
		return true, nil
	})
	return evs, err
}

// run runs fn as one transaction holding the stripes of ids, and returns the
// state of the first of them afterwards.
func (s *Store) run(actor string, ids []TicketID, fn func(o *op) error) (Ticket, error) {
	defer s.lockTickets(ids...)()
	var out Ticket
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		o := &op{s: s, txn: txn, w: w, actor: actor}
		if err := fn(o); err != nil {
			return err
		}
		t, err := o.get(ids[0])
		out = t
		return err
	})
	return out, err
}

func (s *Store) run1(id TicketID, actor string, fn func(o *op, cur Ticket) ([]Event, error)) (Ticket, error) {
	return s.run(actor, []TicketID{id}, func(o *op) error {
		cur, err := o.get(id)
		if err != nil {
			return err
		}
		evs, err := fn(o, cur)
		if err != nil || len(evs) == 0 {
			return err
		}
		_, err = o.add(id, evs...)
		return err
	})
}

// SetField changes one field (or the status) if it still has the value the
// caller saw; otherwise nothing is written and the error is a
// *ConflictError naming who changed it. Setting the value it already has
// writes nothing. Status changes that need more than a value are refused
// with the operation to use: resolved (Resolve), escalated (Escalate).
func (s *Store) SetField(id TicketID, actor string, field Field, seen, to string) (Ticket, error) {
	return s.setField(id, actor, field, seen, to, "")
}

// UndoField is SetField taking back the caller's own change just made: the
// same rules, and the history names it an undo (nothing is ever erased).
func (s *Store) UndoField(id TicketID, actor string, field Field, seen, to string) (Ticket, error) {
	return s.setField(id, actor, field, seen, to, "undo")
}

func (s *Store) setField(id TicketID, actor string, field Field, seen, to, text string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if !slices.Contains(Fields, field) {
			return nil, refuse(id, fmt.Sprintf("field %q cannot be changed", field), "use one of type, priority, queue, assignee, team, category, subject, service or status")
		}
		if field == FieldPriority {
			var p Priority
			if err := p.UnmarshalText([]byte(to)); err != nil {
				return nil, refuse(id, err.Error(), "")
			}
			to = p.String()
		}
		now := FieldValue(&cur, field)
		if now != seen {
			c := &ConflictError{Ticket: id, Field: field, Seen: seen, Now: now}
			if h, err := o.history(id); err == nil {
				for _, e := range slices.Backward(h) {
					if (field == FieldStatus && e.Kind == EvStatus) || (e.Kind == EvField && e.Field == field) {
						c.By, c.At = e.Actor, e.At
						break
					}
				}
			}
			return nil, c
		}
		if now == to {
			return nil, nil
		}
		if field != FieldStatus {
			return []Event{{Kind: EvField, Field: field, From: now, To: to, Text: text}}, nil
		}
		switch st := Status(to); {
		case !st.Valid():
			return nil, refuse(id, fmt.Sprintf("status %q does not exist", to), fmt.Sprintf("use one of %v", Statuses))
		case st == StatusResolved:
			return nil, refuse(id, "resolving needs a resolution text (it is mailed to the requester)", "use resolve with the text")
		case st == StatusEscalated && cur.Team == "":
			return nil, refuse(id, "escalating needs a 3rd-level team", "use escalate with the team")
		case cur.Status == StatusEscalated && (st == StatusOpen || st == StatusNew):
			// Waiting on the requester or a release, the team keeps it.
			return nil, refuse(id, fmt.Sprintf("%s is with %s: it comes back to 2nd line with the team's findings", id, cur.Team),
				"hand it back (H in the console, desk update --status open --note FINDINGS)")
		}
		return []Event{{Kind: EvStatus, From: now, To: to, Text: text}}, nil
	})
}

// threading builds the headers of a mail to the requester from the
// history: In-Reply-To their last mail, References every message so far.
func threading(h []Event) (inReplyTo string, refs []string) {
	for _, e := range h {
		if e.Message != nil && e.Message.MessageID != "" {
			refs = append(refs, e.Message.MessageID)
			if e.Kind == EvMessageIn {
				inReplyTo = e.Message.MessageID
			}
		}
	}
	return inReplyTo, refs
}

// toRequester is a mail to the ticket's requester, threaded under the
// conversation so far.
func (o *op) toRequester(t Ticket, text string) (Event, error) {
	h, err := o.history(t.ID)
	if err != nil {
		return Event{}, err
	}
	irt, refs := threading(h)
	return Event{Kind: EvMessageOut, Message: &Message{
		To: []string{t.Requester.Email}, Subject: ReplySubject(o.s.tagSubject(stripReply(t.Subject), t.ID)), Body: text,
		InReplyTo: irt, References: refs,
	}}, nil
}

// Reply mails text to the requester, threaded under their mail and tagged
// with the ticket. A new ticket becomes open; an unassigned one is assigned
// to whoever replied (it then shows under Mine).
func (s *Store) Reply(id TicketID, actor, text string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if strings.TrimSpace(text) == "" {
			return nil, refuse(id, "the reply is empty", "write what the requester should read")
		}
		if cur.Requester.Email == "" {
			return nil, refuse(id, id.String()+" has no requester address to reply to (registered by phone?)", "add a note instead")
		}
		out, err := o.toRequester(cur, text)
		if err != nil {
			return nil, err
		}
		evs := []Event{out}
		if cur.Status == StatusNew {
			evs = append(evs, Event{Kind: EvStatus, From: string(cur.Status), To: string(StatusOpen)})
		}
		if cur.Assignee == "" {
			evs = append(evs, Event{Kind: EvField, Field: FieldAssignee, To: actor})
		}
		return evs, nil
	})
}

// resolveEvents resolves t with text: mailed to its requester when it has
// one, noted otherwise.
func (o *op) resolveEvents(t Ticket, text, note string) ([]Event, error) {
	var evs []Event
	if note != "" {
		evs = append(evs, Event{Kind: EvNote, Text: note})
	}
	if t.Requester.Email != "" {
		out, err := o.toRequester(t, text)
		if err != nil {
			return nil, err
		}
		evs = append(evs, out)
	}
	evs = append(evs, Event{Kind: EvStatus, From: string(t.Status), To: string(StatusResolved), Text: text})
	if t.Assignee == "" {
		evs = append(evs, Event{Kind: EvField, Field: FieldAssignee, To: o.actor})
	}
	return evs, nil
}

// Resolve resolves the ticket with a resolution text, mailed to the
// requester, and in the same write every active ticket linked under it,
// each requester mailed the same resolution. It returns the ticket and the
// linked tickets it resolved.
func (s *Store) Resolve(id TicketID, actor, text string) (Ticket, []TicketID, error) {
	var cascaded []TicketID
	t, err := s.run(actor, s.withChildren(id), func(o *op) error {
		cascaded = nil
		cur, err := o.get(id)
		if err != nil {
			return err
		}
		return o.resolve(cur, text, &cascaded)
	})
	return t, cascaded, err
}

func (o *op) resolve(cur Ticket, text string, cascaded *[]TicketID) error {
	id := cur.ID
	if strings.TrimSpace(text) == "" {
		return refuse(id, "resolving needs a resolution text (it is mailed to the requester)", "write the resolution")
	}
	if !cur.Status.Active() {
		return refuse(id, fmt.Sprintf("%s is %s already", id, cur.Status), "reopen it first to resolve it again")
	}
	evs, err := o.resolveEvents(cur, text, "")
	if err != nil {
		return err
	}
	if _, err := o.add(id, evs...); err != nil {
		return err
	}
	return o.cascade(cur, text, map[TicketID]bool{id: true}, cascaded)
}

// cascade resolves the active tickets linked under t, and theirs in turn,
// with t's resolution, each requester mailed it.
func (o *op) cascade(t Ticket, text string, seen map[TicketID]bool, cascaded *[]TicketID) error {
	for _, l := range t.Links {
		if l.Kind != LinkChild || seen[l.To] {
			continue
		}
		seen[l.To] = true
		c, err := o.get(l.To)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if c.Master != t.ID {
			continue // relinked elsewhere
		}
		if c.Status.Active() {
			evs, err := o.resolveEvents(c, text, "Resolved with master "+t.ID.String())
			if err != nil {
				return err
			}
			if _, err := o.add(c.ID, evs...); err != nil {
				return fmt.Errorf("resolving linked %s: %w", c.ID, err)
			}
			*cascaded = append(*cascaded, c.ID)
		}
		if err := o.cascade(c, text, seen, cascaded); err != nil {
			return err
		}
	}
	return nil
}

// withChildren is id and the tickets linked under it, for taking their
// stripes before the transaction (read outside it: a child linked meanwhile
// is still resolved, the stripes only make conflicts rare).
func (s *Store) withChildren(id TicketID) []TicketID {
	ids := []TicketID{id}
	if t, err := s.Get(id); err == nil {
		for _, l := range t.Links {
			if l.Kind == LinkChild {
				ids = append(ids, l.To)
			}
		}
	}
	return ids
}

// CloseTicket closes a resolved ticket. With a resolution text an active ticket
// is resolved (mailed, cascaded) and closed in the same write. A ticket
// that was P1 or P2 while open needs an approved incident report.
func (s *Store) CloseTicket(id TicketID, actor, resolution string) (Ticket, error) {
	return s.run(actor, s.withChildren(id), func(o *op) error {
		cur, err := o.get(id)
		if err != nil {
			return err
		}
		if cur.Status == StatusClosed {
			return refuse(id, id.String()+" is closed already", "")
		}
		if cur.Status == StatusResolved && strings.TrimSpace(resolution) != "" {
			return refuse(id, id.String()+" is resolved already, with its resolution mailed", "close it without a resolution, or reopen it to resolve it again")
		}
		if cur.Status.Active() && strings.TrimSpace(resolution) != "" {
			var cascaded []TicketID
			if err := o.resolve(cur, resolution, &cascaded); err != nil {
				return err
			}
			if cur, err = o.get(id); err != nil {
				return err
			}
		}
		_, err = o.add(id, Event{Kind: EvStatus, From: string(cur.Status), To: string(StatusClosed)})
		return err
	})
}

// Reopen puts a resolved or closed ticket back to open, with why as a note.
func (s *Store) Reopen(id TicketID, actor, why string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if cur.Status.Active() {
			return nil, refuse(id, fmt.Sprintf("%s is %s, not resolved or closed", id, cur.Status), "")
		}
		var evs []Event
		if strings.TrimSpace(why) != "" {
			evs = append(evs, Event{Kind: EvNote, Text: "Reopened: " + why})
		}
		return append(evs, Event{Kind: EvStatus, From: string(cur.Status), To: string(StatusOpen)}), nil
	})
}

// Link puts child under master (the same problem): resolving the master
// resolves the child. Both sides are written together, and the loop check
// reads the master's chain inside the same transaction, so two operators
// linking A→B and B→A at once cannot both succeed.
func (s *Store) Link(child, master TicketID, actor string) (Ticket, error) {
	return s.run(actor, []TicketID{child, master}, func(o *op) error {
		if child == master {
			return refuse(child, "a ticket cannot be its own master", "")
		}
		c, err := o.get(child)
		if err != nil {
			return err
		}
		if c.Master == master {
			return refuse(child, fmt.Sprintf("%s is linked to %s already", child, master), "")
		}
		for cur, hops := master, 0; cur != 0; hops++ {
			mt, err := o.get(cur)
			if errors.Is(err, ErrNotFound) {
				return refuse(child, cur.String()+" does not exist", "check the number")
			}
			if err != nil {
				return err
			}
			if mt.Master == child || hops > 1000 {
				return refuse(child, fmt.Sprintf("%s is under %s already: links may not loop", master, child), "link them the other way round")
			}
			cur = mt.Master
		}
		o.w.linking = true
		if _, err := o.add(child, Event{Kind: EvLinked, Link: &Link{Kind: LinkMaster, To: master}}); err != nil {
			return err
		}
		_, err = o.add(master, Event{Kind: EvLinked, Link: &Link{Kind: LinkChild, To: child}})
		return err
	})
}

// Escalate hands the ticket to a 3rd-level team (functional escalation),
// with an optional note for them.
func (s *Store) Escalate(id TicketID, actor, team, note string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		team = strings.TrimSpace(team)
		if team == "" {
			return nil, refuse(id, "escalating needs a 3rd-level team", "name the team")
		}
		if !cur.Status.Active() {
			return nil, refuse(id, fmt.Sprintf("%s is %s", id, cur.Status), "reopen it first")
		}
		if cur.Status == StatusEscalated && cur.Team == team {
			return nil, refuse(id, fmt.Sprintf("%s is with %s already", id, team), "")
		}
		var evs []Event
		if strings.TrimSpace(note) != "" {
			evs = append(evs, Event{Kind: EvNote, Text: note})
		}
		evs = append(evs, Event{Kind: EvField, Field: FieldTeam, From: cur.Team, To: team})
		if cur.Status != StatusEscalated {
			evs = append(evs, Event{Kind: EvStatus, From: string(cur.Status), To: string(StatusEscalated), Text: "functional escalation to " + team})
		}
		return evs, nil
	})
}

// HandBack returns an escalated ticket from its 3rd-level team to 2nd
// line, open, with the team's findings as a note.
func (s *Store) HandBack(id TicketID, actor, findings string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if cur.Status != StatusEscalated {
			return nil, refuse(id, fmt.Sprintf("%s is %s, not escalated", id, cur.Status), "")
		}
		if strings.TrimSpace(findings) == "" {
			return nil, refuse(id, "handing back needs the team's findings", "write what was found and what 2nd line should do")
		}
		return []Event{
			{Kind: EvNote, Text: "Handed back by " + cur.Team + ": " + findings},
			{Kind: EvStatus, From: string(cur.Status), To: string(StatusOpen)},
			{Kind: EvField, Field: FieldTeam, From: cur.Team, To: ""},
		}, nil
	})
}

// MarkResponded records a first response given outside mail (a phone
// call); a new ticket becomes open.
func (s *Store) MarkResponded(id TicketID, actor string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if !cur.Responded.IsZero() {
			return nil, refuse(id, id.String()+" already has its first response", "")
		}
		evs := []Event{{Kind: EvResponded}}
		if cur.Status == StatusNew {
			evs = append(evs, Event{Kind: EvStatus, From: string(cur.Status), To: string(StatusOpen)})
		}
		return evs, nil
	})
}

// AddNote adds an internal note (never mailed).
func (s *Store) AddNote(id TicketID, actor, text string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if strings.TrimSpace(text) == "" {
			return nil, refuse(id, "the note is empty", "")
		}
		return []Event{{Kind: EvNote, Text: text}}, nil
	})
}

var referenceRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_.-]{0,31}):([^\s:][^\s]{0,127})$`)

// ParseReference checks a reference in another tracker, "SYSTEM:ID" such
// as "jira:NSP-123" or "cq:4711", and returns it with the system in lower
// case.
func ParseReference(s string) (string, error) {
	m := referenceRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", fmt.Errorf("reference %q: write it as SYSTEM:ID, for example jira:NSP-123 or cq:4711", s)
	}
	return strings.ToLower(m[1]) + ":" + m[2], nil
}

// AddReference records the ticket's id in another tracker (a supplier's
// Jira, a CQ number); ByReference finds the ticket by it.
func (s *Store) AddReference(id TicketID, actor, ref string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		r, err := ParseReference(ref)
		if err != nil {
			return nil, refuse(id, err.Error(), "")
		}
		if slices.Contains(cur.External, r) {
			return nil, refuse(id, fmt.Sprintf("%s has the reference %s already", id, r), "")
		}
		return []Event{{Kind: EvField, Field: FieldExternal, To: r}}, nil
	})
}

// ByReference calls fn for the tickets that carry ref.
func (s *Store) ByReference(ref string, fn func(id TicketID) bool) error {
	r, err := ParseReference(ref)
	if err != nil {
		return err
	}
	return s.indexIDs(referencePrefix(r), fn)
}

// ReportIncident writes (or rewrites) the ticket's incident report. A
// rewrite needs approving again.
func (s *Store) ReportIncident(id TicketID, actor string, r IncidentReport) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if cur.Status == StatusClosed {
			return nil, refuse(id, id.String()+" is closed: its report cannot change any more", "reopen it first")
		}
		// Author, version and times come from the event (Apply).
		r.Author, r.Approver, r.Version = "", "", 0
		r.Written, r.Approved = time.Time{}, time.Time{}
		return []Event{{Kind: EvReport, Report: &r}}, nil
	})
}

// ApproveReport approves the current incident report (leads only); the
// approver and time are recorded.
//
// seen is the version the lead read (0: whatever is current, for a script
// that shows the report and approves in one go); a newer version is a
// *ConflictError, so nobody approves a rewrite unread.
func (s *Store) ApproveReport(id TicketID, actor string, seen int) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		if seen != 0 && cur.Report != nil && cur.Report.Version != seen {
			return nil, &ConflictError{Ticket: id, Field: "report", Seen: fmt.Sprint(seen),
				Now: fmt.Sprintf("version %d", cur.Report.Version), By: cur.Report.Author, At: cur.Report.Written}
		}
		return []Event{{Kind: EvApproved, Text: reportVersion(cur.Report)}}, nil
	})
}

func reportVersion(r *IncidentReport) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("version %d", r.Version)
}
