package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

func majorDirectory(t *testing.T) Directory {
	d := escalationDirectory(t)
	d.Services = []Service{
		{Name: "MitID", Description: "MitID login", Team: "security", Subscribers: []string{"spoc@aarhus.dk", "it@kk.dk"},
			To: []string{"mitid@desk.test"}, Domains: []string{"nets.eu"}, Words: []string{"mitid"}},
		{Name: "DSD", Description: "Data Service Directory", Words: []string{"data service directory", "dsd"}},
	}
	// Hourly, all day: the update clock is easy to follow.
	d.Cadence = slaengine.UpdateCadence{Location: time.UTC, Every: time.Hour, Week: allDay()}
	return d
}

func majorMails(t *testing.T, s *Store) []OutMail { return outboxOf(t, s, "major") }

func eventKinds(t *testing.T, s *Store, id TicketID) []EventKind {
	t.Helper()
	h, err := s.History(id)
	if err != nil {
		t.Fatal(err)
	}
	var k []EventKind
	for _, e := range h {
		k = append(k, e.Kind)
	}
	return k
}

func countKind(ks []EventKind, k EventKind) (n int) {
	for _, x := range ks {
		if x == k {
			n++
		}
	}
	return n
}

// A P1 incident is a major incident of its service from the start: its
// subscribers are told (one mail each, so none sees the others), the owner
// is reminded when an update is due, an update is mailed and restarts the
// update clock, and resolving it ends it and tells the subscribers.
func TestMajorIncidentLifecycle(t *testing.T) {
	s, clk := newTestStore(t)
	s.SetDirectory(majorDirectory(t))
	tk := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "2nd-line", Service: "mitid",
		Subject: "MitID login fails for everyone", Requester: Person{Email: "r@aarhus.dk"}})
	if tk.Service != "MitID" {
		t.Fatalf("service %q, want the configured spelling MitID", tk.Service)
	}
	if !tk.Major.Open() || tk.Major.Service != "MitID" || tk.Major.Owner != "alice" || !tk.Major.NextUpdate.Equal(tk.Created.Add(time.Hour)) {
		t.Fatalf("major incident at creation: %+v", tk.Major)
	}
	mails := majorMails(t, s)
	if len(mails) != 2 {
		t.Fatalf("%d subscriber mails, want one per subscriber: %+v", len(mails), mails)
	}
	to := map[string]bool{}
	for _, m := range mails {
		if len(m.To) != 1 {
			t.Fatalf("a subscriber mail to %v: subscribers must not see each other", m.To)
		}
		to[m.To[0]] = true
		if !strings.Contains(m.Subject, "Major incident: MitID") || !strings.Contains(m.Subject, "[SD-1]") || !strings.Contains(m.Body, "MitID login fails for everyone") {
			t.Fatalf("declaration mail: %q\n%s", m.Subject, m.Body)
		}
	}
	if !to["spoc@aarhus.dk"] || !to["it@kk.dk"] {
		t.Fatalf("mailed %v", to)
	}

	// An update needs its text; a ticket that is no major incident has none.
	var r *RefusedError
	if _, err := s.PostUpdate(tk.ID, "dan", "   "); !errors.As(err, &r) {
		t.Fatalf("an empty update: %v", err)
	}
	p3 := mustCreate(t, s, NewTicket{Type: Incident, Priority: 3, Queue: "q", Subject: "slow", Requester: Person{Email: "x@y.dk"}})
	if _, err := s.PostUpdate(p3.ID, "dan", "news"); !errors.As(err, &r) || !strings.Contains(err.Error(), "not an open major incident") {
		t.Fatalf("an update on a P3: %v", err)
	}
	if _, err := s.DeclareMajor(tk.ID, "dan", "", "again"); !errors.As(err, &r) {
		t.Fatalf("declared twice: %v", err)
	}

	// The update clock: the owner is reminded once when it runs out.
	reminders := func() (n int) {
		for _, x := range escalations(t, s, tk.ID) {
			if x.Clock == ClockUpdate {
				n++
			}
		}
		return n
	}
	clk.Add(59 * time.Minute)
	if _, err := s.FireEscalations(clk.Now()); err != nil || reminders() != 0 {
		t.Fatalf("reminded before the update was due (%v)", err)
	}
	clk.Add(time.Minute)
	s.FireEscalations(clk.Now())
	clk.Add(10 * time.Minute)
	s.FireEscalations(clk.Now())
	if reminders() != 1 {
		t.Fatalf("%d reminders for one update due, want 1", reminders())
	}
	got, _ := s.Get(tk.ID)
	if got.Major.Reminded != 1 {
		t.Fatalf("reminded %d", got.Major.Reminded)
	}

	got, err := s.PostUpdate(tk.ID, "dan", "The broker answers again for 40% of logins; next step: failover.")
	if err != nil {
		t.Fatal(err)
	}
	if got.Major.Updates != 1 || !got.Major.NextUpdate.Equal(clk.Now().Add(time.Hour)) || !got.Major.LastUpdate.Equal(clk.Now()) {
		t.Fatalf("after an update: %+v", got.Major)
	}
	mails = majorMails(t, s)
	if len(mails) != 4 || !strings.Contains(mails[0].Subject, "Update: major incident MitID") || !strings.Contains(mails[0].Body, "failover") {
		t.Fatalf("update mails: %d, newest %q", len(mails), mails[0].Subject)
	}
	// The next reminder is for update 2, an hour after the update.
	clk.Add(61 * time.Minute)
	s.FireEscalations(clk.Now())
	if reminders() != 2 {
		t.Fatalf("%d reminders, want 2", reminders())
	}

	if _, _, err := s.Resolve(tk.ID, "dan", "Failed over to the second broker."); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(tk.ID)
	if got.Major.Open() || !got.Major.Ended.Equal(clk.Now()) {
		t.Fatalf("resolved, major %+v", got.Major)
	}
	if n := countKind(eventKinds(t, s, tk.ID), EvMajorEnd); n != 1 {
		t.Fatalf("%d major-end events", n)
	}
	mails = majorMails(t, s)
	if len(mails) != 6 || !strings.Contains(mails[0].Subject, "Resolved: major incident MitID") || !strings.Contains(mails[0].Body, "second broker") {
		t.Fatalf("resolution mails: %d, newest %q %q", len(mails), mails[0].Subject, mails[0].Body)
	}
	// No reminder for a major incident that ended.
	clk.Add(5 * time.Hour)
	s.FireEscalations(clk.Now())
	if reminders() != 2 {
		t.Fatalf("reminded after the end: %d", reminders())
	}
	var listed []TicketID
	s.Majors(func(t Ticket) bool { listed = append(listed, t.ID); return true })
	if len(listed) != 1 || listed[0] != tk.ID {
		t.Fatalf("Majors listed %v", listed)
	}
}

// While a service has an open major incident, a second P1 about it does
// not declare another; new mail about the service is linked to it as a
// related report, with a note saying so.
func TestMajorIncidentOnePerServiceAndReportsLinked(t *testing.T) {
	s, _ := newTestStore(t)
	s.SetDirectory(majorDirectory(t))
	first := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "q", Service: "MitID", Subject: "MitID down", Requester: Person{Email: "a@aarhus.dk"}})
	second := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "q", Service: "MitID", Subject: "cannot log in", Requester: Person{Email: "b@kk.dk"}})
	if second.Major != nil {
		t.Fatalf("a second major incident for MitID: %+v", second.Major)
	}
	related := func(tk Ticket) bool {
		for _, l := range tk.Links {
			if l.Kind == LinkRelated && l.To == first.ID {
				return true
			}
		}
		return false
	}
	if !related(second) {
		t.Fatalf("the second report is not linked to %s: %+v", first.ID, second.Links)
	}
	// Mail rules set the service of inbound mail: a subject word here.
	in := mustCreate(t, s, NewTicket{Type: Request, Priority: 3, Queue: "q", Subject: "Re: mitid problem", Inbound: true,
		Requester: Person{Email: "c@odense.dk"}, Message: &Message{From: Person{Email: "c@odense.dk"}, Subject: "Re: mitid problem", Body: "Is it down?"}})
	if in.Service != "MitID" || !related(in) {
		t.Fatalf("inbound mail: service %q links %+v", in.Service, in.Links)
	}
	h, _ := s.History(in.ID)
	noted := false
	for _, e := range h {
		if e.Kind == EvNote && strings.Contains(e.Text, first.ID.String()) {
			noted = true
		}
	}
	if !noted {
		t.Fatal("no note offers the link to the major incident")
	}
	// Once it ended, the service's next P1 is a major incident of its own.
	if _, _, err := s.Resolve(first.ID, "dan", "Fixed."); err != nil {
		t.Fatal(err)
	}
	third := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "q", Service: "mitid", Subject: "MitID down again", Requester: Person{Email: "d@aarhus.dk"}})
	if !third.Major.Open() || slices.ContainsFunc(third.Links, func(l Link) bool { return l.To == first.ID }) {
		t.Fatalf("after the first ended: major %+v links %+v", third.Major, third.Links)
	}
	// An unknown service is refused with the known ones named.
	var r *RefusedError
	if _, err := s.SetField(in.ID, "dan", FieldService, in.Service, "Nope"); !errors.As(err, &r) || !strings.Contains(err.Error(), "MitID, DSD") {
		t.Fatalf("unknown service: %v", err)
	}
}

// :major on any ticket declares one; the service given is set on it.
func TestDeclareMajorOnARequest(t *testing.T) {
	s, _ := newTestStore(t)
	s.SetDirectory(majorDirectory(t))
	tk := mustCreate(t, s, NewTicket{Type: Request, Priority: 3, Queue: "q", Subject: "lookups slow", Requester: Person{Email: "a@b.dk"}})
	if tk.Major != nil {
		t.Fatal("a P3 request declared a major incident")
	}
	got, err := s.DeclareMajor(tk.ID, "lena", "dsd", "every lookup times out")
	if err != nil {
		t.Fatal(err)
	}
	if got.Service != "DSD" || !got.Major.Open() || got.Major.Service != "DSD" || got.Major.By != "lena" {
		t.Fatalf("declared: service %q major %+v", got.Service, got.Major)
	}
	if m := majorMails(t, s); len(m) != 0 {
		t.Fatalf("DSD has no subscribers, yet %d mails", len(m))
	}
	if _, err := s.DeclareMajor(tk.ID, "lena", "", ""); err == nil {
		t.Fatal("declared twice")
	}
}

func TestServiceForMailRules(t *testing.T) {
	d := majorDirectory(t)
	for _, c := range []struct {
		m    Message
		want string
	}{
		{Message{To: []string{"MitID@desk.test"}, From: Person{Email: "x@y.dk"}, Subject: "hello"}, "MitID"},
		{Message{From: Person{Email: "ops@mail.nets.eu"}, Subject: "hello"}, "MitID"},
		{Message{From: Person{Email: "ops@notnets.eu"}, Subject: "hello"}, ""},
		{Message{From: Person{Email: "a@b.dk"}, Subject: "The Data Service Directory is slow"}, "DSD"},
		{Message{From: Person{Email: "a@b.dk"}, Subject: "dsd: timeouts"}, "DSD"},
		{Message{From: Person{Email: "a@b.dk"}, Subject: "dsdx timeouts"}, ""},
	} {
		if got := d.ServiceFor(&c.m); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}
