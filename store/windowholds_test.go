package store

import (
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// With PauseSLA, a planned window of a ticket's service stops its clocks:
// the deadline moves by the window at once, the clock stands still during
// it and runs on after it; other services' tickets are untouched; the
// holds survive a restart; cancelling the window or switching PauseSLA off
// moves the deadline back.
func TestWindowPausesSLA(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openTest(t, dir, clk, testPolicy())
	s.SetRoles(map[string]Role{"lena": RoleLead})
	dirOn := Directory{Services: []Service{{Name: "DSD"}, {Name: "OOTS"}}, Windows: WindowRules{PauseSLA: true}}
	s.SetDirectory(dirOn)
	dsd := mustCreate(t, s, NewTicket{Priority: 2, Subject: "DSD is slow", Service: "DSD"})
	other := mustCreate(t, s, NewTicket{Priority: 2, Subject: "OOTS is slow", Service: "OOTS"})
	target, due0 := dsd.SLA.Response.Target, dsd.SLA.Response.Due
	if target <= 0 || due0.IsZero() {
		t.Fatalf("no running response clock: %+v", dsd.SLA.Response)
	}
	start, dur := clk.Now().Add(target/4), time.Hour
	w, err := s.PlanWindow("lena", Window{Service: "DSD", Start: start, Duration: dur, Description: "database upgrade"}, false)
	if err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, dsd.ID)
	if !got.SLA.Response.Due.Equal(due0.Add(dur)) || !got.Deadline.Equal(due0.Add(dur)) {
		t.Fatalf("response due %s (deadline %s) after planning a %s window, want %s", got.SLA.Response.Due, got.Deadline, dur, due0.Add(dur))
	}
	if o := mustGet(t, s, other.ID); !o.SLA.Response.Due.Equal(other.SLA.Response.Due) {
		t.Errorf("another service's ticket moved: due %s, was %s", o.SLA.Response.Due, other.SLA.Response.Due)
	}
	pol := s.Policy()
	project := func(tk Ticket, at time.Time) slaengine.Clock {
		return pol.ProjectFor(string(tk.Type), slaengine.Priority(tk.Priority), tk.SLA, at).Response
	}
	if c := project(got, start.Add(30*time.Minute)); c.Used != target/4 || c.State == slaengine.StateBreached {
		t.Errorf("in the window the clock ran: used %s, want %s", c.Used, target/4)
	}
	if c := project(got, start.Add(dur+10*time.Minute)); c.Used != target/4+10*time.Minute {
		t.Errorf("after the window: used %s, want %s", c.Used, target/4+10*time.Minute)
	}

	// A restart keeps the holds, in the stored clocks and for new writes.
	s.Close()
	s = openTest(t, dir, clk, testPolicy())
	s.SetRoles(map[string]Role{"lena": RoleLead})
	s.SetDirectory(dirOn)
	got = mustGet(t, s, dsd.ID)
	if c := project(got, start.Add(30*time.Minute)); c.Used != target/4 {
		t.Errorf("after a restart, in the window: used %s, want %s", c.Used, target/4)
	}
	mustUpdate(t, s, dsd.ID, setField("category", "db"))
	if got = mustGet(t, s, dsd.ID); !got.SLA.Response.Due.Equal(due0.Add(dur)) {
		t.Errorf("after a restart and a write: due %s, want %s", got.SLA.Response.Due, due0.Add(dur))
	}

	// Cancelled before it began: the deadline is back.
	if _, err := s.CancelWindow(w.ID, "lena", "postponed"); err != nil {
		t.Fatal(err)
	}
	if got = mustGet(t, s, dsd.ID); !got.SLA.Response.Due.Equal(due0) {
		t.Errorf("after cancelling the window: due %s, want %s", got.SLA.Response.Due, due0)
	}

	// PauseSLA off: a window plans, but moves nothing.
	if _, err := s.PlanWindow("lena", Window{Service: "DSD", Start: start, Duration: dur, Description: "database upgrade"}, false); err != nil {
		t.Fatal(err)
	}
	if got = mustGet(t, s, dsd.ID); !got.SLA.Response.Due.Equal(due0.Add(dur)) {
		t.Fatalf("replanned: due %s, want %s", got.SLA.Response.Due, due0.Add(dur))
	}
	off := dirOn
	off.Windows.PauseSLA = false
	s.SetDirectory(off)
	if got = mustGet(t, s, dsd.ID); !got.SLA.Response.Due.Equal(due0) {
		t.Errorf("with pause_sla switched off: due %s, want %s", got.SLA.Response.Due, due0)
	}
}
