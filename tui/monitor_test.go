package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// fitsScreen fails the test when the screen is not exactly w x h.
func (d *desk) fitsScreen(w, h int) {
	d.t.Helper()
	lines := strings.Split(d.screen(), "\n")
	if len(lines) != h {
		d.t.Errorf("%d lines, want %d:\n%s", len(lines), h, d.screen())
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			d.t.Errorf("line %d is %d wide: %q", i, n, l)
		}
	}
}

func record(t *testing.T, st *store.Store, rule store.ProbeRule, ok bool, detail string) store.ProbeState {
	t.Helper()
	p, err := st.RecordProbe(rule, store.ProbeResult{OK: ok, Detail: detail, Latency: 42 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// :monitor lists every probe, the outage first with its incident, which
// enter opens; it is read again on the clock while open; what a probed
// server said never reaches the terminal raw.
func TestMonitorOverlay(t *testing.T) {
	st := openStore(t, nil)
	st.SetDirectory(store.Directory{Services: []store.Service{{Name: "DSD"}, {Name: "MitID"}}})
	health := store.ProbeRule{Service: "DSD", Name: "health", FailAfter: 2}
	record(t, st, health, false, "connection refused")
	p := record(t, st, health, false, "connection refused")
	if p.State != store.ProbeDown || p.Outage == 0 {
		t.Fatalf("the probe is %s, incident %s: want down with one", p.State, p.Outage)
	}
	evil := store.ProbeRule{Service: "MitID", Name: "broker", FailAfter: 2}
	record(t, st, evil, true, "\x1b]0;pwned\x07HTTP 200 \x1b[2Jok")

	d := attachDesk(t, st, nil, Options{})
	d.keys(":")
	d.typeText("monitor")
	d.keys("enter")
	d.wantScreen("Monitoring: 2 probes · 1 down · 1 up", "STATE", "INCIDENT", "down", "health", p.Outage.String(),
		"connection refused", "broker", "HTTP 200", "0.0%", "100%", "42ms")
	raw := d.m.View().Content
	for _, bad := range []string{"\x1b]0", "\x07", "\x1b[2J", "pwned"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("the probe's detail reached the terminal raw (%q): %q", bad, raw)
		}
	}
	lines := strings.Split(d.screen(), "\n")
	down, up := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "health") {
			down = i
		}
		if strings.Contains(l, "broker") {
			up = i
		}
	}
	if down < 0 || up < down {
		t.Fatalf("the outage is not listed first:\n%s", d.screen())
	}
	d.fitsScreen(80, 24)

	// Read again every few seconds while open.
	record(t, st, evil, false, "timeout")
	d.send(tickMsg(time.Now().Add(monitorEvery)))
	d.wantScreen("1 down · 1 failing", "timeout")
	if strings.Contains(d.screen(), "HTTP 200") {
		t.Fatalf("the overlay was not read again:\n%s", d.screen())
	}

	// Enter on a probe without an incident says so; on the outage it
	// opens the incident.
	d.keys("j", "enter")
	d.wantScreen("MitID broker has no open incident (it is failing)")
	d.keys("k", "enter")
	d.wantScreen(p.Outage.String(), "DSD unavailable (monitoring: health)")
	if d.m.overlay != nil {
		t.Fatal("the monitor is still open over the incident")
	}

	// Wide terminals get one line a probe; q closes.
	d.send(tea.WindowSizeMsg{Width: 150, Height: 40})
	d.keys("esc", ":")
	d.typeText("mon")
	d.keys("enter")
	d.wantScreen("LAST CHECK")
	d.fitsScreen(150, 40)
	d.keys("q")
	if strings.Contains(d.screen(), "Monitoring: 2 probes") {
		t.Fatalf("q did not close the monitor:\n%s", d.screen())
	}
}

func TestMonitorOverlaySaysHowToAddProbes(t *testing.T) {
	d := newDesk(t, Options{})
	d.keys(":")
	d.typeText("mon")
	d.keys("enter")
	d.wantScreen("Monitoring: 0 probes", "No probe has reported yet", "[[services.probes]]")
	d.fitsScreen(80, 24)
	d.keys("esc")
	if strings.Contains(d.screen(), "Monitoring:") {
		t.Fatal("esc did not close the monitor")
	}
}

// windowDesk is a session on a store with two services and Borger.dk's
// notice rules in Copenhagen time.
func windowDesk(t *testing.T, st *store.Store, o Options) *desk {
	t.Helper()
	loc := slaengine.DefaultBusinessCalendar().Location
	st.SetDirectory(store.Directory{
		Services: []store.Service{{Name: "DSD", Description: "Data Service Directory"}, {Name: "MitID", Description: "MitID login"}},
		Windows:  store.DefaultWindowRules(loc),
	})
	o.Location = loc
	return attachDesk(t, st, nil, o)
}

// at is a night start days from now, as an operator types it.
func nightIn(days int) (string, time.Time) {
	loc := slaengine.DefaultBusinessCalendar().Location
	d := time.Now().In(loc).AddDate(0, 0, days)
	at := time.Date(d.Year(), d.Month(), d.Day(), 1, 0, 0, 0, loc)
	return at.Format("2006-01-02 15:04"), at
}

// :window plans a window through the form, shows it, says the store's
// refusal as the store words it, and cancels after a y.
func TestWindowOverlayPlansAndCancels(t *testing.T) {
	st := openStore(t, nil)
	d := windowDesk(t, st, Options{})
	d.keys(":")
	d.typeText("window")
	d.keys("enter")
	d.wantScreen("Service windows · times in Europe/Copenhagen", "No service windows are planned", "n plans one")
	d.keys("n")
	d.wantScreen("Plan a service window", "‹ DSD ›", "Data Service Directory (1 of 2)", "in Europe/Copenhagen")
	d.fitsScreen(80, 24)

	// Enter on an unfinished form goes to what is missing.
	d.keys("enter")
	d.wantScreen("when does it start?")
	d.typeText("next tuesday")
	d.keys("enter")
	d.wantScreen(`start "next tuesday": write it as`)
	for range len("next tuesday") {
		d.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	start, at := nightIn(10)
	d.typeText(start)
	d.keys("enter")
	d.wantScreen("how long does it last?")
	d.typeText("2h")
	d.keys("tab")
	d.typeText("Database upgrade; DSD answers 503 meanwhile")
	d.keys("enter")
	d.wantScreen("window #1 of DSD planned, ", "#1", "DSD", "planned", "Database upgrade", "planned by mette")
	ws, err := st.Windows(time.Now())
	if err != nil || len(ws) != 1 {
		t.Fatalf("windows %+v, %v: want the one planned", ws, err)
	}
	if w := ws[0]; w.Service != "DSD" || !w.Start.Equal(at) || w.Duration != 2*time.Hour || w.By != "mette" || w.Override != "" ||
		w.Description != "Database upgrade; DSD answers 503 meanwhile" {
		t.Fatalf("the window: %+v (want DSD at %s for 2h by mette)", w, at)
	}
	d.fitsScreen(80, 24)

	// Too soon for the rules: the store's words, and the form keeps what
	// was typed.
	d.keys("n", "m") // m jumps to MitID
	d.wantScreen("‹ MitID ›")
	soon, _ := nightIn(1)
	d.keys("tab")
	d.typeText(soon)
	d.keys("tab")
	d.typeText("2h")
	d.keys("tab")
	d.typeText("Quick fix")
	d.keys("enter")
	want := "a window of up to 2 h is announced 3 days ahead; this one starts in "
	if f := d.m.flash.text; !strings.HasPrefix(f, want) || !strings.HasSuffix(f, "plan it by the rules, or a lead overrides them (--override, or ! in the console)") {
		t.Fatalf("the refusal is not the store's: %q", f)
	}
	d.wantScreen("a window of up to 2 h is announced 3 days ahead", "Plan a service window", "Quick fix")
	if strings.Contains(d.screen(), "[ ] plan it although") {
		t.Fatalf("an operator is offered the override:\n%s", d.screen())
	}
	if ws, _ := st.Windows(time.Now()); len(ws) != 1 {
		t.Fatalf("%d windows after the refusal, want 1", len(ws))
	}

	// x asks first; n keeps it, y cancels it.
	d.keys("esc")
	d.wantScreen("Service windows: 1 planned")
	d.keys("x")
	d.wantScreen("Cancel window #1 of DSD", "y cancels it, n keeps it")
	d.keys("n")
	d.wantScreen("window #1 is kept")
	if ws, _ := st.Windows(time.Now()); !ws[0].Cancelled.IsZero() {
		t.Fatal("n cancelled the window")
	}
	d.keys("x", "y")
	d.wantScreen("window #1 of DSD cancelled", "cancelled by mette")
	if ws, _ := st.Windows(time.Now()); ws[0].Cancelled.IsZero() || ws[0].CancelledBy != "mette" {
		t.Fatalf("the window is not cancelled: %+v", ws[0])
	}
	d.keys("x")
	d.wantScreen("window #1 is cancelled already")
	d.fitsScreen(80, 24)
}

// A lead may override the notice rules (recorded with the window); a
// viewer may look but not plan or cancel.
func TestWindowOverrideAndViewer(t *testing.T) {
	st := openStore(t, nil)
	st.SetRoles(map[string]store.Role{"lena": store.RoleLead, "vic": store.RoleViewer})
	d := windowDesk(t, st, Options{Operator: "lena", Role: RoleLead})
	d.keys(":")
	d.typeText("window")
	d.keys("enter", "n", "tab")
	soon, _ := nightIn(1)
	d.typeText(soon)
	d.keys("tab")
	d.typeText("2h")
	d.keys("tab")
	d.typeText("Emergency patch")
	d.keys("tab")
	d.wantScreen("[ ] plan it although it breaks the notice rules")
	d.keys("!")
	d.wantScreen("[x] plan it although")
	d.keys("enter")
	d.wantScreen("window #1 of DSD planned", "override by lena: a window of up to 2 h")
	if f := d.m.flash.text; !strings.HasSuffix(f, "; override recorded") {
		t.Fatalf("the message does not say the override is recorded: %q", f)
	}
	ws, _ := st.Windows(time.Now())
	if len(ws) != 1 || ws[0].Override != "lena" || !strings.Contains(ws[0].OverrideWhy, "announced 3 days ahead") {
		t.Fatalf("the override is not recorded: %+v", ws)
	}

	v := attachDesk(t, st, nil, Options{Operator: "vic", Role: RoleViewer, Location: d.m.loc})
	v.keys(":")
	v.typeText("windows")
	v.keys("enter")
	v.wantScreen("#1", "Emergency patch")
	if s := v.screen(); strings.Contains(s, "plan a window") || strings.Contains(s, "cancel it") {
		t.Fatalf("a viewer is offered n or x:\n%s", s)
	}
	v.keys("n")
	v.wantScreen("read-only: vic is a viewer")
	v.keys("x")
	v.wantScreen("read-only: vic is a viewer")
	if ws, _ := st.Windows(time.Now()); len(ws) != 1 || !ws[0].Cancelled.IsZero() {
		t.Fatalf("a viewer changed the windows: %+v", ws)
	}
}

func TestHelpListsMonitorAndWindow(t *testing.T) {
	d := newDesk(t, Options{})
	h := ansi.Strip(helpView(d.m.styles, &d.m.keys))
	for _, want := range []string{":monitor  :mon", "probes: state, 7-day uptime", ":window  :windows", "planned service windows"} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
