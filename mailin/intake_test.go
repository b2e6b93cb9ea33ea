package mailin

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/deskhq/desk/store"
)

func TestIntakeRegistersAcksAndFlags(t *testing.T) {
	r := newRig(t, nil)
	r.deliver(mk("Søren Kjærgaard <soren@aarhus.dk>", "borger.dk login fails", "MitID error 4012", "Message-ID: <m1@aarhus.dk>"))
	r.deliver(mk("lotte@rsyd.dk", "=?ISO-8859-1?Q?=C6blegr=F8d_p=E5_=C6r=F8?=", "FMK", "Message-ID: <m2@rsyd.dk>"))
	st := r.once()
	if st.Registered != 2 || st.Sent != 2 || st.Failed != 0 {
		t.Fatalf("stats %+v, want 2 registered and 2 acks sent", st)
	}
	ts := r.tickets()
	if len(ts) != 2 {
		t.Fatalf("%d tickets, want 2", len(ts))
	}
	if ts[0].Requester.Email != "soren@aarhus.dk" || ts[0].Requester.Name != "Søren Kjærgaard" {
		t.Errorf("requester %+v", ts[0].Requester)
	}
	if ts[1].Subject != "Æblegrød på Ærø" {
		t.Errorf("subject %q, want the decoded RFC 2047 word", ts[1].Subject)
	}
	sent := r.sink.Sent()
	if len(sent) != 2 {
		t.Fatalf("sink got %d mails, want 2 acks", len(sent))
	}
	ack := sent[0]
	if !strings.HasPrefix(ack.Subject, "[SD-1] ") || ack.InReplyTo != "m1@aarhus.dk" || !ack.Auto || ack.To[0] != "soren@aarhus.dk" {
		t.Errorf("ack %+v", ack)
	}
	raw := string(ack.Raw)
	for _, want := range []string{"Auto-Submitted: auto-replied", "X-Desk-Loop: support@desk.test", "Content-Transfer-Encoding: quoted-printable", "charset=utf-8"} {
		if !strings.Contains(raw, want) {
			t.Errorf("ack lacks %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(ack.Body, "SD-1") || !strings.Contains(ack.Body, "P3") || !strings.Contains(ack.Body, "first response by") {
		t.Errorf("ack body lacks ticket, priority or expected response:\n%s", ack.Body)
	}
	if strings.Contains(ack.Body, store.TicketPlaceholder) {
		t.Errorf("ack body still has the placeholder:\n%s", ack.Body)
	}
	// Nothing new: nothing registered, nothing sent.
	if st := r.once(); st.Registered != 0 || st.Sent != 0 {
		t.Fatalf("second run %+v, want nothing", st)
	}
	// The mail is flagged \Seen on the server, after registration.
	if n := r.im.User; n != nil {
		sd, err := n.Status("INBOX", &imap.StatusOptions{NumUnseen: true})
		if err != nil || *sd.NumUnseen != 0 {
			t.Errorf("unseen after intake: %v %v, want 0", sd.NumUnseen, err)
		}
	}
}

func TestCheckpointNotSeenDecidesWhatIsNew(t *testing.T) {
	r := newRig(t, nil)
	r.deliver(mk("a@x.example", "one", "1"))
	r.once()
	// A person marks mail unread, and reads the next one in their client:
	// neither changes what intake registers.
	c, err := imapclient.DialInsecure(r.im.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	r.deliver(mk("b@x.example", "two", "2"))
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("stats %+v, want exactly the new mail registered", st)
	}
	if n := len(r.tickets()); n != 2 {
		t.Fatalf("%d tickets, want 2", n)
	}
}

func TestUIDValidityChangeRescansWithoutDuplicates(t *testing.T) {
	r := newRig(t, nil)
	mails := []string{
		mk("a@x.example", "one", "1"),
		mk("b@x.example", "two", "2"),
		// No Message-ID: deduped by a hash of the content.
		"From: c@x.example\r\nSubject: three\r\n\r\nno message id\r\n",
	}
	for _, m := range mails {
		r.deliver(m)
	}
	if st := r.once(); st.Registered != 3 {
		t.Fatalf("first run %+v", st)
	}
	// The server rebuilds the mailbox: same mail, new UIDs, new UIDVALIDITY.
	if err := r.im.User.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := r.im.User.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	r.deliver(mk("d@x.example", "four", "4"))
	for _, m := range mails {
		r.deliver(m)
	}
	st := r.once()
	if st.Registered != 1 || st.Duplicates != 3 {
		t.Fatalf("after UIDVALIDITY change %+v, want 1 registered and 3 duplicates", st)
	}
	if n := len(r.tickets()); n != 4 {
		t.Fatalf("%d tickets, want 4", n)
	}
	if n := len(r.sink.Sent()); n != 4 {
		t.Fatalf("%d acks, want 4 (none twice)", n)
	}
}

func TestStartFrom(t *testing.T) {
	r := newRig(t, func(c *Config, _ *Options) { c.StartFrom = "" })
	r.deliver(mk("a@x.example", "old", "old"))
	if _, err := r.svc.Once(context.Background()); err == nil || !strings.Contains(err.Error(), "start_from") {
		t.Fatalf("Once on a full mailbox without start_from: %v, want an error naming start_from", err)
	}
	r2 := newRig(t, func(c *Config, _ *Options) { c.StartFrom = "now" })
	r2.deliver(mk("a@x.example", "old", "old"))
	r2.deliver(mk("a@x.example", "old 2", "old"))
	if st := r2.once(); st.Registered != 0 {
		t.Fatalf("start_from = now registered %+v", st)
	}
	r2.deliver(mk("a@x.example", "new", "new"))
	if st := r2.once(); st.Registered != 1 {
		t.Fatalf("after start_from = now, a new mail: %+v", st)
	}
}

func TestMalformedMailRegisteredWithProblems(t *testing.T) {
	r := newRig(t, nil)
	// imapmemserver returns nothing for a header it cannot parse, so the
	// broken-header case is in the Dovecot suite and the parser tests.
	r.deliver("From: Broken <broken@x.example\r\nSubject: =?bogus?Q?x?=\r\nDate: yesterday-ish\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\n\r\nbody text without the boundary\r\n")
	r.deliver(mk("a@x.example", "after", "fine"))
	if st := r.once(); st.Registered != 2 {
		t.Fatalf("stats %+v, want both registered", st)
	}
	h := r.history(1)
	m := h[0].Message
	if m == nil {
		for _, e := range h {
			if e.Message != nil {
				m = e.Message
				break
			}
		}
	}
	if m == nil || len(m.Problems) == 0 || m.From.Email != "broken@x.example" {
		t.Fatalf("malformed mail registered as %+v, want its sender and problems listed", m)
	}
}

func TestUnstorableMailIsQuarantined(t *testing.T) {
	r := newRig(t, nil)
	// Hundreds of distinct small attachments: more than one store
	// transaction can hold (the store keeps small values inline).
	var b strings.Builder
	b.WriteString("From: big@x.example\r\nSubject: many files\r\nMessage-ID: <big@x.example>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	chunk := strings.Repeat("0123456789abcdef", 240)
	for i := 0; i < 450; i++ {
		b.WriteString("--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f" + itoa(i) + ".bin\r\n\r\n")
		b.WriteString(itoa(i) + chunk + "\r\n")
	}
	b.WriteString("--b--\r\n")
	r.deliver(b.String())
	r.deliver(mk("a@x.example", "after", "fine"))
	st := r.once()
	if st.Quarantined != 1 || st.Registered != 1 {
		t.Fatalf("stats %+v, want the huge mail quarantined and the next registered", st)
	}
	q, err := r.st.QuarantineList()
	if err != nil || len(q) != 1 || q[0].Key != "big@x.example" || len(q[0].Raw) < 1<<20 {
		t.Fatalf("quarantine %d entries, %v", len(q), err)
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

func TestOutboxRetriesUntilSMTPComesBack(t *testing.T) {
	// Reserve a port with nothing listening on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := newRig(t, func(c *Config, _ *Options) { c.SMTP = "smtp://" + addr })
	r.deliver(mk("a@x.example", "help", "x"))
	st := r.once()
	if st.Registered != 1 || st.Sent != 0 || st.Failed != 1 {
		t.Fatalf("stats %+v, want registered, ack failed", st)
	}
	s := r.svc.Status()
	if s.Outbox != 1 || s.OutboxErr == "" {
		t.Fatalf("status %+v, want one unsent mail and the error", s)
	}
	all, _ := r.st.OutboxAll(10)
	if len(all) != 1 || all[0].LastError == "" || !all[0].NextTry.After(r.clk.Now()) {
		t.Fatalf("outbox %+v, want the failure recorded with a later retry", all)
	}
	// Not due yet: nothing is tried.
	if sent, failed, _ := r.svc.flush(context.Background()); sent+failed != 0 {
		t.Fatalf("flush before the retry time tried %d", sent+failed)
	}
	sink, err := StartLocalSink(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	r.clk.Add(retryFirst + time.Second)
	if sent, failed, err := r.svc.flush(context.Background()); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("flush after SMTP came back: sent %d failed %d %v", sent, failed, err)
	}
	if len(sink.Sent()) != 1 || r.svc.Status().Outbox != 0 || r.svc.Status().OutboxErr != "" {
		t.Fatalf("sink %d, status %+v", len(sink.Sent()), r.svc.Status())
	}
	if got := retryAfter(1); got != 30*time.Second {
		t.Errorf("retryAfter(1) = %s", got)
	}
	if got := retryAfter(20); got != 30*time.Minute {
		t.Errorf("retryAfter(20) = %s, want the 30m cap", got)
	}
}

func TestStartFromNowSurvivesARenumberedMailbox(t *testing.T) {
	r := newRig(t, func(c *Config, _ *Options) { c.StartFrom = "now" })
	// Mail from before the start (the rig's clock is 2026-03-02 09:00).
	old := []string{mk("a@x.example", "old one", "x"), mk("b@x.example", "old two", "x")}
	appendAt := func(raw string, at time.Time) {
		if _, err := r.im.User.Append("INBOX", literal{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range old {
		appendAt(m, time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC))
	}
	if st := r.once(); st.Registered != 0 {
		t.Fatalf("start_from = now registered %+v", st)
	}
	fresh := mk("c@x.example", "after the start", "x")
	appendAt(fresh, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("new mail: %+v", st)
	}
	// The server rebuilds the mailbox: new UIDVALIDITY, the same mail.
	if err := r.im.User.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := r.im.User.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		appendAt(m, time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC))
	}
	appendAt(fresh, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	st := r.once()
	if st.Registered != 0 || len(r.tickets()) != 1 {
		t.Fatalf("after the renumbering %+v and %d tickets: the mail skipped by start_from = now came in after all", st, len(r.tickets()))
	}
}

func TestReusedMessageIDIsNotDropped(t *testing.T) {
	r := newRig(t, nil)
	// A monitoring script that sends every alert with the same Message-ID.
	r.deliver(mk("monitor@x.example", "disk full on db1", "95%", "Message-ID: <alert@monitor>"))
	r.deliver(mk("monitor@x.example", "backup failed on db2", "exit 1", "Message-ID: <alert@monitor>"))
	// The very same mail delivered twice is still one registration.
	r.deliver(mk("monitor@x.example", "backup failed on db2", "exit 1", "Message-ID: <alert@monitor>"))
	st := r.once()
	if st.Registered != 2 || st.Duplicates != 1 {
		t.Fatalf("%+v, want 2 registered and 1 duplicate", st)
	}
	subjects := map[string]bool{}
	for _, tk := range r.tickets() {
		subjects[tk.Subject] = true
	}
	if !subjects["disk full on db1"] || !subjects["backup failed on db2"] {
		t.Fatalf("tickets %v", subjects)
	}
	if st := r.once(); st.Registered != 0 {
		t.Fatalf("a second pass registered %+v", st)
	}
}

func TestOnceSendsTheOutboxWhenIMAPIsDown(t *testing.T) {
	r := newRig(t, nil)
	r.deliver(mk("a@x.example", "help", "x"))
	r.once() // registered and acknowledged
	// A reply queued by an operator, then the IMAP server goes away.
	if _, err := r.st.Update(1, "mette", func(store.Ticket) ([]store.Event, error) {
		return []store.Event{{Kind: store.EvMessageOut, Message: &store.Message{To: []string{"a@x.example"}, Subject: "Re: help", Body: "fixed"}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	r.im.Close()
	st, err := r.svc.Once(context.Background())
	if err == nil {
		t.Fatal("Once with the IMAP server gone reported no error")
	}
	if st.Sent != 1 {
		t.Fatalf("stats %+v: the reply was not sent while IMAP was down", st)
	}
}
