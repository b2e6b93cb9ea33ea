package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// A clock held by a service window says so, and until when, in the detail
// pane; outside the window the line is the plain countdown.
func TestDetailShowsWindowHold(t *testing.T) {
	created := time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)
	win := slaengine.Hold{From: created.Add(30 * time.Minute), To: created.Add(150 * time.Minute)}
	pol := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	tl := slaengine.Timeline{Created: created, Priority: 2, Status: "new", Holds: []slaengine.Hold{win}}
	tk := store.Ticket{ID: 7, Subject: "DSD slow", Priority: 2, Status: store.StatusNew, Type: "incident", Service: "DSD",
		Created: created, SLA: slaengine.Compute(pol, tl, created)}
	d := newDetailModel(NewStyles(true), func() *KeyMap { k := newKeyMap(); return &k }(), time.UTC)
	d.policy = pol
	d.SetSize(80, 20)
	d.SetTicket(tk, nil)
	d.now = created.Add(time.Hour)
	if v := d.View(); !strings.Contains(v, "held: window until 03:00") {
		t.Fatalf("in the window, the clocks do not say they are held:\n%s", v)
	}
	d.now = created.Add(3 * time.Hour)
	if v := d.View(); strings.Contains(v, "held:") || !strings.Contains(v, "left, due") {
		t.Fatalf("after the window:\n%s", v)
	}
}
