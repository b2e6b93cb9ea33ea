package slaengine

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return l
}

// cph is a wall-clock time in Copenhagen.
func cph(t testing.TB, y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, mustLoc(t, "Europe/Copenhagen"))
}

func everyDay(ws ...Window) map[time.Weekday][]Window {
	m := map[time.Weekday][]Window{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		m[d] = ws
	}
	return m
}

func TestBetweenAndAddHandChecked(t *testing.T) {
	biz := DefaultBusinessCalendar()
	cph24, err := NewCalendar("cph 24x7", "Europe/Copenhagen", everyDay(Window{0, 24 * time.Hour}), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 01:00-04:00: crosses the skipped hour in March and the
	// repeated hour in October.
	night, err := NewCalendar("night", "Europe/Copenhagen", map[time.Weekday][]Window{time.Sunday: {{hm(1, 0), hm(4, 0)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cal      *Calendar
		from, to time.Time
		want     time.Duration
	}{
		{"same day", biz, cph(t, 2025, 3, 4, 9, 0), cph(t, 2025, 3, 4, 11, 15), 2*time.Hour + 15*time.Minute},
		{"before opening to after closing", biz, cph(t, 2025, 3, 4, 6, 0), cph(t, 2025, 3, 4, 20, 0), 8 * time.Hour},
		{"over a weekend", biz, cph(t, 2025, 3, 7, 15, 30), cph(t, 2025, 3, 10, 9, 30), 2 * time.Hour},
		{"inside a weekend", biz, cph(t, 2025, 3, 8, 10, 0), cph(t, 2025, 3, 9, 23, 0), 0},
		{"Christmas holidays", biz, cph(t, 2025, 12, 23, 16, 0), cph(t, 2025, 12, 29, 9, 0), time.Hour},
		{"Easter holidays", biz, cph(t, 2025, 4, 16, 16, 0), cph(t, 2025, 4, 22, 9, 0), time.Hour},
		{"backwards is negative", biz, cph(t, 2025, 3, 10, 9, 30), cph(t, 2025, 3, 7, 15, 30), -2 * time.Hour},
		{"empty interval", biz, cph(t, 2025, 3, 4, 9, 0), cph(t, 2025, 3, 4, 9, 0), 0},
		{"spring-forward day has 23 hours", cph24, cph(t, 2025, 3, 30, 0, 0), cph(t, 2025, 3, 31, 0, 0), 23 * time.Hour},
		{"fall-back day has 25 hours", cph24, cph(t, 2025, 10, 26, 0, 0), cph(t, 2025, 10, 27, 0, 0), 25 * time.Hour},
		{"window across the skipped hour", night, cph(t, 2025, 3, 29, 0, 0), cph(t, 2025, 3, 31, 0, 0), 2 * time.Hour},
		{"window across the repeated hour", night, cph(t, 2025, 10, 25, 0, 0), cph(t, 2025, 10, 27, 0, 0), 4 * time.Hour},
		{"normal Sunday", night, cph(t, 2025, 3, 22, 0, 0), cph(t, 2025, 3, 24, 0, 0), 3 * time.Hour},
		{"24x7 is UTC time", AlwaysOpen(), cph(t, 2025, 3, 30, 0, 0), cph(t, 2025, 3, 31, 0, 0), 23 * time.Hour},
		{"ten business weeks", biz, cph(t, 2025, 1, 6, 8, 30), cph(t, 2025, 3, 17, 8, 30), 50 * 8 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cal.Between(tc.from, tc.to); got != tc.want {
				t.Errorf("Between(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}

	adds := []struct {
		name string
		cal  *Calendar
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"within the day", biz, cph(t, 2025, 3, 4, 9, 0), 2 * time.Hour, cph(t, 2025, 3, 4, 11, 0)},
		{"used up exactly at closing", biz, cph(t, 2025, 3, 7, 15, 30), time.Hour, cph(t, 2025, 3, 7, 16, 30)},
		{"over the weekend", biz, cph(t, 2025, 3, 7, 16, 0), time.Hour, cph(t, 2025, 3, 10, 9, 0)},
		{"from a Saturday", biz, cph(t, 2025, 3, 8, 12, 0), time.Minute, cph(t, 2025, 3, 10, 8, 31)},
		{"over Christmas", biz, cph(t, 2025, 12, 23, 16, 0), time.Hour, cph(t, 2025, 12, 29, 9, 0)},
		{"over Easter", biz, cph(t, 2025, 4, 16, 16, 0), time.Hour, cph(t, 2025, 4, 22, 9, 0)},
		{"30 business days", biz, cph(t, 2025, 1, 6, 8, 30), 30 * 8 * time.Hour, cph(t, 2025, 2, 14, 16, 30)},
		{"zero returns from", biz, cph(t, 2025, 3, 8, 12, 0), 0, cph(t, 2025, 3, 8, 12, 0)},
		{"negative returns from", biz, cph(t, 2025, 3, 8, 12, 0), -time.Hour, cph(t, 2025, 3, 8, 12, 0)},
		{"across the skipped hour", night, cph(t, 2025, 3, 30, 0, 0), 90 * time.Minute, cph(t, 2025, 3, 30, 3, 30)},
		// 01:00 CEST to 04:00 CET is 23:00 to 03:00 UTC: 4 real hours.
		{"across the repeated hour", night, cph(t, 2025, 10, 26, 0, 0), 150 * time.Minute, time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC)},
		{"24x7 over the skipped hour", cph24, cph(t, 2025, 3, 30, 1, 0), 2 * time.Hour, cph(t, 2025, 3, 30, 4, 0)},
	}
	for _, tc := range adds {
		t.Run("Add "+tc.name, func(t *testing.T) {
			got := tc.cal.Add(tc.from, tc.d)
			if !got.Equal(tc.want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tc.from, tc.d, got, tc.want)
			}
			if tc.d > 0 {
				if back := tc.cal.Between(tc.from, got); back != tc.d {
					t.Errorf("Between(from, Add(from, %v)) = %v", tc.d, back)
				}
			}
		})
	}
}

func TestAddKeepsTheCallersLocation(t *testing.T) {
	from := cph(t, 2025, 3, 4, 9, 0)
	if got := DefaultBusinessCalendar().Add(from, time.Hour); got.Location() != from.Location() {
		t.Errorf("Add returned location %s, want %s", got.Location(), from.Location())
	}
}

func TestNewCalendarRejects(t *testing.T) {
	nine2five := map[time.Weekday][]Window{time.Monday: {{9 * time.Hour, 17 * time.Hour}}}
	tests := []struct {
		name     string
		tz       string
		week     map[time.Weekday][]Window
		holidays []Date
		want     []string // all must appear in the error
	}{
		{"unknown zone", "Europe/Atlantis", nine2five, nil, []string{`"Europe/Atlantis"`, "IANA"}},
		{"no zone", "", nine2five, nil, []string{"no time zone"}},
		{"overlap", "UTC", map[time.Weekday][]Window{time.Tuesday: {{hm(12, 0), hm(14, 0)}, {hm(9, 0), hm(12, 30)}}}, nil, []string{"Tuesday", "09:00-12:30", "12:00-14:00", "overlap"}},
		{"past midnight", "UTC", map[time.Weekday][]Window{time.Friday: {{hm(22, 0), hm(25, 0)}}}, nil, []string{"Friday", "22:00-25:00", "outside"}},
		{"negative start", "UTC", map[time.Weekday][]Window{time.Friday: {{-time.Hour, hm(2, 0)}}}, nil, []string{"Friday", "outside"}},
		{"backwards", "UTC", map[time.Weekday][]Window{time.Monday: {{hm(17, 0), hm(9, 0)}}}, nil, []string{"Monday", "17:00-09:00", "ends before"}},
		{"empty window", "UTC", map[time.Weekday][]Window{time.Monday: {{hm(9, 0), hm(9, 0)}}}, nil, []string{"ends before"}},
		{"no hours at all", "UTC", map[time.Weekday][]Window{time.Monday: nil}, nil, []string{"no business hours", "AlwaysOpen"}},
		{"bad holiday", "UTC", nine2five, []Date{{2025, time.February, 30}}, []string{"2025-02-30"}},
		{"bad weekday", "UTC", map[time.Weekday][]Window{9: {{hm(9, 0), hm(10, 0)}}}, nil, []string{"weekday 9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCalendar("test", tc.tz, tc.week, tc.holidays)
			if err == nil {
				t.Fatalf("NewCalendar accepted it: %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	// Touching windows are fine and merge into one.
	c, err := NewCalendar("split", "UTC", map[time.Weekday][]Window{time.Monday: {{hm(12, 0), hm(17, 0)}, {hm(9, 0), hm(12, 0)}}}, nil)
	if err != nil {
		t.Fatalf("touching windows rejected: %v", err)
	}
	mon := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	if got := c.Between(mon, mon.Add(24*time.Hour)); got != 8*time.Hour {
		t.Errorf("touching windows give %v, want 8h", got)
	}
}

func TestDayLength(t *testing.T) {
	for _, tc := range []struct {
		cal  *Calendar
		want time.Duration
	}{
		{DefaultBusinessCalendar(), 8 * time.Hour},
		{EUCalendar(), 10 * time.Hour},
		{AlwaysOpen(), 24 * time.Hour},
		{&Calendar{}, 0},
	} {
		if got := tc.cal.DayLength(); got != tc.want {
			t.Errorf("%s: DayLength = %v, want %v", tc.cal.Name, got, tc.want)
		}
	}
}

func TestDanishHolidays(t *testing.T) {
	got := map[Date]bool{}
	for _, d := range DanishHolidays(2025) {
		got[d] = true
	}
	for _, want := range []Date{
		{2025, 1, 1}, {2025, 4, 17}, {2025, 4, 18}, {2025, 4, 20}, {2025, 4, 21}, {2025, 5, 29},
		{2025, 6, 8}, {2025, 6, 9}, {2025, 6, 5}, {2025, 12, 24}, {2025, 12, 25}, {2025, 12, 26}, {2025, 12, 31},
	} {
		if !got[want] {
			t.Errorf("DanishHolidays(2025) lacks %s", want)
		}
	}
	if got[Date{2025, 5, 16}] {
		t.Error("Great Prayer Day was abolished in 2024 but is listed for 2025")
	}
	// Easter 2026 is 5 April, 2027 is 28 March.
	for _, c := range []struct {
		year int
		good Date
	}{{2026, Date{2026, 4, 3}}, {2027, Date{2027, 3, 26}}} {
		found := false
		for _, d := range DanishHolidays(c.year) {
			found = found || d == c.good
		}
		if !found {
			t.Errorf("DanishHolidays(%d) lacks Good Friday %s", c.year, c.good)
		}
	}
}

func TestLiteralCalendarsWork(t *testing.T) {
	// A Calendar written as a struct literal (not via NewCalendar) still
	// counts right, and one without any business time does not hang Add.
	lit := &Calendar{Name: "lit", Location: mustLoc(t, "Europe/Copenhagen")}
	for d := time.Monday; d <= time.Friday; d++ {
		lit.Week[d] = []Window{{hm(8, 30), hm(16, 30)}}
	}
	from := cph(t, 2025, 3, 7, 16, 0)
	if got, want := lit.Add(from, time.Hour), cph(t, 2025, 3, 10, 9, 0); !got.Equal(want) {
		t.Errorf("literal calendar Add = %s, want %s", got, want)
	}
	closed := &Calendar{Name: "closed"}
	if got := closed.Add(from, time.Hour); !got.Equal(Horizon()) {
		t.Errorf("Add on a calendar without business time = %s, want Horizon %s", got, Horizon())
	}
	if got := closed.Between(from, from.Add(1000*time.Hour)); got != 0 {
		t.Errorf("Between on a calendar without business time = %v", got)
	}
	var nilCal *Calendar
	if got := nilCal.Between(from, from.Add(time.Hour)); got != time.Hour {
		t.Errorf("nil calendar is 24x7, got %v for an hour", got)
	}
}

func TestExtremeTimesDoNotOverflow(t *testing.T) {
	biz := DefaultBusinessCalendar()
	var zero time.Time
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := biz.Between(zero, far); got <= 0 {
		t.Errorf("Between(year 1, year 9999) = %v, want a large positive clamped value", got)
	}
	if got := biz.Add(far, time.Hour); !got.Equal(Horizon()) {
		t.Errorf("Add after the horizon = %s, want Horizon", got)
	}
	if got := biz.Add(zero, time.Hour); got.Year() != 1700 {
		t.Errorf("Add from the zero time = %s, want a time in 1700 (clamped)", got)
	}
}

func TestOpen(t *testing.T) {
	biz := DefaultBusinessCalendar()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{cph(t, 2025, 3, 4, 8, 29), false},
		{cph(t, 2025, 3, 4, 8, 30), true},
		{cph(t, 2025, 3, 4, 16, 29), true},
		{cph(t, 2025, 3, 4, 16, 30), false},
		{cph(t, 2025, 3, 8, 12, 0), false},
		{cph(t, 2025, 12, 24, 12, 0), false},
	} {
		if got := biz.Open(tc.at); got != tc.want {
			t.Errorf("Open(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestAddSkipsAYearOfHolidays(t *testing.T) {
	// Every Monday of 2025 is a holiday: the first business hour after New
	// Year 2025 is on Monday 5 January 2026. This takes Add past its first
	// estimate of the span, which only counts whole weeks.
	var hol []Date
	for d := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC); d.Year() == 2025; d = d.AddDate(0, 0, 7) {
		hol = append(hol, Date{d.Year(), d.Month(), d.Day()})
	}
	c, err := NewCalendar("mondays", "UTC", map[time.Weekday][]Window{time.Monday: {{hm(9, 0), hm(10, 0)}}}, hol)
	if err != nil {
		t.Fatal(err)
	}
	from := utc(2025, 1, 1, 0, 0)
	if got, want := c.Add(from, 90*time.Minute), utc(2026, 1, 12, 9, 30); !got.Equal(want) {
		t.Errorf("Add = %s, want %s", got, want)
	}
	if got := c.Between(from, utc(2026, 1, 6, 0, 0)); got != time.Hour {
		t.Errorf("Between over the year = %v, want 1h", got)
	}
}
