package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/deskhq/desk/demomail"
	"github.com/deskhq/desk/store"
)

// These tests drive real SSH sessions (golang.org/x/crypto/ssh client)
// against `desk serve` started in-process on a loopback port, with a temp
// data dir and config.

// waitLimit bounds every wait for a screen: a failure, not a speed claim
// (speed is measured by the benchmarks).
const waitLimit = 15 * time.Second

type testOp struct {
	name, role string
	signer     gossh.Signer
	noBell     bool // bell = false in the config
}

func newTestOp(t testing.TB, name, role string) testOp {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testOp{name: name, role: role, signer: s}
}

func (o testOp) authorizedKey() string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(o.signer.PublicKey()))) + " " + o.name + "@test"
}

func configText(ops []testOp, extra string) string {
	var b strings.Builder
	b.WriteString(extra)
	b.WriteString("\n")
	for _, o := range ops {
		fmt.Fprintf(&b, "[[operators]]\nname = %q\nrole = %q\nkeys = [%q]\n", o.name, o.role, o.authorizedKey())
		if o.noBell {
			b.WriteString("bell = false\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

type testServer struct {
	t       testing.TB
	s       *server
	e       *env
	cfgPath string
	hostKey gossh.PublicKey
}

func startTestServer(t testing.TB, ops []testOp, extra string, o serveOptions) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(configText(ops, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{dataDir: filepath.Join(dir, "data"), configPath: cfgPath, configSet: true, dataSet: true, stdout: io.Discard, stderr: io.Discard}
	o.listen = "127.0.0.1:0"
	s, err := e.startServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pem, err := os.ReadFile(filepath.Join(e.dataDir, hostKeyName))
	if err != nil {
		t.Fatalf("host key not created in the data dir: %v", err)
	}
	hk, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, s: s, e: e, cfgPath: cfgPath, hostKey: hk.PublicKey()}
}

func (ts *testServer) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", ts.s.Addr(), &gossh.ClientConfig{
		User: "desk", Auth: auth, Timeout: waitLimit,
		// The client pins the key created in the data dir: a wrong host key fails the test.
		HostKeyCallback: gossh.FixedHostKey(ts.hostKey),
	})
}

func (ts *testServer) client(op testOp) *gossh.Client {
	ts.t.Helper()
	c, err := ts.dial(gossh.PublicKeys(op.signer))
	if err != nil {
		ts.t.Fatalf("%s cannot log in: %v", op.name, err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return c
}

func (ts *testServer) create(subject string, prio store.Priority) store.Ticket {
	ts.t.Helper()
	t, err := ts.s.st.Create("phone", store.NewTicket{Type: store.Incident, Priority: prio, Queue: "2nd-line", Subject: subject,
		Requester: store.Person{Name: "Anna Berg", Email: "anna@example.org"}})
	if err != nil {
		ts.t.Fatal(err)
	}
	return t
}

// runCmd runs a non-interactive command and returns stdout, stderr and the
// exit status.
func (ts *testServer) runCmd(op testOp, cmd string) (string, string, int) {
	ts.t.Helper()
	sess, err := ts.client(op).NewSession()
	if err != nil {
		ts.t.Fatal(err)
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
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

// screen is a console session read as an operator's terminal would show
// it: the PTY output goes through a real terminal emulator (the v2
// renderer writes only the cells that changed, so the raw stream is not
// the screen), whose answers to the console's queries go back as a real
// terminal's would. buf keeps the raw bytes, for what the wire costs.
type screen struct {
	t       testing.TB
	name    string
	sess    *gossh.Session
	stdin   io.WriteCloser
	stdinMu sync.Mutex
	term    *vt.SafeEmulator
	mu      sync.Mutex
	buf     []byte
	more    chan struct{}
	ended   chan struct{}
}

func (ts *testServer) console(op testOp, cols, rows int) *screen {
	ts.t.Helper()
	return openScreen(ts.t, ts.client(op), op.name, "xterm-256color", cols, rows)
}

func openScreen(t testing.TB, c *gossh.Client, name, term string, cols, rows int) *screen {
	t.Helper()
	sc, err := tryScreen(t, c, name, term, cols, rows)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// tryScreen is openScreen for goroutines other than the test's own.
func tryScreen(t testing.TB, c *gossh.Client, name, term string, cols, rows int) (*screen, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty(term, rows, cols, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		return nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	sc := &screen{t: t, name: name, sess: sess, stdin: stdin, term: vt.NewSafeEmulator(orDefault(cols, 80), orDefault(rows, 24)),
		more: make(chan struct{}, 1), ended: make(chan struct{})}
	go func() {
		// The terminal's answers (background colour, cursor position) go
		// back to the console, as a real terminal's do.
		b := make([]byte, 4096)
		for {
			n, err := sc.term.Read(b)
			if n > 0 {
				sc.stdinMu.Lock()
				_, werr := stdin.Write(b[:n])
				sc.stdinMu.Unlock()
				if werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(sc.ended)
		b := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(b)
			if n > 0 {
				sc.mu.Lock()
				sc.buf = append(sc.buf, b[:n]...)
				sc.mu.Unlock()
				sc.term.Write(b[:n])
				select {
				case sc.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { sess.Close(); sc.term.Close() })
	return sc, nil
}

// orDefault is n, or def for a terminal that does not say (the server
// then lays out def too).
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (sc *screen) mark() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.buf)
}

// text is what the screen shows now, once anything was drawn after from
// (a mark taken before an action); "" until then.
func (sc *screen) text(from int) string {
	if sc.mark() <= from && from > 0 {
		return ""
	}
	lines := strings.Split(ansi.Strip(sc.term.Render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// waitFor waits until the screen, redrawn since from, matches re, and
// returns it.
func (sc *screen) waitFor(from int, re *regexp.Regexp) string {
	sc.t.Helper()
	return sc.waitUntil(from, re.String(), re.MatchString)
}

func (sc *screen) waitUntil(from int, what string, ok func(string) bool) string {
	sc.t.Helper()
	deadline := time.After(waitLimit)
	for {
		s := sc.text(from)
		if ok(s) {
			return s
		}
		select {
		case <-sc.more:
		case <-sc.ended:
			if s := sc.text(from); ok(s) {
				return s
			}
			sc.t.Fatalf("%s: session ended without showing %s; it showed:\n%s", sc.name, what, sc.text(from))
		case <-deadline:
			sc.t.Fatalf("%s: screen did not show %s within %s; it showed:\n%s", sc.name, what, waitLimit, sc.text(from))
		}
	}
}

func (sc *screen) keys(s string) {
	sc.t.Helper()
	sc.stdinMu.Lock()
	defer sc.stdinMu.Unlock()
	if _, err := io.WriteString(sc.stdin, s); err != nil {
		sc.t.Fatalf("%s: typing %q: %v", sc.name, s, err)
	}
}

var reReady = regexp.MustCompile(`(?:Unassigned|Unas) \d+`)

func rowRe(id store.TicketID, prio string) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(id.String()) + `\s+` + prio + `\b`)
}

func TestServeRefusesUnknownKeysAndPasswords(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	ts := startTestServer(t, []testOp{alice}, "", serveOptions{})
	stranger := newTestOp(t, "mallory", "operator")

	if _, err := ts.dial(gossh.PublicKeys(stranger.signer)); err == nil {
		t.Fatal("a key not in the config logged in")
	}
	if _, err := ts.dial(gossh.Password("alice")); err == nil {
		t.Fatal("password authentication was accepted")
	}
	ki := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"alice"}, nil })
	if _, err := ts.dial(ki); err == nil {
		t.Fatal("keyboard-interactive authentication was accepted")
	}
	// A client that offers alice's public key first but signs with another
	// key must not become alice.
	c, err := ts.dial(gossh.PublicKeys(stranger.signer, alice.signer))
	if err != nil {
		t.Fatalf("alice's key after a refused one: %v", err)
	}
	sc := openScreen(t, c, "alice", "xterm", 80, 24)
	sc.waitFor(0, regexp.MustCompile(`alice`))
	c.Close()
	if out, _, code := ts.runCmd(alice, "list"); code != 0 || !strings.Contains(out, "ID") {
		t.Fatalf("alice: list exit %d:\n%s", code, out)
	}
	fi, err := os.Stat(filepath.Join(ts.e.dataDir, hostKeyName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestServeReloadAppliesOperatorsWithoutDroppingSessions(t *testing.T) {
	alice := newTestOp(t, "alice", "lead")
	bob := newTestOp(t, "bob", "operator")
	carol := newTestOp(t, "carol", "operator")
	dave := newTestOp(t, "dave", "operator")
	ts := startTestServer(t, []testOp{alice, bob, dave}, "", serveOptions{})
	if _, err := ts.dial(gossh.PublicKeys(carol.signer)); err == nil {
		t.Fatal("carol logged in before she was in the config")
	}
	ts.create("Printer jams", 3)
	a := ts.console(alice, 100, 30)
	a.waitFor(0, reReady)
	bc := ts.console(bob, 80, 24)
	bc.waitFor(0, reReady)
	dc := ts.console(dave, 80, 24)
	dc.waitFor(0, reReady)

	// bob leaves, carol joins, dave becomes a viewer, P1 response becomes 7m.
	daveViewer := dave
	daveViewer.role = "viewer"
	cfg := configText([]testOp{alice, carol, daveViewer}, "[sla.targets.P1]\nresponse = \"7m\"\n")
	if err := os.WriteFile(ts.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	mark := a.mark()
	a.keys(":reload\r")
	a.waitFor(mark, regexp.MustCompile(`config reloaded`))
	if got := ts.s.st.Policy().Targets[1].Response; got != 7*time.Minute {
		t.Fatalf("P1 response after reload = %s, want 7m", got)
	}
	if _, err := ts.dial(gossh.PublicKeys(bob.signer)); err == nil {
		t.Fatal("bob logged in after his key was removed")
	}
	// bob's open console is ended, not left running until he disconnects.
	bc.waitFor(0, regexp.MustCompile(`no longer in the config`))
	// dave's open console is a viewer's from now on.
	dc.waitFor(0, regexp.MustCompile(`your role is now viewer`))
	mark = dc.mark()
	dc.keys("1")
	dc.waitFor(mark, regexp.MustCompile(`read-only: dave is a viewer`))
	ts.client(carol)

	// A broken config is refused and the old one stays.
	if err := os.WriteFile(ts.cfgPath, []byte("[[operators]]\nname = \"x\"\nkeys = [\"not a key\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.s.reload(); err == nil {
		t.Fatal("a config with a broken key line was accepted")
	}
	ts.client(carol)

	// The lead's session survived all of it and still sees new tickets.
	mark = a.mark()
	tk := ts.create("Scanner jams after reload", 2)
	a.waitFor(mark, rowRe(tk.ID, "P2"))
}

func TestServeTwoOperatorsSeeEachOther(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	bob := newTestOp(t, "bob", "operator")
	ts := startTestServer(t, []testOp{alice, bob}, "", serveOptions{})
	tk := ts.create("Printer on floor 3 is on fire", 3)

	a := ts.console(alice, 80, 24)
	b := ts.console(bob, 120, 40)
	a.waitFor(0, rowRe(tk.ID, "P3"))
	b.waitFor(0, rowRe(tk.ID, "P3"))

	// Alice reprioritises; Bob presses nothing and sees it.
	mark := b.mark()
	sent := time.Now()
	a.keys("1")
	b.waitFor(mark, rowRe(tk.ID, "P1"))
	t.Logf("alice's change on bob's screen after %s", time.Since(sent).Round(time.Millisecond))

	h, err := ts.s.st.History(tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A P1 incident declares a major incident in the same write, and the
	// served desk's escalation worker may have told on call since.
	last := h[len(h)-1]
	for i := len(h) - 1; i > 0 && (last.Kind == store.EvMajor || last.Kind == store.EvEscalation); i-- {
		last = h[i-1]
	}
	if last.Field != "priority" || last.To != "P1" || last.Actor != "alice" {
		t.Fatalf("last event %+v, want priority → P1 by alice", last)
	}

	// Bob takes it; Alice's "Mine" stays hers, Bob's counts it.
	mark = a.mark()
	markB := b.mark()
	b.keys("a")
	b.waitFor(markB, regexp.MustCompile(`Assign `+tk.ID.String()))
	b.keys("\r") // the first choice is "me"
	b.waitFor(markB, regexp.MustCompile(`Mine 1`))
	a.waitFor(mark, regexp.MustCompile(`Unassigned 0`))
	if got, _ := ts.s.st.Get(tk.ID); got.Assignee != "bob" {
		t.Fatalf("assignee %q, want bob", got.Assignee)
	}
}

func TestServeViewerIsRefusedWrites(t *testing.T) {
	vera := newTestOp(t, "vera", "viewer")
	ts := startTestServer(t, []testOp{vera}, "", serveOptions{})
	tk := ts.create("VPN drops every 10 minutes", 3)
	// A session per key: the same refusal twice on one screen is not
	// repainted, so it could not be told apart from the first.
	for _, k := range []string{"1", "n", "a", "s"} {
		v := ts.console(vera, 100, 30)
		v.waitFor(0, rowRe(tk.ID, "P3"))
		mark := v.mark()
		v.keys(k)
		v.waitFor(mark, regexp.MustCompile(`read-only: vera is a viewer`))
	}
	h, err := ts.s.st.History(tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h {
		if e.Actor == "vera" {
			t.Fatalf("the viewer wrote an event: %+v", e)
		}
	}
	if _, _, code := ts.runCmd(vera, "report"); code == 0 {
		t.Fatal("a viewer got the report")
	}
}

func TestServeCommandsMatchLocalOutput(t *testing.T) {
	lead := newTestOp(t, "lea", "lead")
	op := newTestOp(t, "otto", "operator")
	ts := startTestServer(t, []testOp{lead, op}, "", serveOptions{})
	a := ts.create("Mail server rejects attachments", 2)
	ts.create("New laptop for Søren", 4)
	if _, err := ts.s.st.Update(a.ID, "otto", func(store.Ticket) ([]store.Event, error) {
		return []store.Event{{Kind: store.EvNote, Text: "checked the relay"}}, nil
	}); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := ts.runCmd(op, "list --json")
	if code != 0 {
		t.Fatalf("list --json: exit %d: %s", code, stderr)
	}
	var remote []ticketJSON
	if err := json.Unmarshal([]byte(out), &remote); err != nil {
		t.Fatalf("list --json is not a JSON array: %v\n%s", err, out)
	}
	var local bytes.Buffer
	if err := listTickets(ts.s.st, &local, "", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	var want []ticketJSON
	if err := json.Unmarshal(local.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	if len(remote) != 2 || len(want) != 2 {
		t.Fatalf("remote %d tickets, local %d, want 2", len(remote), len(want))
	}
	for i := range want {
		// The clocks' seconds left move between the two calls; the rest is the same.
		remote[i].SLA, want[i].SLA = slaJSON{}, slaJSON{}
		r, _ := json.Marshal(remote[i])
		w, _ := json.Marshal(want[i])
		if !bytes.Equal(r, w) {
			t.Fatalf("ticket %d differs:\nssh:   %s\nlocal: %s", i, r, w)
		}
	}

	out, _, code = ts.runCmd(op, "show "+a.ID.String()+" --json")
	var shown ticketJSON
	lastBy := func(h []eventJSON) string {
		// The served desk's escalation worker may have fired the P2's
		// registration step after otto's note.
		for i := len(h) - 1; i >= 0; i-- {
			if h[i].Actor != "escalation" {
				return h[i].Actor
			}
		}
		return ""
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.ID != a.ID.String() || len(shown.History) < 2 ||
		lastBy(shown.History) != "otto" {
		t.Fatalf("show --json: exit %d:\n%s", code, out)
	}
	if out, _, code = ts.runCmd(op, "list"); code != 0 || !strings.Contains(out, "Mail server rejects attachments") {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
	if _, stderr, code = ts.runCmd(op, "report"); code == 0 || !strings.Contains(stderr, "leads") {
		t.Fatalf("report as operator: exit %d, %q", code, stderr)
	}
	if out, _, code = ts.runCmd(lead, "report --month 2026-01"); code != 0 || !strings.Contains(out, "SLA compliance") {
		t.Fatalf("report as lead: exit %d:\n%s", code, out)
	}
	// A lead backs the running desk up over SSH; it restores into a fresh store.
	if _, stderr, code = ts.runCmd(op, "backup"); code == 0 || !strings.Contains(stderr, "leads") {
		t.Fatalf("backup as operator: exit %d, %q", code, stderr)
	}
	backup, stderr, code := ts.runCmd(lead, "backup")
	if code != 0 || len(backup) == 0 {
		t.Fatalf("backup as lead: exit %d, %q", code, stderr)
	}
	restored := t.TempDir()
	rst, err := store.Open(restored, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rst.Restore(strings.NewReader(backup)); err != nil {
		t.Fatalf("restoring the SSH backup: %v", err)
	}
	if got, err := rst.Get(a.ID); err != nil || got.Subject != "Mail server rejects attachments" || got.Events-len(got.Fired) != 2 { // the server may have fired its P2 registration step
		t.Fatalf("restored %s: %+v %v", a.ID, got, err)
	}
	rst.Close()
	if _, stderr, code = ts.runCmd(op, "rm -rf /"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, stderr)
	}
	if _, stderr, code = ts.runCmd(op, "show SD-999999"); code != 1 || stderr == "" {
		t.Fatalf("show of a missing ticket: exit %d, %q", code, stderr)
	}

	// No command and no terminal: a clear answer, not a hang.
	sess, err := ts.client(op).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var eb bytes.Buffer
	sess.Stderr = &eb
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Wait(); err == nil || !strings.Contains(eb.String(), "needs a terminal") {
		t.Fatalf("shell without a PTY: %v, %q", err, eb.String())
	}
}

func TestServeRobust(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	ts := startTestServer(t, []testOp{alice}, "[serve]\nidle_timeout = \"2s\"\nmax_sessions = 6\n", serveOptions{loginGrace: 500 * time.Millisecond})
	tk := ts.create("Phones ring twice", 3)

	// A connection that never logs in is cut after the login grace time.
	silent, err := net.Dial("tcp", ts.s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silentDone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, silent) // returns when the server closes it
		close(silentDone)
	}()

	// Garbage instead of SSH.
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", ts.s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, 4096)
		rand.Read(junk)
		c.Write(append([]byte("SSH-2.0-junk\r\n"), junk...))
		c.Close()
	}

	// A terminal that never says its size gets 80x24.
	z := openScreen(t, ts.client(alice), "zero", "xterm", 0, 0)
	z.waitFor(0, rowRe(tk.ID, "P3"))

	// Garbage keys (escape sequences cut in half, invalid UTF-8, control
	// bytes) into a live console; it may quit (ctrl+c is garbage too) but
	// must not take the server down.
	g := ts.console(alice, 80, 24)
	g.waitFor(0, reReady)
	junk := make([]byte, 8192)
	rand.Read(junk)
	g.stdin.Write([]byte("\x1b[\x1b]11;?\x1bP\xff\xfe\x00\x1b[999999;999999R"))
	g.stdin.Write(junk)

	// A connection dropped mid-session (no channel close, no goodbye).
	c := ts.client(alice)
	d := openScreen(t, c, "dropped", "xterm", 80, 24)
	d.waitFor(0, reReady)
	c.Close()

	// An absurd window size is clamped, and resizes are followed.
	r := ts.console(alice, 80, 24)
	r.waitFor(0, reReady)
	mark := r.mark()
	if err := r.sess.WindowChange(1<<20, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := r.sess.WindowChange(30, 130); err != nil {
		t.Fatal(err)
	}
	r.term.Resize(130, 30)
	r.waitFor(mark, regexp.MustCompile(`QUEUE\s+ASSIGNEE`)) // the wide list's columns

	// Still serving.
	if out, _, code := ts.runCmd(alice, "list --json"); code != 0 || !strings.Contains(out, tk.ID.String()) {
		t.Fatalf("list after the abuse: exit %d\n%s", code, out)
	}
	select {
	case <-silentDone:
	case <-time.After(waitLimit):
		t.Fatal("a connection that never logged in is still open")
	}
	// Past max_sessions a session is refused with the reason; logged-in
	// connections are kept apart from sessions.
	var extra []*screen
	for {
		ts.s.mu.Lock()
		live := len(ts.s.sessions)
		ts.s.mu.Unlock()
		if live >= 6 {
			break
		}
		sc := ts.console(alice, 80, 24)
		sc.waitFor(0, reReady)
		extra = append(extra, sc)
	}
	full := ts.console(alice, 80, 24)
	<-full.ended
	if err := full.sess.Wait(); err == nil {
		t.Fatal("a session past max_sessions ran")
	}
	for _, sc := range extra {
		sc.stdin.Write([]byte("q"))
	}

	// The idle console is closed after idle_timeout (2s here) and says why.
	z.waitFor(0, regexp.MustCompile(`session closed: no key pressed for 2s`))
	select {
	case <-z.ended:
	case <-time.After(waitLimit):
		t.Fatal("the idle session stayed open")
	}

	// Every session above has ended or been dropped: none is left behind.
	ts.waitSessions(0, "after every client left or idled out")
}

var reOpen = regexp.MustCompile(`(\d+) open`)

// maxOpen is the highest "N open" the status line showed in s.
func maxOpen(s string) int {
	n := 0
	for _, m := range reOpen.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.Atoi(m[1])
		n = max(n, v)
	}
	return n
}

func TestServeFiftySessionsWithIntake(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	demo, err := demomail.Start(ctx, demomail.Options{Every: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("starting the demo mail servers: %v", err)
	}
	defer demo.Close()
	mc := demo.Config()
	var ops []testOp
	for i := range 5 {
		ops = append(ops, newTestOp(t, fmt.Sprintf("op%d", i), "operator"))
	}
	ts := startTestServer(t, ops, "", serveOptions{mail: &mc, orgs: demo.Organisations()})

	const n = 50
	t0 := time.Now()
	clients := make([]*gossh.Client, n)
	screens := make([]*screen, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := ops[i%len(ops)]
			c, err := ts.dial(gossh.PublicKeys(op.signer))
			if err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
				return
			}
			clients[i] = c
			sc, err := tryScreen(t, c, fmt.Sprintf("session %d (%s)", i, op.name), "xterm-256color", 80, 24)
			if err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
				return
			}
			screens[i] = sc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, sc := range screens {
		sc.waitFor(0, reReady)
	}
	t.Logf("%d consoles up after %s", n, time.Since(t0))
	// Intake keeps registering mail while 50 consoles watch: every screen
	// shows the count grow past what it showed first.
	firsts := make([]int, n)
	for i, sc := range screens {
		firsts[i] = maxOpen(sc.text(0))
	}
	for i, sc := range screens {
		first := firsts[i]
		sc.waitUntil(0, fmt.Sprintf("more than %d open tickets", first+2), func(s string) bool { return maxOpen(s) > first+2 })
	}
	t.Logf("all saw new mail after %s", time.Since(t0))
	mailTickets := 0
	ts.s.st.Tickets(func(tk store.Ticket) bool {
		h, _ := ts.s.st.History(tk.ID)
		if len(h) > 0 && h[0].Actor == "mail" {
			mailTickets++
		}
		return true
	})
	if mailTickets == 0 {
		t.Fatal("no ticket came from the mail intake")
	}

	// Half the operators vanish without a goodbye; the server lets go of them.
	for i := 0; i < n/2; i++ {
		clients[i].Close()
	}
	ts.waitSessions(n-n/2, fmt.Sprintf("after %d of %d clients dropped", n/2, n))
	if out, _, code := ts.runCmd(ops[0], "list --json"); code != 0 || !strings.HasPrefix(out, "[") {
		t.Fatalf("list while 25 consoles run: exit %d", code)
	}

	// Shutdown (what SIGTERM does): intake stops, every console is told,
	// the store closes and can be opened again.
	marks := make([]int, n)
	for i := n / 2; i < n; i++ {
		marks[i] = screens[i].mark()
	}
	if err := ts.s.Close(); err != nil {
		t.Fatalf("closing the server: %v", err)
	}
	for i := n / 2; i < n; i++ {
		screens[i].waitFor(marks[i], regexp.MustCompile(`desk serve is shutting down`))
		select {
		case <-screens[i].ended:
		case <-time.After(waitLimit):
			t.Fatalf("session %d still open after shutdown", i)
		}
	}
	st, err := store.Open(ts.e.dataDir, store.Options{})
	if err != nil {
		t.Fatalf("the store after shutdown: %v", err)
	}
	st.Close()
}

// TestServeProcess runs the real command in a child process: the local
// `desk list` is pointed at ssh while the server holds the store, SIGHUP
// reloads, SIGTERM closes sessions and the store with exit status 0.
func TestServeProcess(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	carol := newTestOp(t, "carol", "operator")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(cfgPath, []byte(configText([]testOp{alice}, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	child := startChild(t, data, cfgPath)
	ts := &testServer{t: t, hostKey: child.hostKey(t)}
	dial := func(op testOp) (*gossh.Client, error) {
		return gossh.Dial("tcp", child.addr, &gossh.ClientConfig{User: op.name, Auth: []gossh.AuthMethod{gossh.PublicKeys(op.signer)},
			HostKeyCallback: gossh.FixedHostKey(ts.hostKey), Timeout: waitLimit})
	}
	c, err := dial(alice)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc := openScreen(t, c, "alice", "xterm-256color", 80, 24)
	sc.waitFor(0, reReady)

	var out, errb bytes.Buffer
	_, port, _ := net.SplitHostPort(child.addr)
	if code := run([]string{"--data", data, "--config", cfgPath, "list"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "ssh -p "+port+" 127.0.0.1 list --json") {
		t.Fatalf("local list while the server runs: exit %d, %q", code, errb.String())
	}

	if _, err := dial(carol); err == nil {
		t.Fatal("carol logged in before she was in the config")
	}
	if err := os.WriteFile(cfgPath, []byte(configText([]testOp{alice, carol}, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	child.cmd.Process.Signal(syscall.SIGHUP)
	child.waitLog(t, "config reloaded")
	cc, err := dial(carol)
	if err != nil {
		t.Fatalf("carol after SIGHUP: %v", err)
	}
	cc.Close()

	mark := sc.mark()
	child.cmd.Process.Signal(syscall.SIGTERM)
	sc.waitFor(mark, regexp.MustCompile(`desk serve is shutting down`))
	if err := child.wait(); err != nil {
		t.Fatalf("desk serve after SIGTERM: %v\n%s", err, child.log())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"--data", data, "--config", cfgPath, "list", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("local list after shutdown: exit %d: %s", code, errb.String())
	}
}

// child is `desk serve` in a separate process (this test binary re-run).
type child struct {
	cmd  *exec.Cmd
	addr string
	data string
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{}
	done chan error
}

func startChild(t testing.TB, data, cfgPath string, extraEnv ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ch := &child{data: data, more: make(chan struct{}, 1), done: make(chan error, 1)}
	ch.cmd = exec.Command(exe, "-test.run=^TestServeChildProcess$", "-test.v=false")
	ch.cmd.Env = append(os.Environ(), append([]string{"DESK_SERVE_CHILD=1", "DESK_DATA=" + data, "DESK_CONFIG=" + cfgPath}, extraEnv...)...)
	pr, pw := io.Pipe()
	ch.cmd.Stderr, ch.cmd.Stdout = pw, pw
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := pr.Read(b)
			ch.mu.Lock()
			ch.out.Write(b[:n])
			ch.mu.Unlock()
			select {
			case ch.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { err := ch.cmd.Wait(); pw.Close(); ch.done <- err }()
	t.Cleanup(func() {
		if ch.cmd.ProcessState == nil {
			ch.cmd.Process.Kill()
		}
	})
	line := ch.waitLog(t, "listening on ")
	re := regexp.MustCompile(`listening on (\S+),`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	ch.addr = m[1]
	return ch
}

func (ch *child) log() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.out.String()
}

func (ch *child) waitLog(t testing.TB, s string) string {
	t.Helper()
	deadline := time.After(2 * waitLimit) // the first start may compile nothing but opens a store
	for {
		if l := ch.log(); strings.Contains(l, s) {
			return l
		}
		select {
		case <-ch.more:
		case <-deadline:
			t.Fatalf("desk serve did not say %q; it said:\n%s", s, ch.log())
		}
	}
}

func (ch *child) wait() error {
	select {
	case err := <-ch.done:
		return err
	case <-time.After(2 * waitLimit):
		return errors.New("still running")
	}
}

func (ch *child) hostKey(t testing.TB) gossh.PublicKey {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(ch.data, hostKeyName))
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// TestServeChildProcess is the child of TestServeProcess and the benchmarks.
func TestServeChildProcess(t *testing.T) {
	switch os.Getenv("DESK_SERVE_CHILD") {
	case "":
		t.Skip("runs only as the child of TestServeProcess and the serve benchmarks")
	case "empty":
		os.Exit(runEmptyApp())
	}
	// The benchmarks ask for the live heap with SIGUSR1: resident memory
	// alone mixes in garbage not yet collected and Badger's mapped files.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if path := os.Getenv("DESK_CHILD_HEAPPROFILE"); path != "" {
				// What the heap holds at the benchmark's readings (the
				// last one wins): DESK_CHILD_HEAPPROFILE=/tmp/heap.prof
				if f, err := os.Create(path); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			fmt.Fprintf(os.Stderr, "heap-live %d total-alloc %d\n", m.HeapAlloc, m.TotalAlloc)
		}
	}()
	if path := os.Getenv("DESK_CHILD_CPUPROFILE"); path != "" {
		// For a look inside the served console under a benchmark:
		// DESK_CHILD_CPUPROFILE=/tmp/serve.prof go test -bench ...
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := run([]string{"serve", "--listen", "127.0.0.1:0"}, os.Stderr, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run([]string{"serve", "--listen", "127.0.0.1:0"}, os.Stderr, os.Stderr))
}

var reSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestServeColoursPerSession(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	ts := startTestServer(t, []testOp{alice}, "", serveOptions{})
	tk := ts.create("Core switch down", 1)
	// Both at once: a profile must not leak from one session to another.
	colour := ts.console(alice, 80, 24)
	plain := openScreen(t, ts.client(alice), "vt100", "vt100", 80, 24)
	colour.waitFor(0, rowRe(tk.ID, "P1"))
	plain.waitFor(0, rowRe(tk.ID, "P1"))
	colour.mu.Lock()
	c := string(colour.buf)
	colour.mu.Unlock()
	plain.mu.Lock()
	p := string(plain.buf)
	plain.mu.Unlock()
	if !strings.Contains(c, "38;5;") {
		t.Errorf("xterm-256color session has no 256-colour sequences:\n%q", c)
	}
	// A vt100 has reverse video and bold but no colour: the selection and
	// the status line use the first, never the second.
	for _, m := range reSGR.FindAllString(p, -1) {
		if colourSGR.MatchString(m) {
			t.Errorf("vt100 session got the colour sequence %q:\n%q", m, p)
			break
		}
	}
	if !strings.Contains(p, "\x1b[7m") {
		t.Errorf("vt100 session shows the selection without reverse video:\n%q", p)
	}
}

// colourSGR matches an SGR that sets a colour (30–37, 38;…, 40–47, 48;…, 90–107).
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

// A night-shift link drops mid-reply: the next login has the words back.
func TestServeDraftSurvivesADroppedConnection(t *testing.T) {
	alice := newTestOp(t, "alice", "operator")
	ts := startTestServer(t, []testOp{alice}, "", serveOptions{})
	tk := ts.create("VPN drops every hour", 3)
	c := ts.client(alice)
	d := openScreen(t, c, "dropped", "xterm", 80, 24)
	d.waitFor(0, rowRe(tk.ID, "P3"))
	mark := d.mark()
	d.keys("r")
	d.waitFor(mark, regexp.MustCompile(`Reply on `+tk.ID.String()))
	d.keys("We are checking the concentrator logs")
	time.Sleep(200 * time.Millisecond) // let the keys reach the server
	c.Close()                          // no goodbye, no esc

	// The server notices the dropped session and keeps the draft.
	ts.waitSessions(0, "after the connection dropped")
	a := ts.console(alice, 80, 24)
	a.waitFor(0, rowRe(tk.ID, "P3"))
	mark = a.mark()
	a.keys("r")
	a.waitFor(mark, regexp.MustCompile(`We are checking the concentrator logs`))
}

// waitSessions waits until the server has exactly n sessions registered.
func (ts *testServer) waitSessions(n int, when string) {
	ts.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		ts.s.mu.Lock()
		got := len(ts.s.sessions)
		ts.s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("%d sessions still registered %s, want %d", got, when, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
