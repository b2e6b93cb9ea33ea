package slaengine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestHolidaySetsParse(t *testing.T) {
	names := HolidaySetNames()
	if strings.Join(names, ",") != "be-flanders,dk,eu-institutions" {
		t.Fatalf("holiday sets %v", names)
	}
	for _, n := range names {
		s, _ := HolidaySetNamed(n)
		if s.First != 2025 || s.Last != 2030 || s.Description == "" {
			t.Errorf("%s: years %d-%d, description %q", n, s.First, s.Last, s.Description)
		}
		perYear := map[int]int{}
		for _, h := range s.Days {
			perYear[h.Date.Year]++
			if h.Name == "" {
				t.Errorf("%s: %s has no name", n, h.Date)
			}
		}
		for y := s.First; y <= s.Last; y++ {
			if perYear[y] < 10 {
				t.Errorf("%s: only %d days in %d", n, perYear[y], y)
			}
		}
	}
}

// The data agrees with the rule (Easter by the Gregorian computus) in
// every year it covers, both ways: no day missing, none extra.
func TestDanishHolidayDataMatchesTheRule(t *testing.T) {
	s, _ := HolidaySetNamed("dk")
	data := map[Date]bool{}
	for _, d := range s.Dates() {
		data[d] = true
	}
	rule := map[Date]bool{}
	for y := s.First; y <= s.Last; y++ {
		for _, d := range DanishHolidays(y) {
			rule[d] = true
			if !data[d] {
				t.Errorf("dk data lacks %s", d)
			}
		}
	}
	for d := range data {
		if !rule[d] {
			t.Errorf("dk data has %s, which is no Danish holiday", d)
		}
	}
}

// Days checked by hand against the published lists.
func TestHolidaySetsKnownDays(t *testing.T) {
	for _, c := range []struct {
		set  string
		day  Date
		name string
	}{
		{"dk", Date{2026, 5, 14}, "Kristi himmelfartsdag"},
		{"dk", Date{2030, 4, 19}, "Langfredag"}, // Easter 2030 is 21 April
		{"eu-institutions", Date{2025, 5, 30}, "Friday after Ascension Day"},
		{"eu-institutions", Date{2026, 11, 2}, "All Souls' Day"},
		{"eu-institutions", Date{2027, 12, 29}, "End-of-year days"},
		{"be-flanders", Date{2025, 7, 11}, "Feestdag van de Vlaamse Gemeenschap"},
		{"be-flanders", Date{2028, 11, 11}, "Wapenstilstand"},
		{"be-flanders", Date{2029, 4, 2}, "Paasmaandag"}, // Easter 2029 is 1 April
	} {
		s, _ := HolidaySetNamed(c.set)
		found := ""
		for _, h := range s.Days {
			if h.Date == c.day {
				found = h.Name
			}
		}
		if found != c.name {
			t.Errorf("%s %s = %q, want %q", c.set, c.day, found, c.name)
		}
	}
	s, _ := HolidaySetNamed("be-flanders")
	for _, h := range s.Days {
		if h.Date.Month == time.December && h.Date.Day == 24 {
			t.Errorf("be-flanders has Christmas Eve %s, which is a working day in Flanders", h.Date)
		}
	}
}

func TestParseHolidaySetRefusesBadData(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"2026-01-01 a\n", "before the \"# years"},
		{"# dk\n", "no \"# years"},
		{"# years 2026-2026\n2026-01-02 a\n2026-01-01 b\n", "not after"},
		{"# years 2026-2026\n2027-01-01 a\n", "outside the years"},
		{"# years 2026-2026\n2026-13-01 a\n", "YYYY-MM-DD"},
		{"# years 2026\n", "# years 2025-2030"},
	} {
		if _, err := parseHolidaySet("x", c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.text, err, c.want)
		}
	}
}

func TestBuiltInCalendarsCloseOnTheirHolidays(t *testing.T) {
	for _, c := range []struct {
		cal  *Calendar
		at   time.Time
		open bool
	}{
		{DefaultBusinessCalendar(), time.Date(2026, 5, 14, 10, 0, 0, 0, mustLoc(t, "Europe/Copenhagen")), false}, // Ascension
		{DefaultBusinessCalendar(), time.Date(2026, 5, 13, 10, 0, 0, 0, mustLoc(t, "Europe/Copenhagen")), true},
		{EUCalendar(), time.Date(2026, 5, 15, 10, 0, 0, 0, mustLoc(t, "Europe/Brussels")), false}, // Friday after Ascension
		{EUCalendar(), time.Date(2026, 12, 28, 10, 0, 0, 0, mustLoc(t, "Europe/Brussels")), false},
		{FlandersCalendar(), time.Date(2029, 7, 11, 10, 0, 0, 0, mustLoc(t, "Europe/Brussels")), false},
		{FlandersCalendar(), time.Date(2026, 12, 28, 10, 0, 0, 0, mustLoc(t, "Europe/Brussels")), true},
	} {
		if got := c.cal.Open(c.at); got != c.open {
			t.Errorf("%s open at %s = %v, want %v", c.cal.Name, c.at, got, c.open)
		}
	}
}

// The end of the data is said a year ahead and after, never silently, and
// the same configuration compiles alike whatever the date.
func TestHolidayWarnings(t *testing.T) {
	p, err := Spec{Calendars: []CalendarSpec{{Name: "cph", Timezone: "Europe/Copenhagen",
		Hours: map[string]string{"mon-fri": "08:00-16:00"}, HolidaySets: []string{"dk", "eu-institutions"}}}, Calendar: "cph"}.Compile(specOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Targets[3].Calendar.HolidaysThrough; got != (Date{2030, 12, 31}) {
		t.Fatalf("HolidaysThrough = %s", got)
	}
	if w := p.HolidayWarnings(time.Date(2029, 12, 1, 0, 0, 0, 0, time.UTC)); len(w) != 0 {
		t.Errorf("warned 13 months ahead: %q", w)
	}
	w := p.HolidayWarnings(time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC))
	if len(w) != 1 || !strings.Contains(w[0], `"cph"`) || !strings.Contains(w[0], "ends 2030-12-31") {
		t.Errorf("warnings in 2030: %q", w)
	}
	w = p.HolidayWarnings(time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC))
	if len(w) != 1 || !strings.Contains(w[0], "ended 2030-12-31") || !strings.Contains(w[0], "holidays = [...]") {
		t.Errorf("warnings in 2031: %q", w)
	}
	// 24x7 (P1, P2) has no holiday data and nothing to warn about.
	if len(DefaultPolicy(AlwaysOpen()).HolidayWarnings(time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC))) != 0 {
		t.Error("a 24x7 policy warned about holidays")
	}
	if _, err := (Spec{Calendars: []CalendarSpec{{Name: "x", Timezone: "UTC", Hours: map[string]string{"mon": "08:00-09:00"},
		HolidaySets: []string{"se"}}}}).Compile(specOpts); err == nil || !strings.Contains(err.Error(), "be-flanders, dk, eu-institutions") {
		t.Errorf("an unknown set: %v", err)
	}
	// The coverage survives a stored policy.
	raw, err := json.Marshal(p.Targets[3].Calendar)
	if err != nil {
		t.Fatal(err)
	}
	var back Calendar
	if err := json.Unmarshal(raw, &back); err != nil || back.HolidaysThrough != (Date{2030, 12, 31}) {
		t.Errorf("round trip: %v %s (%s)", err, back.HolidaysThrough, raw)
	}
}
