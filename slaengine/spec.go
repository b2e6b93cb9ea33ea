package slaengine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Text forms for configuration files and for storing a Policy as JSON.

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWeek reads weekly hours such as "mon-fri 08:30-16:30" or
// "mon-thu 08:00-12:00,13:00-17:00; fri 08:00-14:00". Day names are the
// first three letters (or the full English name), any case; a day range
// wraps (sat-sun is fine). "24:00" ends a day.
func ParseWeek(spec string) (map[time.Weekday][]Window, error) {
	week := map[time.Weekday][]Window{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		days, hours, ok := strings.Cut(part, " ")
		if !ok {
			return nil, fmt.Errorf("weekly hours %q: %q needs days and hours, like \"mon-fri 08:30-16:30\"", spec, part)
		}
		ds, err := parseDays(days)
		if err != nil {
			return nil, fmt.Errorf("weekly hours %q: %v", spec, err)
		}
		for _, h := range strings.Split(hours, ",") {
			w, err := ParseWindow(strings.TrimSpace(h))
			if err != nil {
				return nil, fmt.Errorf("weekly hours %q: %v", spec, err)
			}
			for _, d := range ds {
				week[d] = append(week[d], w)
			}
		}
	}
	if len(week) == 0 {
		return nil, fmt.Errorf("weekly hours %q: no days given; write e.g. \"mon-fri 08:30-16:30\"", spec)
	}
	return week, nil
}

func parseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		if d, ok := dayNames[s[:3]]; ok && strings.HasPrefix(strings.ToLower(d.String()), s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a weekday: use mon, tue, wed, thu, fri, sat or sun", s)
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, item := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, err := parseDay(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, err := parseDay(to)
		if err != nil {
			return nil, err
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

// ParseWindow reads "08:30-16:30" (minutes optional, "24:00" allowed).
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("hours %q: write them as HH:MM-HH:MM, like 08:30-16:30", s)
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err1 != nil || err2 != nil {
		return Window{}, fmt.Errorf("hours %q: write them as HH:MM-HH:MM between 00:00 and 24:00, like 08:30-16:30", s)
	}
	return Window{start, end}, nil
}

func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 3 {
		return 0, fmt.Errorf("too many colons")
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return 0, err
		}
		n[i] = v
	}
	d := time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second
	if n[0] < 0 || n[1] < 0 || n[1] > 59 || n[2] < 0 || n[2] > 59 || d > 24*time.Hour {
		return 0, fmt.Errorf("out of range")
	}
	return d, nil
}

// ParseDate reads a holiday as 2025-12-24.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date %q: write it as YYYY-MM-DD, like 2025-12-24", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

type calendarJSON struct {
	Name     string              `json:"name"`
	Zone     string              `json:"zone"`
	Week     map[string][]string `json:"week"`
	Holidays []string            `json:"holidays,omitempty"`
}

// MarshalJSON writes the calendar by zone name, with windows as
// "08:30-16:30" per weekday and holidays as "2025-12-24", so a stored or
// configured Policy stays readable.
func (c *Calendar) MarshalJSON() ([]byte, error) {
	j := calendarJSON{Name: c.Name, Zone: "UTC", Week: map[string][]string{}}
	if c.Location != nil {
		j.Zone = c.Location.String()
	}
	for d, ws := range c.Week {
		for _, w := range ws {
			j.Week[time.Weekday(d).String()] = append(j.Week[time.Weekday(d).String()], w.String())
		}
	}
	for _, h := range c.Holidays {
		j.Holidays = append(j.Holidays, h.String())
	}
	sort.Strings(j.Holidays)
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, validated as NewCalendar
// validates.
func (c *Calendar) UnmarshalJSON(b []byte) error {
	var j calendarJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("calendar: %v", err)
	}
	week := map[time.Weekday][]Window{}
	for name, ws := range j.Week {
		d, err := parseDay(name)
		if err != nil {
			return fmt.Errorf("calendar %q: %v", j.Name, err)
		}
		for _, s := range ws {
			w, err := ParseWindow(s)
			if err != nil {
				return fmt.Errorf("calendar %q: %s: %v", j.Name, name, err)
			}
			week[d] = append(week[d], w)
		}
	}
	var hol []Date
	for _, s := range j.Holidays {
		d, err := ParseDate(s)
		if err != nil {
			return fmt.Errorf("calendar %q: holiday: %v", j.Name, err)
		}
		hol = append(hol, d)
	}
	nc, err := NewCalendar(j.Name, j.Zone, week, hol)
	if err != nil {
		return err
	}
	*c = *nc
	return nil
}
