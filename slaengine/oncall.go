package slaengine

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// An on-call roster says who is reached out of hours, by weekday and hour
// in a calendar's zone (NSP: 16-18 the incident manager, 18-08 and weekends
// the system owner), with dated overrides for holidays, sickness and swaps.
// The first entry whose hours hold wins; an override in force wins over
// every entry.

// OnCallEntry is one line of the weekly roster.
type OnCallEntry struct {
	Name, Contact string
	Location      *time.Location
	Week          [7][]Window // by time.Weekday, wall clock in Location
	// OnHolidays, when set, replaces the weekday's windows on the days in
	// Holidays (the calendar's): hours = { holidays = "00:00-24:00" }.
	OnHolidays []Window
	SetHoliday bool
	Holidays   map[Date]bool
}

// OnCallOverride puts someone on call from From until To, whatever the
// weekly roster says.
type OnCallOverride struct {
	From, To      time.Time
	Name, Contact string
	Reason        string // "Christmas", "sick: Anne", "swap with Bo"
}

// Roster is the weekly entries and the overrides.
type Roster struct {
	Entries   []OnCallEntry
	Overrides []OnCallOverride
}

// OnCall is who is on call at an instant, and until when.
type OnCall struct {
	Name, Contact string
	// Until is when this person's spell ends (the next change of who is
	// on call); zero when it does not end within the next eight days.
	Until time.Time
	// Override is the reason of the override that put them on call, "" for
	// the weekly roster.
	Override string
}

// horizon is how far At looks for the end of a spell: a week and a day
// covers every weekly pattern.
const rosterHorizon = 8 * 24 * time.Hour

func (e OnCallEntry) holds(t time.Time) bool {
	lt := t.In(e.Location)
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	ws := e.Week[lt.Weekday()]
	if e.SetHoliday && e.Holidays[Date{lt.Year(), lt.Month(), lt.Day()}] {
		ws = e.OnHolidays
	}
	for _, w := range ws {
		if tod >= w.Start && tod < w.End {
			return true
		}
	}
	return false
}

// who is the person on call at t without the end of the spell.
func (r Roster) who(t time.Time) (OnCall, bool) {
	// The override that started last wins when two overlap: a swap made
	// during a holiday override is the newer decision.
	best := -1
	for i, o := range r.Overrides {
		if !t.Before(o.From) && t.Before(o.To) && (best < 0 || !o.From.Before(r.Overrides[best].From)) {
			best = i
		}
	}
	if best >= 0 {
		o := r.Overrides[best]
		return OnCall{Name: o.Name, Contact: o.Contact, Override: o.Reason}, true
	}
	for _, e := range r.Entries {
		if e.holds(t) {
			return OnCall{Name: e.Name, Contact: e.Contact}, true
		}
	}
	return OnCall{}, false
}

// changes are the instants after t, within the horizon, at which who can
// change: every entry's window edges and local midnights (a holiday starts
// or ends there), and every override's start and end.
func (r Roster) changes(t time.Time) []time.Time {
	end := t.Add(rosterHorizon)
	var out []time.Time
	add := func(c time.Time) {
		if c.After(t) && !c.After(end) {
			out = append(out, c)
		}
	}
	for _, e := range r.Entries {
		lt := t.In(e.Location)
		for d := -1; d <= 9; d++ {
			day := time.Date(lt.Year(), lt.Month(), lt.Day()+d, 0, 0, 0, 0, e.Location)
			add(day)
			// A window edge in an hour summer time skips (02:30 on the
			// last Sunday of March) takes effect when the clock jumps.
			if _, zoneEnd := day.ZoneBounds(); !zoneEnd.IsZero() {
				add(zoneEnd)
			}
			edges := func(ws []Window) {
				for _, w := range ws {
					for _, x := range []time.Duration{w.Start, w.End} {
						// By wall clock, so that 18:00 stays 18:00 across a
						// change of summer time.
						add(time.Date(day.Year(), day.Month(), day.Day(), int(x/time.Hour), int(x%time.Hour/time.Minute), int(x%time.Minute/time.Second), 0, e.Location))
					}
				}
			}
			edges(e.Week[day.Weekday()])
			if e.SetHoliday {
				edges(e.OnHolidays)
			}
		}
	}
	for _, o := range r.Overrides {
		add(o.From)
		add(o.To)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// At is who is on call at t and until when; false when nobody is.
func (r Roster) At(t time.Time) (OnCall, bool) {
	now, ok := r.who(t)
	if !ok {
		return OnCall{}, false
	}
	for _, c := range r.changes(t) {
		if n, ok := r.who(c); !ok || n.Name != now.Name || n.Contact != now.Contact || n.Override != now.Override {
			now.Until = c
			break
		}
	}
	return now, true
}

// Next is the spell that follows the one in force at t (or, when nobody
// is on call at t, the first to come), with the instant it starts; false
// when none starts within the next eight days.
func (r Roster) Next(t time.Time) (OnCall, time.Time, bool) {
	from := t
	if cur, ok := r.At(t); ok {
		if cur.Until.IsZero() {
			return OnCall{}, time.Time{}, false
		}
		from = cur.Until
	}
	for _, c := range r.changes(t) {
		if c.Before(from) {
			continue
		}
		if _, ok := r.who(c); ok {
			n, _ := r.At(c)
			return n, c, true
		}
	}
	return OnCall{}, time.Time{}, false
}

// OnCallSpec is a roster entry as a config writes it.
type OnCallSpec struct {
	Name, Contact string
	// Calendar gives the zone (and, for "holidays" hours, the holidays):
	// a calendar's name, an IANA zone, or a city the desk knows
	// ("copenhagen", "brussels", "luxembourg"); "" is the default
	// calendar's.
	Calendar string
	// Hours: "mon-thu" = "16:00-18:00", "sat-sun" = "00:00-24:00", and
	// optionally "holidays" = "..." for the calendar's holidays.
	Hours map[string]string
}

// OverrideSpec is a dated override as a config writes it: times as
// "2026-12-24T00:00" (in the zone of the roster's first entry) or RFC 3339.
type OverrideSpec struct {
	From, To      string
	Name, Contact string
	Reason        string
}

// cityZones are the seeds' cities, so calendar = "copenhagen" works without
// a [[calendars]] of that name.
var cityZones = map[string]string{
	"copenhagen": "Europe/Copenhagen", "københavn": "Europe/Copenhagen", "brussels": "Europe/Brussels",
	"bruxelles": "Europe/Brussels", "brussel": "Europe/Brussels", "luxembourg": "Europe/Luxembourg",
}

// CompileRoster checks the roster against the spec's calendars and builds
// it. Problems are *SpecError with keys "oncall[1].hours.fri",
// "oncall_overrides[0].from".
func (s Spec) CompileRoster(entries []OnCallSpec, overrides []OverrideSpec, o CompileOptions) (Roster, error) {
	cals, err := s.calendars(o)
	if err != nil {
		return Roster{}, err
	}
	def := cals["business"]
	if c, ok := cals[s.Calendar]; ok {
		def = c
	}
	var r Roster
	for i, es := range entries {
		fail := func(field, value, msg string) error {
			return &SpecError{Key: fmt.Sprintf("oncall[%d].%s", i, field), Value: value, Msg: msg}
		}
		if strings.TrimSpace(es.Name) == "" {
			return Roster{}, fail("name", "", fmt.Sprintf("on-call entry %d has no name: add name = \"...\" (a role, such as incident-manager)", i+1))
		}
		if strings.TrimSpace(es.Contact) == "" {
			return Roster{}, fail("contact", "", fmt.Sprintf("on-call entry %q has no contact: add contact = \"address@example.org\"", es.Name))
		}
		e := OnCallEntry{Name: es.Name, Contact: es.Contact, Location: def.Location, Holidays: map[Date]bool{}}
		cal := def
		if es.Calendar != "" {
			if c, ok := cals[es.Calendar]; ok {
				cal = c
				e.Location = c.Location
			} else if z, ok := cityZones[strings.ToLower(es.Calendar)]; ok {
				cal = nil
				e.Location, _ = time.LoadLocation(z)
			} else if loc, err := time.LoadLocation(es.Calendar); err == nil && strings.Contains(es.Calendar, "/") {
				cal = nil
				e.Location = loc
			} else {
				return Roster{}, fail("calendar", es.Calendar, fmt.Sprintf("on-call entry %q: %q is no calendar (have: %s), IANA zone or known city", es.Name, es.Calendar, calNames(cals)))
			}
		}
		if e.Location == nil {
			e.Location = time.UTC
		}
		if cal != nil {
			for _, h := range cal.Holidays {
				e.Holidays[h] = true
			}
		}
		if len(es.Hours) == 0 {
			return Roster{}, fail("hours", "", fmt.Sprintf("on-call entry %q has no hours: add hours = { \"mon-fri\" = \"16:00-18:00\" }", es.Name))
		}
		for _, k := range sortedKeys(es.Hours) {
			v := es.Hours[k]
			if strings.EqualFold(k, "holidays") {
				for _, part := range strings.Split(v, ",") {
					w, err := ParseWindow(strings.TrimSpace(part))
					if err != nil || w.End <= w.Start {
						return Roster{}, fail("hours.holidays", v, fmt.Sprintf("on-call entry %q: %q: write windows as HH:MM-HH:MM, like 00:00-24:00", es.Name, v))
					}
					e.OnHolidays = append(e.OnHolidays, w)
				}
				e.SetHoliday = true
				continue
			}
			week, err := ParseWeek(k + " " + strings.ReplaceAll(v, " ", ""))
			if err != nil {
				return Roster{}, fail("hours."+k, v, fmt.Sprintf("on-call entry %q: %v", es.Name, err))
			}
			for d, ws := range week {
				for _, w := range ws {
					if w.End <= w.Start {
						return Roster{}, fail("hours."+k, v, fmt.Sprintf("on-call entry %q: %q: a window ends before it starts (split one across midnight as 18:00-24:00, 00:00-08:00)", es.Name, v))
					}
				}
				e.Week[d] = append(e.Week[d], ws...)
			}
		}
		r.Entries = append(r.Entries, e)
	}
	zone := def.Location
	if len(r.Entries) > 0 {
		zone = r.Entries[0].Location
	}
	if zone == nil {
		zone = time.UTC
	}
	for i, os := range overrides {
		fail := func(field, value, msg string) error {
			return &SpecError{Key: fmt.Sprintf("oncall_overrides[%d].%s", i, field), Value: value, Msg: msg}
		}
		from, err := parseRosterTime(os.From, zone)
		if err != nil {
			return Roster{}, fail("from", os.From, err.Error())
		}
		to, err := parseRosterTime(os.To, zone)
		if err != nil {
			return Roster{}, fail("to", os.To, err.Error())
		}
		if !to.After(from) {
			return Roster{}, fail("to", os.To, fmt.Sprintf("override %d ends (%s) before it starts (%s)", i+1, os.To, os.From))
		}
		contact := os.Contact
		if contact == "" {
			for _, e := range r.Entries {
				if e.Name == os.Name {
					contact = e.Contact
				}
			}
		}
		if strings.TrimSpace(os.Name) == "" || contact == "" {
			return Roster{}, fail("name", os.Name, fmt.Sprintf("override %d needs a name and a contact (the contact may be left out when the name is a roster entry's)", i+1))
		}
		r.Overrides = append(r.Overrides, OnCallOverride{From: from, To: to, Name: os.Name, Contact: contact, Reason: os.Reason})
	}
	return r, nil
}

// parseRosterTime reads "2026-12-24T00:00" in zone, a date alone (its
// midnight), or an RFC 3339 time with its own offset.
func parseRosterTime(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: write a time as 2026-12-24T08:00 (in the roster's zone) or 2026-12-24", s)
}

// Describe says who is on call at t and who is next, in t's zone: what
// desk oncall and the console's :oncall print.
func (r Roster) Describe(at time.Time) string {
	if len(r.Entries) == 0 && len(r.Overrides) == 0 {
		return "no on-call roster: add [[oncall]] tables to the config (desk.example.toml shows how)\n"
	}
	cur, ok := r.At(at)
	next, from, nok := r.Next(at)
	stamp := func(t time.Time) string { return t.In(at.Location()).Format("Mon 02 Jan 15:04") }
	var b strings.Builder
	fmt.Fprintf(&b, "at %s\n", at.Format("Mon 02 Jan 2006 15:04 MST"))
	if ok {
		fmt.Fprintf(&b, "on call  %s <%s>", cur.Name, cur.Contact)
		if !cur.Until.IsZero() {
			fmt.Fprintf(&b, " until %s", stamp(cur.Until))
		}
		if cur.Override != "" {
			fmt.Fprintf(&b, " (override: %s)", cur.Override)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("on call  nobody (the roster has no one at this hour: the desk itself answers)\n")
	}
	if nok {
		fmt.Fprintf(&b, "next     %s <%s> from %s", next.Name, next.Contact, stamp(from))
		if !next.Until.IsZero() {
			fmt.Fprintf(&b, " until %s", stamp(next.Until))
		}
		if next.Override != "" {
			fmt.Fprintf(&b, " (override: %s)", next.Override)
		}
		b.WriteString("\n")
	}
	return b.String()
}
