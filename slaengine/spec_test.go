package slaengine

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseWeek(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want map[time.Weekday][]Window
	}{
		{"mon-fri 08:30-16:30", weekdays(Window{hm(8, 30), hm(16, 30)})},
		{"Monday 8-12,13-17; sat-sun 00:00-24:00", map[time.Weekday][]Window{
			time.Monday:   {{hm(8, 0), hm(12, 0)}, {hm(13, 0), hm(17, 0)}},
			time.Saturday: {{0, 24 * time.Hour}}, time.Sunday: {{0, 24 * time.Hour}},
		}},
		{"fri-mon 10:00-11:00", map[time.Weekday][]Window{
			time.Friday: {{hm(10, 0), hm(11, 0)}}, time.Saturday: {{hm(10, 0), hm(11, 0)}},
			time.Sunday: {{hm(10, 0), hm(11, 0)}}, time.Monday: {{hm(10, 0), hm(11, 0)}},
		}},
	} {
		got, err := ParseWeek(tc.spec)
		if err != nil {
			t.Errorf("ParseWeek(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseWeek(%q) = %v, want %v", tc.spec, got, tc.want)
		}
	}
	for _, bad := range []string{"", "mon", "mon 8:30", "moon 08:00-09:00", "mon 08:60-09:00", "mon 08:00-25:00", "mon x-y"} {
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("ParseWeek(%q) accepted it", bad)
		} else if !strings.Contains(err.Error(), "e.g.") && !strings.Contains(err.Error(), "like") && !strings.Contains(err.Error(), "use") {
			t.Errorf("ParseWeek(%q) error %q does not say what to write", bad, err)
		}
	}
	if d, err := ParseDate("2025-12-24"); err != nil || d != (Date{2025, 12, 24}) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	if _, err := ParseDate("24/12/2025"); err == nil {
		t.Error("ParseDate accepted 24/12/2025")
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	b, err := json.Marshal(pol)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"zone":"Europe/Copenhagen"`) || !strings.Contains(string(b), `"08:30-16:30"`) || !strings.Contains(string(b), `"2025-12-24"`) {
		t.Errorf("calendar JSON is not readable: %.300s", b)
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode the policy: %v", err)
	}
	tl := Timeline{Created: cph(t, 2025, 12, 22, 10, 0), Priority: 4, Status: "open"}
	now := cph(t, 2026, 1, 9, 10, 0)
	if a, b := Compute(pol, tl, now), Compute(back, tl, now); a.Resolution.Used != b.Resolution.Used || !a.Resolution.Due.Equal(b.Resolution.Due) {
		t.Errorf("decoded policy computes %v due %s, original %v due %s", b.Resolution.Used, b.Resolution.Due, a.Resolution.Used, a.Resolution.Due)
	}
	var c Calendar
	if err := json.Unmarshal([]byte(`{"name":"x","zone":"Mars/Olympus","week":{"Monday":["09:00-17:00"]}}`), &c); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("unknown zone in JSON: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	business := DefaultBusinessCalendar() // 8h days
	for _, tc := range []struct {
		in   string
		cal  *Calendar
		want time.Duration
	}{
		{"15m", nil, 15 * time.Minute},
		{"4h", business, 4 * time.Hour},
		{"1h30m", nil, 90 * time.Minute},
		{"2bd", business, 16 * time.Hour},
		{" 10bd ", business, 80 * time.Hour},
		{"0.5bd", business, 4 * time.Hour},
		{"2bd", nil, 48 * time.Hour}, // nil is 24x7: a business day is a day
	} {
		got, err := ParseTarget(tc.in, tc.cal)
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "0", "0s", "-1h", "0bd", "-2bd", "xbd", "bd", "NaNbd", "Infbd", "1e9bd", "2 days"} {
		d, err := ParseTarget(bad, business)
		if err == nil {
			t.Errorf("ParseTarget(%q) = %v, want an error", bad, d)
			continue
		}
		if !strings.Contains(err.Error(), "such as") {
			t.Errorf("ParseTarget(%q) error %q does not say what to write", bad, err)
		}
	}
}

func TestParsePriority(t *testing.T) {
	for in, want := range map[string]Priority{"P1": 1, "p2": 2, "3": 3, " P4 ": 4} {
		if got, err := ParsePriority(in); err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P0", "P5", "P7", "high", "PP1"} {
		if _, err := ParsePriority(bad); err == nil || !strings.Contains(err.Error(), "use P1, P2, P3 or P4") {
			t.Errorf("ParsePriority(%q): %v", bad, err)
		}
	}
}

var specOpts = CompileOptions{
	Statuses: []string{"new", "open", "waiting", "escalated", "pending-release", "resolved", "closed"},
	Types:    []string{"incident", "request", "change"},
}

func TestSpecCompileDefaults(t *testing.T) {
	got, err := Spec{}.Compile(specOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy(DefaultBusinessCalendar())
	for prio, w := range want.Targets {
		g := got.Targets[prio]
		if g.Response != w.Response || g.Resolution != w.Resolution || g.Calendar.Name != w.Calendar.Name {
			t.Errorf("P%d = %v/%v on %s, want %v/%v on %s", prio, g.Response, g.Resolution, g.Calendar.Name, w.Response, w.Resolution, w.Calendar.Name)
		}
	}
	if got.WarnAt != 0.75 || !got.Pause["waiting"] || !got.Pause["pending-release"] || got.Goals != DefaultGoals() || got.ByType != nil {
		t.Errorf("defaults: warn %v pause %v goals %v bytype %v", got.WarnAt, got.Pause, got.Goals, got.ByType)
	}
}

func TestSpecCompileOverrides(t *testing.T) {
	spec := Spec{
		Calendars: []CalendarSpec{
			{Name: "cph", Timezone: "Europe/Copenhagen", Hours: map[string]string{"mon-thu": "08:30-16:30", "fri": "08:30-12:00, 13:00-15:30"},
				Holidays: []string{"2026-12-23"}, DanishHolidays: true},
			{Name: "bxl", Timezone: "Europe/Brussels", Hours: map[string]string{"mon-fri": "08:00-18:00"}},
		},
		Calendar: "cph",
		WarnAt:   0.5,
		Pause:    []string{},
		Goals:    Goals{Resolution: 0.99},
		Targets: map[string]TargetSpec{
			"P1": {Response: "10m"},
			"P3": {Response: "1bd", Calendar: "bxl"},
		},
		ByType: map[string]map[string]TargetSpec{"request": {"P4": {Resolution: "5bd"}, "p1": {Calendar: "cph"}}},
	}
	p, err := spec.Compile(specOpts)
	if err != nil {
		t.Fatal(err)
	}
	cph := p.Targets[4].Calendar
	if cph == nil || cph.Name != "cph" || cph.DayLength() != 7*time.Hour+36*time.Minute {
		// Mon-Thu 8h, Fri 6h: (4*8+6)/5 = 7h36m
		t.Fatalf("P4 calendar = %v (day %v), want cph with 7h36m days", cph, cph.DayLength())
	}
	for _, tc := range []struct {
		name string
		got  Target
		resp time.Duration
		res  time.Duration
		cal  string
	}{
		{"P1", p.Targets[1], 10 * time.Minute, 4 * time.Hour, "24x7"},
		{"P2", p.Targets[2], 4 * time.Hour, 8 * time.Hour, "24x7"},
		{"P3", p.Targets[3], 10 * time.Hour, 10 * cph.DayLength(), "bxl"}, // resolution kept from the default calendar's days
		{"P4", p.Targets[4], 4 * cph.DayLength(), 30 * cph.DayLength(), "cph"},
		{"request P4", p.ByType["request"][4], 4 * cph.DayLength(), 5 * cph.DayLength(), "cph"},
		{"request P1", p.ByType["request"][1], 10 * time.Minute, 4 * time.Hour, "cph"},
	} {
		if tc.got.Response != tc.resp || tc.got.Resolution != tc.res || tc.got.Calendar == nil || tc.got.Calendar.Name != tc.cal {
			t.Errorf("%s = %v/%v on %v, want %v/%v on %s", tc.name, tc.got.Response, tc.got.Resolution, tc.got.Calendar, tc.resp, tc.res, tc.cal)
		}
	}
	if p.WarnAt != 0.5 || len(p.Pause) != 0 || p.Pause == nil || p.Goals.Resolution != 0.99 || p.Goals.Response != 0.90 {
		t.Errorf("warn %v pause %v goals %v", p.WarnAt, p.Pause, p.Goals)
	}
	// Each calendar is built once: every target on it shares it.
	if p.Targets[4].Calendar != p.ByType["request"][4].Calendar || p.ByType["request"][1].Calendar != cph {
		t.Error("targets on the same calendar got different copies of it")
	}
	// Holidays: the listed one, and the Danish ones for the years around Now.
	for _, day := range []time.Time{cphTime(2026, 12, 23, 10), cphTime(2027, 12, 24, 10), cphTime(2028, 4, 13, 10)} {
		if cph.Open(day) {
			t.Errorf("cph is open on %s, a holiday", day.Format("2006-01-02"))
		}
	}
	if !cph.Open(cphTime(2026, 12, 22, 10)) || cph.Open(cphTime(2026, 3, 6, 12)) {
		t.Error("cph hours wrong: want open Tue 22 Dec 10:00, closed Fri 12:30 (between the windows)")
	}
}

func cphTime(y int, m time.Month, d, h int) time.Time {
	loc, _ := time.LoadLocation("Europe/Copenhagen")
	return time.Date(y, m, d, h, 30, 0, 0, loc)
}

func TestSpecErrorsNameTheKey(t *testing.T) {
	cal := func(name, tz, hours string) CalendarSpec {
		return CalendarSpec{Name: name, Timezone: tz, Hours: map[string]string{"mon-fri": hours}}
	}
	good := cal("cph", "Europe/Copenhagen", "08:30-16:30")
	for _, tc := range []struct {
		name string
		spec Spec
		want SpecError // Msg: a part of the message
	}{
		{"second calendar's zone", Spec{Calendars: []CalendarSpec{good, cal("bxl", "Europe/Bruxelles", "08:00-18:00")}},
			SpecError{Key: "calendars[1].timezone", Calendar: "bxl", Value: "Europe/Bruxelles", Msg: "not an IANA time zone"}},
		{"reversed window", Spec{Calendars: []CalendarSpec{good, cal("bxl", "UTC", "18:00-08:00")}},
			SpecError{Key: "calendars[1].hours.mon-fri", Calendar: "bxl", Value: "18:00-08:00", Msg: "ends before it starts"}},
		{"bad day", Spec{Calendars: []CalendarSpec{{Name: "x", Hours: map[string]string{"mon-fry": "08:00-16:00"}}}},
			SpecError{Key: "calendars[0].hours.mon-fry", Calendar: "x", Value: "08:00-16:00", Msg: "not a weekday"}},
		{"overlap", Spec{Calendars: []CalendarSpec{{Name: "x", Hours: map[string]string{"mon": "08:00-12:00", "mon-fri": "11:00-16:00"}}}},
			SpecError{Key: "calendars[0].hours", Calendar: "x", Msg: "overlap"}},
		{"no hours", Spec{Calendars: []CalendarSpec{{Name: "x"}}},
			SpecError{Key: "calendars[0].hours", Calendar: "x", Msg: "no business hours"}},
		{"holiday", Spec{Calendars: []CalendarSpec{{Name: "x", Hours: map[string]string{"mon": "08:00-12:00"}, Holidays: []string{"2026-12-24", "24/12/2026"}}}},
			SpecError{Key: "calendars[0].holidays[1]", Calendar: "x", Value: "24/12/2026", Msg: "YYYY-MM-DD"}},
		{"no name", Spec{Calendars: []CalendarSpec{good, {Hours: map[string]string{"mon": "08:00-12:00"}}}},
			SpecError{Key: "calendars[1].name", Msg: "calendar 2 has no name"}},
		{"twice", Spec{Calendars: []CalendarSpec{good, good}},
			SpecError{Key: "calendars[1].name", Calendar: "cph", Value: "cph", Msg: "defined twice"}},
		{"default calendar", Spec{Calendar: "mars"}, SpecError{Key: "calendar", Value: "mars", Msg: `no calendar named "mars" (have: 24x7, business, eu, flanders)`}},
		{"warn_at", Spec{WarnAt: 1.5}, SpecError{Key: "warn_at", Value: "1.5", Msg: "between 0 and 1"}},
		{"pause", Spec{Pause: []string{"waiting", "lunch"}}, SpecError{Key: "pause[1]", Value: "lunch", Msg: `"lunch" is not a status (use new, open`}},
		{"goal in percent", Spec{Goals: Goals{Response: 90}}, SpecError{Key: "goals.response", Value: "90", Msg: "0.90 for 90%"}},
		{"priority", Spec{Targets: map[string]TargetSpec{"P7": {Response: "1h"}}}, SpecError{Key: "targets.P7", Value: "P7", Msg: "use P1, P2, P3 or P4"}},
		{"response", Spec{Targets: map[string]TargetSpec{"P1": {Response: "soon"}}},
			SpecError{Key: "targets.P1.response", Priority: 1, Value: "soon", Msg: "such as 15m"}},
		{"resolution", Spec{Targets: map[string]TargetSpec{"P2": {Resolution: "-4h"}}},
			SpecError{Key: "targets.P2.resolution", Priority: 2, Value: "-4h", Msg: "such as 15m"}},
		{"target calendar", Spec{Targets: map[string]TargetSpec{"P3": {Calendar: "mars"}}},
			SpecError{Key: "targets.P3.calendar", Priority: 3, Value: "mars", Msg: "no calendar named"}},
		{"type", Spec{ByType: map[string]map[string]TargetSpec{"problem": {}}},
			SpecError{Key: "types.problem", Type: "problem", Value: "problem", Msg: "not a ticket type (use incident, request, change)"}},
		{"type target", Spec{ByType: map[string]map[string]TargetSpec{"request": {"P3": {Resolution: "5 days"}}}},
			SpecError{Key: "types.request.P3.resolution", Priority: 3, Type: "request", Value: "5 days", Msg: "2bd"}},
		{"first of two in order", Spec{Targets: map[string]TargetSpec{"P4": {Response: "x"}, "P2": {Response: "y"}}},
			SpecError{Key: "targets.P2.response", Priority: 2, Value: "y", Msg: `"y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 5 { // map order must not change which error is reported
				_, err := tc.spec.Compile(specOpts)
				var se *SpecError
				if !errors.As(err, &se) {
					t.Fatalf("Compile error %v (%T), want a *SpecError", err, err)
				}
				msg := tc.want.Msg
				got := *se
				got.Msg, tc.want.Msg = "", ""
				if got != tc.want {
					t.Fatalf("error %+v, want %+v", got, tc.want)
				}
				tc.want.Msg = msg
				if !strings.Contains(se.Msg, msg) || !strings.HasPrefix(se.Error(), se.Key+": ") {
					t.Fatalf("message %q, want it to contain %q", se.Error(), msg)
				}
			}
		})
	}
}
