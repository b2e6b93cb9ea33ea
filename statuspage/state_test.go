package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

func wantState(t *testing.T, f *fixture, service string, want state, partial bool) serviceView {
	t.Helper()
	v := f.service(t, service)
	if v.State != want || v.Partial != partial {
		t.Fatalf("%s is %s (partial %v), want %s (partial %v)", service, v.State, v.Partial, want, partial)
	}
	return v
}

// The state rule, step by step on one store: what the probes say, what
// the desk declared and what was planned.
func TestStateRules(t *testing.T) {
	f := newFixture(t)
	wantState(t, f, "DSD", operational, false)
	if b := f.snapshot(t).Banner(); b.Text != "All systems operational" {
		t.Fatalf("banner %+v", b)
	}

	// One failure is not an outage yet: the desk has not called it one.
	f.probe(t, "DSD", "http a", refused)
	wantState(t, f, "DSD", operational, false)
	f.probe(t, "DSD", "http a", refused)
	v := wantState(t, f, "DSD", outage, false)
	if v.Incident != "" {
		t.Fatalf("a P3 probe outage shows as incident %s", v.Incident)
	}
	if b := f.snapshot(t).Banner(); b.Level != "outage" || b.Text != "Outage: DSD" {
		t.Fatalf("banner %+v", b)
	}

	// Another probe of DSD still answering: a partial outage. The
	// service name is matched as the config spells it, whatever case the
	// probe used.
	f.probe(t, "dsd", "http b", ok)
	wantState(t, f, "DSD", outage, true)

	// Slow answers, counted as failures: degraded, not an outage.
	f.probe(t, "MitID", "http login", slow, slow)
	wantState(t, f, "MitID", degraded, false)
	if b := f.snapshot(t).Banner(); b.Text != "Outage: DSD" {
		t.Fatalf("the worst state must head the page: %+v", b)
	}

	// Recovery.
	f.probe(t, "DSD", "http a", ok, ok)
	wantState(t, f, "DSD", operational, false)

	// A window planned for MitID: announced, but the state changes only
	// while it is on, and then it is maintenance whatever the probes see.
	start := f.clk.Now().Add(time.Hour)
	w, err := f.st.PlanWindow("lena", store.Window{Service: "MitID", Start: start, Duration: time.Hour, Description: "Database upgrade"}, false)
	if err != nil {
		t.Fatal(err)
	}
	s := f.snapshot(t)
	if len(s.Windows) != 1 || s.Windows[0].ID != w.ID {
		t.Fatalf("windows on the page: %+v", s.Windows)
	}
	wantState(t, f, "MitID", degraded, false)
	// And one for DSD, called off before it starts.
	c, err := f.st.PlanWindow("lena", store.Window{Service: "DSD", Start: start, Duration: time.Hour, Description: "Reindex"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CancelWindow(c.ID, "lena", "not needed"); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(61 * time.Minute)
	v = wantState(t, f, "MitID", maintenance, false)
	if v.Window == nil || v.Window.ID != w.ID {
		t.Fatalf("MitID's window: %+v", v.Window)
	}
	wantState(t, f, "DSD", operational, false)
	s = f.snapshot(t)
	if len(s.Windows) != 1 || s.Windows[0].ID != w.ID {
		t.Fatalf("a cancelled window is on the page: %+v", s.Windows)
	}
	if b := s.Banner(); b.Text != "Degraded performance: MitID" && b.Text != "Under planned maintenance: MitID" {
		t.Fatalf("banner %+v", b)
	}
	// The window ends: back to what the probes say.
	f.clk.Add(time.Hour)
	wantState(t, f, "MitID", degraded, false)
	f.probe(t, "MitID", "http login", ok, ok)
	wantState(t, f, "MitID", operational, false)

	// A major incident declared by an operator is an outage while every
	// probe is up, and it heads the page.
	req, err := f.st.Create("alice", store.NewTicket{Type: store.Request, Priority: 3, Queue: "q", Subject: plantedSubject, Requester: store.Person{Email: plantedAddress}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.DeclareMajor(req.ID, "dan", "DSD", "lookups time out"); err != nil {
		t.Fatal(err)
	}
	v = wantState(t, f, "DSD", outage, false)
	if v.Incident != req.ID.String() {
		t.Fatalf("DSD's incident %q, want %s", v.Incident, req.ID)
	}
	if b := f.snapshot(t).Banner(); b.Text != "Major incident: DSD" {
		t.Fatalf("banner %+v", b)
	}
	if _, _, err := f.st.Resolve(req.ID, "dan", "Failed over."); err != nil {
		t.Fatal(err)
	}
	wantState(t, f, "DSD", operational, false)
	s = f.snapshot(t)
	if len(s.Open) != 0 || len(s.Recent) != 1 || s.Recent[0].ID != req.ID.String() {
		t.Fatalf("after the end: open %+v recent %+v", s.Open, s.Recent)
	}
	// A week later it has left the page.
	f.clk.Add(recentFor + time.Minute)
	if s := f.snapshot(t); len(s.Recent) != 0 {
		t.Fatalf("still recent after a week: %+v", s.Recent)
	}
}

// A P1 probe outage opens an incident the desk declares major: the page
// shows it as such, with the desk's published words and not the
// monitoring ticket's.
func TestProbeOutageDeclaresMajorIncident(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		if _, err := f.st.RecordProbe(store.ProbeRule{Service: "DSD", Name: plantedProbe}, refused); err != nil {
			t.Fatal(err)
		}
	}
	s := f.snapshot(t)
	if len(s.Open) != 1 || s.Open[0].Service != "DSD" {
		t.Fatalf("open incidents %+v", s.Open)
	}
	wantState(t, f, "DSD", outage, false)
	_, body := f.get(t, "/")
	for _, secret := range []string{plantedProbe, "10.0.0.7", "connection refused", "monitoring:"} {
		if strings.Contains(strings.ToLower(body), strings.ToLower(secret)) {
			t.Errorf("the page shows %q", secret)
		}
	}
	if !strings.Contains(body, "We are investigating a major incident affecting DSD.") {
		t.Error("the published declaration is not on the page")
	}
}

// Uptime bars: a day's checks of all the service's probes summed, days
// without checks grey, only the last 90 days.
func TestUptimeBars(t *testing.T) {
	f := newFixture(t)
	f.clk.Add(-100 * 24 * time.Hour)
	f.probe(t, "DSD", "a", ok) // too old to show
	f.clk.Add(100*24*time.Hour - 2*24*time.Hour)
	for range 9 {
		f.probe(t, "DSD", "a", ok)
	}
	f.probe(t, "DSD", "b", refused) // day -2: 9 of 10
	f.clk.Add(2 * 24 * time.Hour)
	f.probe(t, "DSD", "a", ok, ok) // today: 2 of 2
	v := f.service(t, "DSD")
	if len(v.Days) != uptimeDays {
		t.Fatalf("%d bars", len(v.Days))
	}
	last, twoAgo, yesterday := v.Days[uptimeDays-1], v.Days[uptimeDays-3], v.Days[uptimeDays-2]
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if !last.Day.Equal(today) || last.OK != 2 || last.Fail != 0 || last.Level() != "full" {
		t.Fatalf("today's bar %+v (%s)", last, last.Level())
	}
	if twoAgo.OK != 9 || twoAgo.Fail != 1 || twoAgo.Pct() != 90 || twoAgo.Level() != "low" {
		t.Fatalf("the bar of two days ago %+v (%s)", twoAgo, twoAgo.Level())
	}
	if yesterday.Level() != "none" || yesterday.Say() != "Sun 01 Mar 2026: no data" {
		t.Fatalf("yesterday %+v: %q", yesterday, yesterday.Say())
	}
	if v.OK != 11 || v.Fail != 1 {
		t.Fatalf("90 days: %d ok %d failed, want 11 and 1 (the old check left out)", v.OK, v.Fail)
	}
	if m := f.service(t, "MitID"); m.Uptime() != -1 || pct(m.Uptime()) != "no data" {
		t.Fatalf("MitID without probes: %v", m.Uptime())
	}
	_, body := f.get(t, "/")
	for _, want := range []string{
		`title="Sat 28 Feb 2026: 90.00% up (9 of 10 checks answered)"`,
		`aria-label="Sun 01 Mar 2026: no data"`,
		`91.67% uptime over the past 90 days`,
		`No checks in the past 90 days`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, c := range []struct {
		ok, fail int
		want     string
	}{{1000, 0, "full"}, {999, 1, "full"}, {995, 5, "high"}, {96, 4, "mid"}, {94, 6, "low"}, {0, 0, "none"}} {
		if got := (dayBar{OK: c.ok, Fail: c.fail}).Level(); got != c.want {
			t.Errorf("%d/%d: %s, want %s", c.ok, c.fail, got, c.want)
		}
	}
	if pct(share(9999, 1)) != "99.99%" || pct(share(99999, 1)) != "99.99%" {
		t.Error("a failure is rounded away to 100%")
	}
}

func TestWindowSpan(t *testing.T) {
	f := newFixture(t)
	start := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
	if got := f.h.span(start, start.Add(2*time.Hour)); got != "Thu 05 Mar 2026 02:00–04:00 CET" {
		t.Errorf("a window within a day: %q", got)
	}
	if got := f.h.span(start, start.Add(24*time.Hour)); got != "Thu 05 Mar 2026 02:00 CET to Fri 06 Mar 2026 02:00 CET" {
		t.Errorf("a window over midnight: %q", got)
	}
}
