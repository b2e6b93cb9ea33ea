package slaengine

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	m := time.Minute
	for _, c := range []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{7 * m}, 0.9, 7 * m},
		// n=2: median rank ceil(1)=1, p90 rank ceil(1.8)=2.
		{[]time.Duration{3 * m, 1 * m}, 0.5, 1 * m},
		{[]time.Duration{3 * m, 1 * m}, 0.9, 3 * m},
		// n=10: p90 rank exactly 9 (0.9*10 is 9.000000000000002 in floats).
		{[]time.Duration{10 * m, 9 * m, 8 * m, 7 * m, 6 * m, 5 * m, 4 * m, 3 * m, 2 * m, 1 * m}, 0.9, 9 * m},
		{[]time.Duration{10 * m, 9 * m, 8 * m, 7 * m, 6 * m, 5 * m, 4 * m, 3 * m, 2 * m, 1 * m}, 0.5, 5 * m},
		// n=5: median rank 3.
		{[]time.Duration{5 * m, 4 * m, 3 * m, 2 * m, 1 * m}, 0.5, 3 * m},
	} {
		if got := Percentile(c.in, c.q); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.in, c.q, got, c.want)
		}
	}
}

// TestComplianceHandComputed builds twelve histories whose numbers are
// worked out by hand in the comments, on the default policy: P1 15m/4h and
// P2 4h/8h on the 24x7 calendar; P3 2/10 and P4 4/30 business days of 8h on
// Mon-Fri 08:30-16:30 Copenhagen (CET until 30 March 2025, then CEST; no
// Danish holiday falls in March 2025). The period is March 2025 (UTC), the
// report is made at its end, 1 April 00:00 UTC.
func TestComplianceHandComputed(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	from, to := utc(2025, 3, 1, 0, 0), utc(2025, 4, 1, 0, 0)
	now := to
	h, m := time.Hour, time.Minute
	resp := func(at time.Time) Point { return Point{At: at, Status: "open", Responded: true} }
	st := func(at time.Time, s string) Point { return Point{At: at, Status: s} }
	tickets := []Reported{
		// T1 P1 incident: response 10:00-10:10 = 10m met; resolution 2h met.
		{"T1", Timeline{Created: utc(2025, 3, 3, 10, 0), Priority: 1, Type: "incident", Points: []Point{
			resp(utc(2025, 3, 3, 10, 10)), st(utc(2025, 3, 3, 12, 0), "resolved")}}},
		// T2 P1 incident: response 30m > 15m breached (stopped); resolution 1h met.
		{"T2", Timeline{Created: utc(2025, 3, 3, 14, 0), Priority: 1, Type: "incident", Points: []Point{
			resp(utc(2025, 3, 3, 14, 30)), st(utc(2025, 3, 3, 15, 0), "resolved")}}},
		// T3 P1 incident: response 5m met; waiting 10:00-12:00 does not
		// count, so resolution 1h (09-10) + 2h (12-14) = 3h met.
		{"T3", Timeline{Created: utc(2025, 3, 4, 9, 0), Priority: 1, Type: "incident", Points: []Point{
			resp(utc(2025, 3, 4, 9, 5)), st(utc(2025, 3, 4, 10, 0), "waiting"), st(utc(2025, 3, 4, 12, 0), "open"),
			st(utc(2025, 3, 4, 14, 0), "resolved")}}},
		// T4 P1 request: response 14m met; still open at now: resolution
		// breached while running, 5 Mar 08:00 to 1 Apr 00:00 = 26d16h = 640h
		// used (decided, but no time to resolve yet).
		{"T4", Timeline{Created: utc(2025, 3, 5, 8, 0), Priority: 1, Type: "request", Points: []Point{
			resp(utc(2025, 3, 5, 8, 14))}}},
		// T5 P1 incident resolved at 10:20 without a reply first: the
		// resolution notice is the first response, 20m > 15m breached;
		// resolution 20m met.
		{"T5", Timeline{Created: utc(2025, 3, 6, 10, 0), Priority: 1, Type: "incident", Points: []Point{
			st(utc(2025, 3, 6, 10, 20), "resolved")}}},
		// T6 P3 request, Mon 3 Mar 15:00 Copenhagen: response Tue 10:30 =
		// 1.5h Mon + 2h Tue = 3.5h met; resolved Fri 7 Mar 12:00 = 1.5 + 8
		// (Tue) + 8 (Wed) + 8 (Thu) + 3.5 (Fri) = 29h met (80h).
		{"T6", Timeline{Created: cph(t, 2025, 3, 3, 15, 0), Priority: 3, Type: "request", Points: []Point{
			resp(cph(t, 2025, 3, 4, 10, 30)), st(cph(t, 2025, 3, 7, 12, 0), "resolved")}}},
		// T7 P3 incident, Mon 10 Mar 09:00: response Thu 13 Mar 09:00 = 7.5
		// + 8 + 8 + 0.5 = 24h > 16h breached. Then lowered to P4 (whose 32h
		// it would have met): the stopped clock keeps its P3 breach. It now
		// counts in the P4 row. Resolved Fri 14 Mar 09:30 on P4's 240h: 7.5
		// + 8 + 8 + 8 + 1 = 32.5h met.
		{"T7", Timeline{Created: cph(t, 2025, 3, 10, 9, 0), Priority: 3, Type: "incident", Points: []Point{
			resp(cph(t, 2025, 3, 13, 9, 0)), {At: cph(t, 2025, 3, 13, 10, 0), Priority: 4},
			st(cph(t, 2025, 3, 14, 9, 30), "resolved")}}},
		// T8 P3 request, Tue 11 Mar 09:00: waiting from 10:00 to Mon 17 Mar
		// 09:00 (both clocks pause); response Mon 10:00 = 1h + 1h = 2h met.
		// Still open: resolution = 1h Tue 11 + 7.5h Mon 17 (09:00-16:30) +
		// 4x8h Tue-Fri + 5x8h the week of 24 Mar + 8h Mon 31 Mar = 88.5h >
		// 80h, breached while running.
		{"T8", Timeline{Created: cph(t, 2025, 3, 11, 9, 0), Priority: 3, Type: "request", Points: []Point{
			st(cph(t, 2025, 3, 11, 10, 0), "waiting"), st(cph(t, 2025, 3, 17, 9, 0), "open"), resp(cph(t, 2025, 3, 17, 10, 0))}}},
		// T9 before the period, T10 at its end (excluded: [from, to)).
		{"T9", Timeline{Created: utc(2025, 2, 28, 23, 0), Priority: 2, Type: "incident"}},
		{"T10", Timeline{Created: to, Priority: 2, Type: "change"}},
		// T11 P2 incident never answered: both clocks breached while
		// running, 20 Mar 10:00 to 1 Apr 00:00 = 11d14h = 278h.
		{"T11", Timeline{Created: utc(2025, 3, 20, 10, 0), Priority: 2, Type: "incident"}},
		// T12 P2 request: response 1h met; resolved after exactly 8h: the
		// instant the target runs out is still on time, met.
		{"T12", Timeline{Created: utc(2025, 3, 21, 10, 0), Priority: 2, Type: "request", Points: []Point{
			resp(utc(2025, 3, 21, 11, 0)), st(utc(2025, 3, 21, 18, 0), "resolved")}}},
	}
	r := ComplianceReport(pol, tickets, from, to, now)

	type cw struct {
		met, decided int
		ok           bool
		timed        int
		median, p90  time.Duration
	}
	check := func(name string, got ClockStats, w cw, goal float64) {
		t.Helper()
		share := 0.0
		if w.decided > 0 {
			share = float64(w.met) / float64(w.decided)
		}
		if got.Met != w.met || got.Decided != w.decided || got.OK != w.ok || got.Timed != w.timed ||
			got.Median != w.median || got.P90 != w.p90 || got.Goal != goal || got.Share != share {
			t.Errorf("%s = %+v, want %+v (share %.3f, goal %.2f)", name, got, w, share, goal)
		}
	}
	if len(r.ByPriority) != 4 {
		t.Fatalf("%d priority rows, want 4: %+v", len(r.ByPriority), r.ByPriority)
	}
	prio := map[Priority]struct {
		tickets   int
		resp, res cw
	}{
		// P1: T1-T5. Response met T1 T3 T4 of 5 = 60% < 90%; times 5m 10m
		// 14m 20m 30m: median rank 3 = 14m, p90 rank ceil(4.5) = 5 = 30m.
		// Resolution met 4 of 5 (T4 breached) = 80% < 95%; times 20m 1h 2h
		// 3h: median rank 2 = 1h, p90 rank ceil(3.6) = 4 = 3h.
		1: {5, cw{3, 5, false, 5, 14 * m, 30 * m}, cw{4, 5, false, 4, h, 3 * h}},
		// P2: T11, T12. Response 1 of 2 (T12's 1h); resolution 1 of 2 (T12's 8h).
		2: {2, cw{1, 2, false, 1, h, h}, cw{1, 2, false, 1, 8 * h, 8 * h}},
		// P3: T6, T8 (T7 is P4 now). Response 2 of 2, times 2h 3.5h: median
		// rank 1 = 2h, p90 rank 2 = 3.5h. Resolution 1 of 2 (T8
		// breached), time 29h.
		3: {2, cw{2, 2, true, 2, 2 * h, 3*h + 30*m}, cw{1, 2, false, 1, 29 * h, 29 * h}},
		// P4: T7. Response breached (kept from P3) at 24h; resolution met at 32.5h.
		4: {1, cw{0, 1, false, 1, 24 * h, 24 * h}, cw{1, 1, true, 1, 32*h + 30*m, 32*h + 30*m}},
	}
	for _, row := range r.ByPriority {
		w := prio[row.Priority]
		if row.Tickets != w.tickets {
			t.Errorf("P%d: %d tickets, want %d", row.Priority, row.Tickets, w.tickets)
		}
		check("P"+string(rune('0'+row.Priority))+" response", row.Response, w.resp, 0.90)
		check("P"+string(rune('0'+row.Priority))+" resolution", row.Resolution, w.res, 0.95)
	}
	if len(r.ByType) != 2 || r.ByType[0].Type != "incident" || r.ByType[1].Type != "request" {
		t.Fatalf("type rows: %+v", r.ByType)
	}
	// incident: T1 T2 T3 T5 T7 T11. Response met T1 T3 = 2 of 6; times 5m
	// 10m 20m 30m 24h: median rank 3 = 20m, p90 rank 5 = 24h. Resolution
	// met 5 of 6 (T11 breached); times 20m 1h 2h 3h 32.5h: median 2h, p90 32.5h.
	inc := r.ByType[0]
	if inc.Tickets != 6 {
		t.Errorf("incident: %d tickets, want 6", inc.Tickets)
	}
	check("incident response", inc.Response, cw{2, 6, false, 5, 20 * m, 24 * h}, 0.90)
	check("incident resolution", inc.Resolution, cw{5, 6, false, 5, 2 * h, 32*h + 30*m}, 0.95)
	// request: T4 T6 T8 T12. Response 4 of 4; times 14m 1h 2h 3.5h: median
	// rank 2 = 1h, p90 rank ceil(3.6) = 4 = 3.5h. Resolution 2 of 4 (T4, T8
	// breached); times 8h 29h: median 8h, p90 29h.
	req := r.ByType[1]
	if req.Tickets != 4 {
		t.Errorf("request: %d tickets, want 4", req.Tickets)
	}
	check("request response", req.Response, cw{4, 4, true, 4, h, 3*h + 30*m}, 0.90)
	check("request resolution", req.Resolution, cw{2, 4, false, 2, 8 * h, 29 * h}, 0.95)
	// All ten: response met 6 of 10; 9 timed (T11 never answered): 5m 10m
	// 14m 20m 30m 1h 2h 3.5h 24h, median rank 5 = 30m, p90 rank ceil(8.1) =
	// 9 = 24h. Resolution met 7 of 10; times 20m 1h 2h 3h 8h 29h 32.5h:
	// median rank 4 = 3h, p90 rank ceil(6.3) = 7 = 32.5h.
	if r.All.Tickets != 10 {
		t.Errorf("all: %d tickets, want 10", r.All.Tickets)
	}
	check("all response", r.All.Response, cw{6, 10, false, 9, 30 * m, 24 * h}, 0.90)
	check("all resolution", r.All.Resolution, cw{7, 10, false, 7, 3 * h, 32*h + 30*m}, 0.95)

	want := []Breach{
		{Ref: "T2", Priority: 1, Type: "incident", Clock: ClockResponse, Target: 15 * m, Used: 30 * m, Stopped: utc(2025, 3, 3, 14, 30)},
		{Ref: "T4", Priority: 1, Type: "request", Clock: ClockResolution, Target: 4 * h, Used: 640 * h},
		{Ref: "T5", Priority: 1, Type: "incident", Clock: ClockResponse, Target: 15 * m, Used: 20 * m, Stopped: utc(2025, 3, 6, 10, 20)},
		{Ref: "T7", Priority: 3, Type: "incident", Clock: ClockResponse, Target: 16 * h, Used: 24 * h, Stopped: cph(t, 2025, 3, 13, 9, 0)},
		{Ref: "T8", Priority: 3, Type: "request", Clock: ClockResolution, Target: 80 * h, Used: 88*h + 30*m},
		{Ref: "T11", Priority: 2, Type: "incident", Clock: ClockResponse, Target: 4 * h, Used: 278 * h},
		{Ref: "T11", Priority: 2, Type: "incident", Clock: ClockResolution, Target: 8 * h, Used: 278 * h},
	}
	if len(r.Breaches) != len(want) {
		t.Fatalf("%d breaches, want %d: %+v", len(r.Breaches), len(want), r.Breaches)
	}
	for i, b := range r.Breaches {
		if w := want[i]; b.Ref != w.Ref || b.Priority != w.Priority || b.Type != w.Type || b.Clock != w.Clock ||
			b.Target != w.Target || b.Used != w.Used || !b.Stopped.Equal(w.Stopped) {
			t.Errorf("breach %d = %+v, want %+v", i, b, w)
		}
	}
	if got := r.Breaches[3].Over(); got != 8*h {
		t.Errorf("T7 over by %v, want 8h", got)
	}

	// The old per-priority Report agrees with the new rows.
	for i, old := range Report(pol, timelines(tickets), from, to, now) {
		n := r.ByPriority[i]
		if old.Priority != n.Priority || old.Tickets != n.Tickets || old.ResponseMet != n.Response.Met || old.ResponseTotal != n.Response.Decided ||
			old.ResolutionMet != n.Resolution.Met || old.ResolutionTotal != n.Resolution.Decided {
			t.Errorf("Report row %d = %+v, ComplianceReport %+v", i, old, n)
		}
	}
}

func timelines(rs []Reported) []Timeline {
	out := make([]Timeline, len(rs))
	for i, r := range rs {
		out[i] = r.Timeline
	}
	return out
}

// An empty period still has a row per priority of the policy, all goals
// met (nothing missed them) and no times.
func TestComplianceEmpty(t *testing.T) {
	r := ComplianceReport(DefaultPolicy(nil), nil, utc(2025, 3, 1, 0, 0), utc(2025, 4, 1, 0, 0), utc(2025, 4, 1, 0, 0))
	if len(r.ByPriority) != 4 || len(r.ByType) != 0 || len(r.Breaches) != 0 || r.All.Tickets != 0 {
		t.Fatalf("%+v", r)
	}
	for _, row := range r.ByPriority {
		if !row.Response.OK || !row.Resolution.OK || row.Response.Timed != 0 || row.Response.Median != 0 {
			t.Errorf("%+v", row)
		}
	}
}
