package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The send journal is how a sender records each mail the moment it leaves
// without a database commit per mail. Every outcome is first one append to
// a small file beside the database (JournalAttempt): a single write(2) that
// the kernel keeps when the process is killed, so a restart knows the mail
// went and does not send it again. The database learns the outcomes in
// batches (RecordAttempts, unsynced, as often as the sender likes), and
// the round ends with one synced write; a sync that leaves no journalled
// outcome outside the database empties the file. Open replays what a
// killed process left in it. Like an unsynced commit, an outcome only in the
// journal is lost when the machine loses power before the round's sync:
// the mail is then sent once more, the same trade as before.
const journalFile = "outbox.journal"

type sendJournal struct {
	mu      sync.Mutex
	f       *os.File
	gen     uint64              // records appended, ever
	pending map[uint64]struct{} // journalled, not yet in a database commit
	unused  bool                // the file is empty: nothing to truncate
	// replayed: what an earlier process left has been recorded (Open,
	// or the first Outbox of a store opened read-only).
	replayed atomic.Bool
}

// journalRecord is one line of the journal. Before is the entry's attempt
// count when the outcome was journalled: replaying it onto an entry that
// has moved on since (the outcome already recorded) does nothing.
type journalRecord struct {
	ID        uint64    `json:"id"`
	Before    int       `json:"before"`
	Sent      time.Time `json:"sent,omitzero"`
	Error     string    `json:"error,omitempty"`
	Permanent bool      `json:"permanent,omitempty"`
	At        time.Time `json:"at,omitzero"`
	NextTry   time.Time `json:"next,omitzero"`
}

// JournalAttempt notes the outcome of a send at once, ahead of the database
// (see sendJournal): after it returns, a killed process does not send the
// mail again. a.Entry must be the entry as Outbox returned it. The outcome
// still has to be given to RecordAttempts; until then the outbox in the
// database shows the mail as unsent.
func (s *Store) JournalAttempt(a Attempt) error {
	if a.Entry == nil || a.Entry.ID != a.ID {
		return fmt.Errorf("store: journal the outcome of outbox entry %d: the entry as read from the outbox is needed", a.ID)
	}
	rec := journalRecord{ID: a.ID, Before: a.Entry.Attempts, Sent: a.Sent, Error: a.Error, Permanent: a.Permanent, At: a.At, NextTry: a.NextTry}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, journalFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("store: open the send journal: %w", err)
		}
		j.f = f
	}
	// One write: a record is in the file whole or (torn by a crash of
	// the machine, not of the process) ignored as a partial last line.
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("store: journal the outcome of outbox entry %d in %s: %w", a.ID, j.f.Name(), err)
	}
	if j.pending == nil {
		j.pending = map[uint64]struct{}{}
	}
	j.pending[a.ID] = struct{}{}
	j.gen++
	j.unused = false
	return nil
}

// journalApplied notes outbox entries whose outcome a commit now holds.
func (s *Store) journalApplied(as []Attempt) {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, a := range as {
		delete(j.pending, a.ID)
	}
}

// journalMark is taken before a sync: what the journal holds then.
func (s *Store) journalMark() (gen uint64, clean bool) {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.gen, len(j.pending) == 0
}

// journalSynced empties the journal after a sync that covered every
// outcome in it: nothing was journalled since the mark, and at the mark
// every journalled outcome was already committed.
func (s *Store) journalSynced(gen uint64, clean bool) {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if !clean || gen != j.gen || j.f == nil || j.unused {
		return
	}
	if err := j.f.Truncate(0); err != nil {
		s.logf("empty the send journal %s: %v (it is replayed harmlessly at the next start)", j.f.Name(), err)
		return
	}
	j.unused = true
}

// closeJournal closes the journal file; its content stays for Open.
func (s *Store) closeJournal() {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// replayJournal records in the database what a killed process journalled
// and had not committed, syncs, and empties the file.
func (s *Store) replayJournal() error {
	path := filepath.Join(s.dir, journalFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		s.journal.replayed.Store(true)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read the send journal: %w", err)
	}
	var recs []journalRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r journalRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == 0 {
			// A torn last line (the machine stopped mid-write): that
			// mail's outcome was never known to be safe, so it is sent
			// again, as without the journal.
			s.logf("send journal %s: skipped an unreadable record %q", path, sc.Bytes())
			continue
		}
		recs = append(recs, r)
	}
	applied := 0
	err = s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync = true
		applied = 0
		for _, r := range recs {
			var m OutMail
			if err := getJSON(txn, outboxKey(r.ID), &m); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return err
			}
			if m.Attempts != r.Before || !m.Sent.IsZero() || !m.Failed.IsZero() {
				continue // recorded before the process stopped
			}
			a := Attempt{ID: r.ID, Sent: r.Sent, Error: r.Error, Permanent: r.Permanent, At: r.At, NextTry: r.NextTry, Entry: &m}
			if err := s.applyAttempt(txn, a, &m); err != nil {
				return err
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record the outcomes in the send journal %s: %w", path, err)
	}
	if applied > 0 {
		s.logf("send journal: recorded %d outbox outcomes a stopped process had not committed", applied)
	}
	if err := os.Truncate(path, 0); err != nil {
		return fmt.Errorf("store: empty the send journal %s: %w", path, err)
	}
	s.journal.mu.Lock()
	s.journal.unused = true
	s.journal.mu.Unlock()
	s.journal.replayed.Store(true)
	return nil
}
