package mailin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// killRig is a built desk binary with a config and a data directory, on a
// mailbox of mails of mixed sizes (Dovecot when available, else the
// in-process IMAP server), sending to an SMTP server the test runs.
type killRig struct {
	t         *testing.T
	bin, conf string
	data      string
	total     int
}

// killOpts vary the rig: rate > 0 puts a proxy passing the server's
// answers at rate bytes a second in front of the mailbox; minBody pads
// every mail's text to at least that many bytes.
type killOpts struct{ rate, minBody int }

func newKillRig(t *testing.T, total int, smtpAddr string, o killOpts) *killRig {
	if testing.Short() {
		t.Skip("builds and kills the desk binary; skipped with -short")
	}
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
		for len(body) < o.minBody {
			body += fmt.Sprintf("padding line of mail %d, there to make it bigger\n", i)
		}
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
		if o.rate > 0 {
			imapURL = "imap://support@" + startThrottle(t, d.addr, o.rate).addr + "/INBOX"
		}
	} else {
		t.Log("dovecot not available: killing against the in-process IMAP server")
		im, err := StartLocalIMAP("support", "secret", true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { im.Close() })
		for _, m := range mails {
			if err := im.Append("INBOX", m); err != nil {
				t.Fatal(err)
			}
		}
		imapURL = "imap://support@" + im.Addr + "/INBOX"
		if o.rate > 0 {
			imapURL = "imap://support@" + startThrottle(t, im.Addr, o.rate).addr + "/INBOX"
		}
	}
	conf := filepath.Join(tmp, "desk.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[mail]
imap = %q
smtp = %q
address = "support@desk.test"
password_env = "MAILIN_KILL_TEST_PASSWORD"
start_from = "all"
auto_per_day = 1000
`, imapURL, "smtp://"+smtpAddr)), 0o600)
	return &killRig{t: t, bin: bin, conf: conf, data: filepath.Join(tmp, "data"), total: total}
}

func (k *killRig) run(args ...string) *exec.Cmd {
	cmd := exec.Command(k.bin, append([]string{"--data", k.data, "--config", k.conf}, args...)...)
	cmd.Env = append(os.Environ(), "MAILIN_KILL_TEST_PASSWORD=secret")
	return cmd
}

type listed struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
}

func (k *killRig) tickets() []listed {
	out, err := k.run("list", "--json").Output()
	if err != nil {
		k.t.Fatalf("desk list --json: %v", err)
	}
	var l []listed
	if err := json.Unmarshal(out, &l); err != nil {
		k.t.Fatalf("desk list --json: %v\n%.500s", err, out)
	}
	return l
}

// checkOnce: every mail is on exactly one ticket.
func (k *killRig) checkOnce() {
	t := k.t
	tickets := k.tickets()
	seen := map[string]int{}
	for _, tk := range tickets {
		seen[tk.Subject]++
	}
	var twice, missing []string
	for i := range k.total {
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
	if len(tickets) != k.total || len(twice) > 0 || len(missing) > 0 {
		t.Fatalf("%d tickets for %d mails; registered twice: %v; missing: %v", len(tickets), k.total, twice, missing)
	}
}

// TestSIGKILLDuringIntake kills a real desk process repeatedly while it
// registers 1,000 mails, restarts it, and then counts: every mail
// registered exactly once.
func TestSIGKILLDuringIntake(t *testing.T) {
	const total = 1000
	sink, err := StartLocalSink("")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	kr := newKillRig(t, total, sink.Addr, killOpts{})
	run := kr.run
	count := func() int {
		out, err := run("list", "--json").Output()
		if err != nil {
			// Seen once in a loaded CI run and not reproduced since: say
			// what desk said, and read once more before failing, so the
			// cause shows in the log (the counts below stay strict).
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Logf("desk list --json right after a kill: %v: %s", err, ee.Stderr)
			}
			time.Sleep(time.Second)
			if out, err = run("list", "--json").Output(); err != nil {
				t.Fatalf("desk list --json, read again: %v", err)
			}
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
	// Intake takes about as long as starting the process, so a timer alone
	// mostly kills too early or too late. Most kills follow the process's
	// own log instead: a group of mails is logged once it is written, not
	// yet synced; the kill comes after a random number of such lines and a
	// random pause of up to 30 ms more, which lands in the next group's
	// parsing and threading, in the sync and checkpoint of the one logged,
	// or in the flagging. Every third kill is on a random timer.
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
		pause := time.Duration(rng.IntN(30)) * time.Millisecond
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
					kill.Reset(pause)
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
	kr.checkOnce()
}

// ackSink is an SMTP server that counts the acknowledgements it receives
// per ticket subject and is slow to confirm each (delay after the data,
// before its answer): the window in which a killed sender has handed a mail
// over without hearing so.
type ackSink struct {
	addr  string
	delay time.Duration
	mu    sync.Mutex
	got   map[string]int // "load 007" -> acknowledgements received
	n     int
	// onMail, when set, hears every mail as it arrives (before the delay).
	onMail atomic.Pointer[func()]
}

func startAckSink(t *testing.T, delay time.Duration) *ackSink {
	t.Helper()
	k := &ackSink{delay: delay, got: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return ackSession{k}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = quiet
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	k.addr = ln.Addr().String()
	return k
}

var loadSubject = regexp.MustCompile(`load [0-9]{3}`)

type ackSession struct{ k *ackSink }

func (ackSession) Reset()                               {}
func (ackSession) Logout() error                        { return nil }
func (ackSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ackSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s ackSession) Data(r io.Reader) error {
	m, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, m.Body)
	subj := loadSubject.FindString(m.Header.Get("Subject"))
	s.k.mu.Lock()
	s.k.got[subj]++
	s.k.n++
	s.k.mu.Unlock()
	if f := s.k.onMail.Load(); f != nil {
		(*f)()
	}
	time.Sleep(s.k.delay)
	return nil
}

func (k *ackSink) counts() (received, distinct int, twice []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for s, n := range k.got {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", s, n))
		}
	}
	sort.Strings(twice)
	return k.n, len(k.got), twice
}

// TestSIGKILLDuringSending kills a real desk process repeatedly while it
// sends 300 acknowledgements to a slow SMTP server (each mail confirmed
// 15 ms after its data), most kills right after the server has received a
// mail and before it confirms it. Then every mail is on exactly one
// ticket, every requester has an acknowledgement, and there are at most as
// many duplicate acknowledgements as kills: only the mail in flight at a
// kill can go twice (its sending is recorded without waiting for the disk,
// but before the next mail's data ends).
func TestSIGKILLDuringSending(t *testing.T) {
	const total = 300
	sink := startAckSink(t, 15*time.Millisecond)
	kr := newKillRig(t, total, sink.addr, killOpts{})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	kills := 0
	for k := 0; k < 60; k++ {
		if _, distinct, _ := sink.counts(); distinct == total {
			break
		}
		cmd := kr.run("mail")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Most kills: after a random number of acknowledgements received
		// in this run, while the server holds the last one. Every third:
		// on a random timer (startup, intake, between mails).
		var once sync.Once
		kill := func() { once.Do(func() { cmd.Process.Signal(syscall.SIGKILL) }) }
		after, got := 1+rng.IntN(40), 0
		f := func() {
			if got++; got == after {
				kill()
			}
		}
		if k%3 == 2 {
			f = func() {}
		}
		sink.onMail.Store(&f)
		timer := time.AfterFunc(time.Duration(50+rng.IntN(1500))*time.Millisecond, kill)
		if k%3 != 2 {
			timer.Reset(20 * time.Second) // a backstop
		}
		done := make(chan struct{})
		go func() {
			// All sent: the process would idle until the backstop.
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, distinct, _ := sink.counts(); distinct == total {
					kill()
					return
				}
			}
		}()
		cmd.Wait()
		close(done)
		timer.Stop()
		sink.onMail.Store(nil)
		if strings.Contains(stderr.String(), "panic") {
			t.Fatalf("desk mail panicked:\n%s", stderr.String())
		}
		kills++
		received, distinct, _ := sink.counts()
		t.Logf("kill %d: %d acknowledgements received, %d requesters", kills, received, distinct)
	}
	out, err := kr.run("mail", "--once").CombinedOutput()
	if err != nil {
		t.Fatalf("desk mail --once: %v\n%s", err, out)
	}
	t.Logf("after the kills, desk mail --once: %s", bytes.TrimSpace(out))
	kr.checkOnce()
	received, distinct, twice := sink.counts()
	if distinct != total {
		t.Fatalf("%d of %d requesters got an acknowledgement", distinct, total)
	}
	dups := received - distinct
	t.Logf("%d kills, %d duplicate acknowledgements %v", kills, dups, twice)
	if kills < 5 {
		t.Fatalf("only %d kills: the test proved nothing", kills)
	}
	if dups > kills {
		t.Fatalf("%d duplicate acknowledgements after %d kills, want at most one per kill: %v", dups, kills, twice)
	}
}

// TestSIGKILLSlowMailbox: a mailbox read at 300 KB/s and a kill every
// 0.2–1.5 s. A chunk is committed about a second after its first mail,
// whatever its size, so the rounds that live long enough make progress
// (when only whole 100-mail chunks were committed, 3 s of reading each
// here, none did), and in the end every mail is on exactly one ticket.
func TestSIGKILLSlowMailbox(t *testing.T) {
	const total = 120 // ~1 MB: over 3 s at 300 KB/s
	sink, err := StartLocalSink("")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	kr := newKillRig(t, total, sink.Addr, killOpts{rate: 300 << 10, minBody: 8000})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	rounds, progress, prev := 0, 0, 0
	for ; rounds < 40 && progress < 3; rounds++ {
		cmd := kr.run("mail")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := time.Duration(200+rng.IntN(1300)) * time.Millisecond
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if strings.Contains(stderr.String(), "panic") {
			t.Fatalf("desk mail panicked:\n%s", stderr.String())
		}
		n := len(kr.tickets())
		t.Logf("round %d, killed after %s: %d registered", rounds+1, after, n)
		if n > prev {
			progress++
		}
		if prev = n; n == total {
			break
		}
	}
	if progress == 0 {
		t.Fatalf("%d rounds killed after 0.2–1.5 s registered nothing", rounds)
	}
	out, err := kr.run("mail", "--once").CombinedOutput()
	if err != nil {
		t.Fatalf("desk mail --once: %v\n%s", err, out)
	}
	kr.checkOnce()
}
