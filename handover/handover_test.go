package handover

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// A night shift 22:00–06:00 on a 24x7 calendar, by hand: SD-1 (P2, from
// the day, never answered) breaches its response during the shift; SD-2
// (from the day) is escalated at 23:10; SD-3 is registered at 23:10 and
// resolved at 01:00.
func TestHandoverOfANightShift(t *testing.T) {
	var now atomic.Int64
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	set := func(s string) { now.Store(at(s).UnixNano()) }
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	cal := slaengine.AlwaysOpen()
	st, err := store.Open(t.TempDir(), store.Options{Policy: slaengine.DefaultPolicy(cal), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mk := func(subject string, p store.Priority, typ store.Type) store.TicketID {
		tk, err := st.Create("dan", store.NewTicket{Type: typ, Priority: p, Queue: "q", Subject: subject, Requester: store.Person{Email: "r@x.dk"}})
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	set("2026-12-07 21:50")
	day := mk("VPN slow", 2, store.Incident)
	old := mk("Printer", 4, store.Incident)
	set("2026-12-07 23:10")
	night := mk("Password reset", 3, store.Request)
	if _, err := st.Escalate(old, "eva", "operations", "paper feed broken"); err != nil {
		t.Fatal(err)
	}
	set("2026-12-08 01:00")
	if _, _, err := st.Resolve(night, "eva", "Reset."); err != nil {
		t.Fatal(err)
	}
	set("2026-12-08 06:00")
	h, err := Build(st, at("2026-12-07 22:00"), at("2026-12-08 06:00"))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(items []Item) (out []string) {
		for _, it := range items {
			out = append(out, it.Ticket.String()+" "+it.At.Format("15:04")+" "+it.What)
		}
		return out
	}
	check := func(name string, got []Item, want ...string) {
		t.Helper()
		if g := strings.Join(ids(got), "; "); g != strings.Join(want, "; ") {
			t.Errorf("%s: %q, want %q", name, g, strings.Join(want, "; "))
		}
	}
	check("registered", h.Registered, "SD-3 23:10 request")
	check("resolved", h.Resolved, "SD-3 01:00 resolved")
	check("escalated", h.Escalated, "SD-2 23:10 to team operations by eva")
	// The default P2 targets: response 4h, resolution 8h, from 21:50.
	check("breached", h.Breached, "SD-1 01:50 response breached", "SD-1 05:50 resolution breached")
	if len(h.Hot) == 0 || h.Hot[0].Ticket != day {
		t.Errorf("hot: %+v, want SD-1 first", h.Hot)
	}
	if len(h.Majors) != 0 {
		t.Errorf("majors: %+v", h.Majors)
	}
	txt := h.Text(time.UTC)
	for _, want := range []string{"Shift handover Mon 07 Dec 22:00 – Tue 08 Dec 06:00", "1 registered · 1 escalations · 2 breaches · 1 resolved · 0 major incident(s) open"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
}
