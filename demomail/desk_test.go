package demomail

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// fakeTime is a base clock the test moves by hand.
type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeTime) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeTime) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// demoDesk is a seeded demo desk on a real store in a temporary directory,
// on a hand-moved clock (a Tuesday morning, inside business hours).
func demoDesk(t *testing.T, seed uint64, me string, colleagues []string, leads ...string) (*Desk, *store.Store, *fakeTime) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	ft := &fakeTime{t: time.Date(2026, 11, 24, 10, 30, 0, 0, loc)}
	clock := NewClock(ft.now)
	roles := map[string]store.Role{me: store.RoleLead}
	for _, l := range leads {
		roles[l] = store.RoleLead
	}
	st, err := store.Open(t.TempDir(), store.Options{Policy: slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar()),
		MailDomain: "desk.test", SupportAddress: "support@desk.example", Now: clock.Now, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &Desk{Me: me, Colleagues: colleagues, Queue: "2nd-line", Direct: true, Clock: clock,
		Rand: rand.New(rand.NewPCG(seed, 1))}
	if err := d.Seed(st); err != nil {
		t.Fatal(err)
	}
	return d, st, ft
}

type census struct {
	total, active, resolved, closed, unassigned, mine, breached, warning, waiting int
	byPrio                                                                        [5]int
}

func count(st *store.Store, me string, now time.Time) census {
	var c census
	pol := st.Policy()
	st.Tickets(func(t store.Ticket) bool {
		c.total++
		switch {
		case t.Status.Active():
			c.active++
			c.byPrio[t.Priority]++
			if t.Assignee == "" {
				c.unassigned++
			}
			if t.Assignee == me {
				c.mine++
			}
			if t.Status == store.StatusWaiting {
				c.waiting++
			}
			cl := pol.ProjectFor(string(t.Type), slaengine.Priority(t.Priority), t.SLA, now)
			switch {
			case cl.Response.State == slaengine.StateBreached || cl.Resolution.State == slaengine.StateBreached:
				c.breached++
			case cl.Response.State == slaengine.StateWarning || cl.Resolution.State == slaengine.StateWarning:
				c.warning++
			}
		case t.Status == store.StatusResolved:
			c.resolved++
		default:
			c.closed++
		}
		return true
	})
	return c
}

// actors is who did what on the desk: actor → number of events.
func actors(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := st.Tickets(func(tk store.Ticket) bool {
		h, err := st.History(tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range h {
			out[e.Actor]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDemoBacklogLooksLikeADesk(t *testing.T) {
	colleagues := []string{"pieter", "sofie", "jonas"}
	_, st, ft := demoDesk(t, 1, "mette", colleagues, "pieter")
	c := count(st, "mette", ft.now())
	t.Logf("backlog: %+v", c)
	if c.total != backlogSize || c.total < 100 {
		t.Errorf("%d tickets in the backlog, want %d (the newest mail is SD-100 and up)", c.total, backlogSize)
	}
	if c.active < 25 || c.active > 40 {
		t.Errorf("%d active tickets, want 25–40", c.active)
	}
	if c.unassigned < 7 || c.mine != 3 || c.waiting < 3 || c.resolved < 5 || c.closed < 50 {
		t.Errorf("unassigned %d (want ≥ 7), mine %d (want 3), waiting %d (want ≥ 3), resolved %d (want ≥ 5), closed %d (want ≥ 50)",
			c.unassigned, c.mine, c.waiting, c.resolved, c.closed)
	}
	if c.breached+c.warning < 2 || c.breached+c.warning > c.active/2 {
		t.Errorf("%d breached and %d warning of %d active: want a few", c.breached, c.warning, c.active)
	}
	for p := 1; p <= 4; p++ {
		if c.byPrio[p] == 0 && p > 1 {
			t.Errorf("no active P%d ticket: %v", p, c.byPrio)
		}
	}
	// SD-3 is the user's P3, open (the console's end-to-end test raises it).
	sd3, err := st.Get(3)
	if err != nil || sd3.Priority != 3 || sd3.Assignee != "mette" || !sd3.Status.Active() {
		t.Errorf("SD-3: %+v %v; want an active P3 assigned to mette", sd3, err)
	}
	// The past's mail is sent, as it was at the time; nothing waits.
	if out, err := st.Outbox(ft.now()); err != nil || len(out) != 0 {
		t.Errorf("%d backlog mails still queued (%v)", len(out), err)
	}
	acts := actors(t, st)
	if acts["mette"] != 0 {
		t.Errorf("the backlog has %d events by the user", acts["mette"])
	}
	for _, c := range colleagues {
		if acts[c] == 0 {
			t.Errorf("no event by colleague %s: %v", c, acts)
		}
	}
	for a := range acts {
		if a != "mail" && !slices.Contains(colleagues, a) {
			t.Errorf("event by %q, who is neither a colleague nor the mail intake", a)
		}
	}
}

// TestDemoDeskStaysSteady runs the desk for four hours of demo time (3,600
// rounds of 4 s, without sleeping) with the generator's own mail: the active count stays in
// a band while mail keeps coming and tickets keep being resolved and closed.
func TestDemoDeskStaysSteady(t *testing.T) {
	colleagues := []string{"pieter", "sofie", "jonas"}
	for _, seed := range []uint64{1, 2} {
		d, st, ft := demoDesk(t, seed, "mette", colleagues, "pieter")
		before := actors(t, st)
		lo, hi := 1<<30, 0
		const rounds = 3600
		for i := 0; i < rounds; i++ {
			ft.add(d.unit())
			if err := d.Step(st); err != nil {
				t.Fatalf("seed %d, round %d: %v", seed, i, err)
			}
			if i%20 == 0 {
				c := count(st, "mette", ft.now())
				lo, hi = min(lo, c.active), max(hi, c.active)
				if c.resolved > resolvedCap+8 {
					t.Fatalf("seed %d, round %d: %d resolved tickets pile up", seed, i, c.resolved)
				}
			}
		}
		c := count(st, "mette", ft.now())
		t.Logf("seed %d: active %d–%d; after %s: %+v, %d mails", seed, lo, hi, time.Duration(rounds)*d.unit(), c, d.mails)
		if lo < 22 || hi > 42 {
			t.Errorf("seed %d: the active count went from %d to %d, want it within 22–42", seed, lo, hi)
		}
		if d.mails < 150 || c.total < backlogSize+150 {
			t.Errorf("seed %d: %d mails, %d tickets in four hours: the desk is too quiet", seed, d.mails, c.total)
		}
		// A P1 or P2 that came in is taken and answered within minutes.
		st.Tickets(func(tk store.Ticket) bool {
			if tk.ID > backlogSize && tk.Priority <= 2 && tk.Peak <= 2 {
				if tk.Responded.IsZero() && ft.now().Sub(tk.Created) > 10*time.Minute || tk.Responded.Sub(tk.Created) > 10*time.Minute {
					t.Errorf("seed %d: %s P%d came in at %s, answered %s", seed, tk.ID, tk.Priority, tk.Created, tk.Responded)
				}
			}
			return true
		})
		after := actors(t, st)
		if after["mette"] != 0 {
			t.Errorf("seed %d: %d events by the user, who did nothing", seed, after["mette"])
		}
		for _, c := range colleagues {
			if after[c]-before[c] < 100 {
				t.Errorf("seed %d: %s did %d things in four hours", seed, c, after[c]-before[c])
			}
		}
	}
}

func TestDemoGapsAreADesksPace(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	unit := 4 * time.Second
	var at time.Duration
	var gaps []time.Duration
	for i := 0; i < 400; i++ {
		g := Gap(i, unit, r)
		at += g
		if (i == 0 && at > 2*time.Second) || (i == 3 && at > 20*time.Second) {
			t.Errorf("mail %d arrives after %s, want the first at once and four within 20 s", i+1, at)
		}
		if i >= 4 {
			gaps = append(gaps, g)
		}
	}
	slices.Sort(gaps)
	var sum time.Duration
	for _, g := range gaps {
		sum += g
	}
	mean := sum / time.Duration(len(gaps))
	if gaps[0] < unit || gaps[len(gaps)-1] > 90*time.Second || mean < 35*time.Second || mean > 65*time.Second {
		t.Errorf("gaps %s–%s, mean %s: want 4–90 s, mostly 20–90 s", gaps[0], gaps[len(gaps)-1], mean)
	}
	if gaps[len(gaps)/4] == gaps[3*len(gaps)/4] {
		t.Error("the pace is regular")
	}
}

// A major incident whose update falls due gets one from the colleague who
// holds it, within a few rounds.
func TestDemoColleaguesWriteStatusUpdates(t *testing.T) {
	d, st, ft := demoDesk(t, 3, "mette", []string{"pieter", "sofie"}, "pieter")
	tk, err := st.Create("mail", store.NewTicket{Type: store.Incident, Priority: 1, Queue: "2nd-line", Subject: "borger.dk login down",
		Requester: store.Person{Email: "r@aarhus.dk"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetField(tk.ID, "sofie", store.FieldAssignee, "", "sofie"); err != nil {
		t.Fatal(err)
	}
	ft.add(61 * time.Minute) // past the hourly update
	for i := 0; i < 200; i++ {
		if err := d.Step(st); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Get(tk.ID); got.Major != nil && got.Major.Updates > 0 {
			h, _ := st.History(tk.ID)
			for _, e := range h {
				if e.Kind == store.EvMajorNote && e.Actor != "sofie" {
					t.Fatalf("the update was written by %s, not the assignee", e.Actor)
				}
			}
			return
		}
		ft.add(4 * time.Second)
	}
	got, _ := st.Get(tk.ID)
	t.Fatalf("no status update after 200 rounds: %+v", got.Major)
}
