package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

func escalationDirectory(t *testing.T) Directory {
	t.Helper()
	r, err := slaengine.Spec{}.CompileRoster([]slaengine.OnCallSpec{
		{Name: "system-owner", Contact: "owner@example.dk", Calendar: "Europe/Copenhagen", Hours: map[string]string{"mon-sun": "00:00-24:00"}},
	}, nil, slaengine.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return Directory{
		Operators: map[string]string{"dan": "dan@desk.test", "lena": "lena@desk.test", "otto": ""},
		Leads:     []string{"lena", "otto"},
		Teams:     map[string]string{"security": "soc@desk.test"},
		Roster:    r,
		// Major-incident update reminders are tested on their own
		// (major_test.go): here the next update is a year away.
		Cadence: slaengine.UpdateCadence{Location: time.UTC, Every: 365 * 24 * time.Hour, Week: allDay()},
	}
}

func allDay() (w [7][]slaengine.Window) {
	for i := range w {
		w[i] = []slaengine.Window{{Start: 0, End: 24 * time.Hour}}
	}
	return w
}

// escalations are the fired steps in a ticket's history.
func escalations(t *testing.T, s *Store, id TicketID) []Escalation {
	t.Helper()
	h, err := s.History(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []Escalation
	for _, e := range h {
		if e.Kind == EvEscalation {
			out = append(out, *e.Escalation)
			if e.Actor != "escalation" {
				t.Errorf("escalation event by %q", e.Actor)
			}
		}
	}
	return out
}

func outboxOf(t *testing.T, s *Store, kind string) []OutMail {
	t.Helper()
	all, err := s.OutboxAll(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []OutMail
	for _, m := range all {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// A P1 walks the default ladder: on call at registration, the assignee at
// 75% of each clock, the leads and on call at the breach, and again an hour
// later; each step once, each with its mail in the same write.
func TestEscalationLadderP1(t *testing.T) {
	s, clk := newTestStore(t)
	s.SetDirectory(escalationDirectory(t))
	tk := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "2nd-line", Subject: "borger.dk login down", Requester: Person{Email: "r@x.org"}})
	mustUpdate(t, s, tk.ID, Event{Kind: EvField, Field: FieldAssignee, To: "dan"})

	fire := func(want int) {
		t.Helper()
		n, err := s.FireEscalations(clk.Now())
		if err != nil || n != want {
			t.Fatalf("at %s: %d fired (%v), want %d", clk.Now().Format("15:04:05"), n, err, want)
		}
	}
	fire(1) // registered: on call
	fire(0) // once
	x := escalations(t, s, tk.ID)
	if len(x) != 1 || x[0].Step != "registered" || x[0].Clock != "resolution" || x[0].Late ||
		len(x[0].Told) != 1 || x[0].Told[0].Who != "oncall:system-owner" || x[0].Told[0].Address != "owner@example.dk" {
		t.Fatalf("registration step: %+v", x)
	}
	mails := outboxOf(t, s, "escalation")
	if len(mails) != 1 || mails[0].To[0] != "owner@example.dk" || !strings.Contains(mails[0].Subject, "[SD-1]") || !strings.Contains(mails[0].Body, "SD-1 P1 incident: borger.dk login down") {
		t.Fatalf("the on-call mail: %+v", mails)
	}
	got, _ := s.Get(tk.ID)
	if !got.Responded.IsZero() {
		t.Fatal("an escalation mail counted as the first response to the requester")
	}
	if !got.EscalateAt.Equal(tk.Created.Add(15 * time.Minute * 3 / 4)) {
		t.Fatalf("next escalation at %s, want 75%% of the 15-minute response target", got.EscalateAt)
	}

	clk.Add(11*time.Minute + 15*time.Second) // 75% of the response target
	fire(1)
	clk.Add(4 * time.Minute) // response breached (15m)
	fire(1)
	x = escalations(t, s, tk.ID)
	if x[1].Step != "warning" || x[1].Clock != "response" || x[1].Told[0].Who != "dan" || x[2].Step != "breached" || x[2].Clock != "response" {
		t.Fatalf("response steps: %+v", x)
	}
	// The breach tells the leads (lena by mail and console; otto has no
	// address, so his console only) and on call.
	var whos []string
	for _, w := range x[2].Told {
		whos = append(whos, w.Who+"/"+w.Via)
	}
	if strings.Join(whos, ",") != "lena/mail,lena/console,otto/console,oncall:system-owner/mail" {
		t.Fatalf("breach told %v", whos)
	}
	mails = outboxOf(t, s, "escalation") // newest first
	if last := mails[0]; strings.Join(last.To, ",") != "lena@desk.test,owner@example.dk" {
		t.Fatalf("breach mail to %v", last.To)
	}

	// An answer stops the response clock: its +1h step never comes.
	if _, err := s.Reply(tk.ID, "dan", "We are on it."); err != nil {
		t.Fatal(err)
	}
	clk.Add(2*time.Hour + 30*time.Minute) // 2h45m: the resolution clock (4h) is at 69%
	fire(0)
	clk.Add(15 * time.Minute) // 3h: 75%
	fire(1)
	clk.Add(time.Hour) // 4h: breached
	fire(1)
	clk.Add(59 * time.Minute)
	fire(0)
	clk.Add(time.Minute) // breach + 1h
	fire(1)
	x = escalations(t, s, tk.ID)
	var keys []string
	for _, e := range x {
		keys = append(keys, e.Clock+"/"+e.Step)
	}
	if strings.Join(keys, " ") != "resolution/registered response/warning response/breached resolution/warning resolution/breached resolution/breached+1h" {
		t.Fatalf("steps fired: %v", keys)
	}
	clk.Add(48 * time.Hour)
	fire(0)
	got, _ = s.Get(tk.ID)
	// What is left is the major incident's next update reminder.
	if !got.Major.Open() || !got.EscalateAt.Equal(got.Major.NextUpdate) || len(got.Fired) != 6 {
		t.Fatalf("after the ladder: next %s, fired %v", got.EscalateAt, got.Fired)
	}
}

// A paused clock does not escalate; a step that came due while nothing ran
// fires once, marked late; raising the priority starts the new ladder.
func TestEscalationPausedLateAndRaised(t *testing.T) {
	s, clk := newTestStore(t)
	s.SetDirectory(escalationDirectory(t))
	tk := mustCreate(t, s, NewTicket{Type: Incident, Priority: 3, Queue: "2nd-line", Subject: "slow", Requester: Person{Email: "r@x.org"}})
	mustUpdate(t, s, tk.ID, Event{Kind: EvStatus, To: string(StatusWaiting)})
	clk.Add(30 * 24 * time.Hour)
	if n, _ := s.FireEscalations(clk.Now()); n != 0 {
		t.Fatalf("a waiting ticket escalated %d steps", n)
	}
	mustUpdate(t, s, tk.ID, Event{Kind: EvStatus, To: string(StatusOpen)})
	// P3 on 24x7: response 2 days of 24h. 75% = 36h; nobody runs for 40h.
	clk.Add(40 * time.Hour)
	if n, err := s.FireEscalations(clk.Now()); n != 1 || err != nil {
		t.Fatalf("late step: %d %v", n, err)
	}
	x := escalations(t, s, tk.ID)
	if len(x) != 1 || !x[0].Late || x[0].Step != "warning" {
		t.Fatalf("late step: %+v", x)
	}
	// The P3 warning is for the console only: no mail.
	if m := outboxOf(t, s, "escalation"); len(m) != 0 || slices.Contains(slaengine.DefaultLadders()[3][0].Via, slaengine.ViaMail) {
		t.Fatalf("the console-only warning mailed %+v", m)
	}
	// P3 → P1: the P1 ladder starts, its registration step at once.
	mustUpdate(t, s, tk.ID, Event{Kind: EvField, Field: FieldPriority, To: "P1"})
	if n, _ := s.FireEscalations(clk.Now()); n < 1 {
		t.Fatal("raising to P1 did not tell whoever is on call")
	}
	x = escalations(t, s, tk.ID)
	if x[1].Priority != 1 || x[1].Step != "registered" {
		t.Fatalf("after the raise: %+v", x)
	}
}

// Only the store appends escalation events.
func TestEscalationEventsOnlyFromTheStore(t *testing.T) {
	s, _ := newTestStore(t)
	tk := mustCreate(t, s, NewTicket{Type: Incident, Priority: 1, Queue: "q", Subject: "x"})
	_, err := s.Update(tk.ID, "bob", events(Event{Kind: EvEscalation, Escalation: &Escalation{Priority: 1, Clock: "resolution", Step: "registered"}}))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("a writer appended an escalation event: %v", err)
	}
}
