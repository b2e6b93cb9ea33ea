package mailin

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/deskhq/desk/store"
)

// waitFor polls cond until it holds or a generous deadline passes; it
// asserts an outcome, not a speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countTickets(r *rig) int {
	n := 0
	r.st.Tickets(func(store.Ticket) bool { n++; return true })
	return n
}

func TestRunIdlePushAndReconnect(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(ctx) }()
	waitFor(t, "idle", func() bool { return r.svc.Status().State == "idle" })
	r.deliver(mk("a@x.example", "pushed", "x"))
	waitFor(t, "the pushed mail to become a ticket", func() bool { return countTickets(r) == 1 })
	waitFor(t, "the ack to be sent", func() bool { return len(r.sink.Sent()) == 1 })
	if s := r.svc.Status(); s.LastMail.IsZero() || s.Outbox != 0 {
		t.Fatalf("status %+v", s)
	}

	// The server goes away: status says so, and intake comes back when the
	// server does (same port, same mailbox).
	addr := r.im.Addr
	r.im.Close()
	waitFor(t, "an error status", func() bool { return r.svc.Status().State == "error" })
	if d := r.svc.Status().Detail; !strings.Contains(d, "retrying") {
		t.Fatalf("error detail %q does not say it retries", d)
	}
	r.deliver(mk("b@x.example", "while down", "x"))
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return sessionFor(r.im), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       quiet,
	})
	var ln net.Listener
	waitFor(t, "the old port to be free", func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	go srv.Serve(ln)
	defer srv.Close()
	waitFor(t, "the mail delivered while down", func() bool { return countTickets(r) == 2 })
	waitFor(t, "idle again", func() bool { return r.svc.Status().State == "idle" })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop when its context ended")
	}
	if s := r.svc.Status().State; s != "stopped" {
		t.Fatalf("state %q after stop", s)
	}
}

func TestRunPollingWithoutIdle(t *testing.T) {
	// imapserver always offers IDLE, so the service is told to ignore it.
	r := newRig(t, func(c *Config, _ *Options) { c.PollInterval = Duration{time.Second} })
	r.svc.noIdle = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.svc.Run(ctx)
	waitFor(t, "polling", func() bool { return r.svc.Status().State == "polling" })
	r.deliver(mk("a@x.example", "polled", "x"))
	waitFor(t, "the polled mail", func() bool { return countTickets(r) == 1 })
}

func TestDoneFolder(t *testing.T) {
	r := newRig(t, func(c *Config, _ *Options) { c.DoneFolder = "Registered" })
	r.deliver(mk("a@x.example", "one", "x"))
	r.deliver(mk("b@x.example", "two", "x"))
	if st := r.once(); st.Registered != 2 {
		t.Fatalf("%+v", st)
	}
	in, _ := r.im.User.Status("INBOX", &imap.StatusOptions{NumMessages: true})
	done, err := r.im.User.Status("Registered", &imap.StatusOptions{NumMessages: true})
	if err != nil || *in.NumMessages != 0 || *done.NumMessages != 2 {
		t.Fatalf("INBOX %v, Registered %v (%v): want the mail moved", *in.NumMessages, done, err)
	}
}

func TestComposeCannotInjectHeaders(t *testing.T) {
	m := store.OutMail{ID: 1, Ticket: 7, To: []string{"a@x.example"},
		Subject:    "Re: hi\r\nBcc: victim@x.example\r\nX-Evil: 1",
		MessageID:  "sd-7.1.ab@desk.test>\r\nBcc: <v@x.example",
		InReplyTo:  "orig@x\r\nBcc: v2@x.example",
		References: []string{"a@b>\nX-Evil: 2"},
		Body:       "Hello\r\n.\r\nline after a lone dot\n\x1b[31mred",
		Auto:       true}
	rcpt, raw, err := compose(m, "support@desk.test", "Desk\r\nX-Evil: 3", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rcpt) != 1 || rcpt[0] != "a@x.example" {
		t.Fatalf("recipients %v", rcpt)
	}
	p := Parse(raw, 0)
	for _, k := range []string{"Bcc", "X-Evil"} {
		if p.Header.Has(k) {
			t.Fatalf("header %s injected:\n%s", k, raw)
		}
	}
	if !strings.HasPrefix(p.Msg.Subject, "Re: hi") || p.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Fatalf("subject %q, auto %q", p.Msg.Subject, p.Header.Get("Auto-Submitted"))
	}
	if !strings.Contains(p.Msg.Body, "line after a lone dot") {
		t.Fatalf("body %q", p.Msg.Body)
	}
	if _, _, err := compose(store.OutMail{ID: 2, To: []string{"not an address\r\nBcc: x@y"}}, "support@desk.test", "", time.Now(), nil); err == nil {
		t.Fatal("a mail without a usable recipient was composed")
	}
}

func TestValidate(t *testing.T) {
	ok := Config{IMAP: "imaps://support@mail.example.org/INBOX", SMTP: "smtps://support@mail.example.org", Address: "support@example.org", PasswordEnv: "P"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := map[string]func(c *Config){
		"mail.imap":       func(c *Config) { c.IMAP = "" },
		"scheme":          func(c *Config) { c.IMAP = "pop3://x@y" },
		"plain text":      func(c *Config) { c.IMAP = "imap://support@mail.example.org/INBOX" },
		"mail.smtp":       func(c *Config) { c.SMTP = "http://x" },
		"mail.address":    func(c *Config) { c.Address = "Support <s@x>" },
		"only one":        func(c *Config) { c.PasswordFile = "/x" },
		"no password":     func(c *Config) { c.PasswordEnv = "" },
		"unknown_senders": func(c *Config) { c.UnknownSenders = "drop" },
		"start_from":      func(c *Config) { c.StartFrom = "yesterday" },
		"closed_reply":    func(c *Config) { c.ClosedReply = "ignore" },
		"poll_interval":   func(c *Config) { c.PollInterval = Duration{time.Millisecond} },
		"tag_prefix":      func(c *Config) { c.TagPrefix = "S D" },
		"names no user":   func(c *Config) { c.IMAP = "imaps://mail.example.org/INBOX" },
		"auto_per_day":    func(c *Config) { c.AutoPerDay = -1 },
	}
	for want, f := range bad {
		c := ok
		f(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Validate() = %v", want, err)
		}
	}
	c := ok
	c.IMAP, c.SMTP = "imap://support@127.0.0.1:1143/INBOX", "smtp://localhost:2525"
	if err := c.Validate(); err != nil {
		t.Errorf("plaintext to loopback refused: %v", err)
	}
	c.IMAP, c.StartTLS = "imap://support@mail.example.org/INBOX", true
	c.SMTP = "smtp://support@mail.example.org:587"
	if err := c.Validate(); err != nil {
		t.Errorf("STARTTLS refused: %v", err)
	}
}

// A notice to a subscriber carries its unsubscribe link as List-Unsubscribe,
// with one-click posting over HTTPS only; a link that could break the
// header is left out, and other mail has none.
func TestComposeListUnsubscribe(t *testing.T) {
	header := func(u string) (string, string) {
		t.Helper()
		_, raw, err := compose(store.OutMail{ID: 1, To: []string{"a@x.example"}, Subject: "Planned maintenance", Body: "b", Unsubscribe: u}, "support@desk.test", "", time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		p := Parse(raw, 0)
		return p.Header.Get("List-Unsubscribe"), p.Header.Get("List-Unsubscribe-Post")
	}
	if lu, post := header("https://status.desk.test/unsubscribe/0123abcd"); lu != "<https://status.desk.test/unsubscribe/0123abcd>" || post != "List-Unsubscribe=One-Click" {
		t.Errorf("https link: List-Unsubscribe %q, -Post %q", lu, post)
	}
	if lu, post := header("http://127.0.0.1:8088/unsubscribe/0123abcd"); lu != "<http://127.0.0.1:8088/unsubscribe/0123abcd>" || post != "" {
		t.Errorf("http link: List-Unsubscribe %q, -Post %q (one-click wants https)", lu, post)
	}
	if lu, _ := header("https://x.example/u>\r\nBcc: v@x.example"); lu != "" {
		t.Errorf("a link that breaks the header was sent: %q", lu)
	}
	if lu, _ := header(""); lu != "" {
		t.Errorf("mail without a subscription got List-Unsubscribe %q", lu)
	}
}
