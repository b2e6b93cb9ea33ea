package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

const servicesTOML = `
operator = "mette"
[[organisations]]
name = "Aarhus Kommune"
domains = ["aarhus.dk"]
contact = "spoc@aarhus.dk"
[[services]]
name = "MitID"
description = "MitID login"
subscribers = ["it@kk.dk"]
organisations = ["Aarhus Kommune"]
words = ["mitid"]
[[services]]
name = "DSD"
description = "Data Service Directory"
[major]
every = "30m"
hours = { "mon-sun" = "00:00-24:00" }
`

// The services of the config reach the store: a new ticket gets its
// service from the subject, a P1 incident is a major incident whose
// subscribers (listed, and the organisation's contact) get one mail each;
// desk major lists it, desk major update mails an update.
func TestMajorCommands(t *testing.T) {
	d := newScriptDesk(t, servicesTOML)
	j := d.ok("", "new", "--subject", "MitID login down", "--requester", "a@odense.dk", "--priority", "P1", "--type", "incident", "--no-ack")
	if j.Service != "MitID" || j.Major == nil || !j.Major.Open() {
		t.Fatalf("new P1: service %q major %+v", j.Service, j.Major)
	}
	if got := j.Major.NextUpdate.Sub(j.Major.Declared).Minutes(); got < 29.9 || got > 30.1 {
		t.Fatalf("next update %v after the declaration, want the config's 30m", got)
	}
	out, errOut, code := d.run("major", "--json")
	if code != 0 {
		t.Fatalf("desk major: %d %s", code, errOut)
	}
	var majors []majorJSON
	if err := json.Unmarshal([]byte(out), &majors); err != nil || len(majors) != 1 || majors[0].Ticket != "SD-1" || majors[0].Service != "MitID" || !majors[0].Open {
		t.Fatalf("desk major --json: %v %s", err, out)
	}
	_, errOut, code = d.run("major", "update", "SD-1", "Failover", "under", "way.")
	if code != 0 || !strings.Contains(errOut, "2 subscriber(s) of MitID mailed") {
		t.Fatalf("desk major update: %d %q", code, errOut)
	}
	st := d.store()
	all, _ := st.OutboxAll(0)
	to := map[string]int{}
	for _, m := range all {
		if m.Kind == "major" {
			to[strings.Join(m.To, ",")]++
		}
	}
	st.Close()
	if to["it@kk.dk"] != 2 || to["spoc@aarhus.dk"] != 2 || len(to) != 2 {
		t.Fatalf("subscriber mails (declared + update): %v", to)
	}
	if _, errOut, code := d.run("major", "update", "SD-1", " "); code != 2 || !strings.Contains(errOut, "the status update is empty") {
		t.Errorf("an empty update: exit %d %q", code, errOut)
	}

	// A P3 request declared by hand, with a service; an unknown one is
	// refused with the known ones named.
	d.ok("", "new", "--subject", "lookups slow", "--requester", "b@kk.dk", "--type", "request", "--no-ack")
	d.refused(`there is no service "Nope"; use one of MitID, DSD`, "update", "SD-2", "--service", "Nope")
	j = d.ok("", "major", "declare", "SD-2", "--service", "dsd", "every", "lookup", "times", "out")
	if j.Service != "DSD" || j.Major == nil || j.Major.Why != "every lookup times out" {
		t.Fatalf("declared: %+v", j)
	}
	out, _, _ = d.run("major")
	if !strings.Contains(out, "SD-2    DSD") || !strings.Contains(out, "SD-1    MitID") {
		t.Fatalf("desk major:\n%s", out)
	}
	d.ok("", "resolve", "SD-1", "Failed over.")
	out, _, _ = d.run("major")
	if !strings.Contains(out, "ended") {
		t.Fatalf("desk major after the resolution:\n%s", out)
	}
	out, _, _ = d.run("show", "SD-1")
	if !strings.Contains(out, "service   MitID") || !strings.Contains(out, "major     ended") || !strings.Contains(out, "major-end") {
		t.Fatalf("desk show:\n%s", out)
	}
}

func TestServiceConfigErrorsPointAtTheKey(t *testing.T) {
	_, err := loadText(t, "[[services]]\nname = \"A\"\n[[services]]\nname = \"a\"\n")
	wantConfigError(t, err, 4, "services.name", "listed twice")
	_, err = loadText(t, "[[services]]\nname = \"A\"\nsubscribers = [\"not an address\"]\n")
	wantConfigError(t, err, 3, "services.subscribers", "not an e-mail address")
	_, err = loadText(t, "[[services]]\nname = \"A\"\norganisations = [\"Nowhere\"]\n")
	wantConfigError(t, err, 3, "services.organisations", "no organisation \"Nowhere\"")
	_, err = loadText(t, "[major]\nevery = \"often\"\n")
	wantConfigError(t, err, 2, "major.every", "like 1h or 30m")
}

// The example config's services reach the store's directory: names,
// subscribers with the organisation's contact added, the mail rules and
// the cadence.
func TestExampleConfigServices(t *testing.T) {
	cfg, err := LoadConfig("../../desk.example.toml", false)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.directory()
	if len(d.Services) != 2 || d.Services[0].Name != "MitID" ||
		strings.Join(d.Services[0].Subscribers, ",") != "vagt@digst.example.dk,it-support@aarhus.dk" {
		t.Fatalf("services %+v", d.Services)
	}
	if got := d.ServiceFor(&store.Message{From: store.Person{Email: "a@b.dk"}, Subject: "NemLog-in fejler"}); got != "MitID" {
		t.Fatalf("mail rules: %q", got)
	}
	if d.Cadence.Every != time.Hour || d.Cadence.Location.String() != "Europe/Copenhagen" {
		t.Fatalf("cadence %+v", d.Cadence)
	}
}

// The console's :report draws the met share against the goal as bars.
func TestReportBarsForTheConsole(t *testing.T) {
	d := newScriptDesk(t, "operator = \"mette\"\n")
	d.ok("", "new", "--subject", "x", "--requester", "a@b.dk", "--priority", "P3", "--no-ack")
	d.ok("", "reply", "SD-1", "On it.")
	st := d.store()
	defer st.Close()
	txt, err := reportText(st, "this", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// One P3 response met of one: a full bar, the goal marker at 90%.
	if !strings.Contains(txt, "P3 response   ██████████████████┃█ 100.0% of 1, goal 90% ok") {
		t.Fatalf(":report:\n%s", txt)
	}
	if !regexp.MustCompile(`P1 response +no clock decided yet`).MatchString(txt) {
		t.Fatalf(":report:\n%s", txt)
	}
}

// [windows] pause_sla: a window planned from the CLI moves the deadlines
// of its service's tickets by its length (P2 runs around the clock), not
// those of other services; cancelled, they move back.
func TestWindowPausesSLAFromConfig(t *testing.T) {
	d := newScriptDesk(t, servicesTOML+`
[windows]
hours = "any"
pause_sla = true
[[windows.notice]]
upto = "7h"
days = 0
`)
	mitid := d.ok("", "new", "--subject", "MitID login slow", "--requester", "a@odense.dk", "--priority", "P2", "--no-ack")
	other := d.ok("", "new", "--subject", "Printer jam", "--requester", "b@odense.dk", "--priority", "P2", "--no-ack")
	if mitid.Service != "MitID" || other.Service == "MitID" || mitid.SLA.Response.Due == nil {
		t.Fatalf("services %q %q, response %+v", mitid.Service, other.Service, mitid.SLA.Response)
	}
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out, errOut, code := d.run("window", "plan", "--service", "MitID", "--start", start, "--duration", "2h", "--description", "database upgrade", "--json")
	if code != 0 {
		t.Fatalf("desk window plan: %d %s %s", code, out, errOut)
	}
	var w struct{ ID uint64 }
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.ID == 0 {
		t.Fatalf("desk window plan --json: %v %s", err, out)
	}
	moved := d.ok("", "show", mitid.ID)
	if got := moved.SLA.Response.Due.Sub(*mitid.SLA.Response.Due); got != 2*time.Hour {
		t.Errorf("MitID ticket's response due moved by %s, want the window's 2h", got)
	}
	if o := d.ok("", "show", other.ID); !o.SLA.Response.Due.Equal(*other.SLA.Response.Due) {
		t.Errorf("another service's ticket moved from %s to %s", other.SLA.Response.Due, o.SLA.Response.Due)
	}
	if _, errOut, code := d.run("window", "cancel", strconv.FormatUint(w.ID, 10)); code != 0 {
		t.Fatalf("desk window cancel: %d %s", code, errOut)
	}
	if back := d.ok("", "show", mitid.ID); !back.SLA.Response.Due.Equal(*mitid.SLA.Response.Due) {
		t.Errorf("after the cancellation the due is %s, want %s", back.SLA.Response.Due, mitid.SLA.Response.Due)
	}
}
