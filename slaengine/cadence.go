package slaengine

import (
	"fmt"
	"strings"
	"time"
)

// UpdateCadence is how often stakeholders hear about an open major
// incident. Borger.dk: every hour 08-22 on working days and 10-20 at
// weekends; outside those hours the next update is due the following
// morning at 08:00.
type UpdateCadence struct {
	Location *time.Location
	Week     [7][]Window // the hours with updates, wall clock
	Every    time.Duration
	Morning  time.Duration // outside the hours: the next update at this time of day
	// Holidays (the calendar's) follow the weekend's hours.
	Holidays map[Date]bool
}

// DefaultUpdateCadence is the Borger.dk table on the business calendar's
// zone and holidays.
func DefaultUpdateCadence(cal *Calendar) UpdateCadence {
	if cal == nil {
		cal = DefaultBusinessCalendar()
	}
	u := UpdateCadence{Location: cal.Location, Every: time.Hour, Morning: 8 * time.Hour, Holidays: map[Date]bool{}}
	for d := time.Monday; d <= time.Friday; d++ {
		u.Week[d] = []Window{{8 * time.Hour, 22 * time.Hour}}
	}
	u.Week[time.Saturday] = []Window{{10 * time.Hour, 20 * time.Hour}}
	u.Week[time.Sunday] = []Window{{10 * time.Hour, 20 * time.Hour}}
	for _, h := range cal.Holidays {
		u.Holidays[h] = true
	}
	return u
}

func (u UpdateCadence) inHours(t time.Time) bool {
	lt := t.In(u.Location)
	day := lt.Weekday()
	if u.Holidays[Date{lt.Year(), lt.Month(), lt.Day()}] {
		day = time.Sunday
	}
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second
	for _, w := range u.Week[day] {
		if tod >= w.Start && tod < w.End {
			return true
		}
	}
	return false
}

// Next is when the update after one given at last is due: Every later if
// that falls within the hours, else the next morning at Morning.
func (u UpdateCadence) Next(last time.Time) time.Time {
	if u.Every <= 0 {
		return time.Time{}
	}
	d := last.Add(u.Every)
	if u.inHours(d) {
		return d
	}
	ld := d.In(u.Location)
	m := time.Date(ld.Year(), ld.Month(), ld.Day(), int(u.Morning/time.Hour), int(u.Morning%time.Hour/time.Minute), 0, 0, u.Location)
	if m.Before(d) {
		m = time.Date(ld.Year(), ld.Month(), ld.Day()+1, int(u.Morning/time.Hour), int(u.Morning%time.Hour/time.Minute), 0, 0, u.Location)
	}
	return m
}

// CadenceSpec is the [major] table's cadence as a config writes it.
type CadenceSpec struct {
	Hours    map[string]string // "mon-fri" = "08:00-22:00", "sat-sun" = "10:00-20:00"
	Every    string            // "1h"
	Morning  string            // "08:00"
	Calendar string            // zone and holidays; "" the default calendar
}

// CompileCadence builds the update cadence; empty fields keep the
// Borger.dk defaults.
func (s Spec) CompileCadence(cs CadenceSpec, o CompileOptions) (UpdateCadence, error) {
	cals, err := s.calendars(o)
	if err != nil {
		return UpdateCadence{}, err
	}
	name := cs.Calendar
	if name == "" {
		name = s.Calendar
	}
	if name == "" {
		name = "business"
	}
	cal, ok := cals[name]
	if !ok {
		return UpdateCadence{}, &SpecError{Key: "major.calendar", Value: name, Msg: fmt.Sprintf("no calendar named %q (have: %s)", name, calNames(cals))}
	}
	u := DefaultUpdateCadence(cal)
	if cs.Every != "" {
		d, err := time.ParseDuration(cs.Every)
		if err != nil || d < time.Minute {
			return u, &SpecError{Key: "major.every", Value: cs.Every, Msg: fmt.Sprintf("%q: write how often as a duration of a minute or more, like 1h or 30m", cs.Every)}
		}
		u.Every = d
	}
	if cs.Morning != "" {
		m, err := parseClock(cs.Morning)
		if err != nil || m >= 24*time.Hour {
			return u, &SpecError{Key: "major.morning", Value: cs.Morning, Msg: fmt.Sprintf("%q: write the morning update's time as HH:MM, like 08:00", cs.Morning)}
		}
		u.Morning = m
	}
	if len(cs.Hours) > 0 {
		u.Week = [7][]Window{}
		for _, k := range sortedKeys(cs.Hours) {
			week, err := ParseWeek(k + " " + strings.ReplaceAll(cs.Hours[k], " ", ""))
			if err != nil {
				return u, &SpecError{Key: "major.hours." + k, Value: cs.Hours[k], Msg: err.Error()}
			}
			for d, ws := range week {
				u.Week[d] = append(u.Week[d], ws...)
			}
		}
	}
	return u, nil
}
