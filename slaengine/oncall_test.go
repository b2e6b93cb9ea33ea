package slaengine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// nspRoster is the roster of the issue: NSP's incident manager 16-18 on
// working days (15:30 on Fridays), the system owner 18-08 and weekends.
func nspRoster(t *testing.T, overrides ...OverrideSpec) Roster {
	t.Helper()
	r, err := Spec{Calendars: []CalendarSpec{{Name: "copenhagen", Timezone: "Europe/Copenhagen", Hours: map[string]string{"mon-fri": "08:00-16:00"}, HolidaySets: []string{"dk"}}}}.CompileRoster([]OnCallSpec{
		{Name: "incident-manager", Contact: "im@example.dk", Calendar: "copenhagen", Hours: map[string]string{"mon-thu": "16:00-18:00", "fri": "15:30-18:00"}},
		{Name: "system-owner", Contact: "owner@example.dk", Hours: map[string]string{"mon-thu": "18:00-24:00, 00:00-08:00", "fri": "18:00-24:00, 00:00-08:00", "sat-sun": "00:00-24:00"}},
	}, overrides, specOpts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRosterNSP(t *testing.T) {
	r := nspRoster(t)
	cph := mustLoc(t, "Europe/Copenhagen")
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, cph) }
	for _, c := range []struct {
		t     time.Time
		who   string
		until time.Time
	}{
		{at(7, 19, 30), "system-owner", at(8, 8, 0)}, // Monday evening
		{at(7, 16, 0), "incident-manager", at(7, 18, 0)},
		{at(7, 17, 59), "incident-manager", at(7, 18, 0)},
		{at(11, 15, 45), "incident-manager", at(11, 18, 0)}, // Friday from 15:30
		{at(11, 18, 0), "system-owner", at(14, 8, 0)},       // the whole weekend, one spell
		{at(12, 12, 0), "system-owner", at(14, 8, 0)},
		{at(8, 3, 0), "system-owner", at(8, 8, 0)},
		{at(8, 10, 0), "", time.Time{}}, // office hours: the desk itself
	} {
		got, ok := r.At(c.t)
		if c.who == "" {
			if ok {
				t.Errorf("%s: %s on call, want nobody", c.t, got.Name)
			}
			continue
		}
		if !ok || got.Name != c.who || !got.Until.Equal(c.until) {
			t.Errorf("%s: %+v %v, want %s until %s", c.t, got, ok, c.who, c.until)
		}
	}
	// During office hours the next one on call is the incident manager at 16:00.
	n, from, ok := r.Next(at(8, 10, 0))
	if !ok || n.Name != "incident-manager" || !from.Equal(at(8, 16, 0)) || n.Contact != "im@example.dk" {
		t.Errorf("next at 10:00: %+v from %s %v", n, from, ok)
	}
	n, from, ok = r.Next(at(7, 16, 30))
	if !ok || n.Name != "system-owner" || !from.Equal(at(7, 18, 0)) || !n.Until.Equal(at(8, 8, 0)) {
		t.Errorf("next at 16:30: %+v from %s %v", n, from, ok)
	}
	// The check, in its offset (+01:00 is Copenhagen's winter time).
	got, ok := r.At(time.Date(2026, 12, 7, 19, 30, 0, 0, time.FixedZone("", 3600)))
	if !ok || got.Name != "system-owner" || got.Contact != "owner@example.dk" {
		t.Errorf("2026-12-07T19:30:00+01:00: %+v", got)
	}
}

func TestRosterOverridesAndHolidays(t *testing.T) {
	cph := mustLoc(t, "Europe/Copenhagen")
	r := nspRoster(t,
		OverrideSpec{From: "2026-12-24", To: "2026-12-27T08:00", Name: "system-owner", Reason: "Christmas"},
		OverrideSpec{From: "2026-12-08T16:00", To: "2026-12-08T18:00", Name: "deputy", Contact: "deputy@example.dk", Reason: "sick: incident manager"},
	)
	got, ok := r.At(time.Date(2026, 12, 24, 16, 30, 0, 0, cph))
	if !ok || got.Name != "system-owner" || got.Override != "Christmas" || !got.Until.Equal(time.Date(2026, 12, 27, 8, 0, 0, 0, cph)) {
		t.Errorf("Christmas Eve 16:30: %+v", got)
	}
	got, _ = r.At(time.Date(2026, 12, 8, 17, 0, 0, 0, cph))
	if got.Name != "deputy" || got.Contact != "deputy@example.dk" || !got.Until.Equal(time.Date(2026, 12, 8, 18, 0, 0, 0, cph)) {
		t.Errorf("sick day: %+v", got)
	}
	// hours.holidays: on the calendar's holidays the entry's holiday hours apply.
	h, err := Spec{}.CompileRoster([]OnCallSpec{
		{Name: "owner", Contact: "o@x", Calendar: "business", Hours: map[string]string{"mon-fri": "18:00-24:00", "holidays": "00:00-24:00"}},
	}, nil, specOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := h.At(time.Date(2026, 5, 14, 10, 0, 0, 0, cph)); !ok || got.Name != "owner" { // Ascension Day
		t.Errorf("Ascension Day 10:00: %+v %v", got, ok)
	}
	if _, ok := h.At(time.Date(2026, 5, 13, 10, 0, 0, 0, cph)); ok {
		t.Error("a working day's 10:00 is on call")
	}
}

func TestRosterSpecErrors(t *testing.T) {
	for _, c := range []struct {
		e    OnCallSpec
		o    []OverrideSpec
		key  string
		want string
	}{
		{OnCallSpec{Contact: "a@x", Hours: map[string]string{"mon": "08:00-09:00"}}, nil, "oncall[0].name", "has no name"},
		{OnCallSpec{Name: "a", Hours: map[string]string{"mon": "08:00-09:00"}}, nil, "oncall[0].contact", "has no contact"},
		{OnCallSpec{Name: "a", Contact: "a@x", Calendar: "mars", Hours: map[string]string{"mon": "08:00-09:00"}}, nil, "oncall[0].calendar", "is no calendar"},
		{OnCallSpec{Name: "a", Contact: "a@x", Hours: map[string]string{"mon": "18:00-08:00"}}, nil, "oncall[0].hours.mon", "split one across midnight"},
		{OnCallSpec{Name: "a", Contact: "a@x", Hours: map[string]string{"mnd": "08:00-09:00"}}, nil, "oncall[0].hours.mnd", "not a weekday"},
		{OnCallSpec{Name: "a", Contact: "a@x", Hours: map[string]string{"mon": "08:00-09:00"}}, []OverrideSpec{{From: "24 Dec", To: "2026-12-25", Name: "a"}}, "oncall_overrides[0].from", "2026-12-24T08:00"},
		{OnCallSpec{Name: "a", Contact: "a@x", Hours: map[string]string{"mon": "08:00-09:00"}}, []OverrideSpec{{From: "2026-12-25", To: "2026-12-24", Name: "a"}}, "oncall_overrides[0].to", "before it starts"},
		{OnCallSpec{Name: "a", Contact: "a@x", Hours: map[string]string{"mon": "08:00-09:00"}}, []OverrideSpec{{From: "2026-12-24", To: "2026-12-25", Name: "b"}}, "oncall_overrides[0].name", "needs a name and a contact"},
	} {
		_, err := Spec{}.CompileRoster([]OnCallSpec{c.e}, c.o, specOpts)
		se, ok := err.(*SpecError)
		if !ok || se.Key != c.key || !strings.Contains(se.Msg, c.want) {
			t.Errorf("%+v: %v, want %s: ...%s...", c.e, err, c.key, c.want)
		}
	}
}

// Until and Next against a brute-force walk minute by minute, on random
// rosters over days that include both changes of summer time.
func TestRosterAgainstMinuteByMinute(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	cph := mustLoc(t, "Europe/Copenhagen")
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun", "mon-fri", "sat-sun", "mon-sun"}
	clock := func(q int) string { return fmt.Sprintf("%02d:%02d", q/4, q%4*15) }
	checked := 0
	for round := range 60 {
		var entries []OnCallSpec
		for i := range 1 + rng.IntN(3) {
			hours := map[string]string{}
			for range 1 + rng.IntN(3) {
				a := rng.IntN(95)
				b := a + 1 + rng.IntN(96-a)
				hours[days[rng.IntN(len(days))]] = clock(a) + "-" + clock(b)
			}
			entries = append(entries, OnCallSpec{Name: fmt.Sprintf("p%d", i), Contact: fmt.Sprintf("p%d@x", i), Calendar: "copenhagen", Hours: hours})
		}
		base := []time.Time{time.Date(2026, 3, 26, 0, 0, 0, 0, cph), time.Date(2026, 10, 22, 0, 0, 0, 0, cph), time.Date(2026, 12, 20, 0, 0, 0, 0, cph)}[round%3]
		var overrides []OverrideSpec
		if rng.IntN(2) == 0 {
			from := base.Add(time.Duration(rng.IntN(5*24*4)) * 15 * time.Minute)
			overrides = append(overrides, OverrideSpec{From: from.Format(time.RFC3339), To: from.Add(time.Duration(1+rng.IntN(48)) * 15 * time.Minute).Format(time.RFC3339), Name: "swap", Contact: "s@x", Reason: "swap"})
		}
		r, err := Spec{}.CompileRoster(entries, overrides, specOpts)
		if err != nil {
			// Random windows for the same day key may overlap or repeat a
			// key: those are the config's problem, not the property's.
			continue
		}
		checked++
		for range 20 {
			at := base.Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
			got, ok := r.At(at)
			want, wok := r.who(at)
			if ok != wok || got.Name != want.Name {
				t.Fatalf("At(%s) = %+v %v, who = %+v %v", at, got, ok, want, wok)
			}
			// The brute-force end of the spell (and start of the next).
			var until, next time.Time
			var nextWho OnCall
			for m := at.Add(time.Minute); !m.After(at.Add(rosterHorizon)); m = m.Add(time.Minute) {
				w, wok := r.who(m)
				if until.IsZero() && ok && (!wok || w.Name != got.Name || w.Override != got.Override) {
					until = m
				}
				if (until.IsZero() && ok) || !wok {
					continue
				}
				if !ok || !m.Before(until) {
					next, nextWho = m, w
					break
				}
			}
			if ok && !got.Until.Equal(until) {
				t.Fatalf("round %d, At(%s).Until = %s, minute by minute %s (%+v)", round, at, got.Until, until, entries)
			}
			n, from, nok := r.Next(at)
			if nok != !next.IsZero() || (nok && (!from.Equal(next) || n.Name != nextWho.Name)) {
				t.Fatalf("round %d, Next(%s) = %s from %s %v, minute by minute %s from %s (%+v)", round, at, n.Name, from, nok, nextWho.Name, next, entries)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d of 60 random rosters compiled: the property checked too little", checked)
	}
}
