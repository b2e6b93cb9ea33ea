package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/demomail"
)

// A P1 registered over SSH is a major incident on every operator's
// console: the banner names it and the bell byte reaches each session
// (but not one whose operator turned the bell off); a status update
// written over SSH reaches each subscriber through the SMTP sink.
func TestServeMajorIncidentOnEverySession(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	demo, err := demomail.Start(ctx, demomail.Options{Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	mc := demo.Config()
	alice, bob, carl := newTestOp(t, "alice", "operator"), newTestOp(t, "bob", "lead"), newTestOp(t, "carl", "operator")
	extra := `
[[services]]
name = "MitID"
subscribers = ["spoc@aarhus.dk", "it@kk.dk"]
words = ["mitid"]
`
	carl.noBell = true
	ts := startTestServer(t, []testOp{alice, bob, carl}, extra, serveOptions{mail: &mc})
	a, b, c := ts.console(alice, 100, 30), ts.console(bob, 100, 30), ts.console(carl, 100, 30)
	for _, sc := range []*screen{a, b, c} {
		sc.waitFor(0, reReady)
	}
	marks := []int{a.mark(), b.mark(), c.mark()}
	_, errOut, code := ts.runCmd(alice, "new --subject 'MitID login down for everyone' --requester r@aarhus.dk --priority P1 --type incident --no-ack")
	if code != 0 {
		t.Fatalf("desk new over SSH: %d %s", code, errOut)
	}
	banner := regexp.MustCompile(`MAJOR INCIDENT MitID SD-1 · update due`)
	for i, sc := range []*screen{a, b, c} {
		sc.waitFor(marks[i], banner)
		sc.waitFor(marks[i], regexp.MustCompile(`ALERT SD-1 P1 new: MitID login down`))
	}
	rang := func(sc *screen, from int) bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return bytes.IndexByte(sc.buf[from:], '\a') >= 0
	}
	if !rang(a, marks[0]) || !rang(b, marks[1]) {
		t.Fatalf("the bell did not reach both operators' sessions: alice %v, bob %v", rang(a, marks[0]), rang(b, marks[1]))
	}
	if rang(c, marks[2]) {
		t.Fatal("the bell rang for carl, whose config says bell = false")
	}

	if _, errOut, code := ts.runCmd(bob, "major update SD-1 'Failover to the standby broker is under way.'"); code != 0 || !strings.Contains(errOut, "2 subscriber(s) of MitID mailed") {
		t.Fatalf("desk major update over SSH: %d %s", code, errOut)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		got := map[string]bool{}
		for _, m := range demo.Sent() {
			if strings.Contains(m.Subject, "Update: major incident MitID") && strings.Contains(m.Body, "standby broker") {
				got[strings.Join(m.To, ",")] = true
			}
		}
		if got["spoc@aarhus.dk"] && got["it@kk.dk"] && len(got) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the update did not reach each subscriber through SMTP: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
