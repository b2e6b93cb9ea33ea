package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/mailin"
)

// holdingSink is an SMTP server that accepts every mail but can hold the
// next escalation mail after its data arrived and before its answer: the
// moment a killed sender has not heard that the mail was taken.
type holdingSink struct {
	mu       sync.Mutex
	accepted []mailin.SentMail
	hold     bool
	held     chan struct{} // closed when a mail is being held
	release  chan struct{}
}

type holdingSession struct {
	k  *holdingSink
	to []string
}

func (s *holdingSession) Reset()                               { s.to = nil }
func (s *holdingSession) Logout() error                        { return nil }
func (s *holdingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *holdingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *holdingSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	p := mailin.Parse(raw, 1<<20)
	k := s.k
	k.mu.Lock()
	if k.hold && strings.HasPrefix(p.Msg.Subject, "[SD-") && strings.Contains(p.Msg.Subject, "Escalation") {
		k.hold = false
		k.mu.Unlock()
		close(k.held)
		<-k.release
		return errors.New("held: never answered")
	}
	k.accepted = append(k.accepted, mailin.SentMail{To: s.to, Subject: p.Msg.Subject, Body: p.Msg.Body})
	k.mu.Unlock()
	return nil
}

func (k *holdingSink) escalations() []mailin.SentMail {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []mailin.SentMail
	for _, m := range k.accepted {
		if strings.Contains(m.Subject, "Escalation") {
			out = append(out, m)
		}
	}
	return out
}

// A P1's on-call step is recorded with its mail in one write; the desk
// holding the store is killed while that mail is in flight (the SMTP server
// has it but has not answered); after a restart the mail arrives once, and
// the history has the step once.
func TestEscalationMailOnceAcrossAKill(t *testing.T) {
	bin := buildDesk(t)
	im, err := mailin.StartLocalIMAP("support", "pw", true)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	sink := &holdingSink{hold: true, held: make(chan struct{}), release: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &holdingSession{k: sink}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	defer func() {
		select {
		case <-sink.release:
		default:
			close(sink.release)
		}
	}()

	dir := t.TempDir()
	data, cfgPath := filepath.Join(dir, "data"), filepath.Join(dir, "desk.toml")
	cfg := fmt.Sprintf(`operator = "dan"
[[operators]]
name = "dan"
role = "lead"
email = "dan@desk.test"

[[oncall]]
name = "system-owner"
contact = "owner@example.dk"
calendar = "copenhagen"
hours = { "mon-sun" = "00:00-24:00" }

[mail]
address = "support@desk.test"
imap = "imap://support@%s/INBOX"
smtp = "smtp://%s"
password_env = "DESK_TEST_PW"
poll_interval = "1s"
`, im.Addr, ln.Addr())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "DESK_TEST_PW=pw", "DESK_CONFIG="+cfgPath, "DESK_DATA="+data)
	cmd := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}

	// desk new records the registration step (whoever is on call, by mail)
	// at once; its mail waits in the outbox for a process that sends.
	out, err := cmd("new", "--priority", "P1", "--type", "incident", "--subject", "borger.dk login down",
		"--requester", "r@example.org", "--no-ack").CombinedOutput()
	if err != nil {
		t.Fatalf("desk new: %v\n%s", err, out)
	}

	mail := cmd("mail")
	mail.Stderr = os.Stderr
	if err := mail.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.held:
	case <-time.After(30 * time.Second):
		mail.Process.Kill()
		t.Fatal("the escalation mail never reached the SMTP server")
	}
	mail.Process.Signal(syscall.SIGKILL)
	mail.Wait()
	close(sink.release)
	if n := len(sink.escalations()); n != 0 {
		t.Fatalf("%d escalation mails accepted before the kill, want 0 (the one in flight was held)", n)
	}

	again := cmd("mail")
	again.Stderr = os.Stderr
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(sink.escalations()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a second copy would come within this
	again.Process.Signal(syscall.SIGTERM)
	again.Wait()

	got := sink.escalations()
	if len(got) != 1 {
		t.Fatalf("%d escalation mails after the restart, want 1: %+v", len(got), got)
	}
	if strings.Join(got[0].To, ",") != "owner@example.dk" || !strings.Contains(got[0].Body, "borger.dk login down") {
		t.Fatalf("the on-call mail: %+v", got[0])
	}
	out, err = cmd("show", "SD-1", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("desk show: %v\n%s", err, out)
	}
	var shown struct {
		History []struct {
			Kind       string         `json:"kind"`
			Escalation map[string]any `json:"escalation"`
		} `json:"history"`
	}
	if err := json.Unmarshal(out, &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
	steps := 0
	for _, h := range shown.History {
		if h.Kind == "escalation" {
			steps++
			if h.Escalation["step"] != "registered" {
				t.Errorf("step %v", h.Escalation)
			}
		}
	}
	if steps != 1 {
		t.Fatalf("%d escalation events in the history, want 1:\n%s", steps, out)
	}
}
