package store

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

func TestCreateUpdateHistory(t *testing.T) {
	s, clk := newTestStore(t)
	a := mustCreate(t, s, NewTicket{
		Type: Request, Priority: 2, Queue: "2nd-line", Subject: "VPN down",
		Requester: Person{Name: "Ann", Email: "Ann@Example.org", Organisation: "ACME"},
		External:  []string{"JIRA-1"},
		Message:   &Message{MessageID: "<m1@example.org>", From: Person{Email: "Ann@Example.org"}, To: []string{"support@desk.test"}, Subject: "VPN down", Body: "help"},
		Inbound:   true,
	})
	if a.ID != 1 || a.Status != StatusNew || a.Priority != 2 || a.Type != Request || a.Events != 2 {
		t.Fatalf("created ticket = %+v", a)
	}
	if !slices.Equal(a.Participants, []string{"ann@example.org", "support@desk.test"}) {
		t.Errorf("participants = %v", a.Participants)
	}
	if !a.Responded.IsZero() {
		t.Errorf("an inbound message must not count as a response")
	}
	b := mustCreate(t, s, NewTicket{Subject: "master", Requester: Person{Email: "b@example.org"}})
	if b.ID != 2 || b.Priority != 3 || b.Type != Incident {
		t.Fatalf("defaults: %+v", b)
	}

	clk.Add(10 * time.Minute)
	got := mustUpdate(t, s, a.ID,
		setField("priority", "p1"), setField("assignee", "bob"), setField("external", "sup:SUP-9"),
		setStatus(StatusOpen),
		Event{Kind: EvLinked, Link: &Link{Kind: "related", To: b.ID}},
		Event{Kind: EvNote, Text: "looking", Actor: "carol"},
	)
	if got.Priority != 1 || got.Assignee != "bob" || got.Status != StatusOpen || !slices.Contains(got.Links, Link{Kind: LinkRelated, To: b.ID}) ||
		!slices.Equal(got.External, []string{"JIRA-1", "sup:SUP-9"}) || got.Events != 8 || !got.Updated.Equal(clk.Now()) {
		t.Fatalf("after update: %+v", got)
	}
	stored, err := s.Get(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(roundTrip(t, got), roundTrip(t, stored)) || !reflect.DeepEqual(roundTrip(t, got.SLA), stored.SLA) {
		t.Errorf("Update returned %+v, Get gives %+v", got, stored)
	}

	h, err := s.History(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []EventKind{EvCreated, EvMessageIn, EvField, EvField, EvField, EvStatus, EvLinked, EvNote}
	if len(h) != len(kinds) {
		t.Fatalf("history has %d events, want %d: %+v", len(h), len(kinds), h)
	}
	for i, e := range h {
		if e.Kind != kinds[i] || e.Seq != i || e.Ticket != a.ID {
			t.Errorf("event %d = %+v, want kind %s", i, e, kinds[i])
		}
	}
	if h[2].From != "P2" || h[2].To != "P1" || h[5].From != "new" || h[7].Actor != "bob" /* the writer, whatever the event claims */ || h[6].Actor != "bob" || h[0].Actor != "alice" {
		t.Errorf("from/actor not filled in: %+v %+v %+v %+v", h[2], h[5], h[6], h[7])
	}

	if _, err := s.Get(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(99) = %v, want ErrNotFound", err)
	}
	if _, err := s.History(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("History(99) = %v, want ErrNotFound", err)
	}
	if _, err := s.Update(99, "x", events(Event{Kind: EvNote, Text: "x"})); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(99) = %v, want ErrNotFound", err)
	}
	// No events: nothing written.
	same, err := s.Update(a.ID, "x", events())
	if err != nil || same.Events != 8 {
		t.Errorf("empty update = %+v, %v", same, err)
	}
}

func TestRejectedEventsWriteNothing(t *testing.T) {
	s, _ := newTestStore(t)
	a := mustCreate(t, s, NewTicket{Subject: "x"})
	before := dump(t, s)
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"bad status", setStatus("sleeping"), "status"},
		{"bad priority", setField("priority", "P7"), "priority"},
		{"bad type", setField("type", "problem"), "type"},
		{"unknown field", setField("requester", "x"), "cannot be changed"},
		{"empty external", setField("external", " "), "SYSTEM:ID"},
		{"link to nothing", Event{Kind: EvLinked, Link: &Link{Kind: "related", To: 42}}, "not found"},
		{"link to self", Event{Kind: EvLinked, Link: &Link{Kind: "related", To: a.ID}}, "itself"},
		{"link without target", Event{Kind: EvLinked}, "target"},
		{"message without message", Event{Kind: EvMessageIn}, "needs a message"},
		{"second created", Event{Kind: EvCreated, Created: &Ticket{}}, "Create"},
		{"unknown kind", Event{Kind: "exploded"}, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A valid event first: the whole batch must be refused.
			_, err := s.Update(a.ID, "x", events(Event{Kind: EvNote, Text: "ok"}, tc.ev))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if !reflect.DeepEqual(before, dump(t, s)) {
		t.Errorf("refused updates changed the store")
	}
	if _, err := s.Create("x", NewTicket{Priority: 9}); err == nil {
		t.Errorf("Create with priority 9 succeeded")
	}
	if _, err := s.Create("x", NewTicket{Links: []Link{{Kind: "related", To: 77}}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Create linking to a missing ticket = %v, want ErrNotFound", err)
	}
	// A refused create must not use up a number.
	if b := mustCreate(t, s, NewTicket{}); b.ID != 2 {
		t.Errorf("next id after refused creates = %s, want SD-2", b.ID)
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	base := func() Ticket {
		var tk Ticket
		Apply(&tk, Event{Ticket: 7, At: at, Kind: EvCreated, Created: &Ticket{Subject: "s", Priority: 3, Type: Incident,
			Links: []Link{{Kind: "master", To: 3}}}})
		return tk
	}
	later := at.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		ev    Event
		check func(Ticket) bool
	}{
		{"created", Event{Kind: EvNote}, func(t Ticket) bool {
			return t.ID == 7 && t.Status == StatusNew && t.Created.Equal(at) && t.Master == 3 && t.Events == 2
		}},
		{"resolve", setStatus(StatusResolved), func(t Ticket) bool { return t.Resolved.Equal(later) && t.Status == StatusResolved }},
		{"priority", setField("priority", "P1"), func(t Ticket) bool { return t.Priority == 1 }},
		{"bad priority ignored", setField("priority", "P0"), func(t Ticket) bool { return t.Priority == 3 && t.Events == 2 }},
		{"team", setField("team", "network"), func(t Ticket) bool { return t.Team == "network" }},
		{"category", setField("category", "vpn"), func(t Ticket) bool { return t.Category == "vpn" }},
		{"subject", setField("subject", "new"), func(t Ticket) bool { return t.Subject == "new" }},
		{"queue", setField("queue", "q"), func(t Ticket) bool { return t.Queue == "q" }},
		{"type", setField("type", "change"), func(t Ticket) bool { return t.Type == ChangeReq }},
		{"external", setField("external", "X-1"), func(t Ticket) bool { return slices.Equal(t.External, []string{"X-1"}) }},
		{"relink master", Event{Kind: EvLinked, Link: &Link{Kind: "master", To: 9}}, func(t Ticket) bool {
			return t.Master == 9 && len(t.Links) == 2
		}},
		{"related link keeps master", Event{Kind: EvLinked, Link: &Link{Kind: "related", To: 9}}, func(t Ticket) bool { return t.Master == 3 }},
		{"responded", Event{Kind: EvResponded}, func(t Ticket) bool { return t.Responded.Equal(later) }},
		{"message out responds", Event{Kind: EvMessageOut, Message: &Message{From: Person{Email: "S@x"}, To: []string{"A@x"}, Cc: []string{"a@X"}}},
			func(t Ticket) bool {
				return t.Responded.Equal(later) && slices.Equal(t.Participants, []string{"s@x", "a@x"})
			}},
		{"message out without recipients", Event{Kind: EvMessageOut, Message: &Message{}}, func(t Ticket) bool { return t.Responded.IsZero() }},
		{"message in", Event{Kind: EvMessageIn, Message: &Message{From: Person{Email: "r@x"}}}, func(t Ticket) bool {
			return t.Responded.IsZero() && slices.Equal(t.Participants, []string{"r@x"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := base()
			e := tc.ev
			e.At = later
			Apply(&tk, e)
			if !tk.Updated.Equal(later) || !tc.check(tk) {
				t.Errorf("after %+v: %+v", tc.ev, tk)
			}
		})
	}
	// Reopen clears Resolved; closing keeps the resolution time.
	tk := base()
	Apply(&tk, Event{At: later, Kind: EvStatus, To: "resolved"})
	Apply(&tk, Event{At: later.Add(time.Hour), Kind: EvStatus, To: "closed"})
	if !tk.Resolved.Equal(later) {
		t.Errorf("closing moved Resolved to %s", tk.Resolved)
	}
	Apply(&tk, Event{At: later.Add(2 * time.Hour), Kind: EvStatus, To: "open"})
	if !tk.Resolved.IsZero() {
		t.Errorf("reopen kept Resolved %s", tk.Resolved)
	}
}

// The stored projection is built incrementally; replaying the whole history
// from zero must give the same ticket, timeline and clocks.
func TestReplayEqualsProjection(t *testing.T) {
	s, clk := newTestStore(t)
	other := mustCreate(t, s, NewTicket{Subject: "master"})
	a := mustCreate(t, s, NewTicket{Priority: 2, Subject: "x", Requester: Person{Email: "r@x.org"},
		Message: &Message{Body: "phone call", From: Person{Email: "r@x.org"}}})
	steps := [][]Event{
		{setStatus(StatusOpen), setField("queue", "net")},
		{{Kind: EvMessageOut, Message: &Message{To: []string{"r@x.org"}, Subject: "re", Body: "we look"}}},
		{setStatus(StatusWaiting)},
		{{Kind: EvMessageIn, Message: &Message{From: Person{Email: "r@x.org"}, Body: "more"}}, setStatus(StatusOpen)},
		{setField("priority", "P1"), {Kind: EvLinked, Link: &Link{Kind: "related", To: other.ID}}},
		{setField("type", "request"), setField("external", "e:E-1")},
		{{Kind: EvMessageOut, Message: &Message{To: []string{"r@x.org"}, Subject: "re", Body: "fixed"}}, setStatus(StatusResolved)},
		{setStatus(StatusOpen), setField("assignee", "dan")},
	}
	for _, evs := range steps {
		clk.Add(37 * time.Minute)
		mustUpdate(t, s, a.ID, evs...)
	}
	h, err := s.History(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.Get(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	re := replay(h)
	storedCore, reCore := stored, re
	storedCore.SLA, storedCore.Deadline, storedCore.EscalateAt = slaengine.Clocks{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(reCore, storedCore) {
		t.Errorf("replayed:\n%+v\nstored:\n%+v", reCore, storedCore)
	}
	tl := Timeline(h)
	var storedTL slaengine.Timeline
	if err := s.read(func(txn *badgerTxn) error { return getJSON(txn, timelineKey(a.ID), &storedTL) }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(roundTrip(t, tl), storedTL) {
		t.Errorf("timeline from history:\n%+v\nstored:\n%+v", tl, storedTL)
	}
	if len(tl.Points) < 6 {
		t.Errorf("timeline has only %d points: %+v", len(tl.Points), tl)
	}
	clocks := slaengine.Compute(testPolicy(), tl, stored.Updated)
	if !reflect.DeepEqual(roundTrip(t, clocks), stored.SLA) {
		t.Errorf("clocks from history %+v, stored %+v", clocks, stored.SLA)
	}
	if !stored.Deadline.Equal(clocks.Deadline()) || stored.Deadline.IsZero() {
		t.Errorf("deadline %s, want %s (non-zero)", stored.Deadline, clocks.Deadline())
	}
}
