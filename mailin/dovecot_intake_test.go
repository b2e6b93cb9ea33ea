package mailin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

func dovecotRig(t *testing.T) (*rig, *dovecot) {
	d := startDovecot(t)
	r := newRig(t, func(c *Config, _ *Options) {
		c.IMAP = d.config().IMAP
	})
	return r, d
}

func TestDovecotIntake(t *testing.T) {
	r, d := dovecotRig(t)
	for _, f := range []string{"latin1.eml", "bad-header.eml", "attachment.eml", "html-only.eml"} {
		d.save(t, string(readMail(t, f)))
	}
	st := r.once()
	if st.Registered != 4 || st.Sent != 4 {
		t.Fatalf("%+v, want 4 registered and acknowledged", st)
	}
	ts := r.tickets()
	if ts[0].Subject != "Æblegrød på Ærø" || ts[1].Requester.Email != "broken@x.example" {
		t.Fatalf("tickets %q / %q", ts[0].Subject, ts[1].Requester.Email)
	}
	h := r.history(2)
	var probs []string
	for _, e := range h {
		if e.Message != nil {
			probs = e.Message.Problems
		}
	}
	if len(probs) == 0 {
		t.Fatalf("the mail with a broken header has no problems listed")
	}
	if out := d.doveadm(t, "fetch", "-u", "support", "flags", "mailbox", "INBOX"); strings.Count(out, `\Seen`) != 4 {
		t.Fatalf("flags after intake:\n%s", out)
	}
	if st := r.once(); st.Registered != 0 {
		t.Fatalf("second run %+v", st)
	}

	// Run: Dovecot pushes new mail through IDLE.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.svc.Run(ctx)
	waitFor(t, "idle", func() bool { return r.svc.Status().State == "idle" })
	d.save(t, mk("new@x.example", "pushed by dovecot", "x"))
	waitFor(t, "the pushed mail", func() bool { return countTickets(r) == 5 })
}

func TestDovecotUIDValidityChange(t *testing.T) {
	r, d := dovecotRig(t)
	d.save(t, mk("a@x.example", "one", "1"))
	d.save(t, "From: b@x.example\r\nSubject: no id\r\n\r\nhashed\r\n")
	if st := r.once(); st.Registered != 2 {
		t.Fatalf("%+v", st)
	}
	d.doveadm(t, "mailbox", "update", "-u", "support", "--uid-validity", "4242", "INBOX")
	d.save(t, mk("c@x.example", "three", "3"))
	st := r.once()
	if st.Registered != 1 || st.Duplicates != 2 {
		t.Fatalf("after UIDVALIDITY change %+v, want 1 new and 2 duplicates", st)
	}
	if n := len(r.tickets()); n != 3 {
		t.Fatalf("%d tickets, want 3", n)
	}
}

func TestDovecotServerRestart(t *testing.T) {
	r, d := dovecotRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.svc.Run(ctx)
	waitFor(t, "idle", func() bool { return r.svc.Status().State == "idle" })
	d.stop()
	waitFor(t, "an error status", func() bool { return r.svc.Status().State == "error" })
	d.drop(t, [][]byte{[]byte(mk("a@x.example", "while down", "x"))})
	time.Sleep(time.Second) // Dovecot's master needs a moment before reusing base_dir
	d.start(t)
	waitFor(t, "the mail delivered while the server was down", func() bool { return countTickets(r) == 1 })
	if r.messagesIn(store.TicketID(1)) != 1 {
		t.Fatal("registered twice")
	}
}
