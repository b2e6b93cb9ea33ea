package mailin

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Dovecot from Debian's packages (dovecot-imapd), started by the test in a
// temporary directory on a free loopback port, as a real IMAP server with
// real delivery tools.

const dovecotUID = 65534 // nobody: Dovecot refuses to run mail as root

type dovecot struct {
	dir, conf, addr string
	cmd             *exec.Cmd
}

func needDovecot(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("dovecot"); err != nil {
		t.Skip("dovecot is not installed: apt-get install -y dovecot-imapd to run the Dovecot integration suite")
	}
	if os.Geteuid() != 0 {
		t.Skip("the Dovecot integration suite runs Dovecot's master, which needs root")
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var dovecotN atomic.Int32

func startDovecot(t testing.TB) *dovecot {
	t.Helper()
	needDovecot(t)
	// Not t.TempDir: its parents are root-only and Dovecot's mail
	// processes run as nobody.
	dir, err := os.MkdirTemp("", fmt.Sprintf("mailin-dovecot-%d-", dovecotN.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"home", "run", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chown(filepath.Join(dir, "home"), dovecotUID, dovecotUID)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("support:{PLAIN}secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &dovecot{dir: dir, conf: filepath.Join(dir, "dovecot.conf")}
	port := freePort(t)
	d.addr = "127.0.0.1:" + strconv.Itoa(port)
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = %[2]d
mail_gid = %[2]d
first_valid_uid = %[2]d
first_valid_gid = %[2]d
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[3]d
  }
  inet_listener imaps {
    port = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[2]d home=%[1]s/home/%%u
}
`, dir, dovecotUID, port)
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start(t)
	t.Cleanup(func() { d.stop() })
	return d
}

func (d *dovecot) start(t testing.TB) {
	t.Helper()
	d.cmd = exec.Command("dovecot", "-F", "-c", d.conf)
	var out bytes.Buffer
	d.cmd.Stdout, d.cmd.Stderr = &out, &out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := imapclient.DialInsecure(d.addr, nil)
		if err == nil {
			err = c.Login("support", "secret").Wait()
			c.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			t.Fatalf("dovecot did not come up on %s: %v\n%s\n%s", d.addr, err, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *dovecot) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		// SIGTERM: the master takes its imap processes down with it
		// (after SIGKILL they would linger and keep clients connected).
		d.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-done
		}
		d.cmd = nil
	}
}

// save delivers one mail with Dovecot's own tool.
func (d *dovecot) save(t testing.TB, raw string) {
	t.Helper()
	cmd := exec.Command("doveadm", "-c", d.conf, "save", "-u", "support", "-m", "INBOX")
	cmd.Stdin = strings.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("doveadm save: %v\n%s", err, out)
	}
}

func (d *dovecot) doveadm(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("doveadm", append([]string{"-c", d.conf}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("doveadm %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// drop writes mails straight into the user's Maildir/new, as a local
// delivery agent does: fast enough for hundreds of mails.
func (d *dovecot) drop(t testing.TB, mails [][]byte) {
	t.Helper()
	md := filepath.Join(d.dir, "home", "support", "Maildir")
	for _, sub := range []string{"", "new", "cur", "tmp"} {
		p := filepath.Join(md, sub)
		os.MkdirAll(p, 0o700)
		os.Chown(p, dovecotUID, dovecotUID)
	}
	os.Chown(filepath.Join(d.dir, "home", "support"), dovecotUID, dovecotUID)
	for i, m := range mails {
		p := filepath.Join(md, "new", fmt.Sprintf("%d.M%dP%d.mailin-test", time.Now().Unix(), i, os.Getpid()))
		if err := os.WriteFile(p, m, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, dovecotUID, dovecotUID)
	}
}

func (d *dovecot) config() Config {
	return Config{
		IMAP:      "imap://support@" + d.addr + "/INBOX",
		SMTP:      "smtp://127.0.0.1:1", // replaced by tests that send
		Address:   "support@desk.test",
		StartFrom: "all",
		password:  "secret",
	}
}
