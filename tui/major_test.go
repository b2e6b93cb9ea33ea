package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

func withServices(d *desk) {
	d.st.SetDirectory(store.Directory{Services: []store.Service{
		{Name: "MitID", Description: "MitID login", Subscribers: []string{"spoc@aarhus.dk", "it@kk.dk"}},
		{Name: "DSD", Description: "Data Service Directory"},
	}})
}

// A P1 incident puts a banner on the screen until it is resolved; U writes
// the status update the subscribers get; the detail names the incident.
func TestMajorIncidentBannerAndUpdate(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	withServices(d)
	nt := ticket("MitID login fails for everyone", "Søren Østergård", 1)
	nt.Service = "MitID"
	if _, err := d.st.Create("test", nt); err != nil {
		t.Fatal(err)
	}
	d.sync()
	d.wantScreen("MAJOR INCIDENT MitID SD-2 · update due")
	lines := strings.Split(d.screen(), "\n")
	// The alert of the new P1 and the major incident, a line each.
	if len(lines) != 24 || !strings.Contains(lines[1], "ALERT SD-2 P1 new") || !strings.Contains(lines[2], "MAJOR INCIDENT") {
		t.Fatalf("the banner is not the second and third of 24 lines:\n%s", d.screen())
	}

	// U on a ticket that is no major incident says how to declare one.
	d.keys("G") // SD-1, the P3, is last
	d.keys("U")
	d.wantScreen("SD-1 is not an open major incident — :major declares one")

	d.keys("g", "enter", "U")
	d.wantScreen("Status update on major incident SD-2", "2 subscribers of MitID")
	d.typeText("Failover to the second broker is under way.")
	d.keys("ctrl+s")
	d.wantScreen("status update published")
	got := d.get(2)
	if got.Major.Updates != 1 {
		t.Fatalf("updates %d, want 1", got.Major.Updates)
	}
	all, _ := d.st.OutboxAll(0)
	updates := 0
	for _, m := range all {
		if m.Kind == "major" && strings.Contains(m.Subject, "Update: major incident") && strings.Contains(m.Body, "second broker") {
			updates++
		}
	}
	if updates != 2 {
		t.Fatalf("%d update mails, want one per subscriber", updates)
	}
	d.sync()
	d.wantScreen("major", "1 update(s) sent", "status update published to 2 subscriber(s)")

	// Resolving ends it: the banner goes, the list gets its line back.
	if _, _, err := d.st.Resolve(2, "pieter", "Failed over."); err != nil {
		t.Fatal(err)
	}
	d.sync()
	if strings.Contains(d.screen(), "MAJOR INCIDENT") {
		t.Fatalf("banner after the resolution:\n%s", d.screen())
	}
	if n := len(strings.Split(d.screen(), "\n")); n != 24 {
		t.Fatalf("%d lines without the banner, want 24", n)
	}
}

// :major declares a major incident on any ticket, with its service; S sets
// a service; :service narrows the list to one.
func TestDeclareMajorAndServices(t *testing.T) {
	d := newDesk(t, Options{}, ticket("Lookups time out", "Anna Berg", 3), ticket("Printer jams", "Jens Holm", 4))
	withServices(d)
	d.keys(":")
	d.typeText("major dsd every lookup times out")
	d.keys("enter")
	d.sync()
	got := d.get(1)
	if !got.Major.Open() || got.Service != "DSD" || got.Major.Why != "every lookup times out" {
		t.Fatalf("after :major: service %q major %+v", got.Service, got.Major)
	}
	d.wantScreen("MAJOR INCIDENT DSD SD-1")
	d.keys("U")
	d.wantScreen("Status update on SD-1: no subscribers, kept in the history only")
	d.keys("esc")

	// S picks a service for the printer ticket.
	d.keys("j", "S")
	d.wantScreen("Service of SD-2", "MitID", "DSD", "(none)")
	d.typeText("m")
	d.keys("enter")
	d.sync()
	if s := d.get(2).Service; s != "MitID" {
		t.Fatalf("service %q after S, want MitID", s)
	}
	d.keys(":")
	d.typeText("service mitid")
	d.keys("enter")
	d.wantScreen("service:MitID", "Printer jams", "[All 1]")
	if list := strings.Join(strings.Split(d.screen(), "\n")[3:], "\n"); strings.Contains(list, "Lookups time out") {
		t.Fatalf(":service mitid shows a DSD ticket:\n%s", d.screen())
	}
	d.keys(":")
	d.typeText("service nope")
	d.keys("enter")
	d.wantScreen(`no service named "nope" (services: MitID, DSD)`)
}

// waitBoard waits until the board has seen every write, without handing
// the snapshot to the session.
func (d *desk) waitBoard() {
	d.t.Helper()
	want := 0
	d.st.Tickets(func(t store.Ticket) bool { want += t.Events; return true })
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := 0
		d.board.Snapshot().Rows.Range(0, func(_ int, r *Row) bool { got += r.T.Events; return true })
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("board did not catch up: %d of %d events", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rings reports whether the session's answer to the board's wake-up rings
// the terminal bell, and hands the other messages on as the runtime would.
func (d *desk) rings() bool {
	d.t.Helper()
	d.waitBoard()
	_, cmd := d.m.Update(boardMsg{})
	rang := false
	for _, msg := range collect(cmd, 200*time.Millisecond) {
		if r, ok := msg.(tea.RawMsg); ok && fmt.Sprint(r.Msg) == "\a" {
			rang = true
		}
	}
	return rang
}

// A new P1 rings every operator's bell once and shows in the banner; a
// viewer's stays quiet; an operator can turn the bell off.
func TestAlertsRingOncePerSession(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	st := d.st
	viewer := attachDesk(t, st, nil, Options{Operator: "vera", Role: RoleViewer})
	off := false
	quiet := attachDesk(t, st, nil, Options{Operator: "pieter", Bell: &off})
	if _, err := st.Create("mail", ticket("Borger.dk down", "Søren Østergård", 1)); err != nil {
		t.Fatal(err)
	}
	if !d.rings() {
		t.Fatal("a new P1 did not ring the operator's bell")
	}
	d.wantScreen("ALERT SD-2 P1 new: Borger.dk down")
	if viewer.rings() {
		t.Fatal("a viewer's bell rang")
	}
	if quiet.rings() {
		t.Fatal("the bell rang for an operator who turned it off")
	}
	quiet.wantScreen("ALERT SD-2 P1 new") // still shown
	// Another change to the same ticket is no new alert.
	if _, err := st.AddNote(2, "pieter", "looking"); err != nil {
		t.Fatal(err)
	}
	if d.rings() {
		t.Fatal("a note on the P1 rang again")
	}
	// A P3 is no alert; raising it to P2 is.
	if _, err := st.SetField(1, "pieter", store.FieldPriority, "P3", "P2"); err != nil {
		t.Fatal(err)
	}
	if !d.rings() {
		t.Fatal("raising a ticket to P2 did not ring")
	}
	d.wantScreen("ALERT (2) SD-1 P2 raised from P3")
}

func TestHandoverPage(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys(":")
	d.typeText("handover")
	d.keys("enter")
	d.wantScreen("Shift handover", "1 registered", "SD-1")
	d.keys("esc", ":")
	d.typeText("handover soon")
	d.keys("enter")
	d.wantScreen(":handover soon: give how far back")
}

func TestOncallPage(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	r, err := slaengine.Spec{}.CompileRoster([]slaengine.OnCallSpec{
		{Name: "system-owner", Contact: "owner@example.dk", Hours: map[string]string{"mon-sun": "00:00-24:00"}},
	}, nil, slaengine.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.keys(":")
	d.typeText("oncall")
	d.keys("enter")
	d.wantScreen("On call", "no on-call roster")
	d.st.SetDirectory(store.Directory{Roster: r})
	d.keys("esc", ":")
	d.typeText("oncall")
	d.keys("enter")
	d.wantScreen("On call", "on call  system-owner <owner@example.dk>")
}
