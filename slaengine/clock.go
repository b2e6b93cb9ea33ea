package slaengine

import "time"

// clockRun accumulates one clock while Compute walks a timeline.
type clockRun struct {
	target   time.Duration
	used     time.Duration
	crossed  bool      // used has reached target
	crossing time.Time // the instant it did
	breached bool      // the clock ran on past crossing
	stopped  bool
	stopAt   time.Time
}

// run adds the business time dt of the interval [a, b) during which the
// clock ran. A clock breaches when it is still running after the instant
// its target was used up; the instant itself is still on time.
func (r *clockRun) run(cal *Calendar, a, b time.Time, dt time.Duration) {
	if r.target <= 0 {
		return
	}
	if !r.crossed && r.used+dt >= r.target {
		r.crossed = true
		r.crossing = cal.Add(a, r.target-r.used)
	}
	r.used += dt
	if r.crossed && b.After(r.crossing) {
		r.breached = true
	}
}

// Compute evaluates both clocks of one ticket at now.
//
// The first-response clock stops at the first point with Responded set, or
// when the ticket is first resolved or closed (the resolution notice is the
// requester's first reply); it never restarts. The resolution clock stops
// while the ticket is resolved or closed and runs on from where it stopped
// when the ticket is reopened. Both pause while the status is in p.Pause.
//
// After a priority change a running clock takes the target of the current
// priority, measured over all business time since Created on that
// priority's calendar (as Zammad and OTRS do): raising P4 to P1 after a day
// can breach at once. A stopped clock keeps its verdict: it is judged by the
// priority in force when it stopped, so lowering a P1 whose response
// breached to P4 leaves the breach in the compliance report. Cost: one
// Between per point, plus one Add per clock (twice more when the priority
// changed after a clock stopped).
func Compute(p Policy, tl Timeline, now time.Time) Clocks {
	c, _ := computeJudged(p, tl, now)
	return c
}

// computeJudged is Compute and the priority each clock is judged by: the
// current one, or for a stopped clock the one in force when it stopped.
func computeJudged(p Policy, tl Timeline, now time.Time) (Clocks, [2]Priority) {
	if now.Before(tl.Created) {
		now = tl.Created
	}
	prio := currentPriority(tl, now)
	judged := [2]Priority{prio, prio}
	c, stops := compute(p, tl, now, prio)
	if stops[0].stopped {
		if sp := stops[0].prio; sp != prio {
			r, _ := compute(p, tl, now, sp)
			c.Response = r.Response
			judged[0] = sp
		}
	}
	if stops[1].stopped {
		if sp := stops[1].prio; sp != prio {
			r, _ := compute(p, tl, now, sp)
			c.Resolution = r.Resolution
			judged[1] = sp
		}
	}
	return c, judged
}

// stopAt is where a clock stopped and the priority in force at the point
// that stopped it (counted by point, not by time: points written later at
// the same instant must not re-judge it). Neither depends on targets.
type stopAt struct {
	stopped bool
	at      time.Time
	prio    Priority
}

// compute is Compute with the targets of prio for both clocks.
func compute(p Policy, tl Timeline, now time.Time, prio Priority) (Clocks, [2]stopAt) {
	tg := p.Target(tl.Type, prio)
	cal := tg.Calendar
	if cal == nil {
		cal = AlwaysOpen()
	}
	cal = cal.Without(tl.Holds)
	resp := clockRun{target: tg.Response}
	res := clockRun{target: tg.Resolution}
	status := tl.Status
	if status == "" {
		status = "new"
	}
	cur := tl.Priority // the priority after the points walked so far
	stopPrio := [2]Priority{}
	stop := func(r *clockRun, at time.Time) {
		if !r.stopped {
			r.stopped, r.stopAt = true, at
			if r == &resp {
				stopPrio[0] = cur
			} else {
				stopPrio[1] = cur
			}
		}
	}
	if stopsResolution(status) {
		stop(&resp, tl.Created)
		stop(&res, tl.Created)
	}
	advance := func(a, b time.Time) {
		if !b.After(a) || p.Pause[status] {
			return
		}
		if resp.stopped && res.stopped {
			return
		}
		dt := cal.Between(a, b)
		if !resp.stopped {
			resp.run(cal, a, b, dt)
		}
		if !res.stopped {
			res.run(cal, a, b, dt)
		}
	}
	t := tl.Created
	for _, pt := range tl.Points {
		at := pt.At
		if at.Before(t) {
			at = t
		}
		if at.After(now) {
			break
		}
		advance(t, at)
		t = at
		if pt.Priority != 0 {
			cur = pt.Priority
		}
		if pt.Status != "" {
			status = pt.Status
		}
		if pt.Responded {
			stop(&resp, at)
		}
		if stopsResolution(status) {
			stop(&resp, at)
			stop(&res, at)
		} else {
			res.stopped, res.stopAt = false, time.Time{}
		}
	}
	advance(t, now)
	paused := p.Pause[status]
	w := p.warnAt()
	c := Clocks{
		Response:   resp.clock(cal, now, paused, w),
		Resolution: res.clock(cal, now, paused, w),
	}
	if ahead := holdsAfter(tl.Holds, now); len(ahead) > 0 {
		c.Response.Holds, c.Resolution.Holds = &ahead, &ahead
	}
	return c, [2]stopAt{{resp.stopped, resp.stopAt, stopPrio[0]}, {res.stopped, res.stopAt, stopPrio[1]}}
}

func (r *clockRun) clock(cal *Calendar, now time.Time, paused bool, warn float64) Clock {
	c := Clock{Target: r.target, Used: r.used, Left: r.target - r.used, At: now}
	switch {
	case r.target <= 0:
		c.State = StateNone
	case r.stopped:
		c.Stopped = r.stopAt
		c.State = StateMet
		if r.breached {
			c.State = StateBreached
		}
	case paused:
		c.State = StatePaused
		if r.breached {
			c.State = StateBreached
		}
	default:
		c.Running = true
		if r.crossed {
			c.Due = r.crossing
		} else {
			c.Due = cal.Add(now, c.Left)
		}
		c.State = runningState(c, now, warn)
	}
	return c
}

// runningState is the state of a running clock at now: breached once now is
// past the instant its target was used up, warning from the warn share on.
func runningState(c Clock, now time.Time, warn float64) State {
	switch {
	case now.After(c.Due):
		return StateBreached
	case float64(c.Used) >= warn*float64(c.Target):
		return StateWarning
	}
	return StateOK
}

// Project re-evaluates clocks computed earlier at a later now, assuming no
// new points since: cheap enough to call for every visible row every second.
// A running clock grows by the business time since its At (one Between on
// the calendar it was computed on; for clocks that lost it, e.g. after
// decoding, the calendar of prio's target). Its Due does not move, since it
// already is the instant the target runs out if nothing changes. Paused and
// stopped clocks only get the new At. A now before At changes nothing.
func (p Policy) Project(prio Priority, c Clocks, now time.Time) Clocks {
	return p.ProjectFor("", prio, c, now)
}

// ProjectFor is Project for a ticket of the given type: clocks read back
// from storage no longer know their calendar, and a type may have a
// calendar of its own (Policy.ByType).
func (p Policy) ProjectFor(ticketType string, prio Priority, c Clocks, now time.Time) Clocks {
	w := p.warnAt()
	c.Response = p.project(ticketType, prio, c.Response, now, w)
	c.Resolution = p.project(ticketType, prio, c.Resolution, now, w)
	return c
}

func (p Policy) project(ticketType string, prio Priority, c Clock, now time.Time, warn float64) Clock {
	if !now.After(c.At) {
		return c
	}
	if c.Running {
		cal := c.calendar(p, ticketType, prio)
		c.Used += cal.Between(c.At, now)
		c.Left = c.Target - c.Used
		c.State = runningState(c, now, warn)
	}
	c.At = now
	return c
}

// calendar is the calendar a running clock of a ticket of this type and
// priority is measured on: the target's, without c's holds. (A stopped
// clock is judged by the priority it stopped under, but no longer runs.)
func (c Clock) calendar(p Policy, ticketType string, prio Priority) *Calendar {
	cal := p.Target(ticketType, prio).Calendar
	if cal == nil {
		cal = AlwaysOpen()
	}
	return cal.Without(c.holds())
}

// holds are c's holds (none when Holds is nil).
func (c Clock) holds() []Hold {
	if c.Holds == nil {
		return nil
	}
	return *c.Holds
}

// holdsAfter are the holds that end after t.
func holdsAfter(holds []Hold, t time.Time) []Hold {
	var out []Hold
	for _, h := range holds {
		if h.To.After(t) {
			out = append(out, h)
		}
	}
	return out
}

// Next returns the clock an operator should watch and its name: the
// response clock until it has stopped, then the resolution clock.
func (c Clocks) Next() (Clock, string) {
	if c.Response.Stopped.IsZero() && c.Response.State != StateNone {
		return c.Response, "response"
	}
	return c.Resolution, "resolution"
}

// Deadline is the earliest Due of the running clocks (in the past for a
// breached one); zero when none runs.
func (c Clocks) Deadline() time.Time {
	var d time.Time
	for _, cl := range [2]Clock{c.Response, c.Resolution} {
		if cl.Running && !cl.Due.IsZero() && (d.IsZero() || cl.Due.Before(d)) {
			d = cl.Due
		}
	}
	return d
}
