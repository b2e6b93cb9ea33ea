package slaengine

import (
	"sort"
	"time"
)

// ReportRow is the compliance of one priority over a period.
type ReportRow struct {
	Priority Priority
	Tickets  int // created in the period with this (current) priority
	// ResponseTotal counts the tickets whose response clock is decided:
	// stopped (met or breached), or breached while still running or paused.
	// Clocks still within their target are left out: they can still go
	// either way. ResponseMet counts the met ones among them.
	ResponseMet, ResponseTotal int
	// ResolutionMet and ResolutionTotal count the same for resolution.
	ResolutionMet, ResolutionTotal int
	// Shares are Met/Total; 0 when Total is 0.
	ResponseShare, ResolutionShare float64
	// Goals in force for the row.
	ResponseGoal, ResolutionGoal float64
	// ResponseOK and ResolutionOK say whether the share reaches the goal;
	// true when Total is 0 (no ticket missed it). Show Total beside them.
	ResponseOK, ResolutionOK bool
}

// Report is the compliance report: the tickets created in [from, to),
// grouped by their priority at now, with the share whose response and
// resolution met the target against the policy's goals. Every priority the
// policy has a target for gets a row, with or without tickets, sorted P1
// first; a ticket whose priority has no target gets a row of its own.
func Report(p Policy, tickets []Timeline, from, to time.Time, now time.Time) []ReportRow {
	g := p.goals()
	rows := map[Priority]*ReportRow{}
	row := func(pr Priority) *ReportRow {
		r := rows[pr]
		if r == nil {
			r = &ReportRow{Priority: pr, ResponseGoal: g.Response, ResolutionGoal: g.Resolution}
			rows[pr] = r
		}
		return r
	}
	for pr := range p.Targets {
		row(pr)
	}
	for _, tl := range tickets {
		if tl.Created.Before(from) || !tl.Created.Before(to) {
			continue
		}
		r := row(currentPriority(tl, now))
		r.Tickets++
		c := Compute(p, tl, now)
		if decided(c.Response) {
			r.ResponseTotal++
			if c.Response.State == StateMet {
				r.ResponseMet++
			}
		}
		if decided(c.Resolution) {
			r.ResolutionTotal++
			if c.Resolution.State == StateMet {
				r.ResolutionMet++
			}
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		r.ResponseShare, r.ResponseOK = share(r.ResponseMet, r.ResponseTotal, g.Response)
		r.ResolutionShare, r.ResolutionOK = share(r.ResolutionMet, r.ResolutionTotal, g.Resolution)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

func decided(c Clock) bool { return c.State == StateMet || c.State == StateBreached }

func share(met, total int, goal float64) (float64, bool) {
	if total == 0 {
		return 0, true
	}
	s := float64(met) / float64(total)
	// A tiny tolerance so that 9 of 10 against 0.90 is not lost to rounding.
	return s, s+1e-9 >= goal
}

// currentPriority is the ticket's priority after the points up to now,
// applied the way Compute applies them.
func currentPriority(tl Timeline, now time.Time) Priority {
	prio := tl.Priority
	last := tl.Created
	for _, pt := range tl.Points {
		at := pt.At
		if at.Before(last) {
			at = last
		}
		if at.After(now) {
			break
		}
		last = at
		if pt.Priority != 0 {
			prio = pt.Priority
		}
	}
	return prio
}
