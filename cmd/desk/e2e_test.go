package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// buildDesk builds the real binary once per test run.
func buildDesk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "desk")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var tmuxSessions atomic.Int64

type tmux struct {
	t       *testing.T
	session string
}

func startTmux(t *testing.T, w, h string, env []string, cmd ...string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux): the end-to-end console test needs it")
	}
	// One test may run several terminals: each gets a session of its own.
	s := fmt.Sprintf("desk-e2e-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), tmuxSessions.Add(1))
	exec.Command("tmux", "kill-session", "-t", s).Run()
	args := append([]string{"new-session", "-d", "-s", s, "-x", w, "-y", h}, "env")
	args = append(append(args, env...), cmd...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	tm := &tmux{t: t, session: s}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s).Run() })
	return tm
}

func (tm *tmux) keys(k ...string) {
	for _, key := range k {
		exec.Command("tmux", "send-keys", "-t", tm.session, key).Run()
		time.Sleep(60 * time.Millisecond)
	}
}

func (tm *tmux) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", tm.session).Output()
	return string(out)
}

// waitForMatch polls the screen until re matches and ok accepts the match.
func (tm *tmux) waitForMatch(re *regexp.Regexp, ok func([]string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		if m := re.FindStringSubmatch(s); m != nil && ok(m) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never matched %s as wanted:\n%s", re, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls the screen until every part is on it.
func (tm *tmux) waitFor(parts ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		ok := true
		for _, p := range parts {
			if !strings.Contains(s, p) {
				ok = false
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never showed %q:\n%s", parts, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleEndToEnd runs the real binary in a real terminal (tmux, 80x24,
// NO_COLOR) the way a newcomer does, presses keys and reads the screen.
func TestConsoleEndToEnd(t *testing.T) {
	bin := buildDesk(t)
	data := filepath.Join(t.TempDir(), "data")
	tm := startTmux(t, "80", "24", []string{"NO_COLOR=1", "TERM=xterm-256color", "DESK_CONFIG=", "USER=mette"},
		bin, "demo", "--no-mail", "--every", "300ms", "--data", data)
	s := tm.waitFor("All open", "SD-1", "mette")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 24 {
		t.Fatalf("%d lines on a 24-line terminal", len(lines))
	}
	// The generator keeps registering tickets: the count goes up without a
	// key (the new rows may sort below the visible ones; the count may not).
	tm.waitForMatch(regexp.MustCompile(`Unassigned (\d+)`), func(m []string) bool {
		n, _ := strconv.Atoi(m[1])
		return n > 6 // the backlog leaves 6 unassigned
	})

	tm.keys("/")
	tm.keys("M", "i", "t", "I", "D", "Enter")
	tm.waitFor("/MitID", "MitID")
	tm.keys("Escape")
	tm.waitFor("filter cleared")

	tm.keys(":", "S", "D", "-", "3", "Enter")
	tm.waitFor("SD-3  ", "history")
	tm.keys("1")
	tm.waitFor("SD-3 priority P3 → P1")
	tm.keys("n")
	tm.waitFor("Internal note on SD-3")
	tm.keys("Called back: fixed by the supplier.", "C-s")
	tm.waitFor("SD-3 note added", "Called back: fixed by the supplier.")
	tm.keys("q") // back to the list
	tm.keys("q") // quit
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := exec.Command("tmux", "has-session", "-t", tm.session).Run(); err != nil {
			break // the session ended with the program
		}
		time.Sleep(100 * time.Millisecond)
	}

	// What was done on screen is in the store.
	out, err := exec.Command(bin, "show", "SD-3", "--json", "--data", data).Output()
	if err != nil {
		t.Fatalf("desk show: %v", err)
	}
	var got struct {
		Priority string `json:"priority"`
		History  []struct {
			Kind, Actor, Text string
		} `json:"history"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Priority != "P1" {
		t.Fatalf("SD-3 priority = %s, want P1", got.Priority)
	}
	found := false
	for _, e := range got.History {
		if e.Kind == "note" && e.Actor == "mette" && e.Text == "Called back: fixed by the supplier." {
			found = true
		}
	}
	if !found {
		t.Fatalf("the note is not in the history: %s", out)
	}
	if log, err := os.ReadFile(filepath.Join(data, "desk.log")); err != nil || !strings.Contains(string(log), "console closed") {
		t.Fatalf("desk.log: %v %s", err, log)
	}
}

// TestDemoMailLoopEndToEnd is `make run` as a newcomer sees it: mail arrives
// in the demo mailbox, becomes tickets, and acknowledgements go out.
func TestDemoMailLoopEndToEnd(t *testing.T) {
	bin := buildDesk(t)
	data := filepath.Join(t.TempDir(), "data")
	tm := startTmux(t, "100", "30", []string{"NO_COLOR=1", "TERM=xterm-256color", "DESK_CONFIG="},
		bin, "demo", "--every", "500ms", "--data", data)
	tm.waitFor("mail idle", "All open")
	// The backlog has 10 open tickets; mail adds more within seconds.
	tm.waitForMatch(regexp.MustCompile(`(\d+) open`), func(m []string) bool {
		n, _ := strconv.Atoi(m[1])
		return n > 12
	})
	tm.keys(":", "o", "u", "t", "b", "o", "x", "Enter")
	s := tm.waitFor("Outbox (", "sent ")
	// Newest first: escalation and subscriber mail may fill the first
	// page; the acknowledgements are further down.
	ack := regexp.MustCompile(`SD-\d+ +ack +to `)
	for i := 0; i < 20 && !(ack.MatchString(s) && strings.Contains(s, "[SD-")); i++ {
		tm.keys("PageDown")
		time.Sleep(150 * time.Millisecond)
		s = tm.screen()
	}
	if !ack.MatchString(s) || !strings.Contains(s, "[SD-") {
		t.Fatalf("no acknowledgement with a ticket tag in the outbox:\n%s", s)
	}
}

// The check: on a fresh store, desk new registers a P1 incident,
// and the console opens with a major-incident banner naming it.
func TestFreshP1OpensWithTheMajorIncidentBanner(t *testing.T) {
	bin := buildDesk(t)
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(bin, "--data", data, "new", "--subject", "Borger.dk login down", "--requester", "a@b.dk",
		"--priority", "P1", "--type", "incident", "--no-ack").CombinedOutput()
	if err != nil {
		t.Fatalf("desk new: %v\n%s", err, out)
	}
	tm := startTmux(t, "80", "24", []string{"NO_COLOR=1", "TERM=xterm-256color", "DESK_CONFIG="}, bin, "--data", data)
	s := tm.waitFor("MAJOR INCIDENT SD-1 · update due", "Borger.dk login down", "SD-1◆")
	if lines := strings.Split(s, "\n"); !strings.Contains(lines[1], "MAJOR INCIDENT SD-1") {
		t.Fatalf("the banner is not under the status line:\n%s", s)
	}
}

// TestSearchAndKnownSolutionInTmux: the real binary in tmux at 80x24: / with
// a Danish form no row holds searches every message, enter opens the hit,
// K applies the known solution from the knowledge base, and the store has
// the ticket resolved with it.
func TestSearchAndKnownSolutionInTmux(t *testing.T) {
	bin := buildDesk(t)
	data := filepath.Join(t.TempDir(), "data")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--data", data}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("desk %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("new", "--subject", "Telefonsystemet", "--requester", "anders@rsyd.dk", "--no-ack", "--body", "I hotline-køen forsvinder ventende opkald efter 2 minutter.")
	run("new", "--subject", "Printer", "--requester", "jens@aarhus.dk", "--no-ack", "--body", "Paper stuck in tray 2.")
	run("kb", "new", "--title", "Ventende opkald forsvinder i hotline-køen", "--kind", "workaround",
		"--body", "Sæt køens timeout op til 10 minutter i omstillingen.")
	tm := startTmux(t, "80", "24", []string{"NO_COLOR=1", "TERM=xterm-256color", "DESK_CONFIG=", "USER=mette"}, bin, "--data", data)
	tm.waitFor("All open 2", "SD-1")
	tm.keys("/")
	tm.keys("o", "p", "k", "a", "l", "d", "e", "n", "e", "Enter")
	tm.waitFor(`search "opkaldene": 2 of 2`, "› SD-1", "forsvinder ventende opkald", "KB-1     workaround")
	tm.keys("Enter")
	tm.waitFor("SD-1  Telefonsystemet", "KB-1 workaround", "K applies KB-1")
	tm.keys("K")
	tm.waitFor("Resolve SD-1 with the known solution", "timeout op til 10 minutter")
	tm.keys("C-s")
	tm.waitFor("resolved with KB-1")
	tm.keys("q", "q")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := exec.Command("tmux", "has-session", "-t", tm.session).Run(); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := run("show", "SD-1")
	if !strings.Contains(out, "resolved") || !strings.Contains(out, "solved with KB-1 (workaround)") {
		t.Fatalf("SD-1 after K:\n%s", out)
	}
	if out := run("kb", "show", "KB-1"); !strings.Contains(out, "solved 1 tickets") {
		t.Fatalf("KB-1 did not count SD-1:\n%s", out)
	}
}
