package slaengine

import (
	"slices"
	"sort"
	"time"
)

// Clock names, as the compliance report and the escalation steps write them.
const (
	ClockResponse   = "response"
	ClockResolution = "resolution"
)

// Reported is one ticket for Compliance: its timeline and the name the
// report lists it by (a ticket id; the engine does not read it).
type Reported struct {
	Ref      string
	Timeline Timeline
}

// Compliance is the compliance report of a period: the tickets registered
// in [From, To), evaluated at At, per priority and per ticket type.
type Compliance struct {
	From, To, At time.Time
	Goals        Goals
	// ByPriority has a row for every priority the policy has a target
	// for (P1 first), and one for any other priority a ticket has.
	ByPriority []PriorityStats
	// ByType has a row for every ticket type seen, sorted by name; a
	// ticket without a type is counted under "".
	ByType []TypeStats
	// All is every ticket of the period together.
	All Stats
	// Breaches are the breached clocks, by ticket (in the order the
	// tickets were given), response before resolution.
	Breaches []Breach
}

// PriorityStats is one priority's row.
type PriorityStats struct {
	Priority Priority
	Stats
}

// TypeStats is one ticket type's row.
type TypeStats struct {
	Type string
	Stats
}

// Stats are the numbers of one row.
type Stats struct {
	Tickets int // registered in the period
	// Response and Resolution are the two clocks.
	Response, Resolution ClockStats
}

// ClockStats is one clock over the tickets of a row.
//
// Decided counts the clocks whose verdict is known: stopped (met or
// breached), or breached while still running or paused. Clocks still within
// their target are left out, since they can still go either way, and so
// are clocks without a target. Met counts the met ones among the decided.
// Share is Met/Decided (0 when none is decided) and OK says whether it
// reaches Goal (true when none is decided: no ticket missed it).
//
// Median and P90 are over the business time used by the clocks that have
// stopped (Timed of them): the time to respond and the time to resolve, on
// the calendar of the ticket's target, pauses left out. They are nearest-
// rank percentiles: the smallest value with at least half (90%) of the
// values at or below it, so always a time some ticket took. Zero when
// Timed is 0.
type ClockStats struct {
	Met, Decided int
	Share        float64
	Goal         float64
	OK           bool
	Timed        int
	Median, P90  time.Duration
	used         []time.Duration
}

// Breach is one clock that missed its target.
type Breach struct {
	Ref      string
	Priority Priority // the priority it was judged by
	Type     string
	Clock    string        // ClockResponse or ClockResolution
	Target   time.Duration // business time
	Used     time.Duration // business time used: at the stop, or by At while it still runs
	Stopped  time.Time     // zero while the clock still runs (or is paused)
}

// Over is how far past the target the clock went.
func (b Breach) Over() time.Duration { return b.Used - b.Target }

// ComplianceReport computes the compliance report: the tickets created in
// [from, to), grouped by their priority at now and by their current type,
// each clock evaluated at now by Compute. A stopped clock keeps the verdict
// it stopped with (Compute judges it by the priority in force when it
// stopped); the priority row it counts in is the ticket's priority at now,
// as in Report.
func ComplianceReport(p Policy, tickets []Reported, from, to, now time.Time) Compliance {
	g := p.goals()
	out := Compliance{From: from, To: to, At: now, Goals: g}
	byPrio := map[Priority]*Stats{}
	byType := map[string]*Stats{}
	for pr := range p.Targets {
		byPrio[pr] = &Stats{}
	}
	for _, rt := range tickets {
		tl := rt.Timeline
		if tl.Created.Before(from) || !tl.Created.Before(to) {
			continue
		}
		prio := currentPriority(tl, now)
		if byPrio[prio] == nil {
			byPrio[prio] = &Stats{}
		}
		if byType[tl.Type] == nil {
			byType[tl.Type] = &Stats{}
		}
		c, judged := computeJudged(p, tl, now)
		for _, s := range []*Stats{byPrio[prio], byType[tl.Type], &out.All} {
			s.Tickets++
			s.Response.add(c.Response)
			s.Resolution.add(c.Resolution)
		}
		for _, cl := range []struct {
			name string
			c    Clock
			prio Priority
		}{{ClockResponse, c.Response, judged[0]}, {ClockResolution, c.Resolution, judged[1]}} {
			if cl.c.State != StateBreached {
				continue
			}
			out.Breaches = append(out.Breaches, Breach{
				Ref: rt.Ref, Priority: cl.prio, Type: tl.Type, Clock: cl.name,
				Target: cl.c.Target, Used: cl.c.Used, Stopped: cl.c.Stopped,
			})
		}
	}
	for pr, s := range byPrio {
		s.finish(g)
		out.ByPriority = append(out.ByPriority, PriorityStats{Priority: pr, Stats: *s})
	}
	sort.Slice(out.ByPriority, func(i, j int) bool { return out.ByPriority[i].Priority < out.ByPriority[j].Priority })
	for ty, s := range byType {
		s.finish(g)
		out.ByType = append(out.ByType, TypeStats{Type: ty, Stats: *s})
	}
	sort.Slice(out.ByType, func(i, j int) bool { return out.ByType[i].Type < out.ByType[j].Type })
	out.All.finish(g)
	return out
}

func (cs *ClockStats) add(c Clock) {
	if !decided(c) {
		return
	}
	cs.Decided++
	if c.State == StateMet {
		cs.Met++
	}
	if !c.Stopped.IsZero() {
		cs.used = append(cs.used, c.Used)
	}
}

func (s *Stats) finish(g Goals) {
	s.Response.finish(g.Response)
	s.Resolution.finish(g.Resolution)
}

func (cs *ClockStats) finish(goal float64) {
	cs.Goal = goal
	cs.Share, cs.OK = share(cs.Met, cs.Decided, goal)
	cs.Timed = len(cs.used)
	cs.Median = Percentile(cs.used, 0.5)
	cs.P90 = Percentile(cs.used, 0.9)
	cs.used = nil
}

// Percentile is the nearest-rank q-quantile of ds (0 < q <= 1): the
// smallest value with at least q of the values at or below it, the value
// at rank ceil(q*n) in ascending order. Zero for no values. ds is not
// changed.
func Percentile(ds []time.Duration, q float64) time.Duration {
	n := len(ds)
	if n == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// ceil(q*n) without float trouble at exact ranks (0.9*10 = 9.000000000000002).
	rank := int(q*float64(n) - 1e-9)
	if float64(rank) < q*float64(n)-1e-9 {
		rank++
	}
	rank = max(1, min(n, rank))
	return s[rank-1]
}
