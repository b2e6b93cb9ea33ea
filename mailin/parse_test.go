package mailin

import (
	"bytes"
	"encoding/base64"
	netmail "net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deskhq/desk/store"
)

func readMail(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mails", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	cases := []struct {
		file        string
		from        string
		subject     string
		body        []string // substrings the body must hold
		notBody     []string
		attachments int
		problems    bool
	}{
		{"rfc2047.eml", "soren@aarhus.dk", "borger.dk login fejler – MitID Ærø", []string{"login fejler"}, nil, 0, false},
		{"latin1.eml", "lotte@rsyd.dk", "Æblegrød på Ærø", []string{"Æblegrød på Ærø"}, nil, 0, false},
		{"latin9.eml", "a@x.example", "euro", []string{"100 €"}, nil, 0, false},
		{"cp1252.eml", "amelie@liege.be", "attestation", []string{"“attestation”", "s’affiche", "–"}, nil, 0, false},
		{"qp.eml", "a@x.example", "qp", []string{"soft-broken", "æøå"}, nil, 0, false},
		{"base64.eml", "a@x.example", "b64", []string{"Hej med dig, æøå."}, nil, 0, false},
		{"alternative.eml", "a@x.example", "alt", []string{"Plain version."}, []string{"HTML"}, 0, false},
		{"html-only.eml", "a@x.example", "html", []string{"Hello\u00a0team,", "- one", "- two & three", "status (https://status.example/x)", "\nBye"}, []string{"color:red", "alert", "<p>"}, 0, false},
		{"attachment.eml", "a@x.example", "att", []string{"See the log."}, nil, 1, false},
		{"oversize.eml", "a@x.example", "big", []string{"Big file"}, nil, 1, true},
		{"broken-boundary.eml", "a@x.example", "broken", nil, nil, 0, true},
		{"no-headers.eml", "", "", []string{"just a body", "second line"}, nil, 0, true},
		{"missing-from.eml", "", "who sent this", []string{"body"}, nil, 0, true},
		{"8bit-garbage.eml", "a@x.example", "café ÿþ", []string{"body æøå"}, nil, 0, true},
		{"bad-header.eml", "broken@x.example", "half a header", []string{"this line has no colon", "body"}, nil, 0, true},
		{"nested.eml", "a@x.example", "nested", []string{"inner plain"}, []string{"inner html"}, 1, false},
		{"unknown-charset.eml", "a@x.example", "qapla", []string{"nuqneH"}, nil, 0, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := Parse(readMail(t, c.file), 4096)
			m := p.Msg
			if m.From.Email != c.from {
				t.Errorf("from %q, want %q", m.From.Email, c.from)
			}
			if c.subject != "" && m.Subject != c.subject {
				t.Errorf("subject %q, want %q", m.Subject, c.subject)
			}
			for _, s := range c.body {
				if !strings.Contains(m.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, m.Body)
				}
			}
			for _, s := range c.notBody {
				if strings.Contains(m.Body, s) {
					t.Errorf("body has %q:\n%s", s, m.Body)
				}
			}
			atts := m.Attachments
			if a, _ := original(p); a != nil {
				atts = atts[:len(atts)-1] // the copy of a mail with problems comes last
			} else if c.problems {
				t.Errorf("a mail with problems kept no original.eml")
			}
			if len(atts) != c.attachments {
				t.Errorf("%d attachments %+v, want %d", len(atts), atts, c.attachments)
			}
			if (len(m.Problems) > 0) != c.problems {
				t.Errorf("problems %q, want some: %v", m.Problems, c.problems)
			}
			checkParsed(t, p, 4096)
		})
	}
}

func TestParseAttachments(t *testing.T) {
	p := Parse(readMail(t, "attachment.eml"), 0)
	a := p.Msg.Attachments[0]
	if a.Name != "løg.txt" || a.Size != 10 || a.ContentType != "text/plain" || string(p.Blobs[a.Blob]) != "hello log\n" {
		t.Fatalf("attachment %+v, content %q", a, p.Blobs[a.Blob])
	}
	if p.Key != "att@x.example" {
		t.Fatalf("key %q, want the Message-ID", p.Key)
	}
	p = Parse(readMail(t, "oversize.eml"), 4096)
	a = p.Msg.Attachments[0]
	if a.Name != "big.bin" || a.Size != 256*40 || a.Blob != "" || len(p.Blobs) != 1 {
		t.Fatalf("oversize attachment %+v, want name and size kept, content dropped", a)
	}
	if !strings.Contains(strings.Join(p.Msg.Problems, ";"), "big.bin") {
		t.Fatalf("problems %q do not note the dropped attachment", p.Msg.Problems)
	}
	// Without a Message-ID the key is a content hash: equal for the same
	// bytes, different for different ones.
	k1 := Parse([]byte("Subject: a\r\n\r\nx"), 0).Key
	k2 := Parse([]byte("Subject: a\r\n\r\nx"), 0).Key
	k3 := Parse([]byte("Subject: a\r\n\r\ny"), 0).Key
	if !strings.HasPrefix(k1, "sha256:") || k1 != k2 || k1 == k3 {
		t.Fatalf("content keys %q %q %q", k1, k2, k3)
	}
}

// checkParsed holds for every input, however broken.
func checkParsed(t testing.TB, p *Parsed, max int64) {
	m := p.Msg
	if p.Key == "" {
		t.Fatalf("empty key")
	}
	for _, s := range append([]string{m.Subject, m.Body, m.From.Name, m.From.Email, m.MessageID, m.InReplyTo}, m.Problems...) {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 kept: %q", s)
		}
	}
	if p.ReplyOK && (m.From.Email == "" || p.ReplyProblem != "") {
		t.Fatalf("reply ok to %q (%q)", m.From.Email, p.ReplyProblem)
	}
	if b := p.Bounce; b != nil {
		if !m.Auto {
			t.Fatalf("a bounce not marked Auto")
		}
		for _, s := range append(append([]string{b.Status, b.Diagnostic, b.Action}, b.Recipients...), b.OriginalIDs...) {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
				t.Fatalf("bounce field %q: control characters or invalid UTF-8", s)
			}
		}
	}
	for _, a := range m.Attachments {
		if !utf8.ValidString(a.Name) {
			t.Fatalf("attachment name %q is not UTF-8", a.Name)
		}
		if a.Blob == "" {
			if a.Size <= max {
				t.Fatalf("attachment %+v dropped under the cap", a)
			}
			continue
		}
		if int64(len(p.Blobs[a.Blob])) != a.Size || a.Size > max {
			t.Fatalf("attachment %+v: blob of %d bytes", a, len(p.Blobs[a.Blob]))
		}
	}
}

func FuzzParse(f *testing.F) {
	ents, _ := os.ReadDir(filepath.Join("testdata", "mails"))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "mails", e.Name()))
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := Parse(raw, 1024)
		checkParsed(t, p, 1024)
		if slow := parse(raw, 1024, true); !reflect.DeepEqual(p, slow) {
			t.Fatalf("the fast base64 path differs from go-message's:\nfast %+v\nslow %+v", p.Msg, slow.Msg)
		}
		// What we answer with stays one header line per field.
		if s := headerSafe(p.Msg.Subject, 400); strings.ContainsAny(s, "\r\n") {
			t.Fatalf("headerSafe left a line break in %q", s)
		}
	})
}

func TestHTMLText(t *testing.T) {
	cases := map[string]string{
		"<p>a</p><p>b</p>":          "a\n\nb",
		"x<br>y":                    "x\ny",
		"<b>un</b>closed <i":        "unclosed",
		"<!-- hidden -->shown":      "shown",
		"<pre>  keep\n  this</pre>": "keep\n  this",
		"&lt;script&gt; is text":    "<script> is text",
		"<a href='https://a.example'>https://a.example</a>": "https://a.example",
		"<table><tr><td>a</td><td>b</td></tr></table>":      "a b",
		// A bare < is text, not the start of a tag that eats the rest.
		"<p>if a < b and c > d</p>":   "if a < b and c > d",
		"x < y<br>3<4 & 5>2":          "x < y\n3<4 & 5>2",
		"<p>price < 5</p><p>next</p>": "price < 5\n\nnext",
		"1 <= 2, and <a href='https://e.example/x?a=1&amp;b=2'>here</a>": "1 <= 2, and here (https://e.example/x?a=1&b=2)",
		// Head and script text never shows, even with end tags missing.
		"<html><head><title>t</title><style>p{}</style><body>text": "text",
		"<script/>alert(1)</script>after":                          "after",
		"<ul><li>one<li>two</ul>":                                  "- one\n- two",
		"<hr>":                                                     "----",
		"<img src=x alt='logo'> hi":                                "[logo] hi",
		// Character references to control characters do not reach a terminal.
		"a&#27;[2Jb&#7;c":           "a[2Jbc",
		"<pre>x\x1b]0;t\x07y</pre>": "x]0;ty",
	}
	for in, want := range cases {
		if got := htmlText(in); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFastBase64MatchesGoMessage: attachments decoded by the fast path come
// out exactly as go-message's streaming decoder gives them, problems and
// all, and the unusual bodies fall back to it.
func TestFastBase64MatchesGoMessage(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i * 31)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	wrapped := wrap76(enc)
	cases := map[string]string{
		"wrapped":         wrapped,
		"one line":        enc,
		"indented":        strings.ReplaceAll(wrapped, "\r\n", "\r\n \t"),
		"unpadded":        strings.TrimRight(base64.StdEncoding.EncodeToString(data[:100]), "="),
		"bad character":   wrapped[:200] + "*" + wrapped[200:],
		"after padding":   base64.StdEncoding.EncodeToString(data[:10]) + "QUJD",
		"empty":           "",
		"blank lines":     "\r\n\r\n" + wrapped + "\r\n\r\n",
		"over the cap":    base64.StdEncoding.EncodeToString(append(data, data...)),
		"exactly the cap": base64.StdEncoding.EncodeToString(data[:2048]),
	}
	for name, body := range cases {
		for _, ct := range []string{"application/octet-stream", "text/plain; charset=iso-8859-1"} {
			raw := []byte("From: a@x.example\r\nSubject: s\r\nMessage-ID: <f@x.example>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
				"--b\r\nContent-Type: " + ct + "\r\nContent-Disposition: attachment; filename=d.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				body + "\r\n--b--\r\n")
			fast, slow := parse(raw, 2048, false), parse(raw, 2048, true)
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s, %s: fast path\n%+v %d blobs\ndiffers from go-message's\n%+v %d blobs", name, ct, fast.Msg, len(fast.Blobs), slow.Msg, len(slow.Blobs))
			}
			checkParsed(t, fast, 2048)
		}
	}
	// The ordinary case keeps the bytes intact.
	p := Parse([]byte("From: a@x.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+wrapped+"\r\n--b--\r\n"), 0)
	if len(p.Msg.Attachments) != 1 || !bytes.Equal(p.Blobs[p.Msg.Attachments[0].Blob], data) {
		t.Fatalf("attachment %+v not kept intact", p.Msg.Attachments)
	}
}

func TestParsePanicIsContained(t *testing.T) {
	// The salvage decodes the subject (it may reach an acknowledgement)
	// and judges the sender like the parser does.
	p := salvageParse([]byte("From: Eve <eve@x.example>\r\nSubject: =?x-unknown?Q?boom?= =?utf-8?Q?=C3=A6?=\r\n\r\nbody"), "test", 0)
	if p.Msg.Subject != "boomæ" || !p.ReplyOK {
		t.Fatalf("salvage subject %q, reply ok %v (%s)", p.Msg.Subject, p.ReplyOK, p.ReplyProblem)
	}
	if p = salvageParse([]byte("From: Eve <eve@x.example\r\n\r\nbody"), "test", 0); p.ReplyOK || p.ReplyProblem == "" {
		t.Fatalf("salvage of a broken From: reply ok %v (%s)", p.ReplyOK, p.ReplyProblem)
	}

	p = salvageParse([]byte("From: Eve <eve@x.example>\r\nSubject: boom\r\n\r\nbody"), "the mail could not be parsed (test)", 0)
	if p.Key == "" || p.Msg.From.Email != "eve@x.example" || p.Msg.Subject != "boom" || len(p.Msg.Problems) != 2 ||
		!strings.Contains(p.Msg.Body, "Subject: boom") || len(p.Msg.Attachments) != 1 {
		t.Fatalf("salvage = %+v / %+v", p, p.Msg)
	}
}

// TestBrokenBase64AttachmentIsRecorded: an attachment whose base64 breaks
// off is kept as far as it decoded, and the break is listed as a problem
// (the read error used to be overwritten by the file name lookup).
func TestBrokenBase64AttachmentIsRecorded(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	enc := wrap76(base64.StdEncoding.EncodeToString(data))
	cut := 400 // a multiple of 4 on the first lines: whole groups before the break
	body := enc[:cut] + "!!!!" + enc[cut:]
	raw := "From: a@x.example\r\nSubject: s\r\nMessage-ID: <b64@x.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=log.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		body + "\r\n--b--\r\n"
	for _, slow := range []bool{false, true} {
		p := parse([]byte(raw), 0, slow)
		var a *store.Attachment
		for i := range p.Msg.Attachments {
			if p.Msg.Attachments[i].Name == "log.bin" {
				a = &p.Msg.Attachments[i]
			}
		}
		if a == nil {
			t.Fatalf("slow %v: attachment lost: %+v", slow, p.Msg.Attachments)
		}
		got := p.Blobs[a.Blob]
		if len(got) == 0 || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) {
			t.Errorf("slow %v: kept %d bytes %q, want the %d decoded before the break", slow, len(got), got, len(data))
		}
		if !strings.Contains(strings.Join(p.Msg.Problems, "; "), `attachment "log.bin"`) {
			t.Errorf("slow %v: problems %q do not name the broken attachment", slow, p.Msg.Problems)
		}
	}
}

// original returns the original.eml attachment desk keeps of a mail it
// could not fully read, and its content.
func original(p *Parsed) (*store.Attachment, []byte) {
	for i, a := range p.Msg.Attachments {
		if a.Name == "original.eml" {
			return &p.Msg.Attachments[i], p.Blobs[a.Blob]
		}
	}
	return nil, nil
}

// TestProblemMailKeepsTheRawText: a mail parsing had trouble with keeps
// its raw text for the operator: as the body when no text could be read,
// and as original.eml (capped).
func TestProblemMailKeepsTheRawText(t *testing.T) {
	raw := readMail(t, "broken-boundary.eml")
	p := Parse(raw, 0)
	if !strings.Contains(p.Msg.Body, "text in the wrong boundary") {
		t.Errorf("body %q, want the text as received", p.Msg.Body)
	}
	a, b := original(p)
	if a == nil || !bytes.Equal(b, raw) || a.ContentType != "message/rfc822" || a.Size != int64(len(raw)) {
		t.Errorf("original.eml %+v with %d bytes, want the %d raw bytes", a, len(b), len(raw))
	}
	checkParsed(t, p, defaultMaxAttachment)

	// A clean mail has no copy.
	if a, _ := original(Parse(readMail(t, "attachment.eml"), 0)); a != nil {
		t.Errorf("a clean mail got %+v", a)
	}
	// A body that was read stays the body; the copy is still kept.
	p = Parse(readMail(t, "8bit-garbage.eml"), 0)
	if !strings.Contains(p.Msg.Body, "body æøå") || strings.Contains(p.Msg.Body, "Subject:") {
		t.Errorf("body %q, want the decoded text only", p.Msg.Body)
	}
	if a, _ := original(p); a == nil {
		t.Errorf("8-bit garbage mail kept no original.eml: %+v", p.Msg.Attachments)
	}
	// A big one is capped, and the cut is said.
	big := append([]byte("From: a@x.example\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"right\"\r\n\r\n--wrong\r\n\r\n"),
		bytes.Repeat([]byte("0123456789abcdef\r\n"), 30000)...)
	p = Parse(big, 0)
	a, b = original(p)
	if a == nil || len(b) != maxRawCopy || !bytes.Equal(b, big[:maxRawCopy]) {
		t.Fatalf("big original.eml %+v with %d bytes, want the first %d", a, len(b), maxRawCopy)
	}
	if len(p.Msg.Body) > maxRawCopy || !strings.Contains(p.Msg.Body, "0123456789abcdef") {
		t.Errorf("body of %d bytes, want the raw text capped at %d", len(p.Msg.Body), maxRawCopy)
	}
	if !strings.Contains(strings.Join(p.Msg.Problems, "; "), "original.eml") {
		t.Errorf("problems %q do not say the copy is cut", p.Msg.Problems)
	}
	// The copy respects a smaller attachment cap.
	p = Parse(big, 1000)
	if a, b := original(p); a == nil || len(b) != 1000 {
		t.Errorf("with a 1000 byte cap: %+v", a)
	}
	checkParsed(t, p, 1000)
}

// quickDate is only a fast path: whatever it accepts, net/mail reads the
// same; whatever it refuses goes to net/mail.
func TestQuickDateAgreesWithNetMail(t *testing.T) {
	for _, v := range []string{
		"Mon, 02 Mar 2026 08:14:05 +0000", "Tue, 02 Mar 2026 08:14:05 +0000", // wrong weekday
		"Mon, 2 Mar 2026 08:14:05 +0100", "Mon, 02 Mar 2026 08:14:61 +0000", "Mon, 02 Mar 2026 08:14:05 CET",
		"02 Mar 2026 08:14:05 -0500", "garbage", "",
	} {
		got, ok := quickDate(v)
		want, err := netmail.ParseDate(v)
		if ok && (err != nil || !got.Equal(want)) {
			t.Errorf("%q: quickDate %v, net/mail %v %v", v, got, want, err)
		}
	}
	if _, ok := quickDate("Mon, 02 Mar 2026 08:14:05 +0000"); !ok {
		t.Errorf("the usual form does not take the fast path")
	}
}
