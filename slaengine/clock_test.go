package slaengine

import (
	"reflect"
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func TestComputeHandChecked(t *testing.T) {
	biz := DefaultBusinessCalendar()
	pol := DefaultPolicy(biz)
	mon := func(h, m int) time.Time { return cph(t, 2025, 3, 3, h, m) } // a Monday

	type want struct {
		used    time.Duration
		state   State
		due     time.Time // zero: expect zero
		stopped time.Time
		running bool
	}
	tests := []struct {
		name     string
		tl       Timeline
		now      time.Time
		resp     want
		res      want
		skipResp bool
		skipRes  bool
	}{
		{
			name: "P3 fresh, due across business days",
			tl:   Timeline{Created: mon(9, 0), Priority: 3, Status: "new"},
			now:  mon(10, 0),
			// 16h: Mon 9:00-16:30 is 7.5h, Tue 8h, then 0.5h on Wednesday.
			resp: want{used: time.Hour, state: StateOK, due: cph(t, 2025, 3, 5, 9, 0), running: true},
			// 80h: 7.5h Monday + 9 days of 8h = 79.5h by Fri 14 March, 0.5h on Monday 17 March.
			res: want{used: time.Hour, state: StateOK, due: cph(t, 2025, 3, 17, 9, 0), running: true},
		},
		{
			name: "pause across a weekend",
			tl: Timeline{Created: cph(t, 2025, 3, 7, 15, 30), Priority: 3, Status: "open", Points: []Point{
				{At: cph(t, 2025, 3, 7, 16, 0), Status: "waiting"},
				{At: cph(t, 2025, 3, 11, 10, 0), Status: "open"},
			}},
			now: cph(t, 2025, 3, 11, 11, 0),
			// 0.5h Friday + 1h Tuesday; Monday was paused. 14.5h left:
			// 5.5h Tuesday, 8h Wednesday, 1h Thursday.
			resp:    want{used: 90 * time.Minute, state: StateOK, due: cph(t, 2025, 3, 13, 9, 30), running: true},
			skipRes: true,
		},
		{
			name: "paused now",
			tl: Timeline{Created: mon(9, 0), Priority: 3, Status: "open", Points: []Point{
				{At: mon(10, 0), Status: "waiting"},
			}},
			now:  cph(t, 2025, 3, 5, 12, 0),
			resp: want{used: time.Hour, state: StatePaused},
			res:  want{used: time.Hour, state: StatePaused},
		},
		{
			name: "pending-release pauses too",
			tl: Timeline{Created: mon(9, 0), Priority: 3, Status: "open", Points: []Point{
				{At: mon(10, 0), Status: "pending-release"},
			}},
			now:  cph(t, 2025, 3, 5, 12, 0),
			resp: want{used: time.Hour, state: StatePaused},
			res:  want{used: time.Hour, state: StatePaused},
		},
		{
			name: "escalated does not pause",
			tl: Timeline{Created: mon(9, 0), Priority: 3, Status: "open", Points: []Point{
				{At: mon(10, 0), Status: "escalated"},
			}},
			now:      mon(12, 0),
			skipResp: true,
			res:      want{used: 3 * time.Hour, state: StateOK, due: cph(t, 2025, 3, 17, 9, 0), running: true},
		},
		{
			name: "responded in time",
			tl: Timeline{Created: mon(9, 0), Priority: 3, Status: "new", Points: []Point{
				{At: mon(11, 0), Responded: true},
			}},
			now:     mon(15, 0),
			resp:    want{used: 2 * time.Hour, state: StateMet, stopped: mon(11, 0)},
			skipRes: true,
		},
		{
			name: "responded late",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "new", Points: []Point{
				{At: utc(2025, 3, 3, 10, 20), Responded: true},
			}},
			now:  utc(2025, 3, 3, 11, 0),
			resp: want{used: 20 * time.Minute, state: StateBreached, stopped: utc(2025, 3, 3, 10, 20)},
			// P1 resolution is 4h on 24x7: due 14:00, 1h used is ok.
			res: want{used: time.Hour, state: StateOK, due: utc(2025, 3, 3, 14, 0), running: true},
		},
		{
			name: "responded exactly at due is met",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "new", Points: []Point{
				{At: utc(2025, 3, 3, 10, 15), Responded: true},
			}},
			now:     utc(2025, 3, 3, 11, 0),
			resp:    want{used: 15 * time.Minute, state: StateMet, stopped: utc(2025, 3, 3, 10, 15)},
			skipRes: true,
		},
		{
			name: "set waiting exactly at due, resumed later: breached once it runs again",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "new", Points: []Point{
				{At: utc(2025, 3, 3, 10, 15), Status: "waiting"},
				{At: utc(2025, 3, 3, 12, 0), Status: "open"},
			}},
			now:     utc(2025, 3, 3, 12, 0),
			resp:    want{used: 15 * time.Minute, state: StateBreached, due: utc(2025, 3, 3, 10, 15), running: true},
			skipRes: true,
		},
		{
			name: "set waiting exactly at due: paused, not breached",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "new", Points: []Point{
				{At: utc(2025, 3, 3, 10, 15), Status: "waiting"},
			}},
			now:     utc(2025, 3, 3, 11, 0),
			resp:    want{used: 15 * time.Minute, state: StatePaused},
			skipRes: true,
		},
		{
			name: "a second response does not restart the clock",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "new", Points: []Point{
				{At: utc(2025, 3, 3, 10, 5), Responded: true},
				{At: utc(2025, 3, 3, 10, 30), Responded: true},
			}},
			now:     utc(2025, 3, 3, 11, 0),
			resp:    want{used: 5 * time.Minute, state: StateMet, stopped: utc(2025, 3, 3, 10, 5)},
			skipRes: true,
		},
		{
			name: "P1 warning at 75%",
			tl:   Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1},
			now:  utc(2025, 3, 3, 10, 12),
			resp: want{used: 12 * time.Minute, state: StateWarning, due: utc(2025, 3, 3, 10, 15), running: true},
			res:  want{used: 12 * time.Minute, state: StateOK, due: utc(2025, 3, 3, 14, 0), running: true},
		},
		{
			name:    "exactly at due is not yet breached",
			tl:      Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1},
			now:     utc(2025, 3, 3, 10, 15),
			resp:    want{used: 15 * time.Minute, state: StateWarning, due: utc(2025, 3, 3, 10, 15), running: true},
			skipRes: true,
		},
		{
			name:    "one second past due is breached",
			tl:      Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1},
			now:     utc(2025, 3, 3, 10, 15).Add(time.Second),
			resp:    want{used: 15*time.Minute + time.Second, state: StateBreached, due: utc(2025, 3, 3, 10, 15), running: true},
			skipRes: true,
		},
		{
			name: "due at Friday closing is breached on Saturday",
			// P3 response is 16 business hours: Thursday 8:30 + 16h = Friday 16:30.
			tl:      Timeline{Created: cph(t, 2025, 3, 6, 8, 30), Priority: 3},
			now:     cph(t, 2025, 3, 8, 10, 0),
			resp:    want{used: 16 * time.Hour, state: StateBreached, due: cph(t, 2025, 3, 7, 16, 30), running: true},
			skipRes: true,
		},
		{
			name: "paused after the due time stays breached",
			tl: Timeline{Created: cph(t, 2025, 3, 6, 8, 30), Priority: 3, Points: []Point{
				{At: cph(t, 2025, 3, 7, 17, 0), Status: "waiting"},
			}},
			now:     cph(t, 2025, 3, 10, 10, 0),
			resp:    want{used: 16 * time.Hour, state: StateBreached},
			skipRes: true,
		},
		{
			name: "resolve then reopen: resolution resumes, response stopped at resolution",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 2, Status: "open", Points: []Point{
				{At: utc(2025, 3, 3, 13, 0), Status: "resolved"},
				{At: utc(2025, 3, 3, 20, 0), Status: "open"},
			}},
			now:  utc(2025, 3, 3, 22, 0),
			resp: want{used: 3 * time.Hour, state: StateMet, stopped: utc(2025, 3, 3, 13, 0)},
			// 3h before the resolution, 2h since the reopening: 3h of 8h left.
			res: want{used: 5 * time.Hour, state: StateOK, due: utc(2025, 3, 4, 1, 0), running: true},
		},
		{
			name: "resolved, closed: stopped at the resolution",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 2, Status: "open", Points: []Point{
				{At: utc(2025, 3, 3, 13, 0), Status: "resolved"},
				{At: utc(2025, 3, 5, 13, 0), Status: "closed"},
			}},
			now:      utc(2025, 3, 9, 0, 0),
			skipResp: true,
			res:      want{used: 3 * time.Hour, state: StateMet, stopped: utc(2025, 3, 3, 13, 0)},
		},
		{
			name: "reopened and resolved late",
			tl: Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Status: "open", Points: []Point{
				{At: utc(2025, 3, 3, 10, 10), Responded: true},
				{At: utc(2025, 3, 3, 13, 0), Status: "resolved"},
				{At: utc(2025, 3, 3, 14, 0), Status: "open"},
				{At: utc(2025, 3, 3, 15, 30), Status: "resolved"},
			}},
			now:      utc(2025, 3, 3, 16, 0),
			skipResp: true,
			res:      want{used: 4*time.Hour + 30*time.Minute, state: StateBreached, stopped: utc(2025, 3, 3, 15, 30)},
		},
		{
			name: "priority raised: the new target over the whole life",
			// P4 created Monday 9:00, raised to P1 on Tuesday 9:00: P1's
			// 15 minutes on the 24x7 calendar ran out Monday 9:15.
			tl: Timeline{Created: mon(9, 0), Priority: 4, Status: "open", Points: []Point{
				{At: cph(t, 2025, 3, 4, 9, 0), Priority: 1},
			}},
			now:  cph(t, 2025, 3, 4, 9, 5),
			resp: want{used: 24*time.Hour + 5*time.Minute, state: StateBreached, due: mon(9, 15), running: true},
			res:  want{used: 24*time.Hour + 5*time.Minute, state: StateBreached, due: mon(13, 0), running: true},
		},
		{
			name: "priority lowered: business hours only",
			tl: Timeline{Created: mon(9, 0), Priority: 1, Status: "open", Points: []Point{
				{At: mon(9, 10), Priority: 3},
			}},
			now:     cph(t, 2025, 3, 4, 9, 0),
			resp:    want{used: 8 * time.Hour, state: StateOK, due: cph(t, 2025, 3, 5, 9, 0), running: true},
			skipRes: true,
		},
		{
			name: "future points are ignored",
			tl: Timeline{Created: mon(9, 0), Priority: 3, Status: "open", Points: []Point{
				{At: mon(12, 0), Status: "resolved"},
			}},
			now:     mon(10, 0),
			resp:    want{used: time.Hour, state: StateOK, due: cph(t, 2025, 3, 5, 9, 0), running: true},
			skipRes: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(pol, tc.tl, tc.now)
			check := func(name string, c Clock, w want) {
				t.Helper()
				if c.Used != w.used || c.State != w.state || !c.Due.Equal(w.due) || !c.Stopped.Equal(w.stopped) || c.Running != w.running || c.Left != c.Target-c.Used {
					t.Errorf("%s clock = {used %v left %v state %s due %s stopped %s running %v}, want {used %v state %s due %s stopped %s running %v}",
						name, c.Used, c.Left, c.State, c.Due, c.Stopped, c.Running, w.used, w.state, w.due, w.stopped, w.running)
				}
			}
			if !tc.skipResp {
				check("response", got.Response, tc.resp)
			}
			if !tc.skipRes {
				check("resolution", got.Resolution, tc.res)
			}
		})
	}
}

func TestPolicyTargets(t *testing.T) {
	biz := DefaultBusinessCalendar()
	pol := DefaultPolicy(biz)
	for _, tc := range []struct {
		prio       Priority
		resp, res  time.Duration
		businessHr bool
	}{
		{1, 15 * time.Minute, 4 * time.Hour, false},
		{2, 4 * time.Hour, 8 * time.Hour, false},
		{3, 16 * time.Hour, 80 * time.Hour, true},
		{4, 32 * time.Hour, 240 * time.Hour, true},
	} {
		tg := pol.Target("incident", tc.prio)
		if tg.Response != tc.resp || tg.Resolution != tc.res || (tg.Calendar == biz) != tc.businessHr {
			t.Errorf("P%d target = %v/%v on %s, want %v/%v (business hours %v)", tc.prio, tg.Response, tg.Resolution, tg.Calendar.Name, tc.resp, tc.res, tc.businessHr)
		}
	}
	if pol.WarnAt != 0.75 || !pol.Pause["waiting"] || !pol.Pause["pending-release"] || pol.Pause["open"] {
		t.Errorf("default WarnAt %v, Pause %v", pol.WarnAt, pol.Pause)
	}
	if pol.Goals != (Goals{0.90, 0.95}) {
		t.Errorf("default goals %+v", pol.Goals)
	}

	pol.ByType = map[string]map[Priority]Target{"change": {3: {Response: time.Hour, Resolution: 2 * time.Hour, Calendar: biz}}}
	if got := pol.Target("change", 3).Resolution; got != 2*time.Hour {
		t.Errorf("ByType override ignored: %v", got)
	}
	if got := pol.Target("change", 4).Resolution; got != 240*time.Hour {
		t.Errorf("a priority missing from ByType must fall back to Targets, got %v", got)
	}
	if got := pol.Target("incident", 3).Resolution; got != 80*time.Hour {
		t.Errorf("another type must not see the override, got %v", got)
	}
	// Compute follows the type.
	created := cph(t, 2025, 3, 3, 9, 0)
	c := Compute(pol, Timeline{Created: created, Priority: 3, Type: "change"}, created.Add(3*time.Hour))
	if c.Resolution.State != StateBreached || c.Resolution.Target != 2*time.Hour {
		t.Errorf("change ticket after 3h: %+v, want breached against 2h", c.Resolution)
	}

	// A priority the policy does not know: no clocks, no deadline.
	c = Compute(pol, Timeline{Created: created, Priority: 0}, created.Add(time.Hour))
	if c.Response.State != StateNone || c.Resolution.State != StateNone || !c.Deadline().IsZero() || c.Response.Running {
		t.Errorf("unknown priority: %+v", c)
	}
}

func TestProjectMatchesCompute(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	tl := Timeline{Created: cph(t, 2025, 3, 6, 9, 0), Priority: 3, Status: "open", Points: []Point{
		{At: cph(t, 2025, 3, 6, 10, 0), Responded: true},
	}}
	start := cph(t, 2025, 3, 6, 11, 0)
	c := Compute(pol, tl, start)
	for _, later := range []time.Time{
		start.Add(time.Second), cph(t, 2025, 3, 6, 20, 0), cph(t, 2025, 3, 10, 9, 0), cph(t, 2025, 3, 21, 12, 0), cph(t, 2025, 4, 30, 12, 0),
	} {
		p := pol.Project(3, c, later)
		w := Compute(pol, tl, later)
		if p.Resolution.Used != w.Resolution.Used || p.Resolution.State != w.Resolution.State || !p.Resolution.Due.Equal(w.Resolution.Due) || !p.Response.Stopped.Equal(w.Response.Stopped) || !p.Resolution.At.Equal(later) {
			t.Errorf("at %s: Project %+v, Compute %+v", later, p.Resolution, w.Resolution)
		}
	}
	// Going back in time changes nothing.
	if p := pol.Project(3, c, start.Add(-time.Hour)); !reflect.DeepEqual(p, c) {
		t.Errorf("Project to an earlier time changed the clocks: %+v", p)
	}
	// Clocks carry no calendar (they are decoded from storage): the
	// priority's is used, so Project agrees with a Compute there.
	later := cph(t, 2025, 3, 10, 9, 0)
	if p, w := pol.Project(3, c, later), Compute(pol, tl, later); p.Resolution.Used != w.Resolution.Used {
		t.Errorf("Project: used %v, Compute %v", p.Resolution.Used, w.Resolution.Used)
	}
}

func TestNextAndDeadline(t *testing.T) {
	a, b := utc(2025, 3, 3, 10, 0), utc(2025, 3, 3, 12, 0)
	open := Clocks{Response: Clock{Running: true, Due: b, State: StateOK}, Resolution: Clock{Running: true, Due: a, State: StateOK}}
	if c, name := open.Next(); name != "response" || !c.Due.Equal(b) {
		t.Errorf("Next = %s, want the response clock", name)
	}
	if d := open.Deadline(); !d.Equal(a) {
		t.Errorf("Deadline = %s, want the earlier %s", d, a)
	}
	responded := Clocks{Response: Clock{State: StateMet, Stopped: a}, Resolution: Clock{Running: true, Due: b, State: StateOK}}
	if _, name := responded.Next(); name != "resolution" {
		t.Errorf("after the response Next = %s, want resolution", name)
	}
	if d := responded.Deadline(); !d.Equal(b) {
		t.Errorf("Deadline = %s, want %s", d, b)
	}
	paused := Clocks{Response: Clock{State: StatePaused}, Resolution: Clock{State: StatePaused}}
	if _, name := paused.Next(); name != "response" {
		t.Errorf("paused before response: Next = %s, want response", name)
	}
	if d := paused.Deadline(); !d.IsZero() {
		t.Errorf("paused clocks have no deadline, got %s", d)
	}
}

func TestEscalation(t *testing.T) {
	pol := DefaultPolicy(nil)
	h := time.Hour
	for _, tc := range []struct {
		c    Clock
		want Level
	}{
		{Clock{Target: 4 * h, Used: h, State: StateOK}, LevelNone},
		{Clock{Target: 4 * h, Used: 3 * h, State: StateWarning}, LevelWarning},
		{Clock{Target: 4 * h, Used: 4 * h, State: StateBreached}, LevelBreached},
		{Clock{Target: 4 * h, Used: 5 * h, State: StatePaused}, LevelBreached},
		{Clock{Target: 4 * h, Used: 6 * h, State: StateBreached}, LevelManagement},
		{Clock{Target: 4 * h, Used: 2 * h, State: StateMet}, LevelNone},
		{Clock{State: StateNone}, LevelNone},
	} {
		if got := pol.Escalation(tc.c); got != tc.want {
			t.Errorf("Escalation(used %v of %v, %s) = %s, want %s", tc.c.Used, tc.c.Target, tc.c.State, got, tc.want)
		}
	}
}

func TestFormatLeft(t *testing.T) {
	s, m, h, d := time.Second, time.Minute, time.Hour, 24*time.Hour
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{2*d + 4*h + 59*m, "2d 4h"},
		{3*h + 12*m + 59*s, "3h12m"},
		{3*h + 5*m, "3h05m"},
		{23*h + 59*m, "23h59m"},
		{24 * h, "1d 0h"},
		{14*m + 30*s, "14m"},
		{5 * m, "5m"},
		{5*m - s, "4m59s"},
		{4*m + 7*s, "4m07s"},
		{12 * s, "0m12s"},
		{0, "0m00s"},
		{-300 * time.Millisecond, "-0m00s"},
		{-12 * s, "-0m12s"},
		{-(4*m + 59*s), "-4m59s"},
		{-5 * m, "-5m"},
		{-(3*h + 5*m + 30*s), "-3h05m"},
		{-(9*d + 23*h), "-9d 23h"},
		{10 * d, "10d"},
		{240 * h, "10d"},
		{999 * d, "999d"},
		{1000 * d, "999d+"},
		{-2000 * d, "-999d+"},
		{time.Duration(-1 << 63), "-999d+"},
		{time.Duration(1<<63 - 1), "999d+"},
	} {
		got := FormatLeft(tc.in)
		if got != tc.want {
			t.Errorf("FormatLeft(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 7 {
			t.Errorf("FormatLeft(%v) = %q is wider than 7", tc.in, got)
		}
	}
}

func TestFormatLeftInBusinessDays(t *testing.T) {
	m, h := time.Minute, time.Hour
	bd := 8 * h // Mon–Fri 08:30–16:30
	for _, tc := range []struct {
		in, day time.Duration
		want    string
	}{
		{16 * h, bd, "2d 0h"},
		{7*h + 30*m, bd, "7h30m"},
		{32*h + 3*h, bd, "4d 3h"},
		{80 * h, bd, "10d"},
		{-9 * h, bd, "-1d 1h"},
		{4*m + 7*time.Second, bd, "4m07s"},
		{30 * h, 0, "1d 6h"}, // no business day known: 24h days
	} {
		if got := FormatLeftIn(tc.in, tc.day); got != tc.want {
			t.Errorf("FormatLeftIn(%v, %v) = %q, want %q", tc.in, tc.day, got, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	pol.Goals = Goals{Response: 0.5, Resolution: 0.95}
	day := func(d, h, m int) time.Time { return utc(2025, 3, d, h, m) }
	from, to := day(1, 0, 0), utc(2025, 4, 1, 0, 0)
	now := utc(2025, 4, 15, 0, 0)
	p1 := func(created time.Time, pts ...Point) Timeline {
		return Timeline{Created: created, Priority: 1, Status: "new", Points: pts}
	}
	at := func(t time.Time, status string, responded bool) Point {
		return Point{At: t, Status: status, Responded: responded}
	}
	tickets := []Timeline{
		// Met both: responded after 10m, resolved after 2h.
		p1(day(3, 10, 0), at(day(3, 10, 10), "open", true), at(day(3, 12, 0), "resolved", false)),
		// Late response, resolution met.
		p1(day(4, 10, 0), at(day(4, 10, 30), "open", true), at(day(4, 13, 0), "resolved", false)),
		// Responded in time, resolution still open and past due: counts as breached.
		p1(day(5, 10, 0), at(day(5, 10, 5), "open", true)),
		// Responded in time, waiting on the requester within target: resolution undecided.
		p1(day(6, 10, 0), at(day(6, 10, 5), "waiting", true)),
		// Raised to P1 from P3 later: reported under P1.
		{Created: day(7, 10, 0), Priority: 3, Points: []Point{{At: day(7, 10, 1), Priority: 1, Responded: true}, at(day(7, 11, 0), "closed", false)}},
		// Outside the period: ignored.
		p1(utc(2025, 2, 28, 23, 59)),
		p1(to),
		// A P4 waiting on its requester within target: counted, decides nothing.
		{Created: day(31, 10, 0), Priority: 4, Status: "open", Points: []Point{at(day(31, 10, 1), "waiting", false)}},
	}
	rows := Report(pol, tickets, from, to, now)
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want one per priority of the policy: %+v", len(rows), rows)
	}
	for i, r := range rows {
		if r.Priority != Priority(i+1) {
			t.Errorf("row %d is P%d, want P%d", i, r.Priority, i+1)
		}
	}
	r := rows[0]
	if r.Tickets != 5 || r.ResponseMet != 4 || r.ResponseTotal != 5 || r.ResolutionMet != 3 || r.ResolutionTotal != 4 {
		t.Errorf("P1 row %+v, want 5 tickets, response 4/5, resolution 3/4", r)
	}
	if r.ResponseShare != 0.8 || !r.ResponseOK || r.ResolutionShare != 0.75 || r.ResolutionOK {
		t.Errorf("P1 shares %v (ok %v) / %v (ok %v), want 0.8 meeting 0.5, 0.75 missing 0.95", r.ResponseShare, r.ResponseOK, r.ResolutionShare, r.ResolutionOK)
	}
	if r.ResponseGoal != 0.5 || r.ResolutionGoal != 0.95 {
		t.Errorf("goals %v/%v", r.ResponseGoal, r.ResolutionGoal)
	}
	if r := rows[3]; r.Tickets != 1 || r.ResponseTotal != 0 || r.ResolutionTotal != 0 || !r.ResponseOK {
		t.Errorf("P4 row %+v, want one undecided ticket", r)
	}
	if r := rows[1]; r.Tickets != 0 || r.ResponseShare != 0 || !r.ResolutionOK {
		t.Errorf("empty P2 row %+v", r)
	}

	// Exactly on the goal is meeting it: 9 of 10 against 0.90.
	pol.Goals = Goals{}
	var ten []Timeline
	for i := range 10 {
		resp := day(10+i, 10, 5)
		if i == 0 {
			resp = day(10+i, 11, 0)
		}
		ten = append(ten, p1(day(10+i, 10, 0), at(resp, "open", true)))
	}
	r = Report(pol, ten, from, to, now)[0]
	if r.ResponseMet != 9 || r.ResponseTotal != 10 || !r.ResponseOK || r.ResponseGoal != 0.90 {
		t.Errorf("9 of 10 against the default 90%%: %+v", r)
	}
}

func TestComputeOnOddInput(t *testing.T) {
	pol := DefaultPolicy(nil)
	created := utc(2025, 3, 3, 10, 0)
	// A point out of order counts at the previous point: waiting from
	// 10:30 (not 10:10) to 11:00.
	tl := Timeline{Created: created, Priority: 1, Points: []Point{
		{At: utc(2025, 3, 3, 10, 30), Status: "open"},
		{At: utc(2025, 3, 3, 10, 10), Status: "waiting"},
		{At: utc(2025, 3, 3, 11, 0), Status: "open"},
	}}
	if got := Compute(pol, tl, utc(2025, 3, 3, 12, 0)).Resolution.Used; got != 90*time.Minute {
		t.Errorf("out-of-order point: used %v, want 1h30m", got)
	}
	// Points before Created count at Created; now before Created gives
	// untouched clocks.
	early := Timeline{Created: created, Priority: 1, Points: []Point{{At: created.Add(-time.Hour), Responded: true}}}
	if c := Compute(pol, early, created.Add(time.Hour)); !c.Response.Stopped.Equal(created) || c.Response.State != StateMet {
		t.Errorf("point before creation: %+v", c.Response)
	}
	if c := Compute(pol, Timeline{Created: created, Priority: 1}, created.Add(-time.Hour)); c.Response.Used != 0 || c.Response.State != StateOK {
		t.Errorf("now before creation: %+v", c.Response)
	}
	// Unknown statuses run the clocks; absurd priorities and zero times do
	// not panic.
	if c := Compute(pol, Timeline{Created: created, Priority: 1, Status: "frobnicated"}, created.Add(time.Minute)); c.Response.Used != time.Minute {
		t.Errorf("unknown status: %+v", c.Response)
	}
	_ = Compute(pol, Timeline{Priority: 99}, time.Time{})
	_ = Compute(Policy{}, Timeline{Created: created, Priority: -1, Points: []Point{{}}}, created.Add(time.Hour))
	_ = pol.Project(7, Clocks{Response: Clock{Running: true}}, created)
}

func TestProjectForUsesTheTypesCalendar(t *testing.T) {
	biz := DefaultBusinessCalendar()
	p := DefaultPolicy(biz)
	p.ByType = map[string]map[Priority]Target{"request": {3: {Response: 8 * time.Hour, Resolution: 24 * time.Hour, Calendar: AlwaysOpen()}}}
	// Saturday noon: business time stands still, 24x7 time runs.
	created := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	c := Compute(p, Timeline{Created: created, Priority: 3, Status: "new", Type: "request"}, created)
	got := p.ProjectFor("request", 3, c, created.Add(2*time.Hour)).Response.Left
	if got != 6*time.Hour {
		t.Fatalf("request P3 left after 2 weekend hours = %v, want 6h on its 24x7 calendar", got)
	}
	if got := p.Project(3, c, created.Add(2*time.Hour)).Response.Left; got != 8*time.Hour {
		t.Fatalf("without the type the business calendar applies: left %v, want 8h", got)
	}
}

// A stopped clock keeps its verdict whatever later changes the priority; a
// running clock takes the new target.
func TestStoppedClockKeepsVerdict(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	created := utc(2025, 3, 4, 10, 0) // a Tuesday, business hours
	tl := Timeline{Created: created, Priority: 1, Status: "new", Points: []Point{
		{At: created.Add(40 * time.Minute), Status: "open", Responded: true}, // P1 response: 15 min, breached
		{At: created.Add(2 * time.Hour), Priority: 4},                        // lowered afterwards
	}}
	now := created.Add(3 * time.Hour)
	c := Compute(pol, tl, now)
	if c.Response.State != StateBreached || c.Response.Target != 15*time.Minute {
		t.Errorf("response after lowering to P4: %s target %v, want breached against P1's 15m", c.Response.State, c.Response.Target)
	}
	if c.Resolution.Target != pol.Targets[4].Resolution || !c.Resolution.Running {
		t.Errorf("running resolution clock: target %v running %v, want P4's %v", c.Resolution.Target, c.Resolution.Running, pol.Targets[4].Resolution)
	}
	rows := Report(pol, []Timeline{tl}, created.Add(-time.Hour), created.Add(time.Hour), now)
	for _, r := range rows {
		if r.Priority == 4 && (r.ResponseTotal != 1 || r.ResponseMet != 0) {
			t.Errorf("report row P4 %+v: the breach must still count", r)
		}
	}
	// A change written at the very instant the clock stopped (the store
	// keeps a history in time order when the system clock steps back) is
	// still after the stop: the breach stands.
	same := Timeline{Created: created, Priority: 1, Status: "new", Points: []Point{
		{At: created.Add(time.Hour), Status: "open", Responded: true},
		{At: created.Add(time.Hour), Priority: 4},
	}}
	if c := Compute(pol, same, now); c.Response.State != StateBreached {
		t.Errorf("lowered at the instant of the breached response: %s", c.Response.State)
	}
	// And the other way: a P4 response met within an hour stays met after
	// raising it to P1 once it has stopped.
	tl2 := Timeline{Created: created, Priority: 4, Status: "new", Points: []Point{
		{At: created.Add(time.Hour), Status: "open", Responded: true},
		{At: created.Add(2 * time.Hour), Priority: 1},
	}}
	if c := Compute(pol, tl2, now); c.Response.State != StateMet {
		t.Errorf("P4 response met, raised to P1 afterwards: %s", c.Response.State)
	}
	// A resolution clock stopped at resolve keeps its verdict too, until a
	// reopen makes it run again on the new target.
	tl3 := Timeline{Created: created, Priority: 1, Status: "open", Points: []Point{
		{At: created.Add(5 * time.Hour), Status: "resolved"}, // P1: 4h, breached
		{At: created.Add(6 * time.Hour), Priority: 3},
	}}
	if c := Compute(pol, tl3, created.Add(7*time.Hour)); c.Resolution.State != StateBreached {
		t.Errorf("resolved P1 past 4h, lowered to P3: %s", c.Resolution.State)
	}
}
