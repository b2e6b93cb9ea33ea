package store

import (
	"testing"
	"time"
)

// TestAttemptEntry: an attempt that carries the entry as Outbox returned it
// is recorded from it without reading the record again; a stale entry (an
// outcome recorded since, here a retry moved it) is not trusted, and an
// entry already sent is left alone whatever the caller holds.
func TestAttemptEntry(t *testing.T) {
	s, clk := newTestStore(t)
	for _, to := range []string{"a@x.example", "b@x.example"} {
		if _, err := s.Enqueue(OutMail{Kind: "reply", To: []string{to}, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.Outbox(clk.Now())
	if err != nil || len(due) != 2 {
		t.Fatalf("outbox %v %v", due, err)
	}
	a, b := due[0], due[1]
	// a: sent, from the entry in hand.
	if err := s.RecordAttempts([]Attempt{{ID: a.ID, Sent: clk.Now(), Entry: &a}}, false); err != nil {
		t.Fatal(err)
	}
	// b: refused for now, then a second attempt still holding the entry
	// of before the first: it must count two attempts, not one.
	next := clk.Now().Add(time.Minute)
	if err := s.RecordAttempts([]Attempt{{ID: b.ID, Error: "451 later", NextTry: next, Entry: &b}}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempts([]Attempt{{ID: b.ID, Error: "451 again", NextTry: next.Add(time.Minute), Entry: &b}}, false); err != nil {
		t.Fatal(err)
	}
	// a once more, with the stale unsent entry: left alone.
	if err := s.RecordAttempts([]Attempt{{ID: a.ID, Error: "late", NextTry: next, Entry: &a}}, true); err != nil {
		t.Fatal(err)
	}
	got := outboxByID(t, s)
	if m := got[a.ID]; m.Sent.IsZero() || m.Attempts != 1 || m.LastError != "" {
		t.Errorf("a: %+v, want sent after one attempt, untouched by the stale one", m)
	}
	if m := got[b.ID]; m.Attempts != 2 || m.LastError != "451 again" || !m.NextTry.Equal(next.Add(time.Minute)) {
		t.Errorf("b: %+v, want two attempts, the second's error and retry", m)
	}
	if n, _ := s.OutboxCount(); n != 1 {
		t.Errorf("%d mails still to try, want 1 (b)", n)
	}
}

// outboxByID is the whole outbox, by entry id.
func outboxByID(t *testing.T, s *Store) map[uint64]OutMail {
	t.Helper()
	all, err := s.OutboxAll(0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]OutMail{}
	for _, m := range all {
		got[m.ID] = m
	}
	return got
}
