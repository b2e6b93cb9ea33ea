package slaengine

// This file lists the functions the rest of desk calls. The slaengine owner
// replaces these bodies with the real implementation (and may move them to
// other files); the signatures are the contract other packages compile against.

import "time"

// NewCalendar builds a calendar in the IANA zone tz; it rejects overlapping
// or out-of-range windows and unknown zones with an error that names them.
func NewCalendar(name, tz string, week map[time.Weekday][]Window, holidays []Date) (*Calendar, error) {
	panic("slaengine: not implemented")
}

// AlwaysOpen is the 24x7 calendar.
func AlwaysOpen() *Calendar { panic("slaengine: not implemented") }

// Add returns the instant at which d of business time has elapsed after from.
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	panic("slaengine: not implemented")
}

// Between returns the business time in [from, to); negative when to < from.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	panic("slaengine: not implemented")
}

// DayLength is the length of one business day on this calendar, used to turn
// "2 business days" into business time.
func (c *Calendar) DayLength() time.Duration { panic("slaengine: not implemented") }

// DefaultPolicy is the Borger.dk service declaration: P1 15m/4h, P2 4h/8h,
// P3 2/10 business days, P4 4/30 business days.
func DefaultPolicy(business *Calendar) Policy { panic("slaengine: not implemented") }

// Compute evaluates both clocks of one ticket at now.
func Compute(p Policy, tl Timeline, now time.Time) Clocks { panic("slaengine: not implemented") }

// Project re-evaluates clocks computed earlier at a later now, assuming no
// new points since: cheap enough to call for every visible row every second.
func (p Policy) Project(prio Priority, c Clocks, now time.Time) Clocks {
	panic("slaengine: not implemented")
}
