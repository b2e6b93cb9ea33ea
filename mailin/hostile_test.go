package mailin

import (
	"bytes"
	"log"
	"strings"
	"sync"
	"testing"

	"github.com/deskhq/desk/store"
)

// logBuffer collects a service's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// firstMessage is the first inbound message on a ticket.
func (r *rig) firstMessage(id store.TicketID) *store.Message {
	r.t.Helper()
	for _, e := range r.history(id) {
		if e.Message != nil {
			return e.Message
		}
	}
	r.t.Fatalf("ticket %s has no message", id)
	return nil
}

// TestBrokenBoundaryMailIsReadable: a mail whose boundary is wrong is
// registered with its text as received and the raw mail as original.eml
// in the store, not with an empty body.
func TestBrokenBoundaryMailIsReadable(t *testing.T) {
	r := newRig(t, nil)
	raw := string(readMail(t, "broken-boundary.eml"))
	r.deliver(raw)
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("stats %+v", st)
	}
	m := r.firstMessage(1)
	if !strings.Contains(m.Body, "text in the wrong boundary") {
		t.Fatalf("body %q, want the text as received", m.Body)
	}
	var blob string
	for _, a := range m.Attachments {
		if a.Name == "original.eml" {
			blob = a.Blob
		}
	}
	if blob == "" {
		t.Fatalf("attachments %+v: no original.eml", m.Attachments)
	}
	b, err := r.st.Blob(blob)
	if err != nil || !bytes.Equal(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll([]byte(raw), []byte("\r\n"), []byte("\n"))) {
		t.Fatalf("original.eml in the store: %q, %v", b, err)
	}
}

// TestNoAckToASalvagedAddress: an address dug out of a broken From line is
// kept on the ticket, but no automatic mail goes to it.
func TestNoAckToASalvagedAddress(t *testing.T) {
	logs := &logBuffer{}
	r := newRig(t, func(_ *Config, o *Options) { o.Log = log.New(logs, "", 0) })
	r.deliver(mk("Mallory <victim@x.example", "unclosed", "x"))
	r.deliver(mk("victim@x.example, other@x.example", "two senders", "x"))
	r.deliver(mk("Eve victim2@x.example", "no brackets", "x"))
	r.deliver(mk("a@x.example", "fine", "x", "Reply-To: <broken@x.example"))
	r.deliver(mk("Søren <soren@aarhus.dk>", "fine", "x"))
	st := r.once()
	if st.Registered != 5 {
		t.Fatalf("stats %+v, want all five registered", st)
	}
	if sent := r.sink.Sent(); len(sent) != 1 || sent[0].To[0] != "soren@aarhus.dk" {
		var to []string
		for _, m := range sent {
			to = append(to, m.To...)
		}
		t.Fatalf("acknowledgements to %q, want only soren@aarhus.dk", to)
	}
	if n := strings.Count(logs.String(), "not one well-formed address"); n != 4 {
		t.Errorf("%d log lines give the reason, want 4:\n%s", n, logs)
	}
	if e := r.firstMessage(1).From.Email; e != "victim@x.example" {
		t.Errorf("salvaged sender %q not kept on the ticket", e)
	}
}

func TestReplyOK(t *testing.T) {
	for hdr, ok := range map[string]bool{
		"From: Søren Kjærgaard <soren@aarhus.dk>":                  true,
		"From: =?x-unknown?Q?Bob?= <bob@x.example>":                true,
		"From: MAILER-DAEMON@mx.example (Mail Delivery System)":    true,
		"From: \"Ærø, Kommune\" <a@x.example>":                     true,
		"From: \xc6r\xf8 <a@x.example>":                            true, // undeclared Latin-1 in the name
		"From: a@x.example\r\nReply-To: b@x.example, c@x.example":  true,
		"Sender: s@x.example":                                      true,
		"From: Broken <broken@x.example":                           false,
		"From: a@x.example, b@x.example":                           false,
		"From: Eve eve@x.example":                                  false,
		"From: <>":                                                 false,
		"From: eve@x.example <victim@x.example>":                   false,
		"From: a@x.example\r\nReply-To: <broken":                   false,
		"From: a@x.example\r\nReply-To:":                           false,
		"From: broken <x\r\nSender: s@x.example":                   false, // a broken From is not mended by Sender
		"From: a@x.example\r\nFrom: b@x.example":                   false, // which one did the sender mean?
		"Subject: no sender":                                       false,
		"From: =?utf-8?Q?a=40x.example_=3Cvictim=40y.example=3E?=": false,
	} {
		p := Parse([]byte(hdr+"\r\nSubject: s\r\n\r\nbody\r\n"), 0)
		if strings.Contains(hdr, "Sender: s@x.example") && p.Msg.From.Email != "s@x.example" {
			t.Errorf("%q: the Sender is not kept as the sender: %+v", hdr, p.Msg.From)
		}
		if p.ReplyOK != ok || (ok == (p.ReplyProblem != "")) {
			t.Errorf("%q: ReplyOK %v (%q), want %v; from %+v", hdr, p.ReplyOK, p.ReplyProblem, ok, p.Msg.From)
		}
		if !ok && (self{Address: "support@desk.test", Domain: "desk.test"}).autoReasonFor(p) == "" {
			t.Errorf("%q: an automatic answer is allowed", hdr)
		}
	}
}

func TestAutoReasonForBounces(t *testing.T) {
	me := (self{Address: "support@desk.test", Domain: "desk.test"})
	p := Parse(readMail(t, "bounce-exchange.eml"), 0)
	if p.Bounce == nil || me.autoReasonFor(p) == "" {
		t.Fatalf("bounce %+v, reason %q", p.Bounce, me.autoReasonFor(p))
	}
	// A bounce with none of the usual markers is still never answered.
	raw := "From: reports@mx.example\r\nSubject: failure\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n" +
		"Final-Recipient: rfc822; x@y.example\r\nAction: failed\r\nStatus: 5.0.0\r\n--b--\r\n"
	p = Parse([]byte(raw), 0)
	if p.Bounce == nil || me.autoReasonFor(p) != "a bounce (delivery failure report)" {
		t.Fatalf("bounce %+v, reason %q", p.Bounce, me.autoReasonFor(p))
	}
}

// TestBouncesAreNeverAnswered: bounces of mail this desk does not know are
// quarantined (a known one lands on its ticket: see
// TestBounceLandsOnTheTicketWhoseMailBounced), never answered.
func TestBouncesAreNeverAnswered(t *testing.T) {
	r := newRig(t, nil)
	for _, f := range []string{"bounce-postfix.eml", "bounce-exchange.eml", "bounce-exim.eml"} {
		r.deliver(string(readMail(t, f)))
	}
	if st := r.once(); st.Quarantined != 3 || st.Registered != 0 || st.Sent != 0 || len(r.sink.Sent()) != 0 {
		t.Fatalf("stats %+v, want three quarantined, nothing sent", st)
	}
}
