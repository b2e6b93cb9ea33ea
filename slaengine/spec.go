package slaengine

import (
	"encoding/json"
	"fmt"
	"slices"
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
	Through  string              `json:"holidays_through,omitempty"`
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
	if c.HolidaysThrough.Year != 0 {
		j.Through = c.HolidaysThrough.String()
	}
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
	if j.Through != "" {
		if nc.HolidaysThrough, err = ParseDate(j.Through); err != nil {
			return fmt.Errorf("calendar %q: holidays_through: %v", j.Name, err)
		}
	}
	*c = *nc
	return nil
}

// Spec is an SLA configuration as people write it in a config file:
// calendars by name, targets per priority (and per ticket type) in the
// duration grammar of ParseTarget. Compile checks all of it and builds the
// Policy once; a desk keeps that Policy until the configuration is loaded
// again.
type Spec struct {
	// Calendars are the named calendars besides the built-in "24x7",
	// "business" (DefaultBusinessCalendar) and "eu" (EUCalendar); a
	// calendar of the same name replaces a built-in one.
	Calendars []CalendarSpec
	// Calendar names the default business calendar, the one P3 and P4 run
	// on unless a target names another; "" is "business".
	Calendar string
	// WarnAt is the share of a target after which a clock warns; 0 keeps
	// the default (0.75).
	WarnAt float64
	// Pause lists the statuses during which clocks stop; nil keeps the
	// default (waiting, pending-release), an empty list pauses nothing.
	Pause []string
	// Goals are the compliance goals; a zero field keeps its default.
	Goals Goals
	// Targets override DefaultPolicy's, by priority name ("P1".."P4").
	Targets map[string]TargetSpec
	// ByType overrides Targets per ticket type, then per priority name.
	ByType map[string]map[string]TargetSpec
	// Escalation replaces a priority's default ladder ("P1" -> steps);
	// EscalationByType per ticket type, then priority. A priority given an
	// empty list has no ladder.
	Escalation       map[string][]StepSpec
	EscalationByType map[string]map[string][]StepSpec
}

// CalendarSpec is one named business calendar.
type CalendarSpec struct {
	Name     string
	Timezone string // IANA zone; "" is UTC
	// Hours maps a day or a day range to windows: "mon-fri" = "08:30-16:30",
	// "fri" = "08:30-12:00, 13:00-15:30" (see ParseWeek).
	Hours    map[string]string
	Holidays []string // "2026-12-24"
	// HolidaySets adds built-in holiday lists by name (HolidaySetNames:
	// "dk", "be-flanders", "eu-institutions"); the calendar's holiday data
	// then ends where the earliest of them ends.
	HolidaySets []string
	// DanishHolidays is HolidaySets = ["dk"] (the older spelling).
	DanishHolidays bool
}

// TargetSpec is one priority's promise: durations in the grammar of
// ParseTarget, and the calendar both clocks run on ("" keeps the
// priority's default calendar).
type TargetSpec struct {
	Response   string
	Resolution string
	Calendar   string
}

// CompileOptions is what Compile needs from outside the spec. The engine
// reads no clock and knows no ticket statuses of its own.
type CompileOptions struct {
	// Statuses are the names Pause may use; nil accepts any.
	Statuses []string
	// Types are the ticket types ByType may name; nil accepts any.
	Types []string
}

// SpecError says which part of a Spec is wrong. Key is where, in the
// spec's own spelling: "calendars[1].timezone" (the second calendar),
// "calendar", "warn_at", "pause[0]", "goals.response", "targets.P1.response",
// "types.request.P3.calendar". Msg says what is wrong and what to write.
type SpecError struct {
	Key      string
	Priority Priority // the priority whose target is wrong; 0 when not a target
	Type     string   // the ticket type of a per-type target
	Calendar string   // the calendar's name, when a calendar is wrong
	Value    string   // what was written, when there is one
	Msg      string
}

func (e *SpecError) Error() string { return e.Key + ": " + e.Msg }

// ParsePriority reads "P1".."P4" (any case; "1".."4" too).
func ParsePriority(s string) (Priority, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "P"))
	if err != nil || n < 1 || n > 4 {
		return 0, fmt.Errorf("priority %q: use P1, P2, P3 or P4", s)
	}
	return Priority(n), nil
}

// maxBusinessDays bounds "Nbd": beyond it the duration would not fit (and
// no service declaration promises decades).
const maxBusinessDays = 10000

// ParseTarget reads a target duration: a Go duration such as "15m", "4h" or
// "1h30m", or business days of cal such as "2bd" or "0.5bd" (a business day
// is cal.DayLength(); nil cal is 24x7). Zero and negative targets are
// refused.
func ParseTarget(s string, cal *Calendar) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if cal == nil {
		cal = AlwaysOpen()
	}
	if n, ok := strings.CutSuffix(s, "bd"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil || !(f > 0) || f > maxBusinessDays {
			return 0, fmt.Errorf("%q: use a number of business days such as 2bd", s)
		}
		return time.Duration(f * float64(cal.DayLength())), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: use a duration such as 15m, 4h or 2bd (business days)", s)
	}
	return d, nil
}

// builtinCalendars are the calendars every spec may name.
func builtinCalendars() map[string]*Calendar {
	return map[string]*Calendar{
		"24x7":     AlwaysOpen(),
		"business": DefaultBusinessCalendar(),
		"eu":       EUCalendar(),
		"flanders": FlandersCalendar(),
	}
}

// Compile checks the spec and builds its Policy: DefaultPolicy on the
// default calendar, then the spec's overrides. Every calendar is built
// once here. The first problem found is returned as a *SpecError; problems
// are looked for in a fixed order (calendars as listed, then the sla keys,
// priorities and types in sorted order), so the same spec always gives the
// same error.
func (s Spec) Compile(o CompileOptions) (Policy, error) {
	cals, err := s.calendars(o)
	if err != nil {
		return Policy{}, err
	}
	baseName := s.Calendar
	if baseName == "" {
		baseName = "business"
	}
	base, ok := cals[baseName]
	if !ok {
		return Policy{}, &SpecError{Key: "calendar", Value: baseName,
			Msg: fmt.Sprintf("no calendar named %q (have: %s)", baseName, calNames(cals))}
	}
	p := DefaultPolicy(base)
	if s.WarnAt != 0 {
		if !(s.WarnAt > 0 && s.WarnAt < 1) {
			return Policy{}, &SpecError{Key: "warn_at", Value: fmt.Sprint(s.WarnAt),
				Msg: fmt.Sprintf("%v: use a share between 0 and 1, e.g. 0.75", s.WarnAt)}
		}
		p.WarnAt = s.WarnAt
	}
	if s.Pause != nil {
		p.Pause = map[string]bool{}
		for i, st := range s.Pause {
			if o.Statuses != nil && !slices.Contains(o.Statuses, st) {
				return Policy{}, &SpecError{Key: fmt.Sprintf("pause[%d]", i), Value: st,
					Msg: fmt.Sprintf("%q is not a status (use %s)", st, strings.Join(o.Statuses, ", "))}
			}
			p.Pause[st] = true
		}
	}
	for _, g := range []struct {
		key  string
		v    float64
		into *float64
	}{{"goals.response", s.Goals.Response, &p.Goals.Response}, {"goals.resolution", s.Goals.Resolution, &p.Goals.Resolution}} {
		if g.v == 0 {
			continue
		}
		if !(g.v > 0 && g.v <= 1) {
			return Policy{}, &SpecError{Key: g.key, Value: fmt.Sprint(g.v),
				Msg: fmt.Sprintf("%v: use a share between 0 and 1, e.g. 0.90 for 90%%", g.v)}
		}
		*g.into = g.v
	}
	if err := s.applyTargets("targets", "", p.Targets, p.Targets, s.Targets, cals); err != nil {
		return Policy{}, err
	}
	for _, typ := range sortedKeys(s.ByType) {
		if o.Types != nil && !slices.Contains(o.Types, typ) {
			return Policy{}, &SpecError{Key: "types." + typ, Type: typ, Value: typ,
				Msg: fmt.Sprintf("%q is not a ticket type (use %s)", typ, strings.Join(o.Types, ", "))}
		}
		m := map[Priority]Target{}
		if err := s.applyTargets("types."+typ, typ, p.Targets, m, s.ByType[typ], cals); err != nil {
			return Policy{}, err
		}
		if p.ByType == nil {
			p.ByType = map[string]map[Priority]Target{}
		}
		p.ByType[typ] = m
	}
	if len(s.Escalation) > 0 {
		p.Ladders = DefaultLadders()
		for _, k := range sortedKeys(s.Escalation) {
			prio, err := ParsePriority(k)
			if err != nil {
				return Policy{}, &SpecError{Key: "escalation." + k, Value: k, Msg: err.Error()}
			}
			if p.Ladders[prio], err = ParseLadder("escalation."+k, s.Escalation[k]); err != nil {
				return Policy{}, err
			}
		}
	}
	for _, typ := range sortedKeys(s.EscalationByType) {
		if o.Types != nil && !slices.Contains(o.Types, typ) {
			return Policy{}, &SpecError{Key: "escalation_by_type." + typ, Type: typ, Value: typ,
				Msg: fmt.Sprintf("%q is not a ticket type (use %s)", typ, strings.Join(o.Types, ", "))}
		}
		m := map[Priority]Ladder{}
		for _, k := range sortedKeys(s.EscalationByType[typ]) {
			prio, err := ParsePriority(k)
			key := "escalation_by_type." + typ + "." + k
			if err != nil {
				return Policy{}, &SpecError{Key: key, Type: typ, Value: k, Msg: err.Error()}
			}
			if m[prio], err = ParseLadder(key, s.EscalationByType[typ][k]); err != nil {
				return Policy{}, err
			}
		}
		if p.LaddersByType == nil {
			p.LaddersByType = map[string]map[Priority]Ladder{}
		}
		p.LaddersByType[typ] = m
	}
	return p, nil
}

// applyTargets reads one table of targets by priority name into into,
// each starting from base's target for that priority.
func (s Spec) applyTargets(prefix, typ string, base, into map[Priority]Target, tc map[string]TargetSpec, cals map[string]*Calendar) error {
	for _, k := range sortedKeys(tc) {
		t := tc[k]
		prio, err := ParsePriority(k)
		if err != nil {
			return &SpecError{Key: prefix + "." + k, Type: typ, Value: k, Msg: err.Error()}
		}
		fail := func(field, value, msg string) error {
			return &SpecError{Key: prefix + "." + k + "." + field, Priority: prio, Type: typ, Value: value, Msg: msg}
		}
		cur := base[prio]
		if t.Calendar != "" {
			cal, ok := cals[t.Calendar]
			if !ok {
				return fail("calendar", t.Calendar, fmt.Sprintf("no calendar named %q (have: %s)", t.Calendar, calNames(cals)))
			}
			cur.Calendar = cal
		}
		if t.Response != "" {
			d, err := ParseTarget(t.Response, cur.Calendar)
			if err != nil {
				return fail("response", t.Response, err.Error())
			}
			cur.Response = d
		}
		if t.Resolution != "" {
			d, err := ParseTarget(t.Resolution, cur.Calendar)
			if err != nil {
				return fail("resolution", t.Resolution, err.Error())
			}
			cur.Resolution = d
		}
		into[prio] = cur
	}
	return nil
}

// calendars builds the built-in and the spec's calendars, each once.
func (s Spec) calendars(o CompileOptions) (map[string]*Calendar, error) {
	cals := builtinCalendars()
	seen := map[string]int{}
	for i, cs := range s.Calendars {
		key := func(field string) string { return fmt.Sprintf("calendars[%d].%s", i, field) }
		fail := func(field, value, msg string) error {
			if cs.Name != "" && !strings.HasPrefix(msg, "calendar ") {
				msg = fmt.Sprintf("calendar %q: %s", cs.Name, msg)
			}
			return &SpecError{Key: key(field), Calendar: cs.Name, Value: value, Msg: msg}
		}
		if strings.TrimSpace(cs.Name) == "" {
			return nil, fail("name", "", fmt.Sprintf("calendar %d has no name: add name = \"...\" to it, the name targets use to pick it", i+1))
		}
		if j, dup := seen[cs.Name]; dup {
			return nil, fail("name", cs.Name, fmt.Sprintf("calendar %q is defined twice (calendars %d and %d): rename or remove one", cs.Name, j+1, i+1))
		}
		seen[cs.Name] = i
		tz := cs.Timezone
		if tz == "" {
			tz = "UTC"
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, fail("timezone", tz, fmt.Sprintf("calendar %q: %q is not an IANA time zone (e.g. Europe/Copenhagen or UTC)", cs.Name, tz))
		}
		week := map[time.Weekday][]Window{}
		for _, k := range sortedKeys(cs.Hours) {
			v := cs.Hours[k]
			// "mon-fri" = "08:30-16:30" is ParseWeek's "mon-fri 08:30-16:30".
			part, err := ParseWeek(k + " " + strings.ReplaceAll(v, " ", ""))
			if err != nil {
				return nil, fail("hours."+k, v, err.Error())
			}
			for d, ws := range part {
				for _, w := range ws {
					if w.End <= w.Start {
						return nil, fail("hours."+k, v, fmt.Sprintf("%q: the window ends before it starts", v))
					}
				}
				week[d] = append(week[d], ws...)
			}
		}
		var hols []Date
		for j, h := range cs.Holidays {
			d, err := ParseDate(h)
			if err != nil {
				return nil, fail(fmt.Sprintf("holidays[%d]", j), h, err.Error())
			}
			hols = append(hols, d)
		}
		sets := cs.HolidaySets
		if cs.DanishHolidays && !slices.Contains(sets, "dk") {
			sets = append(slices.Clone(sets), "dk")
		}
		var through Date
		for j, name := range sets {
			hs, ok := HolidaySetNamed(name)
			if !ok {
				return nil, fail(fmt.Sprintf("holiday_sets[%d]", j), name, fmt.Sprintf("calendar %q: no holiday set %q: the built-in ones are %s", cs.Name, name, strings.Join(HolidaySetNames(), ", ")))
			}
			hols = append(hols, hs.Dates()...)
			if through.Year == 0 || hs.Through().epochDay() < through.epochDay() {
				through = hs.Through()
			}
		}
		cal, err := NewCalendar(cs.Name, tz, week, hols)
		if err != nil {
			// The zone is known (checked above): what is left is the hours
			// (overlapping windows, or none at all).
			return nil, fail("hours", "", err.Error()+": give each day its windows, e.g. hours = { \"mon-fri\" = \"08:30-16:30\" }")
		}
		cal.HolidaysThrough = through
		cals[cs.Name] = cal
	}
	return cals, nil
}

func calNames(m map[string]*Calendar) string {
	return strings.Join(sortedKeys(m), ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
