package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// searchMails are mails as desks get them: Danish in quoted-printable,
// Dutch in base64, English as HTML only.
var searchMails = []string{
	"From: Jens Østergaard <jens@it.aarhus.dk>\r\nTo: support@desk.example\r\nSubject: =?utf-8?q?Kan_ikke_logge_ind?=\r\n" +
		"Message-ID: <s1@aarhus.dk>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Hej,\r\n\r\nJeg har mistet n=C3=B8glen til min sikkerhedsn=C3=B8gle og kan ikke logge ind.\r\n",
	"From: Els de Vries <els@gemeente.nl>\r\nTo: support@desk.example\r\nSubject: Wachtwoord vergeten\r\n" +
		"Message-ID: <s2@gemeente.nl>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"R29lZGVtaWRkYWcsIGlrIGJlbiBtaWpuIHdhY2h0d29vcmQgdmVyZ2V0ZW4gZW4ga2FuIG5pZXQgaW5sb2dnZW4u\r\n",
	"From: Ann Lee <ann@example.org>\r\nTo: support@desk.example\r\nSubject: Printers offline\r\n" +
		"Message-ID: <s3@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p>All the <b>printers</b> on floor 2 stopped printing this morning.</p>\r\n",
}

// TestSearchMailThroughIntakeOverSSH: mail in three languages comes in
// through the real intake of desk serve; a viewer finds it over SSH with
// stemmed, folded words and field terms while the server runs, and the
// same search runs locally once it has stopped.
func TestSearchMailThroughIntakeOverSSH(t *testing.T) {
	im, err := mailin.StartLocalIMAP("support", "pw", true)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	sink, err := mailin.StartLocalSink("")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for _, m := range searchMails {
		if err := im.Append("INBOX", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	mc := mailin.Config{IMAP: "imap://support@" + im.Addr + "/INBOX", SMTP: "smtp://" + sink.Addr, Address: "support@desk.example",
		StartFrom: "all", PollInterval: mailin.Duration{Duration: time.Second}}.WithPassword("pw")
	viewer := newTestOp(t, "vera", "viewer")
	ts := startTestServer(t, []testOp{viewer}, "", serveOptions{mail: &mc})

	find := func(q string) []string {
		t.Helper()
		out, errOut, code := ts.runCmd(viewer, "search --json "+q)
		if code != 0 {
			t.Fatalf("search %s: exit %d: %s", q, code, errOut)
		}
		var res search.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("search %s: %v\n%s", q, err, out)
		}
		var subjects []string
		for _, h := range res.Hits {
			subjects = append(subjects, h.Ticket.Subject)
		}
		return subjects
	}
	deadline := time.Now().Add(waitLimit)
	for len(find("printer")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the mail was not registered and indexed within %s", waitLimit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct{ q, want string }{
		{"nøgle", "Kan ikke logge ind"},
		{"noglen", "Kan ikke logge ind"},
		{"wachtwoord", "Wachtwoord vergeten"},
		{"'\"kan niet inloggen\"'", "Wachtwoord vergeten"},
		{"printing", "Printers offline"},
		{"from:aarhus.dk", "Kan ikke logge ind"},
		{"from:gemeente.nl inloggen", "Wachtwoord vergeten"},
	} {
		if got := find(c.q); len(got) != 1 || got[0] != c.want {
			t.Errorf("search %s: %q, want [%q]", c.q, got, c.want)
		}
	}
	if _, errOut, code := ts.runCmd(viewer, "reindex"); code == 0 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("reindex over SSH: exit %d, %s", code, errOut)
	}
	if _, errOut, code := ts.runCmd(viewer, "search"); code != 2 || !strings.Contains(errOut, "say what to look for") {
		t.Errorf("search without words: exit %d, %s", code, errOut)
	}

	ts.s.Close()
	var out, errb bytes.Buffer
	e := &env{dataDir: ts.e.dataDir, configPath: ts.cfgPath, configSet: true, dataSet: true, stdout: &out, stderr: &errb}
	if code := e.runLocal(lookupCommand("search"), []string{"nøgle"}); code != 0 || !strings.Contains(out.String(), "Kan ikke logge ind") ||
		!strings.Contains(out.String(), "mistet nøglen") {
		t.Fatalf("local search: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestSearchCatchesUpAfterAKill: desk serve is killed while it indexes a
// store it has never indexed; the next search finds every ticket.
func TestSearchCatchesUpAfterAKill(t *testing.T) {
	if os.Getenv("DESK_SERVE_CHILD") != "" {
		t.Skip()
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st, err := store.Open(data, store.Options{Policy: slaengine.DefaultPolicy(nil)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := range n {
		body := strings.Repeat(fmt.Sprintf("line %d of a long mail about the tunnel that drops\n", i), 40)
		if _, err := st.Create("mail", store.NewTicket{Subject: fmt.Sprintf("VPN %d", i), Requester: store.Person{Email: fmt.Sprintf("u%d@example.org", i)},
			Message: &store.Message{From: store.Person{Email: fmt.Sprintf("u%d@example.org", i)}, Body: body}, Inbound: true}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	op := newTestOp(t, "kim", "operator")
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(configText([]testOp{op}, "")), 0o600)
	for round := range 3 {
		ch := startChild(t, data, cfgPath)
		time.Sleep(time.Duration(400<<round) * time.Millisecond) // mid catch-up
		ch.cmd.Process.Signal(syscall.SIGKILL)
		ch.wait()
	}
	// How far the killed servers got, for the log: a count between 0 and
	// n means the last kill came mid-indexing.
	if st, err := store.Open(data, store.Options{Policy: slaengine.DefaultPolicy(nil)}); err == nil {
		if x, err := search.Open(search.Dir(data), st, nil); err == nil {
			left, _ := x.Behind(context.Background())
			t.Logf("after 3 kills the index was behind on %d of %d tickets", left, n)
			x.Close()
		}
		st.Close()
	}
	var out, errb bytes.Buffer
	e := &env{dataDir: data, configPath: cfgPath, configSet: true, dataSet: true, stdout: &out, stderr: &errb}
	if code := e.runLocal(lookupCommand("search"), []string{"--limit", "1", "tunnel"}); code != 0 {
		t.Fatalf("search after the kills: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("1 of %d matches", n)) {
		t.Fatalf("after the kills the index does not find every ticket:\n%s%s", out.String(), errb.String())
	}
}
