package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// deskIn runs desk in-process with stdin.
func deskIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = runWith(args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

// scriptDesk is a data directory and a config, run as the config's operator.
type scriptDesk struct {
	t        *testing.T
	dir, cfg string
}

func newScriptDesk(t *testing.T, config string) *scriptDesk {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(nil)})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(t.TempDir(), "desk.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return &scriptDesk{t: t, dir: dir, cfg: cfg}
}

// run runs `desk ARGS` (stdin "" unless given with in).
func (d *scriptDesk) run(args ...string) (string, string, int) {
	d.t.Helper()
	return d.in("", args...)
}

func (d *scriptDesk) in(stdin string, args ...string) (string, string, int) {
	d.t.Helper()
	return deskIn(d.t, stdin, append([]string{"--data", d.dir, "--config", d.cfg}, args...)...)
}

// ok runs the command, wants exit 0 and returns the ticket it printed
// (asks for --json).
func (d *scriptDesk) ok(stdin string, args ...string) ticketJSON {
	d.t.Helper()
	out, stderr, code := d.in(stdin, append(args, "--json")...)
	if code != 0 {
		d.t.Fatalf("desk %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	var j ticketJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.ID == "" || j.Status == "" {
		d.t.Fatalf("desk %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
	return j
}

// refused wants exit 1 with want in the message.
func (d *scriptDesk) refused(want string, args ...string) {
	d.t.Helper()
	out, stderr, code := d.run(args...)
	if code != 1 || !strings.Contains(stderr, want) || out != "" {
		d.t.Errorf("desk %s: exit %d, stdout %q, stderr %q; want 1 and %q", strings.Join(args, " "), code, out, stderr, want)
	}
}

func (d *scriptDesk) store() *store.Store {
	d.t.Helper()
	st, err := store.Open(d.dir, store.Options{Policy: slaengine.DefaultPolicy(nil)})
	if err != nil {
		d.t.Fatal(err)
	}
	return st
}

func lastEvent(j ticketJSON) eventJSON { return j.History[len(j.History)-1] }

func TestScriptTicketLifecycle(t *testing.T) {
	d := newScriptDesk(t, "operator = \"mette\"\n")

	// desk new with an address: the acknowledgement is queued with the
	// ticket; without [mail] it waits in the outbox, and desk says so.
	out, stderr, code := d.in("It drops every five minutes.\nSince 9:00.\n", "new", "--subject", "VPN drops",
		"--requester", "Anna Berg <Anna@Example.org>", "--priority", "p2", "--body", "-", "--json")
	var a ticketJSON
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
		t.Fatalf("new: exit %d %q\n%s", code, stderr, out)
	}
	if a.ID != "SD-1" || a.Status != "new" || a.Priority != "P2" || a.Type != "incident" || a.Queue != "2nd-line" ||
		a.Requester.Email != "anna@example.org" || a.Requester.Name != "Anna Berg" || a.Subject != "VPN drops" {
		t.Fatalf("new: %+v", a)
	}
	if !strings.Contains(stderr, "acknowledgement to anna@example.org waits in the outbox: no [mail]") {
		t.Errorf("new without [mail]: stderr %q", stderr)
	}
	if e := lastEvent(a); e.Kind != "note" || e.Actor != "mette" || e.Text != "It drops every five minutes.\nSince 9:00.\n" {
		t.Fatalf("the body from stdin: %+v", e)
	}
	st := d.store()
	acks, err := st.OutboxAll(0)
	st.Close()
	if err != nil || len(acks) != 1 || acks[0].Kind != "ack" || acks[0].Ticket != 1 || acks[0].To[0] != "anna@example.org" ||
		!strings.Contains(acks[0].Body, "registered as ticket SD-1.") || !strings.Contains(acks[0].Body, "P2 (high)") ||
		!strings.Contains(acks[0].Body, "Dear Anna Berg") || !strings.HasPrefix(acks[0].Subject, "[SD-1] VPN drops") {
		t.Fatalf("outbox: %v %+v", err, acks)
	}

	// The text output is desk show's.
	out, _, code = d.run("note", "SD-1", "checked", "the", "relay")
	shown, _, _ := d.run("show", "SD-1")
	if code != 0 || !strings.HasPrefix(out, "SD-1  VPN drops\nstatus new · P2 · incident") || !strings.Contains(out, "checked the relay") ||
		strings.SplitN(out, "\n", 3)[1] != strings.SplitN(shown, "\n", 3)[1] {
		t.Fatalf("note: exit %d\n%s\nshow:\n%s", code, out, shown)
	}

	b := d.ok("", "new", "--subject", "Walk-in: new badge", "--name", "Jens", "--type", "request", "--priority", "4")
	if b.ID != "SD-2" || b.Type != "request" || b.Priority != "P4" || b.Requester.Email != "" {
		t.Fatalf("new without an address: %+v", b)
	}
	d.refused("SD-2 is new and nobody has answered it; resolve it first", "close", "SD-2")

	a = d.ok("", "update", "SD-1", "--assignee", "mette", "--type", "request", "--queue", "2nd-line", "--priority", "P1")
	if a.Assignee != "mette" || a.Type != "request" || a.Priority != "P1" {
		t.Fatalf("update: %+v", a)
	}
	a = d.ok("", "update", "SD-1", "--assignee", "-", "--priority", "P2")
	if a.Assignee != "" || a.Priority != "P2" {
		t.Fatalf("update --assignee -: %+v", a)
	}
	a = d.ok("Looking at the concentrator now.", "reply", "SD-1", "-")
	if a.Status != "open" || a.Assignee != "mette" || lastEvent(a).Kind != "field" || a.History[len(a.History)-3].Kind != "message-out" ||
		a.History[len(a.History)-3].Message.Body != "Looking at the concentrator now." {
		t.Fatalf("reply: %+v", a.History[len(a.History)-3:])
	}

	// Escalation and hand back.
	a = d.ok("", "update", "SD-1", "--team", "operations", "--note", "Concentrator logs attached")
	if a.Status != "escalated" || a.Team != "operations" {
		t.Fatalf("escalate: %+v", a)
	}
	d.refused("handing back needs the team's findings", "update", "SD-1", "--status", "open")
	if _, stderr, _ := d.run("update", "SD-1", "--status", "open"); !strings.Contains(stderr, "--note TEXT") {
		t.Errorf("hand back without findings does not say how: %q", stderr)
	}
	a = d.ok("", "update", "SD-1", "--status", "open", "--note", "Firmware bug, patched")
	if a.Status != "open" || a.Team != "" || !strings.Contains(a.History[len(a.History)-3].Text, "Firmware bug, patched") {
		t.Fatalf("hand back: %+v", a)
	}
	a = d.ok("", "update", "SD-1", "--status", "waiting", "--note", "asked for the client log")
	if a.Status != "waiting" || lastEvent(a).Text != "asked for the client log" {
		t.Fatalf("waiting with a note: %+v", lastEvent(a))
	}

	// Link, reference, resolve the master: the child goes with it.
	b = d.ok("", "link", "SD-2", "--master", "SD-1")
	if b.Master != "SD-1" {
		t.Fatalf("link: %+v", b)
	}
	d.refused("SD-2 is under SD-1 already: links may not loop", "link", "SD-1", "--master", "SD-2")
	d.refused("SD-9 does not exist; check the number", "link", "SD-1", "--master", "SD-9")
	d.refused("there is no ticket SD-9", "link", "SD-9", "--master", "SD-1")
	a = d.ok("", "ref", "SD-1", "--add", "JIRA:NSP-123")
	if len(a.External) != 1 || a.External[0] != "jira:NSP-123" {
		t.Fatalf("ref: %+v", a.External)
	}
	d.refused("has the reference jira:NSP-123 already", "ref", "SD-1", "--add", "jira:NSP-123")
	out, stderr, code = d.run("resolve", "SD-1", "Patched", "the", "firmware.")
	if code != 0 || !strings.Contains(out, "status resolved") || !strings.Contains(stderr, "the linked SD-2") {
		t.Fatalf("resolve: exit %d %q\n%s", code, stderr, out)
	}
	if b := d.ok("", "show", "SD-2"); b.Status != "resolved" {
		t.Fatalf("linked ticket: %+v", b)
	}

	// P2 while open: closing needs an approved report.
	d.refused("SD-1 was P1 while open and needs an approved incident report to close; write one", "close", "SD-1")
	d.refused("an incident report needs at least a summary", "report-incident", "SD-1", "--impact", "all VPN users")
	a = d.ok("", "report-incident", "SD-1", "--summary", "VPN concentrator dropped sessions", "--impact", "all VPN users, 2h")
	if a.Report == nil || a.Report.Version != 1 || a.Report.Author != "mette" || a.Report.Impact != "all VPN users, 2h" {
		t.Fatalf("report: %+v", a.Report)
	}
	// A rewrite with flags keeps the fields it does not give.
	a = d.ok("", "report-incident", "SD-1", "--root-cause", "firmware 4.2 leak")
	if a.Report.Version != 2 || a.Report.Summary != "VPN concentrator dropped sessions" || a.Report.RootCause != "firmware 4.2 leak" {
		t.Fatalf("report rewrite: %+v", a.Report)
	}
	d.refused("(version 2 by mette is not approved yet); a lead approves it", "close", "SD-1")
	if out, _, _ := d.run("show", "SD-1"); !strings.Contains(out, "report    version 2 by mette, not approved yet") ||
		!strings.Contains(out, "      Root cause: firmware 4.2 leak\n") {
		t.Errorf("show does not show the report:\n%s", out)
	}
	a = d.ok("", "approve", "SD-1")
	if a.Report.Approver != "mette" || a.Report.Approved.IsZero() {
		t.Fatalf("approve: %+v", a.Report)
	}
	d.refused("is approved already", "approve", "SD-1")
	if a = d.ok("", "close", "SD-1"); a.Status != "closed" {
		t.Fatalf("close: %+v", a)
	}
	d.refused("SD-1 is closed already", "close", "SD-1")

	a = d.ok("", "reopen", "SD-1", "it", "is", "back")
	if a.Status != "open" || a.History[len(a.History)-2].Text != "Reopened: it is back" {
		t.Fatalf("reopen: %+v", a.History[len(a.History)-2:])
	}
	d.refused("SD-1 is open, not resolved or closed", "reopen", "SD-1")
	// Resolve and close in one: the report approved before still holds.
	if a = d.ok("Same fix again.", "close", "SD-1", "--resolution", "-"); a.Status != "closed" {
		t.Fatalf("close --resolution: %+v", a)
	}
	// Reopen through update, and a field in the same call applies to the
	// reopened ticket.
	if a = d.ok("", "update", "SD-1", "--status", "open", "--priority", "P3", "--note", "customer called"); a.Status != "open" || a.Priority != "P3" {
		t.Fatalf("update --status open of a closed ticket: %+v", a)
	}

	// Text that starts like a flag: after --.
	out, stderr, code = d.run("note", "SD-1", "--", "-5", "degrees in the server room")
	if code != 0 || !strings.Contains(out, "      -5 degrees in the server room\n") {
		t.Fatalf("note after --: exit %d %q\n%s", code, stderr, out)
	}
	d.refused("there is no ticket SD-99", "note", "SD-99", "hello")
}

// Usage mistakes exit 2 and change nothing.
func TestScriptUsageErrors(t *testing.T) {
	d := newScriptDesk(t, "operator = \"mette\"\n")
	d.ok("", "new", "--subject", "Printer", "--requester", "anna@example.org", "--priority", "P3")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "--requester", "anna@example.org"}, "--subject is missing"},
		{[]string{"new", "--subject", "x"}, "who is it for?"},
		{[]string{"new", "--subject", "x", "--requester", "not an address"}, "is not an e-mail address"},
		{[]string{"new", "--subject", "x", "--requester", "a@b.c", "--priority", "urgent"}, "use P1, P2, P3 or P4"},
		{[]string{"new", "--subject", "x", "--requester", "a@b.c", "--type", "bug"}, "use incident, request or change"},
		{[]string{"new", "--subject", "x", "--requester", "a@b.c", "--queue", "nowhere"}, "no such queue; use one of 2nd-line"},
		{[]string{"new", "--subject", "x", "--requester", "a@b.c", "--body", "-"}, "--body is empty"},
		{[]string{"new", "--subject", "x", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"update", "SD-1"}, "nothing to change"},
		{[]string{"update", "SD-1", "--priority", "P9"}, "use P1, P2, P3 or P4"},
		{[]string{"update", "SD-1", "--priority", "P1", "--status", "resolved"}, "use desk resolve SD-1 TEXT"},
		{[]string{"update", "SD-1", "--status", "done"}, "use one of new, open"},
		{[]string{"update", "SD-1", "--status", "open", "--team", "operations"}, "--team escalates the ticket"},
		{[]string{"update", "SD-1", "--team", "plumbers"}, "no such team; use one of operations"},
		{[]string{"update", "SD-1", "--assignee", ""}, "give an operator, or - to unassign"},
		{[]string{"update", "SD-x", "--priority", "P1"}, "is not a ticket id"},
		{[]string{"update"}, "usage: desk update SD-n"},
		{[]string{"note", "SD-1"}, "the note is missing"},
		{[]string{"note"}, "usage: desk note SD-n TEXT|-"},
		{[]string{"reply", "SD-1", "  "}, "the reply is empty"},
		{[]string{"resolve", "SD-1", "-"}, "the resolution is empty"},
		{[]string{"close", "SD-1", "--resolution", "-"}, "--resolution is empty"},
		{[]string{"link", "SD-1"}, "--master SD-m is missing"},
		{[]string{"link", "SD-1", "--master", "two"}, "is not a ticket id"},
		{[]string{"ref", "SD-1"}, "--add SYSTEM:ID is missing"},
		{[]string{"ref", "SD-1", "--add", "NSP-123"}, "write it as SYSTEM:ID"},
		{[]string{"report-incident", "SD-1"}, "no report given"},
		{[]string{"report-incident", "SD-1", "--file", "-", "--summary", "x"}, "not both"},
		{[]string{"approve"}, "usage: desk approve SD-n"},
		{[]string{"quarantine", "release", "one"}, "is not a quarantine id"},
		{[]string{"quarantine", "drop", "1"}, "--reason is missing"},
		{[]string{"quarantine", "release"}, "usage: desk quarantine release ID"},
	} {
		out, stderr, code := d.run(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || out != "" {
			t.Errorf("desk %s: exit %d, stdout %q, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, out, stderr, c.want)
		}
	}
	if a := d.ok("", "show", "SD-1"); a.Priority != "P3" || a.Status != "new" || len(a.History) != 1 {
		t.Fatalf("a usage mistake changed the ticket: %+v", a)
	}
}

// The store holds the local operator to their role.
func TestScriptRolesLocally(t *testing.T) {
	d := newScriptDesk(t, "operator = \"otto\"\n[[operators]]\nname = \"otto\"\n[[operators]]\nname = \"vera\"\nrole = \"viewer\"\n")
	d.ok("", "new", "--subject", "Outage", "--requester", "anna@example.org", "--priority", "P1")
	d.ok("", "report-incident", "SD-1", "--summary", "down")
	d.refused("otto is not a lead: incident reports are approved by a lead", "approve", "SD-1")
	d.refused("otto is not a lead: quarantined mail is released or dropped by a lead", "quarantine", "drop", "1", "--reason", "spam")
	os.WriteFile(d.cfg, []byte("operator = \"vera\"\n[[operators]]\nname = \"vera\"\nrole = \"viewer\"\n"), 0o600)
	d.refused("vera is a viewer and cannot change tickets", "note", "SD-1", "hi")
	d.refused("vera is a viewer and cannot register tickets", "new", "--subject", "x", "--name", "y")
}

func TestScriptQuarantineReleaseAndDrop(t *testing.T) {
	d := newScriptDesk(t, "operator = \"mette\"\nqueues = [\"1st-line\", \"2nd-line\"]\n")
	st := d.store()
	seedQuarantine(t, st)
	if _, err := st.Quarantine(store.Quarantined{Key: "empty:INBOX/1/4", Mailbox: "INBOX", UID: 4, Reason: "the server returned an empty mail"},
		store.Checkpoint{Mailbox: "INBOX", UIDValidity: 1, LastUID: 4}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	d.refused("quarantined mail 4 has no copy to make a ticket of (the server returned an empty mail); register it by hand with desk new",
		"quarantine", "release", "4")

	a := d.ok("", "quarantine", "release", "1")
	if a.ID != "SD-1" || a.Requester.Email != "m@evil.example" || a.Queue != "1st-line" || a.Subject != "(no subject)" || a.Status != "new" {
		t.Fatalf("released: %+v", a)
	}
	if a.History[1].Kind != "message-in" || strings.TrimSpace(a.History[1].Message.Body) != "hi" ||
		!strings.Contains(lastEvent(a).Text, "Released from quarantine (mail 1, held because: sender not in any organisation)") {
		t.Fatalf("released history: %+v", a.History)
	}
	d.refused("quarantined mail 1 was released into SD-1 by mette already", "quarantine", "release", "1")
	d.refused("quarantined mail 9: not found", "quarantine", "release", "9")

	out, stderr, code := d.in("spam\n", "quarantine", "drop", "3", "--reason", "-")
	if code != 0 || out != "quarantined mail 3 dropped by mette: spam (the copy is kept)\n" {
		t.Fatalf("drop: exit %d %q %q", code, out, stderr)
	}
	d.refused("quarantined mail 3 was dropped by mette already (spam", "quarantine", "drop", "3", "--reason", "again")
	d.refused("quarantined mail 3 was dropped", "quarantine", "release", "3")

	out, _, _ = d.run("quarantine", "--json")
	var qs []quarantineJSON
	if err := json.Unmarshal([]byte(out), &qs); err != nil || len(qs) != 4 || !qs[3].Released || qs[2].Released {
		t.Fatalf("quarantine after: %v %+v", err, qs)
	}
}

// runCmdIn is runCmd with stdin.
func (ts *testServer) runCmdIn(op testOp, cmd, stdin string) (string, string, int) {
	ts.t.Helper()
	sess, err := ts.client(op).NewSession()
	if err != nil {
		ts.t.Fatal(err)
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader(stdin), &out, &errb
	err = sess.Run(cmd)
	code := 0
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitStatus()
	} else if err != nil {
		ts.t.Fatalf("%s: %v", cmd, err)
	}
	return out.String(), errb.String(), code
}

func TestScriptOverSSH(t *testing.T) {
	viewer, op, lead := newTestOp(t, "vera", "viewer"), newTestOp(t, "otto", "operator"), newTestOp(t, "lea", "lead")
	ts := startTestServer(t, []testOp{viewer, op, lead}, "", serveOptions{})
	seedQuarantine(t, ts.s.st)
	okJSON := func(who testOp, cmd, stdin string) ticketJSON {
		t.Helper()
		out, stderr, code := ts.runCmdIn(who, cmd+" --json", stdin)
		var j ticketJSON
		if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.ID == "" || j.Status == "" {
			t.Fatalf("%s: %s: exit %d %q\n%s", who.name, cmd, code, stderr, out)
		}
		return j
	}
	refused := func(who testOp, cmd, want string) {
		t.Helper()
		if out, stderr, code := ts.runCmd(who, cmd); code != 1 || !strings.Contains(stderr, want) || out != "" {
			t.Errorf("%s: %s: exit %d %q %q; want 1 and %q", who.name, cmd, code, out, stderr, want)
		}
	}

	a := okJSON(op, `new --subject "Mail server rejects attachments" --requester anna@example.org --priority P2 --body -`, "Since the upgrade.\n")
	if a.ID != "SD-1" || a.Priority != "P2" || lastEvent(a).Actor != "otto" || lastEvent(a).Text != "Since the upgrade.\n" {
		t.Fatalf("new over SSH: %+v", a)
	}
	if acks, err := ts.s.st.OutboxAll(0); err != nil || len(acks) != 1 || acks[0].Ticket != 1 || acks[0].Kind != "ack" {
		t.Fatalf("the acknowledgement is not in the outbox: %v %+v", err, acks)
	}
	// The text output is the same as show's.
	out, _, code := ts.runCmd(op, `note SD-1 "checked the relay"`)
	if shown, _, _ := ts.runCmd(op, "show SD-1"); code != 0 || strings.SplitN(out, "\n", 2)[0] != strings.SplitN(shown, "\n", 2)[0] ||
		!strings.Contains(out, "checked the relay") {
		t.Fatalf("note over SSH: exit %d\n%s", code, out)
	}
	a = okJSON(op, "reply SD-1 -", "We are on it.\n\n-- \nOtto")
	if a.Status != "open" || a.History[len(a.History)-3].Message.Body != "We are on it.\n\n-- \nOtto" {
		t.Fatalf("reply from stdin over SSH: %+v", a.History)
	}

	// Viewers do not write, operators do not approve or release: the table
	// says so before the store is asked.
	refused(viewer, "note SD-1 hi", "note is for operators and leads; vera is viewer")
	refused(viewer, "new --subject x --name y", "new is for operators and leads; vera is viewer")
	refused(op, "approve SD-1", "approve is for leads; otto is operator")
	refused(op, "quarantine release 1", "quarantine release is for leads; otto is operator")
	if _, stderr, code := ts.runCmd(op, "update SD-1 --priority P7"); code != 2 || !strings.Contains(stderr, "use P1, P2, P3 or P4") {
		t.Errorf("bad priority over SSH: exit %d %q", code, stderr)
	}
	if _, stderr, code := ts.runCmd(op, "update SD-1 --bogus"); code != 2 || !strings.Contains(stderr, "usage: ssh -p PORT HOST update SD-n") {
		t.Errorf("unknown flag over SSH: exit %d %q", code, stderr)
	}

	a = okJSON(op, `update SD-1 --team security --note "cert expired?"`, "")
	if a.Status != "escalated" || a.Team != "security" {
		t.Fatalf("escalate over SSH: %+v", a)
	}
	a = okJSON(op, "update SD-1 --status open --note -", "Renewed the certificate.")
	if a.Status != "open" || a.Team != "" {
		t.Fatalf("hand back over SSH: %+v", a)
	}
	a = okJSON(op, "resolve SD-1 Renewed the certificate; attachments go through again.", "")
	if a.Status != "resolved" {
		t.Fatalf("resolve over SSH: %+v", a)
	}
	refused(op, "close SD-1", "SD-1 was P2 while open and needs an approved incident report to close")
	if _, stderr, code := ts.runCmd(op, "report-incident SD-1 --file /etc/passwd"); code != 2 || !strings.Contains(stderr, "--file - < FILE") {
		t.Errorf("report-incident --file on the server: exit %d %q", code, stderr)
	}
	report := store.ReportText(store.IncidentReport{Summary: "Relay certificate expired", Impact: "no attachments for 3h",
		RootCause: "renewal job disabled", Actions: "job re-enabled, alert added", Timeline: "09:00 expired\n12:00 renewed"})
	a = okJSON(op, "report-incident SD-1 --file -", report)
	if a.Report == nil || a.Report.Author != "otto" || a.Report.RootCause != "renewal job disabled" || a.Report.Timeline != "09:00 expired\n12:00 renewed" {
		t.Fatalf("report from stdin over SSH: %+v", a.Report)
	}
	a = okJSON(lead, "approve SD-1", "")
	if a.Report.Approver != "lea" {
		t.Fatalf("approve over SSH: %+v", a.Report)
	}
	if a = okJSON(op, "close SD-1", ""); a.Status != "closed" {
		t.Fatalf("close over SSH: %+v", a)
	}

	a = okJSON(lead, "quarantine release 1", "")
	if a.Requester.Email != "m@evil.example" || lastEvent(a).Actor != "lea" {
		t.Fatalf("release over SSH: %+v", a)
	}
	if out, stderr, code := ts.runCmd(lead, `quarantine drop 3 --reason "bounce of our own mail"`); code != 0 || !strings.Contains(out, "dropped by lea: bounce of our own mail") {
		t.Fatalf("drop over SSH: exit %d %q %q", code, out, stderr)
	}
}

// Each flag of update is its own operation: a refusal half-way says what
// was changed before it.
func TestScriptUpdateRefusedHalfway(t *testing.T) {
	d := newScriptDesk(t, "operator = \"mette\"\n")
	d.ok("", "new", "--subject", "Printer", "--name", "Jens")
	out, stderr, code := d.run("update", "SD-1", "--priority", "P4", "--queue", "2nd-line", "--status", "closed")
	if code != 1 || out != "" || !strings.Contains(stderr, "desk: SD-1: changed before the refusal: priority P4, queue 2nd-line\n") ||
		!strings.Contains(stderr, "SD-1 is new and nobody has answered it") {
		t.Fatalf("exit %d %q %q", code, out, stderr)
	}
	if a := d.ok("", "show", "SD-1"); a.Priority != "P4" || a.Status != "new" {
		t.Fatalf("after: %+v", a)
	}
	// --status escalated without a team is the store's refusal, with the
	// way to do it.
	d.refused("escalating needs a 3rd-level team", "update", "SD-1", "--status", "escalated")
}

// A change someone made between the script's read and its write is named.
func TestScriptConflictMessage(t *testing.T) {
	err := writeError(4, &store.ConflictError{Ticket: 4, Field: store.FieldPriority, Seen: "P3", Now: "P1", By: "otto"})
	if err.Error() != "SD-4: otto set priority to P1 meanwhile; priority was not changed (run the command again to override)" {
		t.Fatal(err)
	}
	if err := writeError(4, store.ErrNotFound); err.Error() != "there is no ticket SD-4" {
		t.Fatal(err)
	}
}

// With OpenSSH, as operators script it: the command line is joined by ssh
// and split again by the server, and stdin is redirected from a file.
func TestScriptWithOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := gossh.NewSignerFromKey(priv)
	op := testOp{name: "otto", role: "operator", signer: signer}
	ts := startTestServer(t, []testOp{op}, "", serveOptions{})
	ts.create("Mail server rejects attachments", 3)

	dir := t.TempDir()
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile, known := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	os.WriteFile(known, []byte(knownhosts.Line([]string{ts.s.Addr()}, ts.hostKey)+"\n"), 0o600)
	host, port, _ := net.SplitHostPort(ts.s.Addr())
	sshRun := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command("ssh", append([]string{"-F", "none", "-T", "-p", port, "-i", keyFile, "-o", "IdentitiesOnly=yes",
			"-o", "UserKnownHostsFile=" + known, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "desk@" + host}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	if out, stderr, code := sshRun("", "note", "SD-1", "checked", "the", "relay"); code != 0 || !strings.Contains(out, "      checked the relay\n") {
		t.Fatalf("note: exit %d %q\n%s", code, stderr, out)
	}
	out, stderr, code := sshRun("Dear Anna,\n\nthe relay is fixed.\n", "reply", "SD-1", "-", "--json")
	var j ticketJSON
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Status != "open" || j.History[len(j.History)-3].Message.Body != "Dear Anna,\n\nthe relay is fixed.\n" {
		t.Fatalf("reply from stdin: exit %d %q\n%s", code, stderr, out)
	}
	if _, stderr, code := sshRun("", "update", "SD-1", "--priority", "urgent"); code != 2 || !strings.Contains(stderr, "use P1, P2, P3 or P4") {
		t.Fatalf("usage over OpenSSH: exit %d %q", code, stderr)
	}
	if _, stderr, code := sshRun("", "close", "SD-1"); code != 1 || !strings.Contains(stderr, "not resolved: closing needs a resolution") {
		t.Fatalf("refusal over OpenSSH: exit %d %q", code, stderr)
	}
}
