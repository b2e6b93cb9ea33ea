package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// sshKey makes an OpenSSH key pair with ssh-keygen, as an operator would.
func sshKey(t *testing.T, dir, name string) (private, public string) {
	t.Helper()
	private = filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@e2e", "-f", private).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, err := os.ReadFile(private + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return private, strings.TrimSpace(string(pub))
}

// TestServeThroughOpenSSH is desk serve as operators meet it: the real
// binary, the real OpenSSH client in two real terminals (tmux, 80x24 and
// 120x40), the host key pinned in known_hosts. One operator changes a
// ticket, the other sees it; a ticket registered over ssh by a third
// command shows on both consoles without a key.
func TestServeThroughOpenSSH(t *testing.T) {
	for _, tool := range []string{"ssh", "ssh-keygen", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install openssh-client tmux): the OpenSSH end-to-end test needs it", tool)
		}
	}
	bin := buildDesk(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	metteKey, mettePub := sshKey(t, dir, "mette")
	sofieKey, sofiePub := sshKey(t, dir, "sofie")
	cfg := filepath.Join(dir, "config.toml")
	cfgText := fmt.Sprintf("[[operators]]\nname = \"mette\"\nrole = \"operator\"\nkeys = [%q]\n\n[[operators]]\nname = \"sofie\"\nrole = \"lead\"\nkeys = [%q]\n", mettePub, sofiePub)
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--config", cfg)
	srv.Env = append(os.Environ(), "DESK_CONFIG=", "DESK_DATA=")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Process.Signal(os.Interrupt)
			srv.Wait()
		}
	}
	t.Cleanup(stop)
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var port string
	select {
	case a := <-addr:
		port = strings.TrimPrefix(a, "127.0.0.1:")
	case <-time.After(waitLimit):
		t.Fatal("desk serve did not say where it listens")
	}

	// Pin the host key desk created in its data dir: a client that would
	// accept any key proves less.
	pem, err := os.ReadFile(filepath.Join(data, hostKeyName))
	if err != nil {
		t.Fatal(err)
	}
	hk, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%s %s", port, gossh.MarshalAuthorizedKey(hk.PublicKey()))
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := func(key string, extra ...string) []string {
		return append([]string{"ssh", "-F", "/dev/null", "-p", port, "-i", key, "-o", "IdentitiesOnly=yes",
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "BatchMode=yes"}, extra...)
	}

	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	// A ticket registered over ssh by a command, as a script would.
	run(ssh(metteKey, "desk@127.0.0.1", "new", "--no-ack", "--priority", "P3", "--subject", "'Printer on the 3rd floor jams'", "--requester", "ann@example.org")...)

	mette := startTmux(t, "80", "24", []string{"TERM=xterm-256color"}, ssh(metteKey, "-t", "desk@127.0.0.1")...)
	sofie := startTmux(t, "120", "40", []string{"TERM=xterm-256color"}, ssh(sofieKey, "-t", "desk@127.0.0.1")...)
	mette.waitFor("SD-1", "Printer on the 3rd floor", "mette")
	sofie.waitFor("SD-1", "Printer on the 3rd floor jams", "sofie")
	if lines := strings.Split(strings.TrimRight(mette.screen(), "\n"), "\n"); len(lines) > 24 {
		t.Fatalf("%d lines on a 24-line terminal", len(lines))
	}

	// Mette raises SD-1 to P1; Sofie's console shows it without a key.
	mette.keys(":", "S", "D", "-", "1", "Enter")
	mette.waitFor("SD-1  ", "history")
	mette.keys("1")
	mette.waitFor("SD-1 priority P3 → P1")
	sofie.waitForMatch(regexp.MustCompile(`SD-1\s+P1`), func([]string) bool { return true })

	// A ticket registered over ssh while both consoles are open (a phone
	// call typed in elsewhere) reaches both without a key.
	run(ssh(sofieKey, "desk@127.0.0.1", "new", "--no-ack", "--priority", "P2", "--subject", "'VPN drops every 10 minutes'", "--requester", "bo@example.org")...)
	sofie.waitFor("SD-2", "VPN drops every 10 minutes")
	mette.waitFor("2 open") // at 80x24 the detail has the whole screen
	mette.keys("q")         // back to the list
	mette.waitFor("SD-2", "VPN drops")

	// q on the list quits: ssh exits with the program.
	mette.keys("q")
	deadline := time.Now().Add(waitLimit)
	for exec.Command("tmux", "has-session", "-t", mette.session).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("ssh did not end after q:\n%s", mette.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()

	// What Mette did over ssh is in the store under her name.
	out, err := exec.Command(bin, "show", "SD-1", "--json", "--data", data, "--config", cfg).Output()
	if err != nil {
		t.Fatalf("desk show: %v", err)
	}
	var got struct {
		Priority string `json:"priority"`
		History  []struct{ Kind, Actor, Field, To string }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Priority != "P1" {
		t.Fatalf("SD-1 priority %s after the change over ssh, want P1", got.Priority)
	}
	by := ""
	for _, e := range got.History {
		if e.Kind == "field" && e.Field == "priority" && e.To == "P1" {
			by = e.Actor
		}
	}
	if by != "mette" {
		t.Fatalf("the P1 change is recorded by %q, want mette: %s", by, out)
	}
}
