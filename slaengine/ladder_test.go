package slaengine

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestParseStep(t *testing.T) {
	for _, c := range []struct {
		in   StepSpec
		want Step
	}{
		{StepSpec{At: "75%", Notify: []string{"assignee"}}, Step{Name: "75pct", Share: 0.75, Notify: []string{"assignee"}, Via: []string{"mail", "console"}}},
		{StepSpec{At: "breach", Clock: "response", Notify: []string{"leads"}, Via: []string{"webhook"}}, Step{Name: "breach", Clock: "response", AfterBreach: true, Notify: []string{"leads"}, Via: []string{"webhook"}}},
		{StepSpec{Name: "sdm", At: "breach + 30m", Notify: []string{"sdm@example.org"}}, Step{Name: "sdm", AfterBreach: true, Delay: 30 * time.Minute, Notify: []string{"sdm@example.org"}, Via: []string{"mail", "console"}}},
		{StepSpec{At: "100%", Notify: []string{"oncall"}}, Step{Name: "100pct", AfterBreach: true, Notify: []string{"oncall"}, Via: []string{"mail", "console"}}},
	} {
		got, err := ParseStep("escalation.P1[0]", c.in)
		if err != nil || got.Name != c.want.Name || got.Share != c.want.Share || got.AfterBreach != c.want.AfterBreach || got.Delay != c.want.Delay ||
			strings.Join(got.Via, ",") != strings.Join(c.want.Via, ",") || got.Clock != c.want.Clock {
			t.Errorf("%+v: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in       StepSpec
		key, msg string
	}{
		{StepSpec{At: "soon", Notify: []string{"leads"}}, "escalation.P1[0].at", `"75%"`},
		{StepSpec{At: "150%", Notify: []string{"leads"}}, "escalation.P1[0].at", "breach+DELAY"},
		{StepSpec{At: "breach+later", Notify: []string{"leads"}}, "escalation.P1[0].at", "breach+30m"},
		{StepSpec{At: "75%"}, "escalation.P1[0].notify", "must tell someone"},
		{StepSpec{At: "75%", Notify: []string{"boss"}}, "escalation.P1[0].notify", "an address"},
		{StepSpec{At: "75%", Notify: []string{"leads"}, Via: []string{"sms"}}, "escalation.P1[0].via", "mail, console or webhook"},
		{StepSpec{At: "75%", Notify: []string{"leads"}, Clock: "both"}, "escalation.P1[0].clock", "leave it out"},
	} {
		_, err := ParseStep("escalation.P1[0]", c.in)
		se, ok := err.(*SpecError)
		if !ok || se.Key != c.key || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%+v: %v, want %s ...%s...", c.in, err, c.key, c.msg)
		}
	}
	if _, err := ParseLadder("escalation.P2", []StepSpec{{At: "75%", Notify: []string{"leads"}}, {At: "75%", Notify: []string{"team"}}}); err == nil || !strings.Contains(err.Error(), "both named") {
		t.Errorf("duplicate names: %v", err)
	}
}

func TestSpecEscalation(t *testing.T) {
	p, err := Spec{
		Escalation:       map[string][]StepSpec{"P1": {{At: "50%", Notify: []string{"oncall"}}}, "P4": {}},
		EscalationByType: map[string]map[string][]StepSpec{"change": {"P2": {{At: "breach", Notify: []string{"cab@example.org"}}}}},
	}.Compile(specOpts)
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Ladder("incident", 1); len(l) != 1 || l[0].Share != 0.5 {
		t.Errorf("P1 ladder %+v", l)
	}
	if l := p.Ladder("incident", 4); len(l) != 0 {
		t.Errorf("P4 given no steps has %+v", l)
	}
	if l := p.Ladder("incident", 3); len(l) != len(DefaultLadders()[3]) {
		t.Errorf("P3 keeps the default: %+v", l)
	}
	if l := p.Ladder("change", 2); len(l) != 1 || l[0].Notify[0] != "cab@example.org" {
		t.Errorf("change P2: %+v", l)
	}
	if l := p.Ladder("incident", 2); len(l) != len(DefaultLadders()[2]) {
		t.Errorf("incident P2 keeps the default: %+v", l)
	}
	if _, err := (Spec{EscalationByType: map[string]map[string][]StepSpec{"problem": {}}}).Compile(specOpts); err == nil || !strings.Contains(err.Error(), "not a ticket type") {
		t.Errorf("unknown type: %v", err)
	}
	if l := DefaultPolicy(nil).Ladder("incident", 1); len(l) == 0 || l[0].Notify[0] != NotifyOnCall || l[0].Share != 0 {
		t.Errorf("the default P1 ladder does not start by telling whoever is on call: %+v", l)
	}
}

// When against a minute-by-minute walk: for random calendars, tickets
// (with pauses) and steps, the first minute at which Due holds on the
// projected clock is When, to the minute.
func TestStepWhenAgainstMinuteByMinute(t *testing.T) {
	rng := rand.New(rand.NewSource(*propSeed))
	checked := 0
	for range 40 {
		w := newWorld(t, rng)
		p := DefaultPolicy(w.cal)
		p.Targets[3] = Target{Response: time.Duration(1+rng.Intn(16)) * time.Hour, Resolution: time.Duration(8+rng.Intn(40)) * time.Hour, Calendar: w.cal}
		created := w.at(rng.Intn(3 * 24 * 60))
		tl := Timeline{Created: created, Priority: 3}
		if rng.Intn(2) == 0 {
			pause := created.Add(time.Duration(rng.Intn(600)) * time.Minute)
			tl.Points = append(tl.Points, Point{At: pause, Status: "waiting"}, Point{At: pause.Add(time.Duration(1+rng.Intn(600)) * time.Minute), Status: "open"})
		}
		if rng.Intn(3) == 0 {
			tl.Holds, _ = randomHolds(rng, w) // service windows
		}
		now := created.Add(time.Duration(rng.Intn(24*60)) * time.Minute)
		step := Step{Share: float64(rng.Intn(101)) / 100}
		if rng.Intn(3) == 0 {
			step = Step{AfterBreach: true, Delay: time.Duration(rng.Intn(120)) * time.Minute}
		}
		c := Compute(p, tl, now).Resolution
		if !c.Running {
			continue
		}
		// A clock that runs from now on (the points are all before now or
		// the walk would see a later pause the projection cannot know).
		if len(tl.Points) > 0 && tl.Points[len(tl.Points)-1].At.After(now) {
			continue
		}
		checked++
		want := time.Time{}
		for m := now; m.Before(now.Add(60 * 24 * time.Hour)); m = m.Add(time.Minute) {
			if step.Due(Compute(p, tl, m).Resolution) {
				want = m
				break
			}
		}
		got := p.StepWhen("", 3, step, c)
		if want.IsZero() {
			t.Fatalf("%s: step %+v never due in 60 days (When %s)", w.desc, step, got)
		}
		// When is exact; the walk sees it at the next whole minute.
		if got.After(want) || want.Sub(got) >= time.Minute {
			t.Fatalf("%s: step %+v, clock %+v: When %s, minute by minute %s", w.desc, step, c, got, want)
		}
	}
	if checked < 15 {
		t.Fatalf("only %d random clocks checked", checked)
	}
}

// A step's time skips a hold, also for a clock read back from storage.
func TestStepWhenSkipsHolds(t *testing.T) {
	created := time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)
	pol := DefaultPolicy(AlwaysOpen())
	hold := Hold{From: created.Add(time.Hour), To: created.Add(90 * time.Minute)}
	c := Compute(pol, Timeline{Created: created, Priority: 2, Holds: []Hold{hold}}, created)
	step := Step{Share: 0.75}
	want := created.Add(time.Duration(0.75*float64(c.Response.Target)) + 30*time.Minute)
	if got := pol.StepWhen("", 2, step, c.Response); !got.Equal(want) {
		t.Errorf("75%% step at %s, want %s (half an hour later for the hold)", got, want)
	}
	var stored Clocks
	if b, err := json.Marshal(c); err != nil || json.Unmarshal(b, &stored) != nil {
		t.Fatal("clocks do not survive JSON")
	}
	if got := pol.StepWhen("", 2, step, stored.Response); !got.Equal(want) {
		t.Errorf("stored clock: 75%% step at %s, want %s", got, want)
	}
}
