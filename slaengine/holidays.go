package slaengine

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Holiday lists are data, not formulas run against the wall clock: a desk
// computes the same deadlines whatever year it was started in, and the
// years a list covers are known, so the end of the data is a warning a year
// ahead instead of a silent cliff (after it, every day is a working day).
//
//go:embed holidays/*.txt
var holidayFiles embed.FS

// Holiday is one closed day.
type Holiday struct {
	Date Date
	Name string
}

// HolidaySet is a published list of the days an office closes, for the
// years it covers.
type HolidaySet struct {
	Name        string // what a config names it by: "dk", "be-flanders", "eu-institutions"
	Description string
	First, Last int // the years covered, whole
	Days        []Holiday
}

// Through is the last day the set covers.
func (s HolidaySet) Through() Date { return Date{s.Last, time.December, 31} }

// Dates are the set's days, for NewCalendar.
func (s HolidaySet) Dates() []Date {
	out := make([]Date, len(s.Days))
	for i, h := range s.Days {
		out[i] = h.Date
	}
	return out
}

var holidaySets = loadHolidaySets()

func loadHolidaySets() map[string]HolidaySet {
	entries, err := holidayFiles.ReadDir("holidays")
	if err != nil {
		panic(err) // embedded at build time: a missing folder is a broken build
	}
	out := map[string]HolidaySet{}
	for _, e := range entries {
		raw, err := holidayFiles.ReadFile("holidays/" + e.Name())
		if err != nil {
			panic(err)
		}
		s, err := parseHolidaySet(strings.TrimSuffix(e.Name(), ".txt"), string(raw))
		if err != nil {
			panic(err) // checked by TestHolidaySetsParse before any build ships
		}
		out[s.Name] = s
	}
	return out
}

// parseHolidaySet reads a holidays/*.txt file: "# " comment lines (the
// first is the description, "# years 2025-2030" the coverage), then one
// "YYYY-MM-DD name" a line in date order, every date inside the years.
func parseHolidaySet(name, text string) (HolidaySet, error) {
	s := HolidaySet{Name: name}
	var prev Date
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# years "):
			a, b, ok := strings.Cut(strings.TrimPrefix(line, "# years "), "-")
			first, err1 := strconv.Atoi(a)
			last, err2 := strconv.Atoi(b)
			if !ok || err1 != nil || err2 != nil || last < first {
				return s, fmt.Errorf("holidays %s line %d: %q: write the years covered as \"# years 2025-2030\"", name, i+1, line)
			}
			s.First, s.Last = first, last
			continue
		case strings.HasPrefix(line, "#"):
			if s.Description == "" {
				s.Description = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			}
			continue
		}
		ds, hname, _ := strings.Cut(line, " ")
		d, err := ParseDate(ds)
		if err != nil {
			return s, fmt.Errorf("holidays %s line %d: %v", name, i+1, err)
		}
		if s.First == 0 {
			return s, fmt.Errorf("holidays %s line %d: a day before the \"# years FIRST-LAST\" line", name, i+1)
		}
		if d.Year < s.First || d.Year > s.Last {
			return s, fmt.Errorf("holidays %s line %d: %s lies outside the years the file covers (its \"# years\" line)", name, i+1, d)
		}
		if len(s.Days) > 0 && d.epochDay() <= prev.epochDay() {
			return s, fmt.Errorf("holidays %s line %d: %s is not after %s: keep the days in order, each once", name, i+1, d, prev)
		}
		prev = d
		s.Days = append(s.Days, Holiday{d, strings.TrimSpace(hname)})
	}
	if s.First == 0 {
		return s, fmt.Errorf("holidays %s: no \"# years FIRST-LAST\" line", name)
	}
	return s, nil
}

// HolidaySetNamed is a built-in holiday list by name.
func HolidaySetNamed(name string) (HolidaySet, bool) {
	s, ok := holidaySets[name]
	return s, ok
}

// HolidaySetNames are the built-in lists, sorted.
func HolidaySetNames() []string {
	out := make([]string, 0, len(holidaySets))
	for n := range holidaySets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func mustHolidaySet(name string) HolidaySet {
	s, ok := holidaySets[name]
	if !ok {
		panic("no built-in holiday set " + name)
	}
	return s
}

// HolidayWarnings names each calendar of p whose holiday data ends within
// a year of now (or has ended), with what to do. A calendar without holiday
// data, such as 24x7, has nothing to warn about.
func (p Policy) HolidayWarnings(now time.Time) []string {
	seen := map[*Calendar]bool{}
	var out []string
	for _, c := range p.calendars() {
		if c == nil || seen[c] || c.HolidaysThrough.Year == 0 {
			continue
		}
		seen[c] = true
		end := time.Date(c.HolidaysThrough.Year, c.HolidaysThrough.Month, c.HolidaysThrough.Day, 23, 59, 59, 0, time.UTC)
		switch {
		case now.After(end):
			out = append(out, fmt.Sprintf("calendar %q: its holiday data ended %s, so holidays since then count as working days: add them to the calendar's holidays = [...] in the config", c.Name, c.HolidaysThrough))
		case now.AddDate(1, 0, 0).After(end):
			out = append(out, fmt.Sprintf("calendar %q: its holiday data ends %s: add the next year's holidays to the calendar's holidays = [...] in the config before then", c.Name, c.HolidaysThrough))
		}
	}
	sort.Strings(out)
	return out
}
