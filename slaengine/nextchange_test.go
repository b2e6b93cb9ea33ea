package slaengine

import (
	"math/rand"
	"testing"
	"time"
)

func TestNextChangeHandChecked(t *testing.T) {
	pol := DefaultPolicy(DefaultBusinessCalendar())
	// P1, 24x7: response 15m (warn at 11m15s), resolution 4h.
	created := utc(2025, 3, 3, 10, 0)
	p1 := Compute(pol, Timeline{Created: created, Priority: 1, Status: "open"}, created)
	// P3 on business hours (08:30-16:30 Copenhagen, UTC+1 in March):
	// 2 business days = 16h; warn at 12h used.
	thu := cph(t, 2025, 3, 6, 15, 0)
	p3 := Compute(pol, Timeline{Created: thu, Priority: 3, Status: "open"}, thu)
	waiting := Compute(pol, Timeline{Created: created, Priority: 1, Status: "waiting"}, created)
	for _, tc := range []struct {
		name  string
		prio  Priority
		c     Clock
		after time.Time
		want  time.Time
	}{
		{"ok until warning", 1, p1.Response, created, created.Add(11*time.Minute + 15*time.Second)},
		{"warning until just after due", 1, p1.Response, created.Add(12 * time.Minute), created.Add(15*time.Minute + 1)},
		{"exactly due is still warning", 1, p1.Response, created.Add(15 * time.Minute), created.Add(15*time.Minute + 1)},
		{"breached never changes", 1, p1.Response, created.Add(16 * time.Minute), time.Time{}},
		{"resolution warns at 3h", 1, p1.Resolution, created, created.Add(3 * time.Hour)},
		// 1.5h Thu + 8h Fri + 2.5h Mon = 12h: Monday 11:00.
		{"business hours skip the weekend", 3, p3.Response, thu, cph(t, 2025, 3, 10, 11, 0)},
		// Due Monday 15:00 (16h): breached from the next instant.
		{"breach on business hours", 3, p3.Response, cph(t, 2025, 3, 10, 12, 0), cph(t, 2025, 3, 10, 15, 0).Add(1)},
		{"paused clocks do not change", 1, waiting.Response, created.Add(time.Hour), time.Time{}},
		{"asked before the evaluation", 1, p1.Response, created.Add(-time.Hour), created.Add(11*time.Minute + 15*time.Second)},
	} {
		got := pol.NextChange("", tc.prio, tc.c, tc.after)
		if !got.Equal(tc.want) {
			t.Errorf("%s: NextChange after %s = %s, want %s", tc.name, tc.after, got, tc.want)
		}
	}
}

// TestPropertyNextChange checks NextChange against the projection itself on
// random calendars, targets, warn shares and histories: the state is the
// same at every instant before the answer and differs at it.
func TestPropertyNextChange(t *testing.T) {
	rng := rand.New(rand.NewSource(*propSeed))
	always := AlwaysOpen()
	changes, never := 0, 0
	for n := 0; n < *propCalendars/4; n++ {
		w := newWorld(t, rng)
		for q := 0; q < 40; q++ {
			pol := Policy{Targets: map[Priority]Target{}, WarnAt: 0.3 + rng.Float64()*0.7, Pause: map[string]bool{"waiting": true}}
			for p := Priority(1); p <= 4; p++ {
				cal := w.cal
				if p == 1 {
					cal = always
				}
				pol.Targets[p] = Target{Response: time.Duration(1+rng.Intn(3000))*time.Minute + time.Duration(rng.Intn(60))*time.Second,
					Resolution: time.Duration(1+rng.Intn(20000)) * time.Minute, Calendar: cal}
			}
			created := rng.Intn(propMinutes / 3)
			tl := Timeline{Created: w.at(created), Priority: Priority(1 + rng.Intn(4)), Status: propStatuses[rng.Intn(6)]}
			if rng.Intn(3) == 0 {
				tl.Holds, _ = randomHolds(rng, w) // service windows
			}
			evalAt := w.at(created + rng.Intn(4000)).Add(time.Duration(rng.Intn(60)) * time.Second)
			cs := Compute(pol, tl, evalAt)
			for _, c := range []Clock{cs.Response, cs.Resolution} {
				after := evalAt.Add(time.Duration(rng.Intn(6000)-2000)*time.Minute + time.Duration(rng.Intn(60))*time.Second)
				state := func(at time.Time) State { return pol.project("", tl.Priority, c, at, pol.warnAt()).State }
				s0 := state(after)
				got := pol.NextChange("", tl.Priority, c, after)
				if got.IsZero() {
					never++
					for _, d := range []time.Duration{time.Nanosecond, time.Hour, 24 * time.Hour * time.Duration(1+rng.Intn(400))} {
						if s := state(after.Add(d)); s != s0 {
							t.Fatalf("%s: NextChange after %s is never, but the state goes %s → %s by %s", w.desc, after, s0, s, after.Add(d))
						}
					}
					continue
				}
				changes++
				if !got.After(after) {
					t.Fatalf("%s: NextChange after %s = %s, not after it", w.desc, after, got)
				}
				if s := state(got); s == s0 {
					t.Fatalf("%s: NextChange after %s = %s, but the state is still %s there (clock %+v)", w.desc, after, got, s, c)
				}
				probes := []time.Time{got.Add(-1)}
				for range 8 {
					probes = append(probes, after.Add(time.Duration(rng.Int63n(int64(got.Sub(after))))))
				}
				for _, at := range probes {
					if at.After(after) && state(at) != s0 {
						t.Fatalf("%s: state changes %s → %s at %s, before NextChange's %s (clock %+v)", w.desc, s0, state(at), at, got, c)
					}
				}
			}
		}
	}
	t.Logf("%d changes found, %d clocks that never change", changes, never)
	if changes < 200 || never < 50 {
		t.Fatalf("the generator found %d changes and %d clocks that never change: too few to prove anything", changes, never)
	}
}
