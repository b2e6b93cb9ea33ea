package slaengine

import (
	"encoding/json"
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
