package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

func fullTicket() Ticket {
	at := time.Date(2026, 4, 1, 8, 30, 0, 123, time.UTC)
	clock := func(k int) slaengine.Clock {
		return slaengine.Clock{Target: time.Duration(k) * time.Hour, Used: time.Minute, Left: -time.Second,
			Due: at.Add(time.Duration(k) * time.Hour), State: slaengine.StateWarning, Stopped: at.Add(time.Minute), Running: k == 1, At: at,
			Holds: &[]slaengine.Hold{{From: at.Add(time.Duration(k) * time.Hour), To: at.Add(time.Duration(k+2) * time.Hour)}}}
	}
	return Ticket{
		ID: 42, Type: ChangeReq, Priority: 2, Status: StatusPendingRelease, Queue: "q", Assignee: "a", Team: "net",
		Category: "vpn", Requester: Person{Name: "Ann", Email: "ann@x", Organisation: "Org"}, Subject: "subj ✓",
		Master: 7, Links: []Link{{Kind: "master", To: 7}, {Kind: "related", To: 9}}, External: []string{"J-1", ""},
		Participants: []string{"ann@x", "bob@y"}, Created: at, Updated: at.Add(time.Hour), Responded: at.Add(2 * time.Hour),
		Resolved: at.Add(3 * time.Hour), Events: 17, SLA: slaengine.Clocks{Response: clock(1), Resolution: clock(2)},
		Deadline: at.Add(time.Hour), Resolution: "fixed ✓", Peak: 1,
		Report: &IncidentReport{Summary: "s", Impact: "i", RootCause: "r", Actions: "a", Timeline: "t", Author: "mette",
			Written: at, Version: 2, Approver: "lead", Approved: at.Add(time.Minute)},
		Fired: []string{"P1/resolution/registered", "P1/response/warning"}, EscalateAt: at.Add(90 * time.Minute),
		Service: "DSD", Major: &MajorIncident{Service: "DSD", Declared: at, By: "mette", Owner: "mette", Updates: 2, NextUpdate: at.Add(time.Hour)},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, tk := range []Ticket{fullTicket(), {}, {ID: 1, Status: "odd-status", Type: "odd"}} {
		b, err := encodeTicket(&tk)
		if err != nil {
			t.Fatal(err)
		}
		var got Ticket
		if err := decodeTicket(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tk) {
			t.Errorf("round trip:\n%+v\n%+v", tk, got)
		}
		// Every truncation is an error, never a panic.
		for i := range b {
			var x Ticket
			if err := decodeTicket(b[:i], &x); err == nil {
				t.Errorf("truncated to %d of %d bytes decoded without error", i, len(b))
			}
		}
	}
	var x Ticket
	if err := decodeTicket([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, &x); err == nil {
		t.Errorf("garbage decoded")
	}
	if err := decodeTicket([]byte(`{"id":3,"status":"open","sla":{"Response":{"Running":true}},"deadline":"2026-01-01T00:00:00Z"}`), &x); err != nil ||
		x.ID != 3 || !x.SLA.Response.Running || x.Deadline.IsZero() {
		t.Errorf("JSON record: %+v, %v", x, err)
	}
}

// The binary projection names its fields by hand: a field added to Ticket or
// slaengine.Clock must be added to codec.go (and then counted here).
func TestCodecCoversEveryField(t *testing.T) {
	if n := reflect.TypeFor[Ticket]().NumField(); n != 28 {
		t.Errorf("Ticket has %d fields; codec.go encodes 28: add the new one to encodeTicket/decodeTicket", n)
	}
	var exported int
	ct := reflect.TypeFor[slaengine.Clock]()
	for i := range ct.NumField() {
		if ct.Field(i).IsExported() {
			exported++
		}
	}
	if exported != 9 {
		t.Errorf("slaengine.Clock has %d exported fields; codec.go encodes 9: add the new one to putClock/clock", exported)
	}
	if n := reflect.TypeFor[slaengine.Clocks]().NumField(); n != 2 {
		t.Errorf("slaengine.Clocks has %d fields; codec.go encodes 2", n)
	}
	if n := reflect.TypeFor[Person]().NumField(); n != 3 {
		t.Errorf("Person has %d fields; codec.go encodes 3", n)
	}
}
