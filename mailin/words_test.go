package mailin

import (
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

// TestUndecodableEncodedWords: an encoded word in a charset we cannot
// convert is shown in its best readable form, never as "=?...?=", and the
// problem is recorded.
func TestUndecodableEncodedWords(t *testing.T) {
	cases := []struct{ subject, want string }{
		{"=?x-unknown?Q?Printer_on_floor_3?= is down", "Printer on floor 3 is down"},
		{"=?x-klingon?Q?qapla?=", "qapla"},
		{"=?utf-8?Q?caf=C3=A9?= =?x-unknown?B?b3Jkcg==?= ok", "caféordr ok"}, // the space between encoded words is not text
		{"=?x-unknown?Q?=FF=FEab?=", "\uFFFDab"},
		{"=?bogus?Q?x?=", "x"},
		{"=?x-unknown?Q?a=1B[2Jb?=", "a\uFFFD[2Jb"}, // no escape sequence from a decoded word
	}
	for _, c := range cases {
		raw := "From: a@x.example\r\nSubject: " + c.subject + "\r\nMessage-ID: <w@x.example>\r\n\r\nbody\r\n"
		p := Parse([]byte(raw), 0)
		if p.Msg.Subject != c.want {
			t.Errorf("subject %q read as %q, want %q", c.subject, p.Msg.Subject, c.want)
		}
		if strings.Contains(p.Msg.Subject, "=?") {
			t.Errorf("subject %q kept an encoded word: %q", c.subject, p.Msg.Subject)
		}
		if !strings.Contains(strings.Join(p.Msg.Problems, "; "), "charset") {
			t.Errorf("subject %q: problems %q do not name the charset", c.subject, p.Msg.Problems)
		}
	}
	// A display name in an unknown charset: the name is readable, the
	// address is kept.
	p := Parse([]byte("From: =?x-unknown?Q?Bob_Smith?= <bob@x.example>\r\nSubject: s\r\n\r\nbody\r\n"), 0)
	if p.Msg.From.Email != "bob@x.example" || p.Msg.From.Name != "Bob Smith" {
		t.Errorf("from %+v, want Bob Smith <bob@x.example>", p.Msg.From)
	}
	// An attachment name in an unknown charset.
	p = Parse([]byte("From: a@x.example\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"+
		"Content-Type: application/pdf; name=\"=?x-unknown?Q?report.pdf?=\"\r\n\r\n%PDF\r\n--b--\r\n"), 0)
	if len(p.Msg.Attachments) != 2 || p.Msg.Attachments[0].Name != "report.pdf" {
		t.Errorf("attachments %+v, want report.pdf", p.Msg.Attachments)
	}
}

// TestAckSubjectFromUndecodableWord: the acknowledgement's Subject is built
// from the decoded, sanitised text, not the raw encoded word.
func TestAckSubjectFromUndecodableWord(t *testing.T) {
	r := newRig(t, nil)
	r.deliver(mk("a@x.example", "=?x-unknown?Q?Printer_on_floor_3?=", "it jams"))
	if st := r.once(); st.Registered != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v, want registered and acknowledged", st)
	}
	ack := r.sink.Sent()[0]
	if strings.Contains(string(ack.Raw), "x-unknown") || ack.Subject != "[SD-1] Re: Printer on floor 3" {
		t.Fatalf("ack subject %q; raw:\n%s", ack.Subject, ack.Raw)
	}
}

// TestComposeNeverSendsEncodedWordSyntax: text that merely looks like an
// encoded word (decoded from mail) is sent encoded, so the receiver shows
// it as the text it is and cannot be made to decode it.
func TestComposeNeverSendsEncodedWordSyntax(t *testing.T) {
	_, raw, err := compose(store.OutMail{ID: 1, To: []string{"a@x.example"}, Subject: "Re: =?x-unknown?Q?evil?= and =?utf-8?B?ZXZpbA==?=", Body: "x"},
		"support@desk.test", "Desk", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	hdr := string(raw[:strings.Index(string(raw), "\r\n\r\n")])
	if strings.Contains(hdr, "x-unknown") || strings.Contains(hdr, "?B?ZXZpbA") {
		t.Fatalf("raw header carries the encoded-word syntax:\n%s", hdr)
	}
	p := Parse(raw, 0)
	if p.Msg.Subject != "Re: =?x-unknown?Q?evil?= and =?utf-8?B?ZXZpbA==?=" {
		t.Fatalf("subject reads back as %q", p.Msg.Subject)
	}
}
