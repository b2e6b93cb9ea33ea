package slaengine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	// Calendars name IANA zones; embedding the database means a desk binary
	// copied onto a host without /usr/share/zoneinfo still counts hours right.
	_ "time/tzdata"
)

// The engine works in int64 nanoseconds since the Unix epoch. Instants are
// clamped to [1700-01-01, 2200-01-01) UTC so that no sum over the range can
// overflow; nothing a service desk schedules lies outside it.
const (
	dayNs = int64(24 * time.Hour)
	minNs = int64(-8520336000) * int64(time.Second) // 1700-01-01T00:00:00Z
	maxNs = int64(7258118400) * int64(time.Second)  // 2200-01-01T00:00:00Z
)

// Horizon is the far-future sentinel that Add returns when the business time
// asked for does not fit before 2200 (only a calendar without any business
// time can get there). It sorts after every real deadline, which is what a
// deadline index wants; the zero time would sort first.
func Horizon() time.Time { return time.Unix(0, maxNs).UTC() }

// span is a business window in wall-clock nanoseconds from local midnight.
type span struct{ s, e int64 }

// prepared is a calendar compiled for arithmetic. Business time is counted
// in "wall space": within one stretch of constant UTC offset, wall-clock
// time is instant + offset, and the business time in any wall interval is a
// difference of the prefix function F (see f). F needs no loop over days:
// whole weeks multiply, holidays come from a prefix sum over the sorted
// holiday list. Zone transitions split an interval into stretches, so a DST
// day of 23 or 25 hours and windows crossing a skipped or repeated hour
// come out as the real elapsed time of the wall-clock windows.
type prepared struct {
	loc     *time.Location
	fixed   bool  // the zone never changes offset (UTC, fixed zones)
	fixOff  int64 // that offset, in ns
	win     [7][]span
	dayTot  [7]int64
	weekTot int64
	// prefW[r] is the business time of the first r days of a week that
	// starts on a Thursday (epoch day 0 was a Thursday).
	prefW [8]int64
	hol   []int64 // holidays as epoch day numbers, sorted, unique
	// holLoss[k] is the business time the holidays hol[:k] remove.
	holLoss []int64
	// zs caches the zone's offsets from 1970 to 2100 (start instant and
	// offset of each), so that the per-second Project of every visible row
	// does not go through time.Location's lookup. Outside it, zone asks Go.
	zs    []zoneSpan
	zsEnd int64
	// held are spans of instants without business time (Without), sorted
	// and disjoint.
	held []span
}

type zoneSpan struct{ start, off int64 }

const (
	zsFrom = int64(0)                               // 1970-01-01T00:00:00Z
	zsTo   = int64(4102444800) * int64(time.Second) // 2100-01-01T00:00:00Z
)

// NewCalendar builds a calendar in the IANA zone tz; it rejects overlapping
// or out-of-range windows and unknown zones with an error that names them.
// Windows are wall-clock offsets from local midnight; touching windows are
// merged. A calendar must have at least one window.
func NewCalendar(name, tz string, week map[time.Weekday][]Window, holidays []Date) (*Calendar, error) {
	if tz == "" {
		return nil, fmt.Errorf("calendar %q: no time zone given: name an IANA zone such as Europe/Copenhagen or UTC", name)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: unknown time zone %q: use an IANA name such as Europe/Copenhagen: %v", name, tz, err)
	}
	c := &Calendar{Name: name, Location: loc}
	var problems []string
	any := false
	for wd, ws := range week {
		if wd < time.Sunday || wd > time.Saturday {
			problems = append(problems, fmt.Sprintf("weekday %d does not exist (use time.Sunday..time.Saturday)", int(wd)))
			continue
		}
		sorted := append([]Window(nil), ws...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
		for i, w := range sorted {
			switch {
			case w.Start < 0 || w.End > 24*time.Hour:
				problems = append(problems, fmt.Sprintf("%s window %s is outside 00:00-24:00", wd, w))
			case w.End <= w.Start:
				problems = append(problems, fmt.Sprintf("%s window %s ends before it starts", wd, w))
			case i > 0 && w.Start < sorted[i-1].End:
				problems = append(problems, fmt.Sprintf("%s windows %s and %s overlap", wd, sorted[i-1], w))
			}
		}
		if len(sorted) > 0 {
			any = true
		}
		c.Week[wd] = sorted
	}
	for _, h := range holidays {
		if !h.valid() {
			problems = append(problems, fmt.Sprintf("holiday %s is not a calendar date", h))
		}
	}
	if len(problems) == 0 && !any {
		problems = append(problems, "no business hours on any weekday (use AlwaysOpen for a 24x7 calendar)")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("calendar %q: %s", name, strings.Join(problems, "; "))
	}
	c.Holidays = append([]Date(nil), holidays...)
	c.prep = prepare(c)
	c.prep.cacheZones()
	return c, nil
}

// AlwaysOpen is the 24x7 calendar.
func AlwaysOpen() *Calendar {
	c := &Calendar{Name: "24x7", Location: time.UTC}
	for d := range c.Week {
		c.Week[d] = []Window{{0, 24 * time.Hour}}
	}
	c.prep = prepare(c)
	return c
}

// String prints a window as "08:30-16:30".
func (w Window) String() string {
	f := func(d time.Duration) string {
		neg := ""
		if d < 0 {
			neg, d = "-", -d
		}
		s := fmt.Sprintf("%s%02d:%02d", neg, int(d/time.Hour), int(d%time.Hour/time.Minute))
		if r := d % time.Minute; r != 0 {
			s += fmt.Sprintf(":%02d", int(r/time.Second))
		}
		return s
	}
	return f(w.Start) + "-" + f(w.End)
}

// String prints a date as 2025-12-24.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 || d.Day > 31 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

func (d Date) epochDay() int64 {
	return floorDiv(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

// prep returns the compiled form: the one NewCalendar built, or, for a
// Calendar written as a struct literal, a fresh one per call (correct but
// slower; invalid windows are clipped rather than rejected).
func (c *Calendar) prepared() *prepared {
	if c == nil {
		return prepare(AlwaysOpen())
	}
	if c.prep != nil {
		return c.prep
	}
	return prepare(c)
}

func prepare(c *Calendar) *prepared {
	p := &prepared{loc: c.Location}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for wd := range c.Week {
		ws := append([]Window(nil), c.Week[wd]...)
		sort.Slice(ws, func(i, j int) bool { return ws[i].Start < ws[j].Start })
		var out []span
		for _, w := range ws {
			s, e := max(int64(w.Start), 0), min(int64(w.End), dayNs)
			if e <= s {
				continue
			}
			if n := len(out); n > 0 && s <= out[n-1].e {
				out[n-1].e = max(out[n-1].e, e)
				continue
			}
			out = append(out, span{s, e})
		}
		p.win[wd] = out
		for _, s := range out {
			p.dayTot[wd] += s.e - s.s
		}
		p.weekTot += p.dayTot[wd]
	}
	for r := 1; r <= 7; r++ {
		p.prefW[r] = p.prefW[r-1] + p.dayTot[(4+r-1)%7]
	}
	seen := map[int64]bool{}
	for _, h := range c.Holidays {
		if !h.valid() {
			continue
		}
		d := h.epochDay()
		if !seen[d] {
			seen[d] = true
			p.hol = append(p.hol, d)
		}
	}
	sort.Slice(p.hol, func(i, j int) bool { return p.hol[i] < p.hol[j] })
	p.holLoss = make([]int64, len(p.hol)+1)
	for i, d := range p.hol {
		p.holLoss[i+1] = p.holLoss[i] + p.dayTot[weekday(d)]
	}
	t := time.Unix(0, 0).In(p.loc)
	if s, e := t.ZoneBounds(); s.IsZero() && e.IsZero() {
		_, off := t.Zone()
		p.fixed, p.fixOff = true, int64(off)*int64(time.Second)
	}
	return p
}

func (p *prepared) cacheZones() {
	if p.fixed {
		return
	}
	t := time.Unix(0, zsFrom).In(p.loc)
	for n := 0; n < 10000; n++ {
		_, off := t.Zone()
		start := t.UnixNano()
		if len(p.zs) == 0 {
			start = zsFrom
		}
		p.zs = append(p.zs, zoneSpan{start, int64(off) * int64(time.Second)})
		_, e := t.ZoneBounds()
		if e.IsZero() || !e.After(t) || e.UnixNano() >= zsTo {
			break
		}
		t = e
	}
	p.zsEnd = zsTo
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func weekday(day int64) time.Weekday { return time.Weekday((day%7 + 7 + 4) % 7) }

// holIndex returns how many holidays lie before day and whether day is one.
func (p *prepared) holIndex(day int64) (int, bool) {
	if len(p.hol) == 0 {
		return 0, false
	}
	i := sort.Search(len(p.hol), func(i int) bool { return p.hol[i] >= day })
	return i, i < len(p.hol) && p.hol[i] == day
}

// g is the business time in wall days [0, day) (negative before the epoch;
// only differences matter).
func (p *prepared) g(day int64) int64 {
	q := floorDiv(day, 7)
	i, _ := p.holIndex(day)
	return q*p.weekTot + p.prefW[day-7*q] - p.holLoss[i]
}

// f is the business time in wall time [0, w).
func (p *prepared) f(w int64) int64 {
	day := floorDiv(w, dayNs)
	q := floorDiv(day, 7)
	i, hol := p.holIndex(day)
	v := q*p.weekTot + p.prefW[day-7*q] - p.holLoss[i]
	if hol {
		return v
	}
	tod := w - day*dayNs
	for _, s := range p.win[weekday(day)] {
		if tod <= s.s {
			break
		}
		v += min(tod, s.e) - s.s
	}
	return v
}

// zone returns the UTC offset in force at instant t and the instant at
// which the next offset starts (capped at maxNs).
func (p *prepared) zone(t int64) (off, end int64) {
	if p.fixed {
		return p.fixOff, maxNs
	}
	if n := len(p.zs); n > 0 && t >= p.zs[0].start && t < p.zsEnd {
		lo, hi := 0, n // zs[lo].start <= t < zs[hi].start (hi == n: zsEnd)
		for lo+1 < hi {
			mid := int(uint(lo+hi) >> 1)
			if p.zs[mid].start <= t {
				lo = mid
			} else {
				hi = mid
			}
		}
		if hi == n {
			return p.zs[lo].off, p.zsEnd
		}
		return p.zs[lo].off, p.zs[hi].start
	}
	tt := time.Unix(0, t).In(p.loc)
	_, o := tt.Zone()
	_, e := tt.ZoneBounds()
	end = maxNs
	if !e.IsZero() && e.Before(time.Unix(0, maxNs)) {
		end = e.UnixNano()
	}
	if end <= t { // cannot happen with Go's zone data; never loop on it
		end = maxNs
	}
	return int64(o) * int64(time.Second), end
}

func (p *prepared) between(a, b int64) int64 {
	var sum int64
	for t := a; t < b; {
		off, end := p.zone(t)
		end = min(end, b)
		sum += p.f(end+off) - p.f(t+off)
		t = end
	}
	return sum
}

func (p *prepared) add(t, d int64) int64 {
	if p.weekTot == 0 {
		return maxNs
	}
	for {
		off, end := p.zone(t)
		w0 := t + off
		target := p.f(w0) + d
		fe := p.f(end + off)
		if fe >= target {
			return min(p.inverse(target, floorDiv(w0, dayNs)), end+off) - off
		}
		if end >= maxNs {
			return maxNs
		}
		d, t = target-fe, end
	}
}

// inverse returns the smallest wall time w with f(w) >= target, given that
// g(lo) < target. It brackets the day by whole weeks, then bisects.
func (p *prepared) inverse(target, lo int64) int64 {
	const maxDay = maxNs/dayNs + 2
	// hi stays at or below maxDay so that g's week products cannot overflow.
	hi := min(lo+7*((target-p.g(lo))/p.weekTot+1)+7, maxDay)
	for p.g(hi) < target {
		if hi >= maxDay {
			return maxNs + dayNs
		}
		hi = min(lo+2*(hi-lo), maxDay)
	}
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if p.g(mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	rem := target - p.g(lo)
	base := lo * dayNs
	for _, s := range p.win[weekday(lo)] {
		if l := s.e - s.s; rem <= l {
			return base + s.s + rem
		} else {
			rem -= l
		}
	}
	return base + dayNs
}

func clampNs(t time.Time) int64 {
	if t.Before(time.Unix(0, minNs)) {
		return minNs
	}
	if !t.Before(time.Unix(0, maxNs)) {
		return maxNs
	}
	return t.UnixNano()
}

// Add returns the instant at which d of business time has elapsed after
// from: the earliest such instant, so a target used up exactly at 16:30
// falls due at 16:30, not at the next opening. d <= 0 returns from. A
// calendar without any business time returns Horizon(). The result is in
// from's location. Cost grows with zone transitions and holidays crossed
// and logarithmically with the span, never with minutes or days.
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	r := c.prepared().addHeld(clampNs(from), int64(d))
	if r >= maxNs {
		return Horizon()
	}
	return time.Unix(0, r).In(from.Location())
}

// Between returns the business time in [from, to); negative when to < from.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	a, b := clampNs(from), clampNs(to)
	if b < a {
		return -time.Duration(c.prepared().betweenHeld(b, a))
	}
	return time.Duration(c.prepared().betweenHeld(a, b))
}

// DayLength is the length of one business day on this calendar, used to turn
// "2 business days" into business time: the weekly business time divided by
// the number of weekdays that have any (8h for Mon-Fri 08:30-16:30, 24h for
// AlwaysOpen).
func (c *Calendar) DayLength() time.Duration {
	p := c.prepared()
	n := int64(0)
	for _, t := range p.dayTot {
		if t > 0 {
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(p.weekTot / n)
}

// Open reports whether business time runs at instant t.
func (c *Calendar) Open(t time.Time) bool {
	p := c.prepared()
	n := clampNs(t)
	if p.isHeld(n) {
		return false
	}
	off, _ := p.zone(n)
	w := n + off
	day := floorDiv(w, dayNs)
	if _, hol := p.holIndex(day); hol {
		return false
	}
	tod := w - day*dayNs
	for _, s := range p.win[weekday(day)] {
		if tod >= s.s && tod < s.e {
			return true
		}
	}
	return false
}

func mustCalendar(name, tz string, week map[time.Weekday][]Window, holidays []Date) *Calendar {
	c, err := NewCalendar(name, tz, week, holidays)
	if err != nil {
		// Only reachable if the embedded zone database lacked the zone;
		// keep the hours in UTC rather than fail the whole desk.
		c, err = NewCalendar(name, "UTC", week, holidays)
		if err != nil {
			return AlwaysOpen()
		}
	}
	return c
}

func weekdays(w Window) map[time.Weekday][]Window {
	m := map[time.Weekday][]Window{}
	for d := time.Monday; d <= time.Friday; d++ {
		m[d] = []Window{w}
	}
	return m
}

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

// DefaultBusinessCalendar is the Borger.dk desk: Monday to Friday
// 08:30-16:30 Europe/Copenhagen, closed on the Danish public holidays of
// the "dk" holiday set (2025-2030).
func DefaultBusinessCalendar() *Calendar {
	return setCalendar("Borger.dk business hours", "Europe/Copenhagen", weekdays(Window{hm(8, 30), hm(16, 30)}), "dk")
}

// EUCalendar is the EU service desk (OOTS): "8am to 6pm, normal EC working
// days", Monday to Friday Europe/Brussels, closed on the EU institutions'
// holidays ("eu-institutions", 2025-2030).
func EUCalendar() *Calendar {
	return setCalendar("EU service desk hours", "Europe/Brussels", weekdays(Window{hm(8, 0), hm(18, 0)}), "eu-institutions")
}

// FlandersCalendar is a Flemish government desk (Digitaal Vlaanderen):
// Monday to Friday 09:00-17:00 Europe/Brussels, closed on the Belgian and
// Flemish public holidays ("be-flanders", 2025-2030).
func FlandersCalendar() *Calendar {
	return setCalendar("Digitaal Vlaanderen business hours", "Europe/Brussels", weekdays(Window{hm(9, 0), hm(17, 0)}), "be-flanders")
}

// setCalendar is a built-in calendar closed on a built-in holiday set.
func setCalendar(name, tz string, week map[time.Weekday][]Window, set string) *Calendar {
	hs := mustHolidaySet(set)
	c := mustCalendar(name, tz, week, hs.Dates())
	c.HolidaysThrough = hs.Through()
	return c
}

// DanishHolidays computes the days a Danish public office is closed in year:
// New Year's Day, Maundy Thursday, Good Friday, Easter Sunday and Monday,
// Ascension Day, Whit Sunday and Monday, Constitution Day (5 June),
// Christmas Eve, Christmas Day, Boxing Day and New Year's Eve. Great Prayer
// Day is included up to 2023, when it was abolished. Calendars use the "dk"
// holiday set, which is data; this rule is what the data is checked against.
func DanishHolidays(year int) []Date {
	e := easter(year)
	rel := func(days int) Date {
		t := e.AddDate(0, 0, days)
		return Date{t.Year(), t.Month(), t.Day()}
	}
	out := []Date{{year, time.January, 1}, rel(-3), rel(-2), rel(0), rel(1)}
	if year <= 2023 {
		out = append(out, rel(26))
	}
	out = append(out, rel(39), rel(49), rel(50),
		Date{year, time.June, 5}, Date{year, time.December, 24}, Date{year, time.December, 25},
		Date{year, time.December, 26}, Date{year, time.December, 31})
	return out
}

// easter is Easter Sunday in the Gregorian calendar (anonymous algorithm).
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
