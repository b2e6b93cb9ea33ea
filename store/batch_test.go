package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRegisterMailsBatch: a batch registers each mail as RegisterMail would,
// in order and in one transaction: a key repeated in the batch is a
// duplicate, an append reaches a ticket created earlier in the batch, and
// the acknowledgements it queued are handed out only once on disk.
func TestRegisterMailsBatch(t *testing.T) {
	s, clk := newTestStore(t)
	def := func(in Intake) Intake { in.NoSync, in.Checkpoint = true, Checkpoint{}; return in }
	reply := Intake{Key: "<r1@x.org>", Ticket: 1, NoSync: true,
		Events: []Event{{Kind: EvMessageIn, Message: &Message{MessageID: "r1@x.org", From: Person{Email: "ann@x.org"}, Body: "more"}}}}
	ins := []Intake{def(intake("<a1@x.org>", 1)), def(intake("<a2@x.org>", 2)), def(intake("a1@x.org", 3)), reply}
	d0 := s.deferred.Load()
	res, err := s.RegisterMails("mail", ins)
	if err != nil || len(res) != 4 {
		t.Fatalf("RegisterMails: %d results, %v", len(res), err)
	}
	if res[0].Dup || res[1].Dup || !res[2].Dup || res[3].Dup || res[0].Ticket.ID != 1 || res[1].Ticket.ID != 2 || res[2].Ticket.ID != 1 {
		t.Fatalf("results %+v", res)
	}
	if res[3].Ticket.ID != 1 || res[3].Ticket.Events != 3 {
		t.Fatalf("the reply in the batch: %+v, want ticket 1 with 3 events", res[3].Ticket)
	}
	if n := s.deferred.Load() - d0; n != 1 {
		t.Errorf("%d commits for a batch of 4, want 1", n)
	}
	out, err := s.Outbox(clk.Now())
	if err != nil || len(out) != 2 {
		t.Fatalf("outbox %d, %v: want the 2 acks", len(out), err)
	}
	if d, sy := s.deferred.Load(), s.synced.Load(); d != sy {
		t.Errorf("Outbox handed out acks of a NoSync batch without syncing (deferred %d, synced %d)", d, sy)
	}

	// A mail the store refuses stops the batch there: those before it are
	// in, it and those after are not.
	bad := Intake{Key: "<bad@x.org>", Ticket: 999, NoSync: true, Events: reply.Events}
	res, err = s.RegisterMails("mail", []Intake{def(intake("<b1@x.org>", 4)), bad, def(intake("<b2@x.org>", 5))})
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 1 || len(res) != 1 || !errors.Is(err, ErrNotFound) {
		t.Fatalf("batch with a bad intake: %d results, %v", len(res), err)
	}
	if _, ok, _ := s.MessageTicket("b1@x.org"); !ok {
		t.Errorf("the mail before the bad one was not registered")
	}
	if _, ok, _ := s.MessageTicket("b2@x.org"); ok {
		t.Errorf("the mail after the bad one was registered")
	}
	// An intake without a key is refused the same way.
	res, err = s.RegisterMails("mail", []Intake{def(intake("<c1@x.org>", 6)), {NoSync: true}})
	if !errors.As(err, &be) || be.Index != 1 || len(res) != 1 {
		t.Fatalf("batch with a keyless intake: %d results, %v", len(res), err)
	}
}

// TestRegisterMailsSplitsWhatDoesNotFit: a batch larger than one Badger
// transaction is committed in several, every mail exactly once.
func TestRegisterMailsSplitsWhatDoesNotFit(t *testing.T) {
	s, _ := newTestStore(t)
	body := strings.Repeat("a line of a long mail quoted back and forth\n", 80) // ~3.5 KB: kept inline
	var ins []Intake
	for i := range 600 {
		in := intake(fmt.Sprintf("<big%d@x.org>", i), 0)
		in.Checkpoint, in.NoSync, in.Blobs = Checkpoint{}, true, nil
		in.New.Message.Attachments = nil
		in.New.Message.Body = body
		ins = append(ins, in)
	}
	d0 := s.deferred.Load()
	res, err := s.RegisterMails("mail", ins)
	if err != nil || len(res) != len(ins) {
		t.Fatalf("%d of %d registered: %v", len(res), len(ins), err)
	}
	if n := s.deferred.Load() - d0; n < 2 {
		t.Fatalf("%d commits: the batch fitted one transaction, the test proves nothing", n)
	}
	n := 0
	s.Tickets(func(Ticket) bool { n++; return true })
	if n != len(ins) || res[len(res)-1].Ticket.ID != TicketID(len(ins)) {
		t.Fatalf("%d tickets, last %v; want %d", n, res[len(res)-1].Ticket.ID, len(ins))
	}
}

// TestRecordAttempts: sent, temporarily failed and given up, recorded in
// one write; a mail given up on is kept with its reason, never due again.
func TestRecordAttempts(t *testing.T) {
	s, clk := newTestStore(t)
	for _, to := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		if _, err := s.Enqueue(OutMail{Kind: "reply", To: []string{to}, Subject: "hi", Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	now := clk.Now()
	err := s.RecordAttempts([]Attempt{
		{ID: 1, Sent: now},
		{ID: 2, Error: "451 try later", NextTry: now.Add(time.Minute)},
		{ID: 3, Error: "550 no such user", Permanent: true, At: now},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if d, sy := s.deferred.Load(), s.synced.Load(); d == sy {
		t.Errorf("an unsynced record was synced")
	}
	if out, _ := s.Outbox(now); len(out) != 0 {
		t.Fatalf("due now: %+v", out)
	}
	if n, err := s.OutboxCount(); err != nil || n != 1 {
		t.Fatalf("OutboxCount = %d, %v; want 1 (the retry)", n, err)
	}
	clk.Add(time.Minute)
	if out, _ := s.Outbox(clk.Now()); len(out) != 1 || out[0].ID != 2 || out[0].Attempts != 1 {
		t.Fatalf("after the backoff: %+v", out)
	}
	all, _ := s.OutboxAll(0)
	byID := map[uint64]OutMail{}
	for _, m := range all {
		byID[m.ID] = m
	}
	if m := byID[3]; m.Failed.IsZero() || m.LastError != "550 no such user" || !m.Sent.IsZero() {
		t.Errorf("given up: %+v", m)
	}
	if m := byID[1]; m.Sent.IsZero() || m.Attempts != 1 {
		t.Errorf("sent: %+v", m)
	}
	// Recording again leaves a finished entry alone; MarkSent refuses.
	if err := s.RecordAttempts([]Attempt{{ID: 3, Sent: now}, {ID: 1, Error: "x", NextTry: now}}, true); err != nil {
		t.Fatal(err)
	}
	all, _ = s.OutboxAll(0)
	for _, m := range all {
		if m.ID == 3 && !m.Sent.IsZero() || m.ID == 1 && m.LastError != "" {
			t.Errorf("a finished entry changed: %+v", m)
		}
	}
	if err := s.MarkSent(3, now); err == nil {
		t.Errorf("MarkSent of a mail given up on was accepted")
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestHoldMail: a held mail and its answer are one write that does not
// wait for the disk; the outbox syncs before it hands the answer out; the
// same mail held again is a duplicate and queues no second answer.
func TestHoldMail(t *testing.T) {
	s, clk := newTestStore(t)
	q := Quarantined{Key: "<closed-reply@x.org>", Mailbox: "INBOX", UID: 7, From: "ann@x.org", Subject: "Re: [SD-1] x",
		Reason: "reply to closed ticket SD-1 (closed_reply = reject)", Raw: []byte("Subject: Re: [SD-1] x\r\n\r\nhello\r\n")}
	answer := &OutMail{Kind: "reject", To: []string{"ann@x.org"}, Subject: "Re: x", Body: "closed", Auto: true}
	s0, d0 := s.synced.Load(), s.deferred.Load()
	dup, err := s.HoldMail(q, answer)
	if err != nil || dup {
		t.Fatalf("HoldMail: dup %v, %v", dup, err)
	}
	if s.deferred.Load() != d0+1 || s.synced.Load() != s0 {
		t.Errorf("HoldMail waited for the disk (or was not counted deferred): deferred %d->%d, synced %d->%d",
			d0, s.deferred.Load(), s0, s.synced.Load())
	}
	list, err := s.QuarantineList()
	if err != nil || len(list) != 1 || list[0].Reason != q.Reason || list[0].Size != len(q.Raw) {
		t.Fatalf("quarantine after HoldMail: %+v, %v", list, err)
	}
	out, err := s.Outbox(clk.Now())
	if err != nil || len(out) != 1 || out[0].Kind != "reject" {
		t.Fatalf("outbox: %+v, %v; want the answer", out, err)
	}
	if s.synced.Load() != s.deferred.Load() {
		t.Errorf("Outbox handed out the answer of a deferred hold without syncing")
	}
	if dup, err = s.HoldMail(q, answer); err != nil || !dup {
		t.Fatalf("the same mail again: dup %v, %v", dup, err)
	}
	if n, _ := s.OutboxCount(); n != 1 {
		t.Errorf("outbox holds %d mails after a duplicate hold, want 1", n)
	}
}
