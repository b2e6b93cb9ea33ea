package slaengine

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

var (
	propSeed      = flag.Int64("sla.seed", 20250601, "seed for the slaengine property test (printed on mismatch)")
	propCalendars = flag.Int("sla.calendars", 160, "random calendars in the slaengine property test")
)

// The zones cover DST in both hemispheres, a 30-minute DST (Lord Howe),
// transitions at local midnight (Santiago, Havana) and none at all (UTC).
var propZones = []string{"Europe/Copenhagen", "America/New_York", "Australia/Lord_Howe", "UTC", "America/Santiago", "America/Havana"}

var propStatuses = []string{"", "", "new", "open", "waiting", "escalated", "pending-release", "resolved", "closed"}

// world is one random calendar with the brute-force answer for every minute
// of a 120-day range: open[i] says whether minute i is business time, asked
// the slow way (convert the instant to local time, look at the date and
// the wall clock).
type world struct {
	cal    *Calendar
	start  time.Time
	open   []bool
	prefix []int64 // prefix[i] = open minutes in [0, i)
	desc   string
}

const propMinutes = 120 * 24 * 60

func (w *world) at(i int) time.Time { return w.start.Add(time.Duration(i) * time.Minute) }

func newWorld(t *testing.T, rng *rand.Rand) *world {
	t.Helper()
	tz := propZones[rng.Intn(len(propZones))]
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatalf("load zone %s: %v", tz, err)
	}
	year := 2024 + rng.Intn(4)
	month := time.February
	if rng.Intn(2) == 0 {
		month = time.August
	}
	// Start at a random minute, not at midnight, so ranges begin mid-window.
	start := time.Date(year, month, 10+rng.Intn(15), 0, 0, 0, 0, loc).Add(time.Duration(rng.Intn(1440)) * time.Minute)
	start = start.Truncate(time.Minute)

	week := map[time.Weekday][]Window{}
	var wdesc []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		k := rng.Intn(4)
		if k == 0 {
			continue
		}
		vals := make([]int, 2*k)
		for i := range vals {
			switch rng.Intn(8) {
			case 0:
				vals[i] = 0
			case 1:
				vals[i] = 1440
			default:
				vals[i] = rng.Intn(1441)
			}
		}
		sortInts(vals)
		for i := 0; i < len(vals); i += 2 {
			if vals[i] == vals[i+1] {
				continue
			}
			week[d] = append(week[d], Window{time.Duration(vals[i]) * time.Minute, time.Duration(vals[i+1]) * time.Minute})
		}
		if len(week[d]) > 0 {
			wdesc = append(wdesc, fmt.Sprintf("%s%v", d.String()[:3], week[d]))
		}
	}
	if len(week) == 0 {
		week[time.Monday] = []Window{{9 * time.Hour, 17 * time.Hour}}
		wdesc = append(wdesc, "Mon[09:00-17:00]")
	}
	var hol []Date
	hs := map[Date]bool{}
	for n := rng.Intn(9); n > 0; n-- {
		lt := start.AddDate(0, 0, rng.Intn(120)).In(loc)
		d := Date{lt.Year(), lt.Month(), lt.Day()}
		hol = append(hol, d)
		hs[d] = true
	}
	cal, err := NewCalendar("random", tz, week, hol)
	if err != nil {
		t.Fatalf("NewCalendar(%s %v): %v", tz, wdesc, err)
	}
	w := &world{cal: cal, start: start, open: make([]bool, propMinutes), prefix: make([]int64, propMinutes+1),
		desc: fmt.Sprintf("zone %s start %s windows %s holidays %v", tz, start.Format(time.RFC3339), strings.Join(wdesc, " "), hol)}
	for i := 0; i < propMinutes; i++ {
		lt := w.at(i).In(loc)
		open := false
		if !hs[Date{lt.Year(), lt.Month(), lt.Day()}] {
			tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute
			for _, win := range week[lt.Weekday()] {
				if tod >= win.Start && tod < win.End {
					open = true
				}
			}
		}
		w.open[i] = open
		w.prefix[i+1] = w.prefix[i]
		if open {
			w.prefix[i+1]++
		}
	}
	return w
}

func sortInts(v []int) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// TestPropertyCalendarAndClocks compares the arithmetic engine with a
// minute-by-minute simulation on random calendars, holidays, DST
// transitions, pauses, reopenings and priority changes.
func TestPropertyCalendarAndClocks(t *testing.T) {
	seed := *propSeed
	rng := rand.New(rand.NewSource(seed))
	fails := 0
	fail := func(w *world, format string, args ...any) {
		t.Helper()
		fails++
		if fails <= 10 {
			t.Errorf("seed %d, %s:\n  %s", seed, w.desc, fmt.Sprintf(format, args...))
		}
	}
	cases := 0
	seen := map[State]int{}
	always := AlwaysOpen()
	for c := 0; c < *propCalendars; c++ {
		w := newWorld(t, rng)

		for q := 0; q < 40; q++ {
			i, j := rng.Intn(propMinutes+1), rng.Intn(propMinutes+1)
			want := time.Duration(w.prefix[j]-w.prefix[i]) * time.Minute
			if got := w.cal.Between(w.at(i), w.at(j)); got != want {
				fail(w, "Between(%s, %s) = %v, brute force %v", w.at(i), w.at(j), got, want)
			}
			if q%8 == 0 { // the uncached path a struct-literal Calendar takes
				lit := &Calendar{Name: "literal", Location: w.cal.Location, Week: w.cal.Week, Holidays: w.cal.Holidays}
				if got := lit.Between(w.at(i), w.at(j)); got != want {
					fail(w, "literal calendar: Between(%s, %s) = %v, brute force %v", w.at(i), w.at(j), got, want)
				}
			}
			cases++
		}

		for q := 0; q < 40; q++ {
			i := rng.Intn(propMinutes / 2)
			var d int64
			if rng.Intn(4) == 0 {
				d = int64(rng.Intn(120))
			} else {
				d = int64(rng.Intn(int(w.prefix[propMinutes]-w.prefix[i]) + 1))
			}
			k := bruteAdd(w.prefix, i, d)
			if k < 0 {
				continue
			}
			got := w.cal.Add(w.at(i), time.Duration(d)*time.Minute)
			if !got.Equal(w.at(k)) {
				fail(w, "Add(%s, %dm) = %s, brute force %s", w.at(i), d, got, w.at(k))
			}
			cases++
		}

		// The same questions on the calendar without random holds (service
		// windows), against the minute table with those minutes closed.
		holds, held := randomHolds(rng, w)
		hcal := w.cal.Without(holds)
		hprefix := make([]int64, propMinutes+1)
		for i := 0; i < propMinutes; i++ {
			hprefix[i+1] = hprefix[i]
			if w.open[i] && !held[i] {
				hprefix[i+1]++
			}
		}
		for q := 0; q < 20; q++ {
			i, j := rng.Intn(propMinutes+1), rng.Intn(propMinutes+1)
			want := time.Duration(hprefix[j]-hprefix[i]) * time.Minute
			if got := hcal.Between(w.at(i), w.at(j)); got != want {
				fail(w, "with holds %v: Between(%s, %s) = %v, brute force %v", holds, w.at(i), w.at(j), got, want)
			}
			i = rng.Intn(propMinutes / 2)
			d := int64(rng.Intn(int(hprefix[propMinutes]-hprefix[i]) + 1))
			if k := bruteAdd(hprefix, i, d); k >= 0 {
				if got := hcal.Add(w.at(i), time.Duration(d)*time.Minute); !got.Equal(w.at(k)) {
					fail(w, "with holds %v: Add(%s, %dm) = %s, brute force %s", holds, w.at(i), d, got, w.at(k))
				}
			}
			cases += 2
		}

		for q := 0; q < 25; q++ {
			cases++
			checkClocks(t, rng, w, always, fail, seen)
		}
	}
	t.Logf("seed %d: %d cases on %d calendars, %d mismatches", seed, cases, *propCalendars, fails)
	if cases < 2000 {
		t.Fatalf("only %d cases ran; the property test needs thousands", cases)
	}
	// A simulation that never reaches a state proves nothing about it.
	for _, s := range []State{StateOK, StateWarning, StateBreached, StateMet, StatePaused} {
		if seen[s] < 20 {
			t.Errorf("state %s came up only %d times in the random clocks: widen the generator", s, seen[s])
		}
	}
	t.Logf("states seen: %v", seen)
}

// bruteAdd is the smallest k >= i with d open minutes in [i, k), or -1 when
// the range ends first.
func bruteAdd(prefix []int64, i int, d int64) int {
	for k := i; k < len(prefix); k++ {
		if prefix[k]-prefix[i] >= d {
			return k
		}
	}
	return -1
}

// randomHolds are up to three random holds within the world's range
// (none half the time), and which minutes they cover.
func randomHolds(rng *rand.Rand, w *world) ([]Hold, []bool) {
	held := make([]bool, propMinutes)
	if rng.Intn(2) == 0 {
		return nil, held
	}
	var holds []Hold
	for n := 1 + rng.Intn(3); n > 0; n-- {
		a := rng.Intn(propMinutes)
		b := min(a+rng.Intn(3000), propMinutes)
		holds = append(holds, Hold{From: w.at(a), To: w.at(b)})
		for m := a; m < b; m++ {
			held[m] = true
		}
	}
	return holds, held
}

type brutePoint struct {
	min int
	pt  Point
}

func checkClocks(t *testing.T, rng *rand.Rand, w *world, always *Calendar, fail func(*world, string, ...any), seen map[State]int) {
	t.Helper()
	pol := Policy{Targets: map[Priority]Target{}, WarnAt: 0.5 + rng.Float64()/2, Pause: map[string]bool{"waiting": true}}
	if rng.Intn(2) == 0 {
		pol.Pause["pending-release"] = true
	}
	for p := Priority(1); p <= 4; p++ {
		cal := w.cal
		if p == 1 {
			cal = always
		}
		pol.Targets[p] = Target{
			Response:   time.Duration(1+rng.Intn(3000)) * time.Minute,
			Resolution: time.Duration(1+rng.Intn(20000)) * time.Minute,
			Calendar:   cal,
		}
	}
	created := rng.Intn(propMinutes / 3)
	tl := Timeline{Created: w.at(created), Priority: Priority(1 + rng.Intn(4)), Status: propStatuses[rng.Intn(4)]}
	var pts []brutePoint
	m := created
	for n := rng.Intn(21); n > 0; n-- {
		if rng.Intn(6) != 0 { // else several points in the same minute
			m += rng.Intn(6000)
		}
		if m >= propMinutes*2/3 {
			break
		}
		pt := Point{At: w.at(m), Status: propStatuses[rng.Intn(len(propStatuses))], Responded: rng.Intn(7) == 0}
		if rng.Intn(8) == 0 {
			pt.Priority = Priority(1 + rng.Intn(4))
		}
		pts = append(pts, brutePoint{m, pt})
		tl.Points = append(tl.Points, pt)
	}
	var held []bool
	tl.Holds, held = randomHolds(rng, w)
	now := created + rng.Intn(propMinutes*2/3-created)
	got := Compute(pol, tl, w.at(now))
	want, dueOK := bruteClocks(pol, w, always, tl, created, pts, now, held)
	seen[want.Response.State]++
	seen[want.Resolution.State]++
	if d := diffClocks(got, want, dueOK); d != "" {
		fail(w, "Compute at %s of %s: %s", w.at(now), describe(tl), d)
		return
	}

	// Project to a later now with no point in between must agree with
	// Compute there.
	next := len(pts)
	for i, p := range pts {
		if p.min > now {
			next = i
			break
		}
	}
	limit := propMinutes*2/3 + 1
	if next < len(pts) {
		limit = pts[next].min
	}
	if limit > now+1 {
		later := now + 1 + rng.Intn(limit-now-1)
		proj := pol.Project(currentPriority(tl, w.at(now)), got, w.at(later))
		again := Compute(pol, tl, w.at(later))
		if d := diffClocks(proj, again, true); d != "" {
			fail(w, "Project from %s to %s disagrees with Compute for %s: %s", w.at(now), w.at(later), describe(tl), d)
		}
		// Clocks read back from storage have lost their calendar: their
		// holds must still be skipped.
		var stored Clocks
		if b, err := json.Marshal(got); err != nil || json.Unmarshal(b, &stored) != nil {
			t.Fatalf("clocks do not survive JSON: %v", err)
		}
		proj = pol.Project(currentPriority(tl, w.at(now)), stored, w.at(later))
		if d := diffClocks(proj, again, true); d != "" {
			fail(w, "Project of stored clocks from %s to %s disagrees with Compute for %s: %s", w.at(now), w.at(later), describe(tl), d)
		}
	}
}

func describe(tl Timeline) string {
	var b strings.Builder
	fmt.Fprintf(&b, "created %s P%d %q", tl.Created.UTC().Format(time.RFC3339), tl.Priority, tl.Status)
	for _, p := range tl.Points {
		fmt.Fprintf(&b, "; %s", p.At.UTC().Format(time.RFC3339))
		if p.Status != "" {
			fmt.Fprintf(&b, " %s", p.Status)
		}
		if p.Priority != 0 {
			fmt.Fprintf(&b, " P%d", p.Priority)
		}
		if p.Responded {
			b.WriteString(" responded")
		}
	}
	return b.String()
}

func diffClocks(got, want Clocks, dueOK bool) string {
	var out []string
	for _, c := range []struct {
		name      string
		got, want Clock
	}{{"response", got.Response, want.Response}, {"resolution", got.Resolution, want.Resolution}} {
		g, w := c.got, c.want
		if g.Target != w.Target || g.Used != w.Used || g.Left != w.Left || g.State != w.State ||
			!g.Stopped.Equal(w.Stopped) || g.Running != w.Running || (dueOK && !g.Due.Equal(w.Due)) {
			out = append(out, fmt.Sprintf("%s got {target %v used %v left %v state %s stopped %s running %v due %s} want {target %v used %v left %v state %s stopped %s running %v due %s}",
				c.name, g.Target, g.Used, g.Left, g.State, g.Stopped, g.Running, g.Due, w.Target, w.Used, w.Left, w.State, w.Stopped, w.Running, w.Due))
		}
	}
	return strings.Join(out, "; ")
}

// bruteClocks walks every minute from created to now. dueOK is false when a
// due time lies beyond the simulated range.
//
// A running clock is judged by the priority at now; a stopped one by the
// priority in force at the minute it stopped (it keeps its verdict).
func bruteClocks(pol Policy, w *world, always *Calendar, tl Timeline, created int, pts []brutePoint, now int, held []bool) (Clocks, bool) {
	prioAt := func(m int) Priority {
		prio := tl.Priority
		for _, p := range pts {
			if p.min <= m && p.pt.Priority != 0 {
				prio = p.pt.Priority
			}
		}
		return prio
	}
	prio := prioAt(now)
	c, dueOK, stops := bruteClocksFor(pol, w, always, tl, created, pts, now, prio, held)
	if stops[0] != 0 && stops[0] != prio {
		r, _, _ := bruteClocksFor(pol, w, always, tl, created, pts, now, stops[0], held)
		c.Response = r.Response
	}
	if stops[1] != 0 && stops[1] != prio {
		r, _, _ := bruteClocksFor(pol, w, always, tl, created, pts, now, stops[1], held)
		c.Resolution = r.Resolution
	}
	return c, dueOK
}

// bruteClocksFor walks both clocks with the targets of prio; stops holds
// the priority in force at the point that stopped each clock (the points
// walked until then), 0 for a clock still running.
func bruteClocksFor(pol Policy, w *world, always *Calendar, tl Timeline, created int, pts []brutePoint, now int, prio Priority, held []bool) (Clocks, bool, [2]Priority) {
	tg := pol.Targets[prio]
	open := func(m int) bool { return w.open[m] && !held[m] }
	if tg.Calendar == always {
		open = func(m int) bool { return !held[m] }
	}
	type sim struct {
		target   time.Duration
		used     time.Duration
		crossed  bool
		crossing int
		breached bool
		stopped  bool
		stopAt   int
	}
	resp, res := sim{target: tg.Response}, sim{target: tg.Resolution}
	status := tl.Status
	if status == "" {
		status = "new"
	}
	terminal := func(s string) bool { return s == "resolved" || s == "closed" }
	cur := tl.Priority
	var stopPrio [2]Priority
	if terminal(status) {
		resp.stopped, resp.stopAt = true, created
		res.stopped, res.stopAt = true, created
		stopPrio = [2]Priority{cur, cur}
	}
	pi := 0
	for m := created; m <= now; m++ {
		for pi < len(pts) && pts[pi].min == m {
			p := pts[pi].pt
			pi++
			if p.Priority != 0 {
				cur = p.Priority
			}
			if p.Status != "" {
				status = p.Status
			}
			if (p.Responded || terminal(status)) && !resp.stopped {
				resp.stopped, resp.stopAt = true, m
				stopPrio[0] = cur
			}
			if terminal(status) {
				if !res.stopped {
					res.stopped, res.stopAt = true, m
					stopPrio[1] = cur
				}
			} else {
				res.stopped = false
			}
		}
		if m == now {
			break
		}
		for _, s := range []*sim{&resp, &res} {
			if s.stopped || pol.Pause[status] {
				continue
			}
			if s.crossed && m >= s.crossing {
				s.breached = true
			}
			if open(m) {
				s.used += time.Minute
				if !s.crossed && s.used >= s.target {
					s.crossed, s.crossing = true, m+1
				}
			}
		}
	}
	dueOK := true
	mk := func(s sim) Clock {
		c := Clock{Target: s.target, Used: s.used, Left: s.target - s.used}
		switch {
		case s.stopped:
			c.Stopped = w.at(s.stopAt)
			c.State = StateMet
			if s.breached {
				c.State = StateBreached
			}
		case pol.Pause[status]:
			c.State = StatePaused
			if s.breached {
				c.State = StateBreached
			}
		default:
			c.Running = true
			if s.crossed {
				c.Due = w.at(s.crossing)
			} else {
				k := now
				for u := s.used; ; k++ {
					if k >= propMinutes {
						dueOK = false
						break
					}
					if u >= s.target {
						break
					}
					if open(k) {
						u += time.Minute
					}
				}
				c.Due = w.at(k)
			}
			switch {
			case w.at(now).After(c.Due):
				c.State = StateBreached
			case float64(c.Used) >= pol.WarnAt*float64(c.Target):
				c.State = StateWarning
			default:
				c.State = StateOK
			}
		}
		return c
	}
	var stops [2]Priority
	if resp.stopped {
		stops[0] = stopPrio[0]
	}
	if res.stopped {
		stops[1] = stopPrio[1]
	}
	return Clocks{Response: mk(resp), Resolution: mk(res)}, dueOK, stops
}
