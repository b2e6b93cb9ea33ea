// Package slaengine computes service-level clocks for tickets: business
// calendars (weekly hours, holidays, time zone), policies per priority,
// first-response and resolution clocks that pause while a ticket waits on
// its requester, warn/breach state and compliance reports.
//
// Everything here is a pure function of (policy, calendar, ticket timeline,
// now): no I/O, no clocks read, no globals mutated, so the same answers come
// out in the console, in the store's deadline index and in reports.
package slaengine

import "time"

// Window is one span of business hours inside a local day, as offsets from
// local midnight: [Start, End). End may be 24h.
type Window struct {
	Start, End time.Duration
}

// Date is a calendar day in the calendar's own time zone (used for holidays).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Calendar says when business time runs.
type Calendar struct {
	Name     string
	Location *time.Location
	// Week holds the business windows per weekday, indexed by time.Weekday.
	Week [7][]Window
	// Holidays are whole local days without business time.
	Holidays []Date
	// HolidaysThrough is the last day the holiday data is known for (the
	// end of the holiday sets the calendar was built from); zero when the
	// calendar claims none. After it every weekday is a working day, so a
	// desk warns before it comes (Policy.HolidayWarnings).
	HolidaysThrough Date

	// prep is the compiled form NewCalendar builds; treat a Calendar as
	// read-only once built, since changes to the fields above do not reach it.
	prep *prepared
}

// Priority is 1 (critical) to 4 (low).
type Priority int

// Target is what a policy promises for one priority.
type Target struct {
	Response   time.Duration // business time to first response
	Resolution time.Duration // business time to resolution
	Calendar   *Calendar     // the calendar both clocks run on; nil means 24x7
}

// Goals are the shares of tickets per priority whose clock must meet its
// target (the seeds: 90% first response, 95% resolution).
type Goals struct {
	Response   float64
	Resolution float64
}

// Policy holds the targets per priority and how clocks behave.
type Policy struct {
	Name    string
	Targets map[Priority]Target
	// WarnAt is the share of a target after which a running clock is in
	// warning state (default 0.75).
	WarnAt float64
	// Pause lists the statuses during which both clocks stop (default
	// waiting and pending-release). Nil: no status pauses the clocks.
	Pause map[string]bool
	// ByType overrides Targets per ticket type ("incident", "request",
	// "change"); a priority missing there falls back to Targets.
	ByType map[string]map[Priority]Target
	// Goals for the compliance report; zero fields mean the defaults
	// (0.90 response, 0.95 resolution).
	Goals Goals
	// Ladders are the escalation steps per priority (nil: DefaultLadders);
	// LaddersByType override them per ticket type.
	Ladders       map[Priority]Ladder
	LaddersByType map[string]map[Priority]Ladder
}

// State of one clock.
type State string

const (
	StateOK       State = "ok"
	StateWarning  State = "warning"
	StateBreached State = "breached" // running and past due, or stopped after due
	StateMet      State = "met"      // stopped before due
	StatePaused   State = "paused"
	// StateNone: the policy sets no target for this clock (a priority or
	// type it does not know, or a zero duration), so it never breaches.
	StateNone State = "none"
)

// Point is one change in a ticket's life that matters to its clocks.
type Point struct {
	At        time.Time
	Status    string   // status from this point on; "" leaves it unchanged
	Priority  Priority // priority from this point on; 0 leaves it unchanged
	Responded bool     // first response given at At
}

// Timeline is what the engine knows of one ticket, oldest point first.
// Priority and Status are the values at Created (Status "" means new);
// Points change them. Points later than the evaluation time are ignored, and
// a point out of order counts as happening at the previous point.
type Timeline struct {
	Created  time.Time
	Priority Priority
	Status   string
	Points   []Point
	// Type is the ticket's current type, for Policy.ByType.
	Type string
	// Holds are spans in which no business time passes for this ticket
	// (its service's planned windows, when the desk pauses clocks then).
	Holds []Hold `json:",omitempty"`
}

// Clock is one SLA clock evaluated at a given time.
type Clock struct {
	Target time.Duration
	Used   time.Duration // business time consumed, pauses excluded
	Left   time.Duration // Target - Used; negative once breached
	// Due is when the clock breaches if nothing changes: the instant its
	// target runs out (already past for a breached running clock). Zero
	// while paused or stopped.
	Due     time.Time
	State   State
	Stopped time.Time // when the clock stopped (met or breached-and-stopped)
	// Running is false when stopped or paused.
	Running bool
	// At is when this evaluation was made; Project continues from it.
	At time.Time
	// Holds are the timeline's holds that end after At (nil: none), so
	// that Project, NextChange and the escalation steps skip them too. A
	// pointer, shared by both clocks of a ticket: a Clock stays at 128
	// bytes, and the board keeps two per ticket, 10^6 tickets at a time.
	Holds *[]Hold `json:",omitempty"`
}

// Clocks are both clocks of one ticket.
type Clocks struct {
	Response   Clock
	Resolution Clock
}
