package main

import (
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
)

func TestDemoColleaguesAreNeverTheUser(t *testing.T) {
	for _, tc := range []struct {
		cfg        Config
		me         string
		colleagues []string
	}{
		{Config{}, "mette", []string{"pieter", "sofie", "jonas"}},
		{Config{Operator: "pieter"}, "pieter", []string{"mette", "sofie", "jonas"}},
		{Config{Operator: "anna", Operators: []OperatorConfig{{Name: "anna", Role: "lead"}, {Name: "pieter"}, {Name: "bob", Role: "viewer"}, {Name: "lise", Role: "operator"}}},
			"anna", []string{"pieter", "lise"}},
		// Only the user is listed: the demo's own people work beside them.
		{Config{Operator: "sofie", Operators: []OperatorConfig{{Name: "sofie"}}}, "sofie", []string{"mette", "pieter", "jonas"}},
	} {
		cfg := tc.cfg
		d := prepareDemo(&cfg, nil, time.Second, true, mailin.Config{})
		if me, _ := localOperator(&cfg); me != tc.me || d.Me != tc.me {
			t.Errorf("%+v: the console's operator is %q, the demo's %q; want %q", tc.cfg, me, d.Me, tc.me)
		}
		if !slices.Equal(d.Colleagues, tc.colleagues) {
			t.Errorf("%+v: colleagues %v, want %v", tc.cfg, d.Colleagues, tc.colleagues)
		}
	}
}

// TestDemoRoundsAgainstStore wires the demo as desk demo does (config,
// persona, roster and roles, the store opened by openStore) on a moved
// clock, and plays three hours of it without sleeping.
func TestDemoRoundsAgainstStore(t *testing.T) {
	var mu sync.Mutex
	base := time.Date(2026, 11, 24, 9, 15, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return base }
	e := &env{dataDir: t.TempDir(), dataSet: true, stdout: io.Discard, stderr: io.Discard}
	cfg := &Config{}
	desk := prepareDemo(cfg, now, 4*time.Second, true, mailin.Config{})
	e.now = desk.Clock.Now
	st, err := e.openStore(cfg, "desk demo test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	me, _ := localOperator(cfg)
	if me != "mette" || slices.Contains(desk.Colleagues, me) {
		t.Fatalf("me %q, colleagues %v", me, desk.Colleagues)
	}
	if err := desk.Seed(st); err != nil {
		t.Fatal(err)
	}
	activeCount := func() int {
		n := 0
		st.Tickets(func(tk store.Ticket) bool {
			if tk.Status.Active() {
				n++
			}
			return true
		})
		return n
	}
	lo, hi := activeCount(), activeCount()
	const rounds = 2700 // three hours at 4 s
	for i := 0; i < rounds; i++ {
		mu.Lock()
		base = base.Add(4 * time.Second)
		mu.Unlock()
		if err := desk.Step(st); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if i%30 == 0 {
			n := activeCount()
			lo, hi = min(lo, n), max(hi, n)
		}
	}
	total := 0
	acts := map[string]int{}
	closedMajor, withService, overdue := 0, 0, 0
	st.Tickets(func(tk store.Ticket) bool {
		total++
		if tk.Service != "" {
			withService++
		}
		if m := tk.Major; m.Open() && m.NextUpdate.Before(base.Add(-10*time.Minute)) && tk.Assignee != me {
			overdue++ // the colleagues let the subscribers wait (yours are yours to write)
			t.Logf("%s held by %q, %s, update due %s", tk.ID, tk.Assignee, tk.Status, m.NextUpdate.Format("15:04"))
		}
		if tk.Status == store.StatusClosed && tk.Peak != 0 && tk.Peak <= 2 && tk.Report != nil &&
			slices.Contains(desk.Colleagues, tk.Report.Approver) {
			closedMajor++
		}
		h, err := st.History(tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h {
			acts[ev.Actor]++
		}
		return true
	})
	t.Logf("active %d–%d, %d tickets, %d P1/P2 closed with a colleague's approval; events by %v", lo, hi, total, closedMajor, acts)
	if lo < 22 || hi > 42 {
		t.Errorf("active tickets ranged %d–%d over three hours, want 22–42", lo, hi)
	}
	if total < 108+100 {
		t.Errorf("%d tickets after three hours: no mail came in", total)
	}
	if acts[me] != 0 {
		t.Errorf("%d events by %s, who never touched the desk", acts[me], me)
	}
	for _, c := range desk.Colleagues {
		if acts[c] < 50 {
			t.Errorf("%s did only %d things", c, acts[c])
		}
	}
	for a := range acts {
		if a != "mail" && !slices.Contains(desk.Colleagues, a) {
			t.Errorf("events by %q, neither a colleague nor the mail intake", a)
		}
	}
	// The demo's config: services that mail rules find, a roster, and
	// colleagues who keep the subscribers of a major incident informed.
	if withService < total/10 || overdue > 0 {
		t.Errorf("%d of %d tickets have a service; %d major incidents wait for their update", withService, total, overdue)
	}
	if oc, ok := cfg.Roster().At(base); !ok || oc.Name == "" {
		t.Errorf("the demo has no one on call at %s", base)
	}
	if closedMajor == 0 {
		t.Error("no P1/P2 ticket closed with an incident report a colleague approved: the roster gave no colleague the lead role")
	}
}
