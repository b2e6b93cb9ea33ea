package store

import (
	"bytes"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func intake(key string, uid uint32) Intake {
	return Intake{
		Key:        key,
		Checkpoint: Checkpoint{Mailbox: "INBOX", UIDValidity: 7, LastUID: uid},
		New: &NewTicket{Subject: "printer on fire", Requester: Person{Email: "ann@x.org"},
			Message: &Message{MessageID: key, From: Person{Email: "ann@x.org"}, Subject: "printer on fire", Body: "help",
				Attachments: []Attachment{{Name: "p.jpg", Size: 3, Blob: "sha-abc"}}},
			Inbound: true},
		Blobs: map[string][]byte{"sha-abc": []byte("JPG")},
		Ack:   &OutMail{To: []string{"ann@x.org"}, Subject: "Re: printer on fire", Body: "Your ticket is {{ticket}}."},
	}
}

func TestRegisterMailExactlyOnce(t *testing.T) {
	s, clk := newTestStore(t)
	tk, dup, err := s.RegisterMail("mail", intake("<a1@x.org>", 10))
	if err != nil || dup || tk.ID != 1 || tk.Events != 2 {
		t.Fatalf("first register: %+v dup=%v err=%v", tk, dup, err)
	}
	// The same mail again (a re-poll after a crash): nothing new.
	before := dump(t, s)
	tk2, dup, err := s.RegisterMail("mail", intake("a1@x.org", 11))
	if err != nil || !dup || tk2.ID != tk.ID {
		t.Fatalf("second register: %+v dup=%v err=%v", tk2, dup, err)
	}
	after := dump(t, s)
	delete(before, string(checkpointKey("INBOX")))
	delete(after, string(checkpointKey("INBOX")))
	if !maps.Equal(before, after) {
		t.Errorf("a duplicate changed the store")
	}
	if cp, _ := s.Checkpoint("INBOX"); cp.LastUID != 11 || cp.UIDValidity != 7 {
		t.Errorf("checkpoint after dup = %+v, want advanced to 11", cp)
	}
	n := 0
	s.Tickets(func(Ticket) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}

	// The acknowledgement: queued, numbered, threaded back.
	out, err := s.Outbox(clk.Now())
	if err != nil || len(out) != 1 {
		t.Fatalf("outbox = %+v, %v", out, err)
	}
	ack := out[0]
	if ack.Ticket != 1 || !ack.Auto || ack.Kind != "ack" || ack.Subject != "[SD-1] Re: printer on fire" ||
		ack.Body != "Your ticket is SD-1." || !strings.HasSuffix(ack.MessageID, "@desk.test") {
		t.Errorf("ack = %+v", ack)
	}
	for _, k := range []string{ack.MessageID, "<" + ack.MessageID + ">", "a1@x.org"} {
		if id, ok, err := s.MessageTicket(k); err != nil || !ok || id != 1 {
			t.Errorf("MessageTicket(%q) = %v %v %v", k, id, ok, err)
		}
	}
	if _, ok, _ := s.MessageTicket("nobody@x"); ok {
		t.Errorf("unknown Message-ID found")
	}
	if n, _ := s.AutoMailsToday("ANN@x.org", clk.Now()); n != 1 {
		t.Errorf("AutoMailsToday = %d, want 1", n)
	}
	if n, _ := s.AutoMailsToday("ann@x.org", clk.Now().Add(25*time.Hour)); n != 0 {
		t.Errorf("AutoMailsToday a day later = %d, want 0", n)
	}
	if b, err := s.Blob("sha-abc"); err != nil || string(b) != "JPG" {
		t.Errorf("blob = %q, %v", b, err)
	}
	if _, err := s.Blob("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v", err)
	}

	// A reply appended to the ticket, reopening it.
	mustResolve(t, s, 1)
	clk.Add(time.Hour)
	reply := Intake{Key: "<a2@x.org>", Checkpoint: Checkpoint{Mailbox: "INBOX", UIDValidity: 7, LastUID: 12}, Ticket: 1,
		Events: []Event{{Kind: EvMessageIn, Message: &Message{MessageID: "a2@x.org", InReplyTo: ack.MessageID, From: Person{Email: "ann@x.org"}}},
			setStatus(StatusOpen)}}
	tk, dup, err = s.RegisterMail("mail", reply)
	// created, message-in; resolved (mail, status, assignee); message-in, reopen
	if err != nil || dup || tk.Status != StatusOpen || tk.Events != 7 {
		t.Fatalf("reply: %+v dup=%v err=%v", tk, dup, err)
	}
	// An older checkpoint never moves it back.
	if _, _, err := s.RegisterMail("mail", Intake{Key: "a3", Checkpoint: Checkpoint{Mailbox: "INBOX", UIDValidity: 7, LastUID: 5}, Ticket: 1,
		Events: []Event{{Kind: EvMessageIn, Message: &Message{}}}}); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.Checkpoint("INBOX"); cp.LastUID != 12 {
		t.Errorf("checkpoint = %+v, want 12", cp)
	}
	for _, bad := range []Intake{{Key: "", Ticket: 1}, {Key: "k"}, {Key: "k", Ticket: 1, New: &NewTicket{}}, {Key: "k", Ticket: 99, Events: []Event{{Kind: EvNote}}}} {
		if _, _, err := s.RegisterMail("mail", bad); err == nil {
			t.Errorf("RegisterMail(%+v) succeeded", bad)
		}
	}
	if err := s.SaveCheckpoint(Checkpoint{Mailbox: "INBOX", UIDValidity: 8, LastUID: 1}); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.Checkpoint("INBOX"); cp.UIDValidity != 8 || cp.LastUID != 1 {
		t.Errorf("SaveCheckpoint: %+v", cp)
	}
	if cp, err := s.Checkpoint("Other"); err != nil || cp != (Checkpoint{}) {
		t.Errorf("unknown mailbox checkpoint = %+v, %v", cp, err)
	}
}

func TestReplyGoesToOutbox(t *testing.T) {
	s, clk := newTestStore(t)
	a := mustCreate(t, s, NewTicket{Subject: "vpn", Requester: Person{Email: "ann@x.org"}})
	msg := &Message{To: []string{"ann@x.org"}, Cc: []string{"boss@x.org"}, Subject: "Re: vpn", Body: "fixed", InReplyTo: "orig@x.org"}
	tk := mustUpdate(t, s, a.ID, Event{Kind: EvMessageOut, Message: msg}, setStatus(StatusResolved))
	if msg.MessageID != "" || msg.Outbox != 0 {
		t.Errorf("the caller's message was modified: %+v", msg)
	}
	if tk.Responded.IsZero() {
		t.Errorf("a reply did not count as first response")
	}
	h, _ := s.History(a.ID)
	m := h[1].Message
	if !regexp.MustCompile(`^sd-1\.1\.[0-9a-f]{12}@desk\.test$`).MatchString(m.MessageID) || m.Outbox != 1 ||
		m.From.Email != "support@desk.test" || m.Subject != "[SD-1] Re: vpn" {
		t.Errorf("stored message = %+v", m)
	}
	if id, ok, _ := s.MessageTicket(m.MessageID); !ok || id != a.ID {
		t.Errorf("reply Message-ID not indexed")
	}
	// A note-only message-out (no recipients) queues nothing.
	mustUpdate(t, s, a.ID, Event{Kind: EvMessageOut, Message: &Message{Body: "draft"}})

	out, _ := s.Outbox(clk.Now())
	if len(out) != 1 {
		t.Fatalf("outbox = %+v", out)
	}
	o := out[0]
	if o.ID != 1 || o.Kind != "resolution" || o.Auto || !slices.Equal(o.To, []string{"ann@x.org", "boss@x.org"}) ||
		o.MessageID != m.MessageID || o.InReplyTo != "orig@x.org" || o.Body != "fixed" {
		t.Errorf("outbox entry = %+v", o)
	}

	// Retry with backoff, then sent.
	if err := s.MarkFailed(1, "connection refused", clk.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Outbox(clk.Now()); len(out) != 0 {
		t.Errorf("failed mail due before its next try: %+v", out)
	}
	clk.Add(5 * time.Minute)
	out, _ = s.Outbox(clk.Now())
	if len(out) != 1 || out[0].Attempts != 1 || out[0].LastError != "connection refused" {
		t.Fatalf("after backoff outbox = %+v", out)
	}
	red, err := s.Enqueue(OutMail{Kind: "redirect", To: []string{"x@y"}, Subject: "use the portal"})
	if err != nil || red.ID != 2 || red.MessageID == "" {
		t.Fatalf("Enqueue = %+v, %v", red, err)
	}
	if err := s.MarkSent(1, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(1, clk.Now()); err == nil {
		t.Errorf("sending twice was accepted")
	}
	if err := s.MarkSent(99, clk.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSent(99) = %v", err)
	}
	out, _ = s.Outbox(clk.Now())
	if len(out) != 1 || out[0].ID != 2 {
		t.Errorf("outbox after send = %+v", out)
	}
	all, _ := s.OutboxAll(0)
	if len(all) != 2 || all[0].ID != 2 || all[1].Sent.IsZero() {
		t.Errorf("OutboxAll = %+v", all)
	}
	if one, _ := s.OutboxAll(1); len(one) != 1 || one[0].ID != 2 {
		t.Errorf("OutboxAll(1) = %+v", one)
	}
	if _, err := s.Enqueue(OutMail{}); err == nil {
		t.Errorf("a mail without recipients was queued")
	}
}

func TestQuarantine(t *testing.T) {
	s, clk := newTestStore(t)
	raw := bytes.Repeat([]byte("x"), 10<<10) // over the value threshold
	dup, err := s.Quarantine(Quarantined{Key: "<q1@x>", Mailbox: "INBOX", UID: 3, From: "spam@x", Reason: "loop", Raw: raw},
		Checkpoint{Mailbox: "INBOX", UIDValidity: 1, LastUID: 3})
	if err != nil || dup {
		t.Fatalf("quarantine: dup=%v %v", dup, err)
	}
	dup, err = s.Quarantine(Quarantined{Key: "q1@x", Reason: "again"}, Checkpoint{Mailbox: "INBOX", UIDValidity: 1, LastUID: 4})
	if err != nil || !dup {
		t.Fatalf("second quarantine: dup=%v %v", dup, err)
	}
	clk.Add(time.Minute)
	if _, err := s.Quarantine(Quarantined{Key: "q2@x", Reason: "bad MIME"}, Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	list, err := s.QuarantineList()
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list[0].Key != "q2@x" || list[1].Key != "q1@x" || !bytes.Equal(list[1].Raw, raw) || list[1].ID != 1 || !list[0].At.Equal(clk.Now()) {
		t.Errorf("list = %+v", list)
	}
	if cp, _ := s.Checkpoint("INBOX"); cp.LastUID != 4 {
		t.Errorf("checkpoint = %+v, want 4", cp)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	s, clk := newTestStore(t)
	for i := range 20 {
		tk := mustCreate(t, s, NewTicket{Priority: Priority(i%4 + 1), Queue: "q", Requester: Person{Email: "r@x"}})
		clk.Add(time.Minute)
		mustUpdate(t, s, tk.ID, setStatus(StatusOpen), Event{Kind: EvMessageOut, Message: &Message{To: []string{"r@x"}, Body: strings.Repeat("long ", 2000)}})
	}
	mustResolve(t, s, 3)
	if _, _, err := s.RegisterMail("mail", intake("m@x", 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Quarantine(Quarantined{Key: "q", Raw: []byte("raw")}, Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(2, clk.Now()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	want := dump(t, s)

	r := openTest(t, t.TempDir(), clk, testPolicy())
	if err := r.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	got := dump(t, r)
	if len(got) != len(want) {
		t.Errorf("restored %d records, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("record %q differs after restore", k)
		}
	}
	checkIndexes(t, r)
	if tk := mustCreate(t, r, NewTicket{}); tk.ID != 22 {
		t.Errorf("first ticket after restore is %s, want SD-22", tk.ID)
	}
	if err := r.Restore(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "already holds tickets") {
		t.Errorf("restore into a full store: %v", err)
	}
	for name, bad := range map[string][]byte{
		"not a backup":  []byte("this is not a backup"),
		"absurd length": append([]byte(backupMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3),
		"garbage frame": append([]byte(backupMagic), 9, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"truncated":     buf.Bytes()[:buf.Len()/2],
	} {
		empty := openTest(t, t.TempDir(), clk, testPolicy())
		if err := empty.Restore(bytes.NewReader(bad)); err == nil {
			t.Errorf("restoring %s succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// A hostile Message-ID far over Badger's key limit still registers once,
// threads, and can be quarantined.
func TestHugeMessageID(t *testing.T) {
	s, _ := newTestStore(t)
	huge := strings.Repeat("x", 100<<10) + "@evil"
	in := intake(huge, 1)
	in.New.Requester.Email = strings.Repeat("r", 70<<10) + "@evil"
	tk, dup, err := s.RegisterMail("mail", in)
	if err != nil || dup {
		t.Fatalf("register: %v dup=%v", err, dup)
	}
	if _, dup, err := s.RegisterMail("mail", intake(huge, 2)); err != nil || !dup {
		t.Errorf("second register: dup=%v %v", dup, err)
	}
	// Same prefix, different tail: a different mail.
	if _, dup, _ := s.RegisterMail("mail", intake(strings.Repeat("x", 100<<10)+"@other", 3)); dup {
		t.Errorf("two long Message-IDs with a common prefix were taken for one")
	}
	if id, ok, _ := s.MessageTicket("<" + huge + ">"); !ok || id != tk.ID {
		t.Errorf("MessageTicket(huge) = %v %v", id, ok)
	}
	ids, _ := idsOf(func(f func(TicketID) bool) error { return s.ByRequester(in.New.Requester.Email, f) })
	if len(ids) != 1 || ids[0] != tk.ID {
		t.Errorf("ByRequester(huge) = %v", ids)
	}
	if _, err := s.Quarantine(Quarantined{Key: huge, Reason: "x"}, Checkpoint{}); err != nil {
		t.Errorf("quarantine with a huge key: %v", err)
	}
	checkIndexes(t, s)
}

func TestQuarantineHeadersSkipTheCopy(t *testing.T) {
	s, _ := newTestStore(t)
	raw := bytes.Repeat([]byte("x"), 1<<20)
	for _, k := range []string{"a@x", "b@x", "c@x"} {
		if _, err := s.Quarantine(Quarantined{Key: k, Reason: "held", Raw: raw}, Checkpoint{}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.QuarantineHeaders(2)
	if err != nil || len(list) != 2 || list[0].Key != "c@x" || list[0].Raw != nil || list[0].Size != 1<<20 {
		t.Fatalf("headers = %d entries %v, first %+v", len(list), err, list[0].Key)
	}
}
