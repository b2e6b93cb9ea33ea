package mailin

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

// TestForgedOwnMailIsRegistered: mail that merely looks like ours (our
// Message-ID form, our loop header) is registered, visibly and logged, and
// never answered; it used to vanish without a trace.
func TestForgedOwnMailIsRegistered(t *testing.T) {
	logs := &logBuffer{}
	r := newRig(t, func(_ *Config, o *Options) { o.Log = log.New(logs, "", 0) })
	r.deliver(mk("eve@x.example", "loop header", "x", "X-Desk-Loop: support@desk.test"))
	r.deliver(mk("eve@x.example", "our id form", "x", "Message-ID: <sd-1.out1.abc@desk.test>"))
	r.deliver(mk("a@x.example", "real", "x"))
	st := r.once()
	if st.Registered != 3 || len(r.tickets()) != 3 {
		t.Fatalf("stats %+v, %d tickets: want all three registered", st, len(r.tickets()))
	}
	for _, tk := range r.tickets()[:2] {
		m := r.firstMessage(tk.ID)
		if !m.Auto || !strings.Contains(strings.Join(m.Problems, "; "), "looks like this desk's own mail") {
			t.Errorf("ticket %s %q: auto %v, problems %q", tk.ID, tk.Subject, m.Auto, m.Problems)
		}
	}
	if sent := r.sink.Sent(); len(sent) != 1 || sent[0].To[0] != "a@x.example" {
		t.Errorf("sent %+v, want only the real mail acknowledged", sent)
	}
	if n := strings.Count(logs.String(), "looks like this desk's own mail"); n != 2 {
		t.Errorf("%d log lines about look-alike mail, want 2:\n%s", n, logs)
	}
}

// TestOwnMailIsNeverImported: a copy of mail the desk sent (tagged
// Message-ID, signed body) is not imported, and the log says so; the same
// Message-ID and signature on another text, or another install's mail,
// are registered.
func TestOwnMailIsNeverImported(t *testing.T) {
	logs := &logBuffer{}
	key, err := LoadSelfKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(_ *Config, o *Options) { o.Log = log.New(logs, "", 0); o.SelfKey = key })
	send := func(key []byte, body string) []byte {
		t.Helper()
		if _, err := r.st.Enqueue(store.OutMail{Kind: "reply", To: []string{"support@desk.test"}, Subject: "copy of ours",
			Body: body, MessageID: NewMessageID(key, "desk.test")}); err != nil {
			t.Fatal(err)
		}
		if sent, failed, err := r.svc.flush(context.Background()); sent != 1 || failed != 0 || err != nil {
			t.Fatalf("flush: %d sent, %d failed, %v", sent, failed, err)
		}
		all := r.sink.Sent()
		return all[len(all)-1].Raw
	}
	body := "Dear Jens,  \n\nthe printer on floor 3 has a new fuser unit; please tell us whether it still jams, " +
		strings.Repeat("and this line is long enough to be wrapped by quoted-printable ", 3) + "— æøå.\n.\nKind regards\n"
	copyOfOurs := send(key, body)
	if !bytes.Contains(copyOfOurs, []byte(SigHeader+": v1 ")) {
		t.Fatalf("our mail is not signed:\n%s", copyOfOurs)
	}
	r.deliver(string(copyOfOurs))
	// A requester reuses the Message-ID and signature of mail they got.
	replay := bytes.Replace(copyOfOurs, []byte("fuser unit"), []byte("FUSER UNIT"), 1)
	r.deliver(string(replay))
	// Another install (another key) on the same domain.
	r.deliver(string(send([]byte("another install's key, 32 bytes"), "from elsewhere\n")))
	st := r.once()
	if st.Registered != 2 {
		t.Fatalf("stats %+v: want the copy of ours skipped, the other two registered", st)
	}
	for _, tk := range r.tickets() {
		if m := r.firstMessage(tk.ID); !m.Auto || !strings.Contains(strings.Join(m.Problems, "; "), "looks like this desk's own mail") {
			t.Errorf("ticket %s: auto %v, problems %q", tk.ID, m.Auto, m.Problems)
		}
		if strings.Contains(r.firstMessage(tk.ID).Body, "fuser unit") {
			t.Errorf("the copy of our own mail was registered")
		}
	}
	if !strings.Contains(logs.String(), "is a copy of mail this desk sent: not imported") {
		t.Errorf("no log line for the skipped copy:\n%s", logs)
	}
	if len(r.sink.Sent()) != 2 {
		t.Errorf("%d mails sent, want only the two of the test (nothing answered)", len(r.sink.Sent()))
	}
}

func TestComposeSignsWhatParseReads(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	me := newSelf("support@desk.test", "", key)
	for _, body := range []string{"", "x", "trailing  \r\nspaces\t\n\n\n", "a\rb", strings.Repeat("é", 500), "=?utf-8?Q?x?=\n.\n..\nFrom me\n"} {
		m := store.OutMail{ID: 1, To: []string{"a@x.example"}, Subject: "s", Body: body, MessageID: NewMessageID(key, "desk.test")}
		_, raw, err := compose(m, "support@desk.test", "Desk", time.Now(), key)
		if err != nil {
			t.Fatal(err)
		}
		if p := Parse(raw, 0); !me.ours(p) {
			t.Errorf("body %q: our own mail not recognised; parsed body %q", body, p.Msg.Body)
		}
		if p := Parse(raw, 0); newSelf("support@desk.test", "", nil).ours(p) {
			t.Errorf("body %q: recognised with another key", body)
		}
	}
	// Without the key nothing is signed.
	_, raw, _ := compose(store.OutMail{ID: 1, To: []string{"a@x.example"}, MessageID: "m@x"}, "support@desk.test", "", time.Now(), nil)
	if bytes.Contains(raw, []byte(SigHeader)) {
		t.Errorf("signed without a key")
	}
}
