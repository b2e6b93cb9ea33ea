package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// NewTicket is what a creator knows of a new ticket.
type NewTicket struct {
	Type      Type
	Priority  Priority
	Queue     string
	Subject   string
	Requester Person
	External  []string
	// Message is the first message (mail or phone-call notes), if any.
	Message *Message
	// Inbound tells whether Message came from the requester (message-in) or
	// was written by an operator for a phone call (a note).
	Inbound bool
	// Links to other tickets from the start (e.g. a follow-up of a closed one).
	Links []Link
	// Service the ticket is about; empty: the services' mail rules decide
	// from Message (and none may match).
	Service string
	// Ack, when set, queues an acknowledgement in the same transaction, as
	// Intake.Ack does for mail (a phone ticket registered with an address).
	Ack *OutMail
}

// TicketPlaceholder in the Subject or Body of an outbound mail queued before
// its ticket has a number (an acknowledgement) is replaced by "SD-<n>".
const TicketPlaceholder = "{{ticket}}"

// Create registers a new ticket with the next number, its created event (and
// first message event), indexes and change-feed entry in one transaction.
// A zero Priority means P3 and an empty Type means incident.
func (s *Store) Create(actor string, nt NewTicket) (Ticket, error) {
	var out Ticket
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		t, err := s.createIn(txn, w, actor, nt, nil)
		out = t
		if err != nil || nt.Ack == nil {
			return err
		}
		ack := *nt.Ack
		ack.To = slices.Clone(ack.To)
		ack.Ticket, ack.Auto = t.ID, true
		if ack.Kind == "" {
			ack.Kind = "ack"
		}
		if err := s.putOutMail(txn, w, &ack); err != nil {
			return fmt.Errorf("store: queue acknowledgement for %s: %w", t.ID, err)
		}
		return nil
	})
	return out, err
}

func (s *Store) createIn(txn *badger.Txn, w *writeSet, actor string, nt NewTicket, extra []Event) (Ticket, error) {
	if nt.Priority == 0 {
		nt.Priority = 3
	}
	if nt.Priority < 1 || nt.Priority > 4 {
		return Ticket{}, fmt.Errorf("create ticket: priority %d: use P1, P2, P3 or P4", int(nt.Priority))
	}
	if nt.Type == "" {
		nt.Type = Incident
	}
	if !slices.Contains(Types, nt.Type) {
		return Ticket{}, fmt.Errorf("create ticket: type %q is unknown; use one of %v", nt.Type, Types)
	}
	for _, l := range nt.Links {
		if l.To == 0 || l.Kind == "" {
			return Ticket{}, fmt.Errorf("create ticket: link %+v needs a kind and a target ticket", l)
		}
		if l.Kind == LinkMaster || l.Kind == LinkChild {
			return Ticket{}, refuse(0, "a new ticket is linked under a master with Link, which writes both sides", "create it, then link it")
		}
		if ok, err := exists(txn, ticketKey(l.To)); err != nil {
			return Ticket{}, err
		} else if !ok {
			return Ticket{}, fmt.Errorf("create ticket: cannot link to %s: %w", l.To, ErrNotFound)
		}
	}
	n, err := nextCounter(txn, ctrTicket)
	if err != nil {
		return Ticket{}, err
	}
	id := TicketID(n)
	d := s.people()
	service := nt.Service
	if service != "" {
		sv, ok := d.service(service)
		if !ok {
			return Ticket{}, refuse(0, fmt.Sprintf("there is no service %q", service), "use one of the services in the config ([[services]])")
		}
		service = sv.Name
	} else {
		// The mail rules read the mail, or for a ticket by hand (a phone
		// call) the requester's domain and the subject as typed.
		m := nt.Message
		if m == nil || !nt.Inbound {
			m = &Message{From: nt.Requester, Subject: nt.Subject}
		}
		service = d.ServiceFor(m)
	}
	created := Ticket{
		Type: nt.Type, Priority: nt.Priority, Status: StatusNew, Queue: nt.Queue,
		Subject: nt.Subject, Requester: nt.Requester, Service: service,
		External: slices.Clone(nt.External), Links: slices.Clone(nt.Links),
	}
	// While the service has an open major incident, a new report of it
	// is offered for linking: related from the start, and said in a note
	// (NSP: later reports become requests referencing the incident).
	major, err := openMajorFor(txn, service)
	if err != nil {
		return Ticket{}, err
	}
	if major != 0 && !slices.ContainsFunc(created.Links, func(l Link) bool { return l.To == major }) {
		created.Links = append(created.Links, Link{Kind: LinkRelated, To: major})
	}
	evs := []Event{{Kind: EvCreated, Created: &created}}
	if m := nt.Message; m != nil {
		if nt.Inbound {
			evs = append(evs, Event{Kind: EvMessageIn, Message: m})
		} else {
			evs = append(evs, Event{Kind: EvNote, Text: m.Body, Message: m})
		}
	}
	if major != 0 {
		evs = append(evs, Event{Kind: EvNote, Text: fmt.Sprintf("%s is an open major incident of %s: this may be a report of it. Link it under %s (m in the console) to have its resolution reach this requester.", major, service, major)})
	}
	evs = append(evs, extra...)
	var tl slaengine.Timeline
	return s.putEvents(txn, w, Ticket{}, &tl, id, evs, actor, true)
}

// Update appends events to a ticket. fn receives the current state and
// returns the events to append (Ticket, Seq, At and Actor are filled in by
// the store; Actor only when empty); the projection, SLA clocks and indexes
// are written in the same transaction. fn may run more than once when
// writers conflict, so it must not have side effects, and it must not call
// Update itself. Returning no events writes nothing. Outbound message events
// with recipients also get an outbox entry in the same transaction (and the
// commit is then synced to disk).
func (s *Store) Update(id TicketID, actor string, fn func(t Ticket) ([]Event, error)) (Ticket, error) {
	unlock := s.lockTicket(id)
	defer unlock()
	var out Ticket
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		cur, err := getTicket(txn, id)
		if err != nil {
			return err
		}
		evs, err := fn(cloneTicket(cur))
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			out = cur
			return nil
		}
		t, err := s.appendIn(txn, w, cur, evs, actor)
		out = t
		return err
	})
	return out, err
}

func (s *Store) appendIn(txn *badger.Txn, w *writeSet, cur Ticket, evs []Event, actor string) (Ticket, error) {
	var tl slaengine.Timeline
	if err := getJSON(txn, timelineKey(cur.ID), &tl); err != nil && !errors.Is(err, ErrNotFound) {
		return Ticket{}, fmt.Errorf("read SLA timeline of %s: %w", cur.ID, err)
	}
	return s.putEvents(txn, w, cur, &tl, cur.ID, evs, actor, false)
}

// putEvents folds evs onto old (a zero Ticket for a new one) and writes the
// events, the projection, the SLA timeline, the indexes and any outbox
// entries into txn. Only a new ticket may start with a created event.
func (s *Store) putEvents(txn *badger.Txn, w *writeSet, old Ticket, tl *slaengine.Timeline, id TicketID, evs []Event, actor string, isNew bool) (Ticket, error) {
	cur := cloneTicket(old)
	now := s.now()
	if now.Before(cur.Updated) {
		now = cur.Updated // keep each history in time order even if the clock steps back
	}
	resolving := false
	for _, e := range evs {
		if e.Kind == EvStatus && Status(e.To) == StatusResolved {
			resolving = true
		}
	}
	if !isNew && cur.Peak == 0 {
		// A record written before the store kept the peak priority: the
		// history knows it (a P1 lowered before the upgrade still needs
		// its report).
		if err := peakFromHistory(txn, &cur); err != nil {
			return Ticket{}, err
		}
	}
	mailed := false // the write mails the requester (a resolution must be)
	for _, e := range evs {
		if e.Kind == EvMessageOut && e.Message != nil && cur.Requester.Email != "" &&
			slices.ContainsFunc(e.Message.To, func(a string) bool { return strings.EqualFold(a, cur.Requester.Email) }) {
			mailed = true
		}
	}
	put := func(i int, e Event) error {
		e.Ticket, e.Seq, e.At = id, cur.Events, now
		// Events are the writer's: a writer cannot act under another
		// name (and so another role).
		e.Actor = actor
		role := s.RoleOf(e.Actor)
		if isNew && i == 0 {
			if e.Kind != EvCreated || e.Created == nil {
				return errors.New("store: a new ticket must start with a created event")
			}
			if role == RoleViewer {
				return refuse(0, e.Actor+" is a viewer and cannot register tickets", "a lead can give the operator role in the config ([[operators]] role)")
			}
			c := cloneTicket(*e.Created)
			e.Created = &c
		} else if err := checkEvent(&cur, &e); err != nil {
			return err
		} else if err := s.allow(&cur, &e, role); err != nil {
			return err
		} else if err := allowInWrite(&cur, &e, w, mailed); err != nil {
			return err
		}
		if e.Kind == EvLinked {
			if ok, err := exists(txn, ticketKey(e.Link.To)); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%s: cannot link to %s: %w", id, e.Link.To, ErrNotFound)
			}
			l := *e.Link
			e.Link = &l
		}
		if e.Kind == EvMajor || e.Kind == EvMajorNote || e.Kind == EvMajorEnd {
			if err := s.prepareMajor(txn, &cur, &e, now); err != nil {
				return err
			}
		}
		if e.Kind == EvEscalation && e.Escalation != nil {
			for _, t := range e.Escalation.Told {
				if t.Via == slaengine.ViaWebhook && t.Address != "" {
					if err := s.putHook(txn, w, &cur, &e, t.Address); err != nil {
						return err
					}
				}
			}
		}
		if e.Message != nil {
			m := cloneMessage(e.Message)
			e.Message = m
			if e.Kind == EvMajor || e.Kind == EvMajorNote || e.Kind == EvMajorEnd {
				if err := s.subscriberMail(txn, w, id, &cur, e.Seq, m); err != nil {
					return err
				}
			} else if e.Kind == EvMessageOut || e.Kind == EvEscalation {
				kind := "reply"
				switch {
				case e.Kind == EvEscalation:
					kind = "escalation"
				case resolving:
					kind = "resolution"
				}
				if err := s.outbound(txn, w, id, e.Seq, m, kind); err != nil {
					return err
				}
			}
			if k := normKey(m.MessageID); k != "" {
				m.MessageID = k
				if err := setIfAbsent(txn, messageKey(k), u64(nil, uint64(id))); err != nil {
					return err
				}
			}
		}
		before := cur
		Apply(&cur, e)
		if e.Kind == EvCreated {
			*tl = slaengine.Timeline{Created: cur.Created, Priority: slaengine.Priority(cur.Priority), Status: string(cur.Status)}
		} else if p, ok := point(&before, &cur, e.At); ok {
			tl.Points = append(tl.Points, p)
		}
		b, err := json.Marshal(&e)
		if err != nil {
			return fmt.Errorf("store: encode event of %s: %w", id, err)
		}
		if err := txn.Set(eventKey(id, e.Seq), b); err != nil {
			return err
		}
		return nil
	}
	for i, e := range evs {
		if err := put(i, e); err != nil {
			return Ticket{}, err
		}
	}
	follow, err := s.majorFollowUps(txn, &cur, evs)
	if err != nil {
		return Ticket{}, err
	}
	if len(follow) > 0 {
		w.following = true
		for _, e := range follow {
			if err := put(len(evs), e); err != nil {
				w.following = false
				return Ticket{}, err
			}
		}
		w.following = false
	}
	tl.Type = string(cur.Type) // the policy may have targets per type
	s.computeSLA(&cur, *tl, now)
	cur.EscalateAt = s.nextEscalation(&cur)
	if err := s.putProjection(txn, &old, &cur, isNew); err != nil {
		return Ticket{}, err
	}
	b, err := json.Marshal(tl)
	if err != nil {
		return Ticket{}, fmt.Errorf("store: encode SLA timeline of %s: %w", id, err)
	}
	if err := txn.Set(timelineKey(id), b); err != nil {
		return Ticket{}, err
	}
	w.changes = append(w.changes, Change{Ticket: id, Seq: cur.Events})
	return cur, nil
}

// putProjection writes cur and moves its index entries from where old had
// them; isNew means old has none.
func (s *Store) putProjection(txn *badger.Txn, old, cur *Ticket, isNew bool) error {
	id := cur.ID
	if !cur.Status.Active() {
		cur.Deadline, cur.EscalateAt = time.Time{}, time.Time{}
	}
	if isNew || old.Status != cur.Status || old.Queue != cur.Queue {
		if !isNew {
			if err := txn.Delete(statusKey(old.Status, old.Queue, id)); err != nil {
				return err
			}
		}
		if err := txn.Set(statusKey(cur.Status, cur.Queue, id), nil); err != nil {
			return err
		}
	}
	oe, ne := strings.ToLower(strings.TrimSpace(old.Requester.Email)), strings.ToLower(strings.TrimSpace(cur.Requester.Email))
	if isNew || oe != ne {
		if !isNew && oe != "" {
			if err := txn.Delete(requesterKey(oe, id)); err != nil {
				return err
			}
		}
		if ne != "" {
			if err := txn.Set(requesterKey(ne, id), nil); err != nil {
				return err
			}
		}
	}
	if isNew || !old.Deadline.Equal(cur.Deadline) {
		if !isNew && !old.Deadline.IsZero() {
			if err := txn.Delete(deadlineKey(old.Deadline, id)); err != nil {
				return err
			}
		}
		if !cur.Deadline.IsZero() {
			if err := txn.Set(deadlineKey(cur.Deadline, id), nil); err != nil {
				return err
			}
		}
	}
	if isNew || !old.EscalateAt.Equal(cur.EscalateAt) {
		if !isNew && !old.EscalateAt.IsZero() {
			if err := txn.Delete(escalateKey(old.EscalateAt, id)); err != nil {
				return err
			}
		}
		if !cur.EscalateAt.IsZero() {
			if err := txn.Set(escalateKey(cur.EscalateAt, id), nil); err != nil {
				return err
			}
		}
	}
	if cur.Major != nil && (isNew || old.Major == nil) {
		if err := txn.Set(majorKey(id), nil); err != nil {
			return err
		}
	}
	wasOpen, isOpen := !isNew && old.Major.Open(), cur.Major.Open()
	if wasOpen && (!isOpen || !strings.EqualFold(old.Major.Service, cur.Major.Service)) {
		if err := txn.Delete(openMajorKey(old.Major.Service, id)); err != nil {
			return err
		}
	}
	if isOpen && (!wasOpen || !strings.EqualFold(old.Major.Service, cur.Major.Service)) {
		if err := txn.Set(openMajorKey(cur.Major.Service, id), nil); err != nil {
			return err
		}
	}
	for _, r := range cur.External {
		if isNew || !slices.Contains(old.External, r) {
			if err := txn.Set(referenceKey(r, id), nil); err != nil {
				return err
			}
		}
	}
	b, err := encodeTicket(cur)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", id, err)
	}
	return txn.Set(ticketKey(id), b)
}

// computeSLA evaluates the clocks at now. A failing engine must not stop
// tickets from being registered, so a panic in it is logged and leaves the
// ticket without clocks.
func (s *Store) computeSLA(t *Ticket, tl slaengine.Timeline, now time.Time) {
	t.SLA, t.Deadline = slaengine.Clocks{}, time.Time{}
	p := s.policy.Load()
	if p == nil || (len(p.Targets) == 0 && len(p.ByType) == 0) {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			t.SLA, t.Deadline = slaengine.Clocks{}, time.Time{}
			s.logf("SLA engine failed on %s, left without clocks: %v", t.ID, r)
		}
	}()
	tl.Holds = s.holdsFor(t.Service, t.Created)
	t.SLA = slaengine.Compute(*p, tl, now)
	t.Deadline = t.SLA.Deadline()
}

func cloneMessage(m *Message) *Message {
	c := *m
	c.References = slices.Clone(m.References)
	c.To = slices.Clone(m.To)
	c.Cc = slices.Clone(m.Cc)
	c.Attachments = slices.Clone(m.Attachments)
	c.Problems = slices.Clone(m.Problems)
	return &c
}

func setIfAbsent(txn *badger.Txn, key, val []byte) error {
	ok, err := exists(txn, key)
	if err != nil || ok {
		return err
	}
	return txn.Set(key, val)
}

func getTicket(txn *badger.Txn, id TicketID) (Ticket, error) {
	item, err := txn.Get(ticketKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Ticket{}, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Ticket{}, err
	}
	var t Ticket
	err = item.Value(func(b []byte) error { return decodeTicket(b, &t) })
	if err != nil {
		return Ticket{}, fmt.Errorf("store: read %s: %w", id, err)
	}
	return t, nil
}

// Get returns one ticket.
func (s *Store) Get(id TicketID) (Ticket, error) {
	var t Ticket
	err := s.read(func(txn *badger.Txn) error {
		var err error
		t, err = getTicket(txn, id)
		return err
	})
	return t, err
}

// History returns the ticket's events, oldest first.
func (s *Store) History(id TicketID) ([]Event, error) {
	var evs []Event
	err := s.read(func(txn *badger.Txn) error {
		err := prefixScan(txn, eventPrefix(id), false, func(item *badger.Item) (bool, error) {
			var e Event
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
				return false, fmt.Errorf("store: read history of %s: %w", id, err)
			}
			evs = append(evs, e)
			return true, nil
		})
		if err == nil && len(evs) == 0 {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		return err
	})
	return evs, err
}

// Tickets calls fn for every ticket in id order until fn returns false.
func (s *Store) Tickets(fn func(Ticket) bool) error {
	return s.read(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{pTicket}
		// Projections live in the LSM tree (under the value threshold):
		// reading them in place beats prefetching copies.
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(o.Prefix); it.ValidForPrefix(o.Prefix); it.Next() {
			var t Ticket
			if err := it.Item().Value(func(b []byte) error { return decodeTicket(b, &t) }); err != nil {
				return fmt.Errorf("store: read ticket %x: %w", it.Item().Key(), err)
			}
			if !fn(t) {
				return nil
			}
		}
		return nil
	})
}

func idSuffix(k []byte) TicketID { return TicketID(binary.BigEndian.Uint64(k[len(k)-8:])) }

// ByDeadline calls fn for active tickets with a running clock, earliest
// deadline first (a key-only index scan).
func (s *Store) ByDeadline(fn func(id TicketID, due time.Time) bool) error {
	return s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pDeadline}, true, func(item *badger.Item) (bool, error) {
			k := item.Key()
			if len(k) != 17 {
				return true, nil
			}
			return fn(idSuffix(k), keyTime(binary.BigEndian.Uint64(k[1:9]))), nil
		})
	})
}

// ByStatus calls fn for the ids of tickets with status st (queue "" = any
// queue), in id order within a queue.
func (s *Store) ByStatus(st Status, queue string, fn func(id TicketID) bool) error {
	p := statusPrefix(st, queue, queue != "")
	return s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, p, true, func(item *badger.Item) (bool, error) {
			k := item.Key()
			if len(k) < len(p)+8 {
				return true, nil
			}
			return fn(idSuffix(k)), nil
		})
	})
}

// ByRequester calls fn for the ids of tickets whose requester has this
// address (case-insensitive).
func (s *Store) ByRequester(email string, fn func(id TicketID) bool) error {
	return s.indexIDs(requesterPrefix(email), fn)
}

// indexIDs calls fn for the ticket ids of an index whose keys are exactly
// p + id (a key-only scan).
func (s *Store) indexIDs(p []byte, fn func(id TicketID) bool) error {
	return s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, p, true, func(item *badger.Item) (bool, error) {
			k := item.Key()
			if len(k) != len(p)+8 {
				return true, nil
			}
			return fn(idSuffix(k)), nil
		})
	})
}
