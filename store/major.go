package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// Services and major incidents. A P1 incident (or any ticket an operator
// declares) is a major incident of its service: its subscribers hear of it
// when it is declared, with every status update and when it ends, each as
// its own mail through the outbox, written in the same transaction as the
// event that says so. The owner is reminded when the next update is due
// (the update cadence, Borger.dk's table by default). All of it is decided
// here, so the console, desk major and mail intake cannot disagree.

// Service is a service the desk supports ([[services]] in the config).
type Service struct {
	Name        string
	Description string
	Team        string // the owning team
	// Subscribers hear of major incidents: stakeholders' addresses and
	// the organisations' single points of contact.
	Subscribers []string
	// Mail rules: a new ticket whose mail went to one of To, came from a
	// domain in Domains, or has one of Words in its subject is about this
	// service (first service that matches, in config order).
	To      []string
	Domains []string
	Words   []string
}

// MajorIncident is a ticket's major incident.
type MajorIncident struct {
	Service  string    `json:"service,omitempty"`
	Declared time.Time `json:"declared"`
	By       string    `json:"by"`
	// Owner is reminded when an update is due: the assignee when it was
	// declared, else whoever declared it.
	Owner      string    `json:"owner,omitempty"`
	Why        string    `json:"why,omitempty"`
	Updates    int       `json:"updates"` // status updates published since it was declared
	LastUpdate time.Time `json:"last_update,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	// Reminded is the number of the update (Updates+1) the owner was last
	// reminded of: one reminder per update due.
	Reminded int       `json:"reminded,omitempty"`
	Ended    time.Time `json:"ended,omitzero"`
}

// Open reports whether m is a major incident that has not ended.
func (m *MajorIncident) Open() bool { return m != nil && !m.Declared.IsZero() && m.Ended.IsZero() }

// ClockUpdate is the Escalation.Clock of an update reminder.
const ClockUpdate = "update"

func applyMajor(t *Ticket, e Event) {
	switch e.Kind {
	case EvMajor:
		m := MajorIncident{}
		if e.Major != nil {
			m = *e.Major
		}
		m.Declared, m.By, m.LastUpdate, m.Why = e.At, e.Actor, e.At, e.Text
		m.Updates, m.Reminded, m.Ended = 0, 0, time.Time{}
		t.Major = &m
	case EvMajorNote:
		if t.Major.Open() {
			m := *t.Major
			m.Updates++
			m.LastUpdate = e.At
			if e.Major != nil {
				m.NextUpdate = e.Major.NextUpdate
			}
			t.Major = &m
		}
	case EvMajorEnd:
		if t.Major.Open() {
			m := *t.Major
			m.Ended, m.NextUpdate = e.At, time.Time{}
			t.Major = &m
		}
	}
}

// service is the named service, if the directory has it.
func (d Directory) service(name string) (Service, bool) {
	for _, sv := range d.Services {
		if strings.EqualFold(sv.Name, name) {
			return sv, true
		}
	}
	return Service{}, false
}

// ServiceFor is the service a new mail is about by the services' mail
// rules, "" when none matches.
func (d Directory) ServiceFor(m *Message) string {
	if m == nil {
		return ""
	}
	from := strings.ToLower(m.From.Email)
	domain := from[strings.LastIndexByte(from, '@')+1:]
	subject := strings.ToLower(m.Subject)
	words := strings.FieldsFunc(subject, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127)
	})
	for _, sv := range d.Services {
		for _, to := range sv.To {
			if slices.ContainsFunc(append(slices.Clone(m.To), m.Cc...), func(a string) bool { return strings.EqualFold(a, to) }) {
				return sv.Name
			}
		}
		for _, dm := range sv.Domains {
			dm = strings.ToLower(strings.TrimPrefix(dm, "@"))
			if dm != "" && (domain == dm || strings.HasSuffix(domain, "."+dm)) {
				return sv.Name
			}
		}
		for _, w := range sv.Words {
			if w = strings.ToLower(w); w != "" && (slices.Contains(words, w) || strings.Contains(w, " ") && strings.Contains(subject, w)) {
				return sv.Name
			}
		}
	}
	return ""
}

// Services are the services in the directory, in config order.
func (s *Store) Services() []Service { return slices.Clone(s.people().Services) }

func (d Directory) cadence() slaengine.UpdateCadence {
	if d.Cadence.Every > 0 {
		return d.Cadence
	}
	return slaengine.DefaultUpdateCadence(slaengine.DefaultBusinessCalendar())
}

// DeclareMajor declares a major incident for the ticket's service (or the
// one given, which is set on the ticket too); the service's subscribers
// are told in the same write.
func (s *Store) DeclareMajor(id TicketID, actor, service, why string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		var evs []Event
		if service != "" && !strings.EqualFold(service, cur.Service) {
			evs = append(evs, Event{Kind: EvField, Field: FieldService, From: cur.Service, To: service})
		}
		return append(evs, Event{Kind: EvMajor, Text: strings.TrimSpace(why), Major: &MajorIncident{}}), nil
	})
}

// PostUpdate publishes a status update of the ticket's major incident: it
// is kept in the history and mailed to each subscriber of the service;
// the next update is due by the cadence from now.
func (s *Store) PostUpdate(id TicketID, actor, text string) (Ticket, error) {
	return s.run1(id, actor, func(o *op, cur Ticket) ([]Event, error) {
		return []Event{{Kind: EvMajorNote, Text: strings.TrimSpace(text)}}, nil
	})
}

// allowMajor is the transition table's part for major incidents.
func (s *Store) allowMajor(cur *Ticket, e *Event) error {
	id := cur.ID
	switch e.Kind {
	case EvMajor:
		if cur.Major.Open() {
			return refuse(id, fmt.Sprintf("%s is a major incident already (since %s, by %s)", id, cur.Major.Declared.UTC().Format("Mon 02 Jan 15:04 UTC"), cur.Major.By), "post a status update instead (U in the console, desk major update "+id.String()+" TEXT)")
		}
		if !cur.Status.Active() {
			return refuse(id, fmt.Sprintf("%s is %s: a major incident is declared on an open ticket", id, cur.Status), "reopen it first")
		}
	case EvMajorNote:
		if !cur.Major.Open() {
			return refuse(id, id.String()+" is not an open major incident: status updates go to its subscribers", "declare it first (:major in the console, desk major declare "+id.String()+")")
		}
		if strings.TrimSpace(e.Text) == "" {
			return refuse(id, "a status update needs its text (it is mailed to the subscribers as written)", "write what is known, what is being done and when the next update comes")
		}
	case EvMajorEnd:
		if !cur.Major.Open() || cur.Status.Active() {
			return refuse(id, "a major incident ends when its ticket is resolved", "resolve "+id.String())
		}
	case EvField:
		if e.Field == FieldService && e.To != "" {
			d := s.people()
			if sv, ok := d.service(e.To); ok {
				e.To = sv.Name
			} else {
				names := make([]string, len(d.Services))
				for i, sv := range d.Services {
					names[i] = sv.Name
				}
				fix := "add it to the config ([[services]] name = ...)"
				if len(names) > 0 {
					fix = "use one of " + strings.Join(names, ", ") + ", or add it to the config ([[services]])"
				}
				return refuse(id, fmt.Sprintf("there is no service %q", e.To), fix)
			}
		}
	}
	return nil
}

// majorFollowUps are the events the store adds to a write by itself: a
// ticket that became an open P1 incident declares a major incident; a
// major incident whose ticket was resolved or closed ends. A P1 about a
// service that has an open major incident already is a report of that
// one, not a second.
func (s *Store) majorFollowUps(txn *badger.Txn, cur *Ticket, wrote []Event) ([]Event, error) {
	declared := slices.ContainsFunc(wrote, func(e Event) bool { return e.Kind == EvMajor || e.Kind == EvMajorEnd })
	switch {
	case cur.Major.Open() && !cur.Status.Active():
		return []Event{{Kind: EvMajorEnd}}, nil
	case !declared && !cur.Major.Open() && cur.Status.Active() && cur.Priority == 1 && cur.Type == Incident:
		if other, err := openMajorFor(txn, cur.Service); err != nil || (other != 0 && other != cur.ID) {
			return nil, err
		}
		return []Event{{Kind: EvMajor, Text: "P1 incident", Major: &MajorIncident{}}}, nil
	}
	return nil, nil
}

// prepareMajor fills in a major-incident event before it is written: the
// owner, when the next update is due, and the mail to the subscribers.
func (s *Store) prepareMajor(txn *badger.Txn, cur *Ticket, e *Event, now time.Time) error {
	d := s.people()
	m := MajorIncident{}
	if e.Major != nil {
		m = *e.Major
	}
	svcName := cur.Service
	if e.Kind == EvMajor {
		m.Service = svcName
		m.Owner = cur.Assignee
		if m.Owner == "" && !systemActor(e.Actor) {
			m.Owner = e.Actor
		}
	} else if cur.Major != nil {
		svcName = cur.Major.Service
	}
	if e.Kind != EvMajorEnd {
		m.NextUpdate = d.cadence().Next(now)
	}
	e.Major = &m
	sv, _ := d.service(svcName)
	subs, err := s.subscribersOf(txn, sv.Name)
	if err != nil || len(subs) == 0 {
		return err
	}
	name := svcName
	if name == "" {
		name = "our service"
	}
	if sv.Description != "" {
		name = sv.Name + " (" + sv.Description + ")"
	}
	var subject, body string
	switch e.Kind {
	case EvMajor:
		subject = "Major incident: " + name
		body = fmt.Sprintf("We are handling a major incident affecting %s.\n\n%s\n\nWe will send the next update by %s.\n",
			name, stripReply(cur.Subject), m.NextUpdate.In(d.cadence().Location).Format("Mon 02 Jan 15:04 MST"))
	case EvMajorNote:
		subject = "Update: major incident " + name
		body = fmt.Sprintf("%s\n\nWe will send the next update by %s.\n", e.Text, m.NextUpdate.In(d.cadence().Location).Format("Mon 02 Jan 15:04 MST"))
	case EvMajorEnd:
		subject = "Resolved: major incident " + name
		body = fmt.Sprintf("The major incident affecting %s is resolved.\n\n%s\n", name, cur.Resolution)
	}
	body += "\nReference: " + TicketPlaceholder + ".\n"
	to := make([]string, len(subs))
	for i, r := range subs {
		to[i] = r.addr
	}
	e.Message = &Message{To: to, Subject: subject, Body: body, Auto: true}
	return nil
}

// subscriberMail queues one mail per subscriber (they must not see each
// other's addresses); the event's Message keeps the list for the record.
func (s *Store) subscriberMail(txn *badger.Txn, w *writeSet, id TicketID, cur *Ticket, seq int, m *Message) error {
	service := cur.Service
	if cur.Major != nil && cur.Major.Service != "" {
		service = cur.Major.Service
	}
	if m.From.Email == "" {
		m.From.Email = s.opt.SupportAddress
	}
	m.Subject = s.tagSubject(m.Subject, id)
	subs, err := s.subscribersOf(txn, service)
	if err != nil {
		return err
	}
	token := map[string]string{}
	for _, r := range subs {
		token[strings.ToLower(r.addr)] = r.token
	}
	for i, to := range m.To {
		body, unsub := m.Body, ""
		if tk := token[strings.ToLower(to)]; tk != "" {
			body += s.unsubscribeLine(tk, service)
			unsub = s.unsubscribeURL(tk)
		}
		om := OutMail{
			Ticket: id, Kind: "major", To: []string{to}, Subject: m.Subject, Body: body,
			MessageID: s.messageID(fmt.Sprintf("sd-%d.%d.%d.%s", uint64(id), seq, i, randHex(6))), Auto: true, Unsubscribe: unsub,
		}
		if err := s.putOutMail(txn, w, &om); err != nil {
			return err
		}
		if i == 0 {
			m.Outbox, m.MessageID = om.ID, om.MessageID
		}
	}
	return nil
}

// updateReminder is the event reminding the owner that a status update
// is due, if it is due at now.
func (s *Store) updateReminder(cur Ticket, now time.Time) (Event, bool) {
	m := cur.Major
	if !m.Open() || m.NextUpdate.IsZero() || m.NextUpdate.After(now) || m.Reminded > m.Updates {
		return Event{}, false
	}
	d := s.people()
	x := Escalation{Priority: cur.Priority, Clock: ClockUpdate, Step: fmt.Sprintf("update-%d", m.Updates+1), Due: m.NextUpdate}
	x.Late = now.Sub(x.Due) > lateAfter
	owners := []string{cur.Assignee}
	switch {
	case cur.Assignee != "":
	case m.Owner != "":
		owners = []string{m.Owner}
	default:
		owners = d.Leads // declared by the desk itself and held by nobody
	}
	var to []string
	for _, owner := range owners {
		x.Told = append(x.Told, Told{Who: owner, Via: slaengine.ViaConsole})
		if a := d.Operators[owner]; a != "" {
			x.Told = append(x.Told, Told{Who: owner, Address: a, Via: slaengine.ViaMail})
			to = append(to, a)
		}
	}
	e := Event{Kind: EvEscalation, Escalation: &x}
	if len(to) > 0 {
		e.Message = &Message{To: to, Subject: "Status update due: " + stripReply(cur.Subject),
			Body: fmt.Sprintf("%s is a major incident and its subscribers are due a status update (%s).\nWrite it with U in the console, or desk major update %s TEXT.\n",
				TicketPlaceholder, m.NextUpdate.UTC().Format("Mon 02 Jan 15:04 UTC"), TicketPlaceholder)}
	}
	return e, true
}

// Majors calls fn with each ticket that declared a major incident, open
// or ended, newest first, until fn returns false.
func (s *Store) Majors(fn func(Ticket) bool) error {
	var ids []TicketID
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pMajor}, true, func(item *badger.Item) (bool, error) {
			if k := item.Key(); len(k) == 9 {
				ids = append(ids, idSuffix(k))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	for _, id := range slices.Backward(ids) {
		t, err := s.Get(id)
		if err != nil {
			return err
		}
		if !fn(t) {
			return nil
		}
	}
	return nil
}

// openMajorFor is the open major incident of a service, 0 for none.
func openMajorFor(txn *badger.Txn, service string) (TicketID, error) {
	if service == "" {
		return 0, nil
	}
	var found TicketID
	p := openMajorPrefix(service)
	err := prefixScan(txn, p, true, func(item *badger.Item) (bool, error) {
		if k := item.Key(); len(k) == len(p)+8 {
			found = idSuffix(k)
		}
		return false, nil
	})
	return found, err
}

// openMajorKey indexes an open major incident by its service, written and
// removed with the ticket: intake asks it for every new ticket.
func openMajorKey(service string, id TicketID) []byte {
	return u64(openMajorPrefix(service), uint64(id))
}

func openMajorPrefix(service string) []byte {
	return append(append([]byte{pMajorOpen}, strings.ToLower(service)...), 0)
}

func majorKey(id TicketID) []byte { return u64([]byte{pMajor}, uint64(id)) }

// systemActor tells the desk's own writers (mail intake, the escalation
// worker, probes) from people: they own no major incident.
func systemActor(a string) bool {
	switch a {
	case "", "mail", "escalation", "probe", "monitor":
		return true
	}
	return false
}
