package mailin

import (
	"context"
	"log"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// TestDovecotHostileMail runs issue 7's mails through a real IMAP server:
// a wrong boundary and a header-less mail keep their raw text, bounces and
// a broken From are not answered, a look-alike of our own mail is
// registered, and a real copy of our own mail is skipped.
func TestDovecotHostileMail(t *testing.T) {
	d := startDovecot(t)
	logs := &logBuffer{}
	key, err := LoadSelfKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *Config, o *Options) {
		c.IMAP = d.config().IMAP
		o.SelfKey = key
		o.Log = log.New(logs, "", 0)
	})
	// A real copy of our own mail, as the SMTP server received it.
	if _, err := r.st.Enqueue(store.OutMail{Kind: "reply", To: []string{"support@desk.test"}, Subject: "to ourselves",
		Body: "a copy of our own mail\n", MessageID: NewMessageID(key, "desk.test")}); err != nil {
		t.Fatal(err)
	}
	if sent, _, err := r.svc.flush(context.Background()); sent != 1 || err != nil {
		t.Fatalf("flush: %d, %v", sent, err)
	}
	d.save(t, string(r.sink.Sent()[0].Raw))
	for _, f := range []string{"broken-boundary.eml", "no-headers.eml", "bounce-postfix.eml", "bounce-exchange.eml"} {
		d.save(t, string(readMail(t, f)))
	}
	d.save(t, mk("Mallory <victim@x.example", "broken from", "x"))
	d.save(t, mk("eve@x.example", "looks like ours", "x", "Message-ID: <sd-9.out9.abc@desk.test>", "X-Desk-Loop: support@desk.test"))
	d.save(t, mk("Søren <soren@aarhus.dk>", "=?x-unknown?Q?Printer_jams?=", "x"))
	st := r.once()
	if st.Registered != 5 || st.Quarantined != 2 {
		t.Fatalf("stats %+v, want 5 registered and the 2 bounces of unknown mail quarantined (the copy of our own mail skipped)", st)
	}
	sent := r.sink.Sent()
	// Acknowledged: the mail with the wrong boundary (its sender is fine)
	// and Søren's, with the subject decoded; nothing else.
	if len(sent) != 3 || sent[1].To[0] != "a@x.example" || sent[2].To[0] != "soren@aarhus.dk" || sent[2].Subject != "[SD-5] Re: Printer jams" {
		for _, m := range sent {
			t.Logf("sent to %q: %q", m.To, m.Subject)
		}
		t.Fatalf("sent %d mails: want our own and two acknowledgements", len(sent))
	}
	for _, tk := range r.tickets() {
		m := r.firstMessage(tk.ID)
		if strings.TrimSpace(m.Body) == "" {
			t.Errorf("ticket %s %q has an empty body", tk.ID, tk.Subject)
		}
		if len(m.Problems) > 0 {
			found := false
			for _, a := range m.Attachments {
				found = found || a.Name == "original.eml"
			}
			if !found && !strings.Contains(strings.Join(m.Problems, ";"), "own mail") {
				t.Errorf("ticket %s %q has problems %q but no original.eml", tk.ID, tk.Subject, m.Problems)
			}
		}
	}
	if !strings.Contains(logs.String(), "is a copy of mail this desk sent") || !strings.Contains(logs.String(), "looks like this desk's own mail") {
		t.Errorf("log:\n%s", logs)
	}
}
