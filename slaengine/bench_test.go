package slaengine

import (
	"math/rand"
	"testing"
	"time"
)

var sinkTime time.Time
var sinkClocks Clocks

func BenchmarkAdd30BusinessDays(b *testing.B) {
	cal := DefaultBusinessCalendar()
	from := cph(b, 2025, 3, 3, 10, 17)
	d := 30 * cal.DayLength()
	for b.Loop() {
		sinkTime = cal.Add(from, d)
	}
}

func BenchmarkBetween60Days(b *testing.B) {
	cal := DefaultBusinessCalendar()
	from := cph(b, 2025, 3, 3, 10, 17)
	to := from.AddDate(0, 0, 60)
	var s time.Duration
	for b.Loop() {
		s += cal.Between(from, to)
	}
	_ = s
}

// benchTimeline is a P3 or P4 ticket (business calendar, the expensive
// case) with n points over about a month.
func benchTimeline(rng *rand.Rand, start time.Time, n int) Timeline {
	tl := Timeline{Created: start, Priority: Priority(3 + rng.Intn(2)), Status: "new"}
	at := start
	statuses := []string{"open", "waiting", "open", "escalated", "open", "pending-release", "open"}
	for i := 0; i < n; i++ {
		at = at.Add(time.Duration(rng.Intn(36*60)) * time.Minute)
		tl.Points = append(tl.Points, Point{At: at, Status: statuses[rng.Intn(len(statuses))], Responded: i == 2})
	}
	return tl
}

func BenchmarkCompute20Points(b *testing.B) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	tl := benchTimeline(rand.New(rand.NewSource(1)), cph(b, 2025, 3, 3, 10, 17), 20)
	now := tl.Points[len(tl.Points)-1].At.Add(3 * time.Hour)
	for b.Loop() {
		sinkClocks = Compute(pol, tl, now)
	}
}

func BenchmarkProjectOneTicket(b *testing.B) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	created := cph(b, 2025, 3, 3, 10, 17)
	tl := Timeline{Created: created, Priority: 3, Status: "open"}
	c := Compute(pol, tl, created.Add(time.Hour))
	now := created.Add(time.Hour + 17*time.Second)
	for b.Loop() {
		sinkClocks = pol.Project(3, c, now)
	}
}

func build100k(b *testing.B) (Policy, []Timeline, []Clocks, time.Time) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	rng := rand.New(rand.NewSource(2))
	base := cph(b, 2025, 1, 6, 0, 0)
	tls := make([]Timeline, 100_000)
	cs := make([]Clocks, len(tls))
	now := cph(b, 2025, 3, 3, 12, 0)
	for i := range tls {
		tls[i] = benchTimeline(rng, base.Add(time.Duration(rng.Intn(40*24*60))*time.Minute), rng.Intn(8))
		if rng.Intn(3) == 0 {
			tls[i].Priority = Priority(1 + rng.Intn(2))
		}
		cs[i] = Compute(pol, tls[i], now)
	}
	return pol, tls, cs, now
}

// BenchmarkRecompute100kCompute evaluates the SLA state of 100,000 open
// tickets from their histories (the store's work after a policy reload).
func BenchmarkRecompute100kCompute(b *testing.B) {
	pol, tls, _, now := build100k(b)
	for b.Loop() {
		for i := range tls {
			sinkClocks = Compute(pol, tls[i], now)
		}
	}
}

// BenchmarkRecompute100kProject moves 100,000 tickets' clocks one second on
// (the console's work per tick, were every ticket visible).
func BenchmarkRecompute100kProject(b *testing.B) {
	pol, tls, cs, now := build100k(b)
	later := now.Add(time.Second)
	for b.Loop() {
		for i := range cs {
			sinkClocks = pol.Project(tls[i].Priority, cs[i], later)
		}
	}
}
