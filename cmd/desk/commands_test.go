package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	usage, help := localUsage(), sshHelp()
	for _, cmd := range commands {
		if seen[cmd.name] {
			t.Errorf("%s is in the table twice", cmd.name)
		}
		seen[cmd.name] = true
		if cmd.flags == nil || cmd.summary == "" {
			t.Errorf("%s has no flags builder or no summary", cmd.name)
		}
		if cmd.role != "" && roleRank(cmd.role) == 0 {
			t.Errorf("%s: role %q is not viewer, operator or lead", cmd.name, cmd.role)
		}
		listed := func(help, syn string) bool { // the summary after it, or on the next line
			return strings.Contains(help, syn+" ") || strings.Contains(help, syn+"\n")
		}
		if cmd.name != "help" && !listed(usage, "  desk "+cmd.synopsis(false)) {
			t.Errorf("desk help does not list %q", cmd.synopsis(false))
		}
		if inHelp := listed(help, "  "+cmd.synopsis(true)); inHelp != (cmd.role != "" && cmd.name != "help") {
			t.Errorf("ssh help lists %s: %v, but its role is %q", cmd.name, inHelp, cmd.role)
		}
	}
	// What desk serve must never run for a remote caller.
	for _, local := range []string{"console", "demo", "serve", "mail", "restore"} {
		if cmd := lookupCommand(local); cmd == nil || cmd.role != "" {
			t.Errorf("%s must be local only", local)
		}
	}
	if !strings.Contains(help, "report [--from DATE --to DATE | --month YYYY-MM] [--format table|csv|json]") || !strings.Contains(help, "(leads)") ||
		!strings.Contains(help, "quarantine [--json]") || !strings.Contains(help, "(operators and leads)") || !strings.Contains(help, "backup > FILE") {
		t.Errorf("ssh help:\n%s", help)
	}
}

// Usage mistakes exit 2 (a flag desk does not know used to exit 1), before
// any store is opened.
func TestLocalUsageErrorsExit2(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	for _, args := range [][]string{
		{"list", "--bogus"}, {"list", "extra"}, {"show"}, {"show", "SD-1", "SD-2"}, {"report", "--json=maybe"},
		{"quarantine", "x"}, {"backup"}, {"restore"}, {"version", "x"}, {"nonsense"},
	} {
		_, stderr, code := desk(t, append(args, "--data", missing)...)
		if code != 2 || stderr == "" {
			t.Errorf("desk %v: exit %d, %q; want 2 and a usage line", args, code, stderr)
		}
		if strings.Contains(stderr, "no desk data") {
			t.Errorf("desk %v looked for the store before checking its arguments", args)
		}
	}
	if _, stderr, _ := desk(t, "show", "--data", missing); !strings.Contains(stderr, "usage: desk show SD-n [--json]") {
		t.Errorf("show without an id: %q", stderr)
	}
	if _, _, code := desk(t, "list", "-h"); code != 0 {
		t.Errorf("list -h: exit %d", code)
	}
}

func TestLocalOperator(t *testing.T) {
	cfg := &Config{Operator: "mette", Operators: []OperatorConfig{{Name: "pieter", Role: "viewer"}, {Name: "sofie"}}}
	for op, want := range map[string]tui.Role{"mette": tui.RoleLead, "pieter": tui.RoleViewer, "sofie": tui.RoleOperator} {
		cfg.Operator = op
		if name, role := localOperator(cfg); name != op || role != want {
			t.Errorf("%s: %s %s, want %s", op, name, role, want)
		}
	}
}

// seedQuarantine holds three mails, one with a subject built to take over a
// terminal, and returns the data dir.
func seedQuarantine(t *testing.T, st *store.Store) {
	t.Helper()
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	for i, q := range []store.Quarantined{
		{Key: "a@x", Mailbox: "INBOX", UID: 1, At: at, From: "Mallory <m@evil.example>", Subject: "plain one", Reason: "sender not in any organisation", Raw: []byte("From: m@evil.example\r\n\r\nhi")},
		{Key: "b@x", Mailbox: "INBOX", UID: 2, At: at.Add(time.Hour), From: "\u202emoc.knab@eciffo", Subject: "\x1b[2J\x1b]0;pwned\x07Invoice\r\nSD-1  P1  fake row\tx", Reason: "loop \x1b[31mred\x1b[0m", Raw: []byte("x")},
		{Key: "c@x", Mailbox: "INBOX", UID: 3, At: at.Add(2 * time.Hour), From: "bounce@example.org", Subject: "Undeliverable", Reason: "bounce", Raw: []byte("y")},
	} {
		if _, err := st.Quarantine(q, store.Checkpoint{Mailbox: "INBOX", UIDValidity: 1, LastUID: uint32(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuarantineCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(nil)})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, stderr, code := desk(t, "--config", "", "quarantine", "--data", dir)
	if code != 0 || strings.TrimSpace(out) != "Nothing in quarantine." {
		t.Fatalf("empty quarantine: exit %d %q %q", code, out, stderr)
	}
	st, err = store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(nil)})
	if err != nil {
		t.Fatal(err)
	}
	seedQuarantine(t, st)
	st.Close()
	cfg := filepath.Join(t.TempDir(), "desk.toml")
	os.WriteFile(cfg, []byte("timezone = \"Europe/Copenhagen\"\n"), 0o600)

	out, stderr, code = desk(t, "--config", cfg, "quarantine", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "REASON") {
		t.Fatalf("want a header and 3 rows (a subject's line break must not make a row):\n%s", out)
	}
	// Newest first, times in the desk's zone (09:15 UTC is 10:15 in Copenhagen).
	if !strings.HasPrefix(lines[1], "3 ") || !strings.HasPrefix(lines[3], "1 ") || !strings.Contains(lines[3], "2026-03-02 10:15") ||
		!strings.Contains(lines[3], "Mallory <m@evil.example>") || !strings.Contains(lines[3], "sender not in any organisation") {
		t.Fatalf("rows:\n%s", out)
	}
	if !strings.Contains(lines[2], "Invoice") || !strings.Contains(lines[2], "loop red") {
		t.Fatalf("the hostile row lost its text: %q", lines[2])
	}
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "\t"} {
		if strings.Contains(out, bad) {
			t.Fatalf("text output carries %q raw:\n%q", bad, out)
		}
	}

	out, _, code = desk(t, "--config", cfg, "quarantine", "--json", "--data", dir)
	var got []quarantineJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if len(got) != 3 || got[0].ID != 3 || got[1].Subject != "\x1b[2J\x1b]0;pwned\x07Invoice\r\nSD-1  P1  fake row\tx" ||
		got[2].From != "Mallory <m@evil.example>" || got[2].Size == 0 || got[2].Mailbox != "INBOX" || got[2].UID != 1 || !got[2].At.Equal(time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)) {
		t.Fatalf("--json = %+v", got)
	}
	if strings.Contains(out, "\x1b") {
		t.Fatal("--json writes an escape character raw (the encoder should escape it)")
	}
}

// The table's roles hold over SSH, for every command and role.
func TestServeCommandRolesFromTheTable(t *testing.T) {
	viewer, op, lead := newTestOp(t, "vera", "viewer"), newTestOp(t, "otto", "operator"), newTestOp(t, "lea", "lead")
	ts := startTestServer(t, []testOp{viewer, op, lead}, "", serveOptions{})
	seedQuarantine(t, ts.s.st)
	ts.create("Printer on fire", 1)
	for _, who := range []testOp{viewer, op, lead} {
		for _, cmd := range commands {
			if cmd.role == "" || cmd.name == "backup" {
				continue
			}
			// A line that succeeds for everyone the table lets in, however
			// often it runs; -h for writes that succeed only once.
			line := map[string]string{
				"show": "show SD-1", "new": "new --subject Phone --requester anna@example.org",
				"update": "update SD-1 --priority P2", "note": "note SD-1 seen", "reply": "reply SD-1 on it",
				"ref": "ref SD-1 --add jira:" + who.name, "report-incident": "report-incident SD-1 --summary down",
				"approve": "approve SD-1", "kb new": "kb new --title T --body B",
			}[cmd.name]
			if line == "" {
				line = cmd.name
				if cmd.nargs != 0 {
					line += " -h"
				}
			}
			_, stderr, code := ts.runCmd(who, line)
			allowed := roleRank(tui.Role(who.role)) >= roleRank(cmd.role)
			switch {
			case allowed && code != 0:
				t.Errorf("%s (%s) %s: exit %d %q", who.name, who.role, line, code, stderr)
			case !allowed && (code != 1 || !strings.Contains(stderr, fmt.Sprintf("%s is for %s; %s is %s", cmd.name, cmd.whoMay(), who.name, who.role))):
				t.Errorf("%s (%s) %s: exit %d %q, want a refusal", who.name, who.role, line, code, stderr)
			}
		}
	}
	// Local-only commands do not exist over SSH, and the local flags that
	// pick a data directory or config are not flags there.
	for _, line := range []string{"restore x", "serve", "demo", "mail --once", "console", "list --data /etc", "list --config /etc/passwd", "list --bogus"} {
		if _, stderr, code := ts.runCmd(lead, line); code != 2 {
			t.Errorf("%q over SSH: exit %d %q, want 2", line, code, stderr)
		}
	}
	if _, stderr, code := ts.runCmd(lead, "show"); code != 2 || !strings.Contains(stderr, "usage: ssh -p PORT HOST show SD-n [--json]") {
		t.Errorf("show without an id: exit %d %q", code, stderr)
	}
	if _, stderr, code := ts.runCmd(lead, "backup FILE"); code != 2 || !strings.Contains(stderr, "backup > FILE") {
		t.Errorf("backup FILE over SSH: exit %d %q", code, stderr)
	}
	if out, _, code := ts.runCmd(viewer, "help"); code != 0 || out != sshHelp() {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	if out, _, code := ts.runCmd(viewer, "version"); code != 0 || !strings.HasPrefix(out, "desk ") {
		t.Errorf("version: exit %d %q", code, out)
	}

	// quarantine over SSH is the local command's output.
	remote, _, code := ts.runCmd(op, "quarantine")
	var local strings.Builder
	if err := listQuarantine(ts.s.st, &local, false, ts.s.cfg.Load().displayZone()); err != nil || code != 0 || remote != local.String() || !strings.Contains(remote, "Invoice") {
		t.Fatalf("ssh quarantine (exit %d):\n%s\nlocal:\n%s", code, remote, local.String())
	}
	remote, _, _ = ts.runCmd(op, "quarantine --json")
	var got []quarantineJSON
	if err := json.Unmarshal([]byte(remote), &got); err != nil || len(got) != 3 {
		t.Fatalf("ssh quarantine --json: %v\n%s", err, remote)
	}
}

// Adding a command is one table entry and one function; it then runs
// locally as the local operator and over SSH as the key's owner, with the
// role from the table enforced over SSH.
func TestAddingACommand(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append(append([]command(nil), saved...), command{
		name: "whoami", args: "[--loud]", summary: "who runs this", role: tui.RoleOperator,
		flags: func(fs *flag.FlagSet) runFunc {
			loud := fs.Bool("loud", false, "shout")
			return func(c *call) int {
				n := 0
				if err := c.st.Tickets(func(store.Ticket) bool { n++; return true }); err != nil {
					return c.fail(err)
				}
				s := fmt.Sprintf("%s %s remote=%v tickets=%d", c.who, c.role, c.remote, n)
				if *loud {
					s = strings.ToUpper(s)
				}
				fmt.Fprintln(c.stdout, s)
				return 0
			}
		},
	})
	dir := seedStore(t)
	cfg := filepath.Join(t.TempDir(), "desk.toml")
	os.WriteFile(cfg, []byte("operator = \"pieter\"\n[[operators]]\nname = \"pieter\"\nrole = \"viewer\"\n"), 0o600)
	if out, stderr, code := desk(t, "--config", cfg, "whoami", "--data", dir); code != 0 || out != "pieter viewer remote=false tickets=2\n" {
		t.Fatalf("local: exit %d %q %q", code, out, stderr)
	}
	os.WriteFile(cfg, []byte("operator = \"mette\"\n"), 0o600)
	if out, _, _ := desk(t, "--config", cfg, "whoami", "--loud", "--data", dir); out != "METTE LEAD REMOTE=FALSE TICKETS=2\n" {
		t.Fatalf("local, not in [[operators]]: %q", out)
	}

	viewer, op := newTestOp(t, "vera", "viewer"), newTestOp(t, "otto", "operator")
	ts := startTestServer(t, []testOp{viewer, op}, "", serveOptions{})
	if out, stderr, code := ts.runCmd(op, "whoami"); code != 0 || out != "otto operator remote=true tickets=0\n" {
		t.Fatalf("ssh: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := ts.runCmd(viewer, "whoami"); code != 1 || !strings.Contains(stderr, "whoami is for operators and leads; vera is viewer") {
		t.Fatalf("ssh as viewer: exit %d %q", code, stderr)
	}
	if !strings.Contains(sshHelp(), "whoami [--loud]") || !strings.Contains(localUsage(), "desk whoami [--loud]") {
		t.Fatal("the new command is not in help")
	}
}
