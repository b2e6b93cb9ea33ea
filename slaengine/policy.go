package slaengine

import "time"

// Statuses the engine knows by name. Everything else (new, open,
// escalated, ...) lets the clocks run unless Policy.Pause lists it.
const (
	statusResolved = "resolved"
	statusClosed   = "closed"
)

func stopsResolution(status string) bool { return status == statusResolved || status == statusClosed }

// DefaultPolicy is the Borger.dk service declaration: P1 15m/4h, P2 4h/8h,
// P3 2/10 business days, P4 4/30 business days.
//
// P1 and P2 run on the 24x7 calendar: the Danish declaration agrees
// 24x7x365 operating time with out-of-hours escalation contacts, so a
// critical incident at 02:00 on a Sunday is not on hold until Monday. P3
// and P4 run on business (DefaultBusinessCalendar when nil), where a
// business day is business.DayLength(). Clocks warn at 75% of the target
// and pause while a ticket is waiting on its requester or pending a release.
func DefaultPolicy(business *Calendar) Policy {
	if business == nil {
		business = DefaultBusinessCalendar()
	}
	day := business.DayLength()
	always := AlwaysOpen()
	return Policy{
		Name: "Borger.dk service declaration",
		Targets: map[Priority]Target{
			1: {Response: 15 * time.Minute, Resolution: 4 * time.Hour, Calendar: always},
			2: {Response: 4 * time.Hour, Resolution: 8 * time.Hour, Calendar: always},
			3: {Response: 2 * day, Resolution: 10 * day, Calendar: business},
			4: {Response: 4 * day, Resolution: 30 * day, Calendar: business},
		},
		WarnAt: 0.75,
		Pause:  map[string]bool{"waiting": true, "pending-release": true},
		Goals:  DefaultGoals(),
	}
}

// calendars are the calendars p's targets run on.
func (p Policy) calendars() []*Calendar {
	var out []*Calendar
	for _, t := range p.Targets {
		out = append(out, t.Calendar)
	}
	for _, m := range p.ByType {
		for _, t := range m {
			out = append(out, t.Calendar)
		}
	}
	return out
}

// DefaultGoals are the seeds' service goals: first response met for 90% of
// tickets, resolution for 95%, in each priority.
func DefaultGoals() Goals { return Goals{Response: 0.90, Resolution: 0.95} }

// Target is what the policy promises a ticket of this type and priority:
// the ByType override when there is one, else Targets[prio]. A priority
// the policy does not know gets the zero Target (no clock runs).
func (p Policy) Target(ticketType string, prio Priority) Target {
	if m, ok := p.ByType[ticketType]; ok {
		if t, ok := m[prio]; ok {
			return t
		}
	}
	return p.Targets[prio]
}

// warnAt is WarnAt when it is a usable share, else the default 0.75.
func (p Policy) warnAt() float64 {
	if p.WarnAt > 0 && p.WarnAt <= 1 {
		return p.WarnAt
	}
	return 0.75
}

func (p Policy) goals() Goals {
	g := p.Goals
	d := DefaultGoals()
	if g.Response <= 0 || g.Response > 1 {
		g.Response = d.Response
	}
	if g.Resolution <= 0 || g.Resolution > 1 {
		g.Resolution = d.Resolution
	}
	return g
}

// Level is a step on the escalation ladder.
type Level int

const (
	// LevelNone: nothing to do.
	LevelNone Level = iota
	// LevelWarning: the clock reached the warning share; the assignee should act.
	LevelWarning
	// LevelBreached: the target is missed; operational escalation to the
	// team lead or 3rd-level team.
	LevelBreached
	// LevelManagement: 150% of the target used; hierarchical escalation
	// (the seeds' service delivery managers).
	LevelManagement
)

func (l Level) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelBreached:
		return "breached"
	case LevelManagement:
		return "management"
	}
	return "none"
}

// Escalation places a clock on the ladder: warning at WarnAt, breached at
// 100% (or once its state is breached) and management at 150% of the
// target. A clock that met its target, or has none, needs no escalation.
func (p Policy) Escalation(c Clock) Level {
	if c.Target <= 0 || c.State == StateMet || c.State == StateNone {
		return LevelNone
	}
	switch {
	case float64(c.Used) >= 1.5*float64(c.Target):
		return LevelManagement
	case c.State == StateBreached || c.Used > c.Target:
		return LevelBreached
	case float64(c.Used) >= p.warnAt()*float64(c.Target):
		return LevelWarning
	}
	return LevelNone
}
