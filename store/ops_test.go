package store

import (
	"errors"

	"fmt"
	"github.com/dgraph-io/badger/v4"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustGet(t testing.TB, s *Store, id TicketID) Ticket {
	t.Helper()
	tk, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func withLead(s *Store) { s.SetRoles(map[string]Role{"lead": RoleLead, "vic": RoleViewer}) }

// Each refusal writes nothing and says why in words, with what would make
// it allowed.
func TestTransitionTableRefuses(t *testing.T) {
	s, clk := newTestStore(t)
	withLead(s)
	req := Person{Email: "ann@example.org"}
	mk := func(p Priority) Ticket { return mustCreate(t, s, NewTicket{Priority: p, Subject: "x", Requester: req}) }
	cases := []struct {
		name string
		tk   func() Ticket
		do   func(id TicketID) error
		want string
	}{
		{"viewer writes", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.AddNote(id, "vic", "hi")
			return err
		}, "viewer"},
		{"viewer registers", func() Ticket { return mk(3) }, func(TicketID) error {
			_, err := s.Create("vic", NewTicket{Subject: "x"})
			return err
		}, "viewer"},
		{"resolve without text", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, _, err := s.Resolve(id, "bob", "  ")
			return err
		}, "resolution text"},
		{"resolved by raw event without text", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.Update(id, "bob", events(Event{Kind: EvStatus, To: "resolved"}))
			return err
		}, "resolution text"},
		{"resolved through SetField", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.SetField(id, "bob", FieldStatus, "new", "resolved")
			return err
		}, "resolution text"},
		{"new to closed", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.CloseTicket(id, "bob", "")
			return err
		}, "nobody has answered"},
		{"new to closed, raw", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.Update(id, "bob", events(Event{Kind: EvStatus, To: "closed"}))
			return err
		}, "nobody has answered"},
		{"open to closed without resolution", func() Ticket { tk := mk(3); mustUpdate(t, s, tk.ID, setStatus(StatusOpen)); return tk }, func(id TicketID) error {
			_, err := s.CloseTicket(id, "bob", "")
			return err
		}, "closing needs a resolution"},
		{"P2 lowered to P3 then closed", func() Ticket {
			tk := mk(2)
			mustUpdate(t, s, tk.ID, setField("priority", "P3"))
			if _, _, err := s.Resolve(tk.ID, "bob", "fixed"); err != nil {
				t.Fatal(err)
			}
			return tk
		}, func(id TicketID) error {
			_, err := s.CloseTicket(id, "bob", "")
			return err
		}, "was P2 while open"},
		{"P4 raised to P1 and back, closed", func() Ticket {
			tk := mk(4)
			mustUpdate(t, s, tk.ID, setField("priority", "P1"))
			mustUpdate(t, s, tk.ID, setField("priority", "P4"))
			if _, _, err := s.Resolve(tk.ID, "bob", "fixed"); err != nil {
				t.Fatal(err)
			}
			return tk
		}, func(id TicketID) error {
			_, err := s.CloseTicket(id, "bob", "")
			return err
		}, "was P1 while open"},
		{"P1 with an unapproved report", func() Ticket {
			tk := mk(1)
			if _, err := s.ReportIncident(tk.ID, "bob", IncidentReport{Summary: "DNS down"}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Resolve(tk.ID, "bob", "fixed"); err != nil {
				t.Fatal(err)
			}
			return tk
		}, func(id TicketID) error {
			_, err := s.CloseTicket(id, "bob", "")
			return err
		}, "not approved"},
		{"approve by an operator", func() Ticket {
			tk := mk(1)
			if _, err := s.ReportIncident(tk.ID, "bob", IncidentReport{Summary: "DNS down"}); err != nil {
				t.Fatal(err)
			}
			return tk
		}, func(id TicketID) error {
			_, err := s.ApproveReport(id, "bob", 0)
			return err
		}, "not a lead"},
		{"approve without a report", func() Ticket { return mk(1) }, func(id TicketID) error {
			_, err := s.ApproveReport(id, "lead", 0)
			return err
		}, "no incident report"},
		{"report without summary", func() Ticket { return mk(1) }, func(id TicketID) error {
			_, err := s.ReportIncident(id, "bob", IncidentReport{Impact: "all"})
			return err
		}, "summary"},
		{"unknown status", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.SetField(id, "bob", FieldStatus, "new", "parked")
			return err
		}, "does not exist"},
		{"unknown field", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.SetField(id, "bob", "colour", "", "red")
			return err
		}, "cannot be changed"},
		{"escalated without team", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.Update(id, "bob", events(Event{Kind: EvStatus, To: "escalated"}))
			return err
		}, "3rd-level team"},
		{"hand back without findings", func() Ticket {
			tk := mk(3)
			if _, err := s.Escalate(tk.ID, "bob", "network", ""); err != nil {
				t.Fatal(err)
			}
			return tk
		}, func(id TicketID) error {
			_, err := s.HandBack(id, "bob", "")
			return err
		}, "findings"},
		{"reply without address", func() Ticket { return mustCreate(t, s, NewTicket{Subject: "phone"}) }, func(id TicketID) error {
			_, err := s.Reply(id, "bob", "hello")
			return err
		}, "no requester address"},
		{"bad reference", func() Ticket { return mk(3) }, func(id TicketID) error {
			_, err := s.AddReference(id, "bob", "NSP 123")
			return err
		}, "SYSTEM:ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := c.tk()
			before := mustGet(t, s, tk.ID)
			clk.Add(time.Minute)
			err := c.do(tk.ID)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %q, want it to mention %q", err, c.want)
			}
			if after := mustGet(t, s, tk.ID); after.Events != before.Events {
				t.Errorf("a refused write appended %d events", after.Events-before.Events)
			}
		})
	}
}

func TestSetFieldConflictNamesWho(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Priority: 3, Subject: "x"})
	if _, err := s.SetField(tk.ID, "carol", FieldPriority, "P3", "2"); err != nil {
		t.Fatal(err)
	}
	_, err := s.SetField(tk.ID, "bob", FieldPriority, "P3", "P4")
	var c *ConflictError
	if !errors.As(err, &c) || c.By != "carol" || c.Now != "P2" || !errors.Is(err, ErrStale) {
		t.Fatalf("err = %v (%+v), want a conflict naming carol and P2", err, c)
	}
	if !strings.Contains(err.Error(), "carol") {
		t.Errorf("message %q does not name who changed it", err)
	}
	if got := mustGet(t, s, tk.ID); got.Priority != 2 {
		t.Errorf("priority %s after a refused change, want P2", got.Priority)
	}
	// The same value again writes nothing.
	before := mustGet(t, s, tk.ID).Events
	if _, err := s.SetField(tk.ID, "bob", FieldPriority, "P2", "P2"); err != nil || mustGet(t, s, tk.ID).Events != before {
		t.Errorf("setting the same value: err %v, events %d -> %d", err, before, mustGet(t, s, tk.ID).Events)
	}
}

func TestReplyThreadsTagsAndAssigns(t *testing.T) {
	clk := newClock()
	s, err := Open(t.TempDir(), Options{Policy: testPolicy(), MailDomain: "desk.test", SupportAddress: "s@desk.test", Now: clk.Now, TagPrefix: "HD"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tk, _, err := s.RegisterMail("mail", Intake{Key: "m1@x", New: &NewTicket{Subject: "VPN down", Requester: Person{Email: "ann@x.org"},
		Inbound: true, Message: &Message{MessageID: "m1@x", From: Person{Email: "ann@x.org"}, Subject: "VPN down"}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second reply must not tag or prefix twice
		if tk, err = s.Reply(tk.ID, "bob", "Looking into it"); err != nil {
			t.Fatal(err)
		}
	}
	if tk.Assignee != "bob" || tk.Status != StatusOpen || tk.Responded.IsZero() {
		t.Errorf("after a reply: assignee %q status %s responded %v", tk.Assignee, tk.Status, tk.Responded)
	}
	out, err := s.OutboxAll(10)
	if err != nil || len(out) != 2 {
		t.Fatalf("outbox: %d mails, %v", len(out), err)
	}
	for _, m := range out {
		if m.Subject != "Re: [HD-1] VPN down" || m.InReplyTo != "m1@x" || !slices.Contains(m.References, "m1@x") {
			t.Errorf("reply subject %q in-reply-to %q refs %v", m.Subject, m.InReplyTo, m.References)
		}
	}
}

func TestResolveCascadesInOneWrite(t *testing.T) {
	s, _ := newTestStore(t)
	master := mustCreate(t, s, NewTicket{Subject: "MitID down", Requester: Person{Email: "a@x.org"}})
	c1 := mustCreate(t, s, NewTicket{Subject: "cannot log in", Requester: Person{Email: "b@x.org"}})
	c2 := mustCreate(t, s, NewTicket{Subject: "login fails"}) // phone: no address
	c3 := mustCreate(t, s, NewTicket{Subject: "done already", Requester: Person{Email: "c@x.org"}})
	for _, c := range []TicketID{c1.ID, c2.ID, c3.ID} {
		if _, err := s.Link(c, master.ID, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Resolve(c3.ID, "bob", "it works now"); err != nil {
		t.Fatal(err)
	}
	_, cascaded, err := s.Resolve(master.ID, "bob", "MitID is back")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cascaded, []TicketID{c1.ID, c2.ID}) {
		t.Errorf("cascaded %v, want %v and %v", cascaded, c1.ID, c2.ID)
	}
	for _, id := range []TicketID{master.ID, c1.ID, c2.ID} {
		if tk := mustGet(t, s, id); tk.Status != StatusResolved || tk.Resolution != "MitID is back" {
			t.Errorf("%s: %s with %q", id, tk.Status, tk.Resolution)
		}
	}
	if tk := mustGet(t, s, c3.ID); tk.Resolution != "it works now" {
		t.Errorf("a ticket resolved before got the master's resolution: %q", tk.Resolution)
	}
	out, _ := s.OutboxAll(10)
	to := map[string]bool{}
	for _, m := range out {
		if m.Body == "MitID is back" {
			to[m.To[0]] = true
		}
	}
	if !to["a@x.org"] || !to["b@x.org"] || len(to) != 2 {
		t.Errorf("resolution mailed to %v, want a@ and b@", to)
	}
}

func TestCloseResolveReopen(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Priority: 3, Subject: "x", Requester: Person{Email: "a@x.org"}})
	if _, err := s.MarkResponded(tk.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkResponded(tk.ID, "bob"); !errors.Is(err, ErrRefused) {
		t.Errorf("second MarkResponded: %v", err)
	}
	// Open with a resolution: resolved (mailed) and closed in one write.
	got, err := s.CloseTicket(tk.ID, "bob", "replaced the toner")
	if err != nil || got.Status != StatusClosed || got.Resolution != "replaced the toner" {
		t.Fatalf("close with resolution: %s %q %v", got.Status, got.Resolution, err)
	}
	if got, err = s.Reopen(tk.ID, "bob", "it jams again"); err != nil || got.Status != StatusOpen || got.Resolution != "" {
		t.Fatalf("reopen: %s %q %v", got.Status, got.Resolution, err)
	}
	if _, err := s.Reopen(tk.ID, "bob", ""); !errors.Is(err, ErrRefused) {
		t.Errorf("reopen an open ticket: %v", err)
	}
}

func TestEscalateAndHandBack(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Subject: "x"})
	got, err := s.Escalate(tk.ID, "bob", "network", "please check the VPN concentrator")
	if err != nil || got.Status != StatusEscalated || got.Team != "network" {
		t.Fatalf("escalate: %s %q %v", got.Status, got.Team, err)
	}
	if _, err := s.SetField(tk.ID, "bob", FieldTeam, "network", ""); !errors.Is(err, ErrRefused) {
		t.Errorf("clearing the team of an escalated ticket: %v", err)
	}
	got, err = s.HandBack(tk.ID, "nina", "certificate renewed; tell the user to reconnect")
	if err != nil || got.Status != StatusOpen || got.Team != "" {
		t.Fatalf("hand back: %s %q %v", got.Status, got.Team, err)
	}
	h, _ := s.History(tk.ID)
	if !slices.ContainsFunc(h, func(e Event) bool {
		return e.Kind == EvNote && strings.Contains(e.Text, "Handed back by network: certificate renewed")
	}) {
		t.Errorf("no hand-back note in the history")
	}
}

func TestReferencesAreIndexed(t *testing.T) {
	s, _ := newTestStore(t)
	a := mustCreate(t, s, NewTicket{Subject: "a"})
	b := mustCreate(t, s, NewTicket{Subject: "b"})
	for _, id := range []TicketID{a.ID, b.ID} {
		if _, err := s.AddReference(id, "bob", "JIRA:NSP-123"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddReference(a.ID, "bob", "jira:NSP-123"); !errors.Is(err, ErrRefused) {
		t.Errorf("same reference twice: %v", err)
	}
	var found []TicketID
	if err := s.ByReference("jira:NSP-123", func(id TicketID) bool { found = append(found, id); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found, []TicketID{a.ID, b.ID}) {
		t.Errorf("ByReference found %v", found)
	}
	if got := mustGet(t, s, a.ID).External; !slices.Equal(got, []string{"jira:NSP-123"}) {
		t.Errorf("external = %v", got)
	}
}

func TestIncidentReportApproval(t *testing.T) {
	s, clk := newTestStore(t)
	withLead(s)
	tk := mustCreate(t, s, NewTicket{Priority: 1, Subject: "portal down", Requester: Person{Email: "a@x.org"}})
	r := IncidentReport{Summary: "portal down 40 min", Impact: "all users", RootCause: "expired cert", Actions: "monitor expiry", Timeline: "02:10 alarm"}
	if _, err := s.ReportIncident(tk.ID, "bob", r); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	got, err := s.ApproveReport(tk.ID, "lead", 0)
	if err != nil || got.Report.Approver != "lead" || !got.Report.Approved.Equal(clk.Now()) || got.Report.Author != "bob" || got.Report.Version != 1 {
		t.Fatalf("approve: %+v %v", got.Report, err)
	}
	// A rewrite needs approving again.
	r.RootCause = "expired certificate on the load balancer"
	if got, err = s.ReportIncident(tk.ID, "bob", r); err != nil || got.Report.Version != 2 || !got.Report.Approved.IsZero() {
		t.Fatalf("rewrite: %+v %v", got.Report, err)
	}
	if _, err := s.CloseTicket(tk.ID, "bob", "cert renewed"); !errors.Is(err, ErrRefused) {
		t.Fatalf("closed with an unapproved rewrite: %v", err)
	}
	if _, err := s.ApproveReport(tk.ID, "lead", 0); err != nil {
		t.Fatal(err)
	}
	if got, err = s.CloseTicket(tk.ID, "bob", "cert renewed"); err != nil || got.Status != StatusClosed {
		t.Fatalf("close with an approved report: %s %v", got.Status, err)
	}
	// The projection is what replaying the history gives.
	h, _ := s.History(tk.ID)
	var replay Ticket
	for _, e := range h {
		Apply(&replay, e)
	}
	if replay.Report == nil || *replay.Report != *got.Report || replay.Peak != 1 {
		t.Errorf("replayed report %+v, stored %+v", replay.Report, got.Report)
	}
}

// Two operators linking A→B and B→A at the same moment: exactly one wins,
// and the two sides of every link are there together.
func TestLinkRaceNeverLoops(t *testing.T) {
	for _, noLocks := range []bool{false, true} {
		t.Run(fmt.Sprintf("noLocks=%v", noLocks), func(t *testing.T) {
			s, _ := newTestStore(t)
			s.noLocks = noLocks
			for range 30 {
				a := mustCreate(t, s, NewTicket{Subject: "a"})
				b := mustCreate(t, s, NewTicket{Subject: "b"})
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, pair := range [][2]TicketID{{a.ID, b.ID}, {b.ID, a.ID}} {
					wg.Go(func() { _, errs[i] = s.Link(pair[0], pair[1], "bob") })
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
					} else if !errors.Is(err, ErrRefused) {
						t.Fatalf("link: %v", err)
					}
				}
				ta, tb := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
				if ok != 1 || (ta.Master == b.ID) == (tb.Master == a.ID) {
					t.Fatalf("%d links succeeded; %s master %s, %s master %s", ok, a.ID, ta.Master, b.ID, tb.Master)
				}
				child, master := ta, tb
				if tb.Master == a.ID {
					child, master = tb, ta
				}
				if !slices.Contains(master.Links, Link{Kind: LinkChild, To: child.ID}) {
					t.Fatalf("%s is under %s, but %s does not list it", child.ID, master.ID, master.ID)
				}
			}
		})
	}
}

// Console, mail intake and a script writing the same ticket at once: every
// write that reports success is in the history exactly once, the projection
// equals the replayed history, and stale field edits are refused, never
// silently overwritten.
func TestWritersRace(t *testing.T) {
	s, _ := newTestStore(t)
	tk, _, err := s.RegisterMail("mail", Intake{Key: "first@x", New: &NewTicket{Subject: "x", Requester: Person{Email: "a@x.org"},
		Inbound: true, Message: &Message{MessageID: "first@x", From: Person{Email: "a@x.org"}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := tk.ID
	var mu sync.Mutex
	wrote := 1 // events: the created event... counted from the ticket below
	var conflicts int
	count := func(n int) { mu.Lock(); wrote += n; mu.Unlock() }
	var wg sync.WaitGroup
	wg.Go(func() { // the console: priority flips against what it saw
		for i := range 40 {
			cur, _ := s.Get(id)
			to := []string{"P1", "P2", "P3", "P4"}[i%4]
			before := cur.Events
			_, err := s.SetField(id, "bob", FieldPriority, cur.Priority.String(), to)
			switch {
			case errors.Is(err, ErrStale):
				mu.Lock()
				conflicts++
				mu.Unlock()
			case err != nil:
				t.Error(err)
			case to != cur.Priority.String():
				_ = before
				count(1)
			}
		}
	})
	wg.Go(func() { // the mail intake: replies from the requester
		for i := range 40 {
			_, dup, err := s.RegisterMail("mail", Intake{Key: fmt.Sprintf("r%d@x", i), Ticket: id,
				Events: []Event{{Kind: EvMessageIn, Message: &Message{MessageID: fmt.Sprintf("r%d@x", i), From: Person{Email: "a@x.org"}}}}})
			if err != nil || dup {
				t.Error(err, dup)
			}
			count(1)
		}
	})
	wg.Go(func() { // a script: notes
		for i := range 40 {
			if _, err := s.AddNote(id, "script", fmt.Sprintf("note %d", i)); err != nil {
				t.Error(err)
			}
			count(1)
		}
	})
	wg.Wait()
	got := mustGet(t, s, id)
	h, _ := s.History(id)
	for _, e := range h {
		if e.Kind == EvMajor || e.Kind == EvMajorEnd { // the store's own, when the flips made it a P1 incident
			wrote++
		}
	}
	if got.Events != len(h) || len(h) != tk.Events+wrote-1 {
		t.Errorf("history has %d events, projection says %d, successful writes %d (+%d at create)", len(h), got.Events, wrote-1, tk.Events)
	}
	var replay Ticket
	for _, e := range h {
		Apply(&replay, e)
	}
	replay.SLA, replay.Deadline = got.SLA, got.Deadline
	if replay.Priority != got.Priority || replay.Events != got.Events || replay.Peak != got.Peak {
		t.Errorf("replay %s/%d/%s, stored %s/%d/%s", replay.Priority, replay.Events, replay.Peak, got.Priority, got.Events, got.Peak)
	}
	t.Logf("%d stale priority edits refused", conflicts)
}

func TestReportTextRoundTrip(t *testing.T) {
	r := IncidentReport{Summary: "Portal down", Impact: "all users\n40 min", RootCause: "expired cert", Actions: "monitor expiry", Timeline: "02:10 alarm: raised"}
	if got := ParseReportText(ReportText(r)); got != r {
		t.Errorf("round trip: %+v", got)
	}
	if got := ParseReportText("just a line\nroot CAUSE: dns"); got.Summary != "just a line" || got.RootCause != "dns" {
		t.Errorf("loose text: %+v", got)
	}
}

// The mail intake only says which ticket a mail belongs to; what the mail
// does to the status is decided in the registering transaction.
func TestInboundMailTransitions(t *testing.T) {
	s, _ := newTestStore(t)
	in := func(id TicketID, key string, auto bool, extra ...Event) Ticket {
		t.Helper()
		evs := append([]Event{{Kind: EvMessageIn, Message: &Message{MessageID: key, From: Person{Email: "a@x.org"}, Auto: auto}}}, extra...)
		tk, _, err := s.RegisterMail("mail", Intake{Key: key, Ticket: id, Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	tk := mustCreate(t, s, NewTicket{Subject: "x", Requester: Person{Email: "a@x.org"}})
	mustUpdate(t, s, tk.ID, setStatus(StatusOpen), setStatus(StatusWaiting))
	if got := in(tk.ID, "1@x", true); got.Status != StatusWaiting {
		t.Errorf("an automatic reply moved a waiting ticket to %s", got.Status)
	}
	if got := in(tk.ID, "2@x", false); got.Status != StatusOpen {
		t.Errorf("the requester's answer left it %s, want open", got.Status)
	}
	// A status event from the intake (decided on a stale read) is ignored.
	if got := in(tk.ID, "3@x", false, Event{Kind: EvStatus, To: string(StatusWaiting)}); got.Status != StatusOpen {
		t.Errorf("the intake's own status event was applied: %s", got.Status)
	}
	if _, _, err := s.Resolve(tk.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	if got := in(tk.ID, "4@x", false); got.Status != StatusOpen || got.Resolution != "" {
		t.Errorf("a reply to the resolution left it %s (%q), want reopened", got.Status, got.Resolution)
	}
}

func TestQuarantineReleaseAndDrop(t *testing.T) {
	s, _ := newTestStore(t)
	withLead(s)
	for i := range 2 {
		if _, err := s.Quarantine(Quarantined{Key: fmt.Sprintf("q%d", i), From: "x@y.org", Subject: "held", Reason: "too large", Raw: []byte("Subject: held\r\n\r\nbody")}, Checkpoint{}); err != nil {
			t.Fatal(err)
		}
	}
	nt := NewTicket{Subject: "held", Requester: Person{Email: "x@y.org"}, Inbound: true,
		Message: &Message{MessageID: "held@y.org", From: Person{Email: "x@y.org"}, Body: "body"}}
	if _, err := s.ReleaseQuarantine(1, "bob", nt, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("an operator released quarantined mail: %v", err)
	}
	tk, err := s.ReleaseQuarantine(1, "lead", nt, nil)
	if err != nil || tk.Subject != "held" {
		t.Fatalf("release: %+v %v", tk, err)
	}
	if _, err := s.ReleaseQuarantine(1, "lead", nt, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("released twice: %v", err)
	}
	if id, ok, _ := s.MessageTicket("held@y.org"); !ok || id != tk.ID {
		t.Errorf("the released mail's Message-ID does not lead to %s", tk.ID)
	}
	if _, err := s.DropQuarantine(2, "lead", " "); !errors.Is(err, ErrRefused) {
		t.Errorf("dropped without a reason: %v", err)
	}
	if _, err := s.DropQuarantine(2, "lead", "spam"); err != nil {
		t.Fatal(err)
	}
	q, err := s.QuarantinedMail(2)
	if err != nil || !q.Dropped || q.DropReason != "spam" || q.DecidedBy != "lead" || len(q.Raw) == 0 {
		t.Errorf("dropped entry %+v %v: want the decision recorded and the copy kept", q, err)
	}
	q, _ = s.QuarantinedMail(1)
	if !q.Released || q.Ticket != tk.ID || q.DecidedBy != "lead" {
		t.Errorf("released entry %+v", q)
	}
}

// Found by a reader of the code: each of these got around the table.
func TestNoWayAroundTheTable(t *testing.T) {
	s, _ := newTestStore(t)
	withLead(s)
	req := Person{Email: "a@x.org"}
	p1 := mustCreate(t, s, NewTicket{Priority: 1, Subject: "x", Requester: req})
	if _, err := s.ReportIncident(p1.ID, "bob", IncidentReport{Summary: "s"}); err != nil {
		t.Fatal(err)
	}
	// A viewer naming a lead in the event.
	if _, err := s.Update(p1.ID, "vic", events(Event{Kind: EvApproved, Actor: "lead"})); !errors.Is(err, ErrRefused) {
		t.Errorf("a viewer approved as a lead: %v", err)
	}
	// Resolved by a raw event without mailing the requester.
	if _, err := s.Update(p1.ID, "bob", events(Event{Kind: EvStatus, To: "resolved", Text: "done"})); !errors.Is(err, ErrRefused) {
		t.Errorf("resolved without mailing the requester: %v", err)
	}
	// A master link by a raw event, skipping the loop check and the other side.
	a := mustCreate(t, s, NewTicket{Subject: "a"})
	b := mustCreate(t, s, NewTicket{Subject: "b"})
	if _, err := s.Link(b.ID, a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(a.ID, "bob", events(Event{Kind: EvLinked, Link: &Link{Kind: LinkMaster, To: b.ID}})); !errors.Is(err, ErrRefused) {
		t.Errorf("a raw master link made a loop: %v", err)
	}
	if _, err := s.Create("bob", NewTicket{Subject: "c", Links: []Link{{Kind: LinkMaster, To: a.ID}}}); !errors.Is(err, ErrRefused) {
		t.Errorf("a one-sided master link at create: %v", err)
	}
	// Escalated → open without the team's findings.
	if _, err := s.Escalate(a.ID, "bob", "network", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetField(a.ID, "bob", FieldStatus, "escalated", "open"); !errors.Is(err, ErrRefused) {
		t.Errorf("left escalated without a hand-back: %v", err)
	}
	// Approving a version the lead did not read.
	if _, err := s.ReportIncident(p1.ID, "bob", IncidentReport{Summary: "rewritten"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveReport(p1.ID, "lead", 1); !errors.Is(err, ErrStale) {
		t.Errorf("approved version 2 having read version 1: %v", err)
	}
	if _, err := s.ApproveReport(p1.ID, "lead", 2); err != nil {
		t.Errorf("approve what was read: %v", err)
	}
}

func TestCascadeReachesEveryLevel(t *testing.T) {
	s, _ := newTestStore(t)
	a := mustCreate(t, s, NewTicket{Subject: "a"})
	b := mustCreate(t, s, NewTicket{Subject: "b"})
	c := mustCreate(t, s, NewTicket{Subject: "c", Requester: Person{Email: "c@x.org"}})
	if _, err := s.Link(b.ID, a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Link(c.ID, b.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	_, cascaded, err := s.Resolve(a.ID, "bob", "fixed upstream")
	if err != nil || !slices.Equal(cascaded, []TicketID{b.ID, c.ID}) {
		t.Fatalf("cascade %v, %v", cascaded, err)
	}
	if got := mustGet(t, s, c.ID); got.Status != StatusResolved {
		t.Errorf("grandchild %s", got.Status)
	}
}

// A projection written before Peak existed: the store reads the peak from
// the history, so a P1 lowered before the upgrade still needs its report.
func TestLegacyProjectionPeakFromHistory(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Priority: 1, Subject: "x"})
	mustUpdate(t, s, tk.ID, setField("priority", "P3"))
	// Rewrite the projection as the old codec would have: no Peak.
	cur := mustGet(t, s, tk.ID)
	cur.Peak = 0
	if err := s.db.Update(func(txn *badger.Txn) error {
		b, err := encodeTicketAs(&cur, ticketCodecV1)
		if err != nil {
			return err
		}
		// V1 is V2 without the tail: an empty resolution, peak 0 and no
		// report are one byte each.
		return txn.Set(ticketKey(tk.ID), b[:len(b)-3])
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, tk.ID); got.Peak != 0 {
		t.Fatalf("legacy record decoded with peak %s", got.Peak)
	}
	mustResolve(t, s, tk.ID)
	if _, err := s.CloseTicket(tk.ID, "bob", ""); !errors.Is(err, ErrRefused) {
		t.Fatalf("a legacy P1 lowered to P3 closed without a report: %v", err)
	}
	if got := mustGet(t, s, tk.ID); got.Peak != 1 {
		t.Errorf("peak %s after the first write, want P1 from the history", got.Peak)
	}
}

func TestReplySubjectIsTaggedOnce(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Subject: "Re: Sv: printer", Requester: Person{Email: "a@x.org"}})
	if _, err := s.Reply(tk.ID, "bob", "on it"); err != nil {
		t.Fatal(err)
	}
	out, _ := s.OutboxAll(1)
	if len(out) != 1 || out[0].Subject != "Re: [SD-1] printer" {
		t.Fatalf("subject %q", out[0].Subject)
	}
}
