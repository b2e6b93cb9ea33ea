package slaengine

import (
	"math"
	"time"
)

// NextChange returns the earliest instant after after at which
// ProjectFor(ticketType, prio, ...) gives clock c a different State than it
// gives at after, assuming no new points; zero when time alone can no longer
// change it (paused, stopped, no target, or already breached).
//
// It lets a caller holding many clocks re-project one only when its state
// can move, instead of every clock on every tick. A running clock goes
// ok → warning → breached: warning from the instant the business time used
// reaches the warn share of the target, breached from the first instant
// after Due.
func (p Policy) NextChange(ticketType string, prio Priority, c Clock, after time.Time) time.Time {
	if !c.Running {
		return time.Time{}
	}
	w := p.warnAt()
	s0 := p.project(ticketType, prio, c, after, w).State
	if s0 == StateBreached {
		return time.Time{}
	}
	cal := c.calendar(p, ticketType, prio)
	// Up to At the projection is the stored state; from the first instant
	// after it, the state follows from Used and Due alone.
	lo := after
	if c.At.After(lo) {
		lo = c.At
	}
	lo = lo.Add(1)
	warnFrom := cal.Add(c.At, warnNeed(c.Used, c.Target, w))
	state := func(t time.Time) State {
		switch {
		case t.After(c.Due):
			return StateBreached
		case !t.Before(warnFrom):
			return StateWarning
		}
		return StateOK
	}
	switch s := state(lo); {
	case s != s0:
		return lo
	case s == StateOK && warnFrom.Before(c.Due.Add(1)):
		return warnFrom
	default:
		return c.Due.Add(1)
	}
}

// warnNeed is the least business time d with float64(used+d) >=
// warn*float64(target), the test runningState makes; in floating point, so
// the integer found by Ceil is nudged until it passes exactly that test.
func warnNeed(used, target time.Duration, warn float64) time.Duration {
	x := warn * float64(target)
	if x >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	d := time.Duration(math.Ceil(x)) - used
	for float64(used+d) < x {
		d++
	}
	for float64(used+d-1) >= x {
		d--
	}
	return d
}
