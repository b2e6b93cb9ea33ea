package mailin

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseBounces(t *testing.T) {
	cases := []struct {
		file   string
		want   Bounce
		diag   string   // the diagnostic holds this
		body   []string // the body holds these
		noBody []string
	}{
		{"bounce-postfix.eml", Bounce{
			OriginalIDs: []string{"sd-42.7.3f9a1c2b7d4e@desk.test"},
			Recipients:  []string{"jens.hansen@kommune.example"},
			Status:      "5.1.1", Action: "failed",
		}, "smtp; 550 5.1.1 <jens.hansen@kommune.example>: Recipient address rejected: User unknown in virtual mailbox table",
			[]string{"could not\r\nbe delivered", "The mail system"}, nil},
		{"bounce-exchange.eml", Bounce{
			OriginalIDs: []string{"sd-43.out9.a1b2c3d4e5f6@desk.test"},
			Recipients:  []string{"anna.berg@kommune.example"},
			Status:      "5.1.10", Action: "failed",
		}, "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
			[]string{"couldn't be delivered"}, []string{"Received: from mail.desk.test", "Thread-Topic"}},
		{"bounce-exim.eml", Bounce{
			OriginalIDs: []string{"sd-44.out12.0f1e2d3c4b5a@desk.test"},
			Recipients:  []string{"piet.peeters@gemeente.example"},
			Status:      "5.2.2",
		}, "552 5.2.2 Mailbox full", []string{"permanent error"}, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := Parse(readMail(t, c.file), 0)
			checkParsed(t, p, defaultMaxAttachment)
			b := p.Bounce
			if b == nil {
				t.Fatalf("not read as a bounce: %+v", p.Msg)
			}
			if !p.Msg.Auto {
				t.Errorf("a bounce not marked Auto")
			}
			if !strings.Contains(b.Diagnostic, c.diag) {
				t.Errorf("diagnostic %q, want %q in it", b.Diagnostic, c.diag)
			}
			got := *b
			got.Diagnostic = ""
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("bounce %+v, want %+v", got, c.want)
			}
			for _, s := range c.body {
				if !strings.Contains(p.Msg.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, p.Msg.Body)
				}
			}
			for _, s := range c.noBody {
				if strings.Contains(p.Msg.Body, s) {
					t.Errorf("body has %q:\n%s", s, p.Msg.Body)
				}
			}
			if len(p.Msg.Problems) > 0 {
				t.Errorf("problems %q", p.Msg.Problems)
			}
		})
	}
}

func TestNotBounces(t *testing.T) {
	for name, raw := range map[string]string{
		"person attaching a mail": "From: Jens <jens@kommune.example>\r\nSubject: see the mail below\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nthis one\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.example\r\nMessage-ID: <orig@y.example>\r\nSubject: old\r\n\r\nold\r\n--b--\r\n",
		"daemon without an original": "From: MAILER-DAEMON@mx.example\r\nSubject: hello\r\n\r\nnothing attached\r\n",
		"read receipt": "From: jens@kommune.example\r\nSubject: Read: x\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; jens@kommune.example\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n",
	} {
		if b := Parse([]byte(raw), 0).Bounce; b != nil {
			t.Errorf("%s read as a bounce: %+v", name, b)
		}
	}
}

// TestHostileBounce: what a bounce says goes to operators and the log:
// no control characters, bounded, and a delayed notice is not a failure.
func TestHostileBounce(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example\r\nSubject: Delayed Mail\r\nIn-Reply-To: <a@desk.test>\r\nReferences: <r1@desk.test> <a@desk.test> <r2@desk.test>\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nstill trying\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n" +
		"Final-Recipient: rfc822; <Eve\x1b[2J@x.example>\r\nAction: delayed\r\nStatus: 4.4.1\r\nDiagnostic-Code: smtp; \x1b]0;owned\x07 " + strings.Repeat("very long ", 200) + "\r\n" +
		"--b--\r\n"
	p := Parse([]byte(raw), 0)
	b := p.Bounce
	if b == nil {
		t.Fatal("not a bounce")
	}
	if b.Action != "delayed" || b.Status != "4.4.1" {
		t.Errorf("bounce %+v, want a delayed 4.4.1", b)
	}
	if want := []string{"a@desk.test", "r2@desk.test", "r1@desk.test"}; !reflect.DeepEqual(b.OriginalIDs, want) {
		t.Errorf("original ids %q, want %q (In-Reply-To, then References newest first)", b.OriginalIDs, want)
	}
	for _, s := range append(append([]string{b.Status, b.Diagnostic, b.Action}, b.Recipients...), b.OriginalIDs...) {
		if strings.ContainsAny(s, "\x1b\x07\r\n") {
			t.Errorf("control characters kept: %q", s)
		}
	}
	if len(b.Diagnostic) > 600 {
		t.Errorf("diagnostic of %d bytes", len(b.Diagnostic))
	}
}
