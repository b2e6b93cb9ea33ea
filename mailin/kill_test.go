package mailin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGKILLDuringIntake kills a real desk process repeatedly while it
// registers 500 mails, restarts it, and then counts: every mail registered
// exactly once.
func TestSIGKILLDuringIntake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the desk binary; skipped with -short")
	}
	const total = 500
	if _, err := os.Stat(filepath.Join("..", "cmd", "desk", "main.go")); err != nil {
		t.Skip("cmd/desk is not there yet: this test needs `desk mail` and `desk list --json`")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "desk")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/desk").CombinedOutput(); err != nil {
		t.Fatalf("build cmd/desk: %v\n%s", err, out)
	}

	mails := make([][]byte, total)
	for i := range mails {
		// Mixed sizes, some without a Message-ID (deduped by content hash).
		body := strings.Repeat(fmt.Sprintf("line %d of mail %d\n", i, i), 1+i%40)
		id := fmt.Sprintf("Message-ID: <kill-%d@load.example>", i)
		if i%7 == 0 {
			id = "X-No-Message-Id: true"
		}
		mails[i] = []byte(mk(fmt.Sprintf("user%d@load.example", i), fmt.Sprintf("load %03d", i), body, id))
	}
	var imapURL string
	if _, err := exec.LookPath("dovecot"); err == nil && os.Geteuid() == 0 {
		d := startDovecot(t)
		d.drop(t, mails)
		imapURL = d.config().IMAP
	} else {
		t.Log("dovecot not available: killing against the in-process IMAP server")
		im, err := startMemIMAP("support", "secret", true)
		if err != nil {
			t.Fatal(err)
		}
		defer im.Close()
		for _, m := range mails {
			if err := im.Append("INBOX", m); err != nil {
				t.Fatal(err)
			}
		}
		imapURL = "imap://support@" + im.Addr + "/INBOX"
	}
	sink, err := startSink("")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	conf := filepath.Join(tmp, "desk.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[mail]
imap = %q
smtp = %q
address = "support@desk.test"
password_env = "MAILIN_KILL_TEST_PASSWORD"
start_from = "all"
auto_per_day = 1000
`, imapURL, "smtp://"+sink.Addr)), 0o600)
	data := filepath.Join(tmp, "data")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"--data", data, "--config", conf}, args...)...)
		cmd.Env = append(os.Environ(), "MAILIN_KILL_TEST_PASSWORD=secret")
		return cmd
	}

	count := func() int {
		out, err := run("list", "--json").Output()
		if err != nil {
			t.Fatalf("desk list --json: %v", err)
		}
		var l []json.RawMessage
		if err := json.Unmarshal(out, &l); err != nil {
			t.Fatalf("desk list --json: %v\n%.500s", err, out)
		}
		return len(l)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	midway := 0 // kills that hit while intake was under way
	prev := 0
	// Intake of all 500 takes about as long as starting the process, so a
	// timer alone mostly kills too early or too late. Most kills follow the
	// process's own log instead: after a random number of registrations
	// (the kill lands a little later, while the process goes on), which
	// hits the middle of chunks, before their sync, as well as the syncs,
	// flags and chunk boundaries; every third kill is on a random timer.
	for k := 0; k < 40 && midway < 6; k++ {
		cmd := run("mail")
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := 1 + rng.IntN(150)
		timer := time.Duration(10+rng.IntN(150)) * time.Millisecond
		if k%3 != 2 {
			timer = 5 * time.Second // a backstop: the log should come first
		}
		kill := time.AfterFunc(timer, func() { cmd.Process.Signal(syscall.SIGKILL) })
		var stderr bytes.Buffer
		sc := bufio.NewScanner(pipe)
		seen := 0
		for sc.Scan() {
			stderr.Write(append(sc.Bytes(), '\n'))
			if strings.Contains(sc.Text(), " registered on ") {
				// All registered: the process would idle until the backstop.
				if seen++; seen == after || prev+seen >= total {
					cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}
		kill.Stop()
		cmd.Process.Signal(syscall.SIGKILL) // intake done before the kill: it would idle forever
		cmd.Wait()
		if strings.Contains(stderr.String(), "panic") {
			t.Fatalf("desk mail panicked:\n%s", stderr.String())
		}
		n := count()
		t.Logf("kill %d (after %d registrations or %s): %d registered", k+1, after, timer, n)
		if n > total {
			t.Fatalf("%d tickets for %d mails after kill %d", n, total, k+1)
		}
		if n == total {
			break
		}
		if n > prev {
			midway++
		}
		prev = n
	}
	if midway < 2 {
		t.Fatalf("only %d kills landed during intake: the test proved nothing", midway)
	}
	t.Logf("%d kills landed during intake; %d of %d mails registered before the last run", midway, prev, total)
	out, err := run("mail", "--once").CombinedOutput()
	if err != nil {
		t.Fatalf("desk mail --once: %v\n%s", err, out)
	}
	t.Logf("after the kills, desk mail --once: %s", bytes.TrimSpace(out))
	out, err = run("list", "--json").Output()
	if err != nil {
		t.Fatalf("desk list --json: %v", err)
	}
	var tickets []struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal(out, &tickets); err != nil {
		t.Fatalf("desk list --json: %v\n%.500s", err, out)
	}
	seen := map[string]int{}
	for _, tk := range tickets {
		seen[tk.Subject]++
	}
	var twice, missing []string
	for i := range total {
		s := fmt.Sprintf("load %03d", i)
		switch seen[s] {
		case 1:
		case 0:
			missing = append(missing, s)
		default:
			twice = append(twice, s)
		}
	}
	sort.Strings(twice)
	if len(tickets) != total || len(twice) > 0 || len(missing) > 0 {
		t.Fatalf("%d tickets for %d mails; registered twice: %v; missing: %v", len(tickets), total, twice, missing)
	}
}
