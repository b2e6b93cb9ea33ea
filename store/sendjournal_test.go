package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSendJournal: an outcome journalled and never committed (the process
// was killed between the two) is recorded by the next Open, so the mail is
// not sent again; one committed and synced leaves an empty journal and is
// not counted twice; a torn last line is skipped, its mail sent again.
func TestSendJournal(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openTest(t, dir, clk, testPolicy())
	for _, to := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		if _, err := s.Enqueue(OutMail{Kind: "ack", To: []string{to}, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.Outbox(clk.Now())
	if err != nil || len(due) != 3 {
		t.Fatalf("outbox %v %v", due, err)
	}
	a, b, c := due[0], due[1], due[2]
	// a: journalled, committed, synced: the journal empties.
	sentA := Attempt{ID: a.ID, Sent: clk.Now(), Entry: &a}
	if err := s.JournalAttempt(sentA); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempts([]Attempt{sentA}, true); err != nil {
		t.Fatal(err)
	}
	jpath := filepath.Join(dir, journalFile)
	if fi, err := os.Stat(jpath); err != nil || fi.Size() != 0 {
		t.Fatalf("journal after a synced commit of all it held: %v, %v; want empty", fi, err)
	}
	// b: sent and journalled only; c: refused for now, journalled only.
	if err := s.JournalAttempt(Attempt{ID: b.ID, Sent: clk.Now(), Entry: &b}); err != nil {
		t.Fatal(err)
	}
	next := clk.Now().Add(time.Hour)
	if err := s.JournalAttempt(Attempt{ID: c.ID, Error: "451 later", NextTry: next, Entry: &c}); err != nil {
		t.Fatal(err)
	}
	// a again in the journal, as a replay must not count it twice.
	if err := s.JournalAttempt(Attempt{ID: a.ID, Error: "stale", NextTry: next, Entry: &a}); err != nil {
		t.Fatal(err)
	}
	// The database still thinks b and c are due.
	if due, _ := s.Outbox(clk.Now()); len(due) != 2 {
		t.Fatalf("before the replay %d due, want b and c", len(due))
	}
	// A torn record at the end, as a machine stopping mid-write leaves.
	f, err := os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":99,"bef`)
	f.Close()
	s.Close() // nothing of b's or c's outcome committed: as after a kill

	s2, err := Open(dir, Options{Policy: testPolicy(), Now: clk.Now, MailDomain: "desk.test"})
	if err != nil {
		t.Fatalf("reopen with a journal to replay: %v", err)
	}
	defer s2.Close()
	got := outboxByID(t, s2)
	if m := got[a.ID]; m.Sent.IsZero() || m.Attempts != 1 || m.LastError != "" {
		t.Errorf("a: %+v, want sent after one attempt, the stale journal line ignored", m)
	}
	if m := got[b.ID]; m.Sent.IsZero() || m.Attempts != 1 {
		t.Errorf("b: %+v, want sent (from the journal)", m)
	}
	if m := got[c.ID]; !m.Sent.IsZero() || m.Attempts != 1 || m.LastError != "451 later" || !m.NextTry.Equal(next) {
		t.Errorf("c: %+v, want one failed attempt retried at %v", m, next)
	}
	if due, _ := s2.Outbox(clk.Now()); len(due) != 0 {
		t.Errorf("after the replay %d mails due now, want none: %+v", len(due), due)
	}
	if fi, err := os.Stat(jpath); err != nil || fi.Size() != 0 {
		t.Errorf("journal after the replay: %v, %v; want empty", fi, err)
	}
}

// TestSendJournalNeedsEntry: the journal's replay check needs the entry's
// attempt count, so an attempt without the entry is refused, not guessed.
func TestSendJournalNeedsEntry(t *testing.T) {
	s, clk := newTestStore(t)
	m, err := s.Enqueue(OutMail{Kind: "ack", To: []string{"a@x.example"}, Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.JournalAttempt(Attempt{ID: m.ID, Sent: clk.Now()}); err == nil {
		t.Fatal("journal without the entry: no error")
	}
}
