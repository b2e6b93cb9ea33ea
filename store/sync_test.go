package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func deferredIntake(key string) Intake {
	in := intake(key, 0)
	in.Checkpoint = Checkpoint{}
	in.NoSync = true
	return in
}

// TestRegisterMailDeferred: NoSync registrations dedupe exactly like synced
// ones and are visible to the next registration at once; nothing they queued
// is handed out for sending before it is on disk; Sync and a checkpoint
// saved after the batch survive a reopen.
func TestRegisterMailDeferred(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openTest(t, dir, clk, testPolicy())

	ids := map[string]TicketID{}
	for i := range 20 {
		k := fmt.Sprintf("<d%d@x.org>", i)
		tk, dup, err := s.RegisterMail("mail", deferredIntake(k))
		if err != nil || dup {
			t.Fatalf("register %s: dup=%v err=%v", k, dup, err)
		}
		ids[k] = tk.ID
	}
	if s.deferred.Load() == s.synced.Load() {
		t.Fatalf("NoSync registrations synced anyway (deferred %d, synced %d)", s.deferred.Load(), s.synced.Load())
	}
	// A re-fetched mail of the same batch, before any sync: a duplicate.
	tk, dup, err := s.RegisterMail("mail", deferredIntake("d7@x.org"))
	if err != nil || !dup || tk.ID != ids["<d7@x.org>"] {
		t.Fatalf("re-register d7: %v dup=%v err=%v, want dup of %v", tk.ID, dup, err, ids["<d7@x.org>"])
	}
	// A reply later in the batch threads onto a ticket not yet synced.
	held, ok, err := s.MessageTicket("d3@x.org")
	if err != nil || !ok || held != ids["<d3@x.org>"] {
		t.Fatalf("MessageTicket(d3) before sync = %v %v %v", held, ok, err)
	}
	reply := Intake{Key: "d3-reply@x.org", Ticket: held, NoSync: true,
		Events: []Event{{Kind: EvMessageIn, Message: &Message{MessageID: "d3-reply@x.org", From: Person{Email: "ann@x.org"}}}}}
	if tk, dup, err := s.RegisterMail("mail", reply); err != nil || dup || tk.Events != 3 {
		t.Fatalf("reply: %+v dup=%v err=%v", tk, dup, err)
	}

	// The outbox hands out the acks only once they are on disk.
	out, err := s.Outbox(clk.Now())
	if err != nil || len(out) != 20 {
		t.Fatalf("outbox: %d entries, %v; want 20", len(out), err)
	}
	if d, sy := s.deferred.Load(), s.synced.Load(); d != sy {
		t.Errorf("Outbox returned acks of deferred registrations without syncing them (deferred %d, synced %d)", d, sy)
	}

	// More deferred work, then the batch's sync and checkpoint.
	for i := 20; i < 25; i++ {
		if _, _, err := s.RegisterMail("mail", deferredIntake(fmt.Sprintf("d%d@x.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if d, sy := s.deferred.Load(), s.synced.Load(); d != sy {
		t.Errorf("after Sync: deferred %d, synced %d", d, sy)
	}
	if cp, _ := s.Checkpoint("INBOX"); cp != (Checkpoint{}) {
		t.Errorf("a deferred intake without a checkpoint moved it: %+v", cp)
	}
	if err := s.SaveCheckpoint(Checkpoint{Mailbox: "INBOX", UIDValidity: 7, LastUID: 25}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err == nil {
		t.Errorf("Sync on a closed store succeeded")
	}

	s = openTest(t, dir, clk, testPolicy())
	n := 0
	s.Tickets(func(Ticket) bool { n++; return true })
	if n != 25 {
		t.Errorf("%d tickets after reopen, want 25", n)
	}
	if cp, _ := s.Checkpoint("INBOX"); cp.LastUID != 25 {
		t.Errorf("checkpoint after reopen = %+v", cp)
	}
	if _, dup, err := s.RegisterMail("mail", deferredIntake("d24@x.org")); err != nil || !dup {
		t.Errorf("d24 after reopen: dup=%v err=%v, want a duplicate", dup, err)
	}
	if tk, err := s.Get(held); err != nil || tk.Events != 3 {
		t.Errorf("replied ticket after reopen: %+v %v", tk, err)
	}
}

// TestDeferredSurvivesProcessDeath: what Badger wrote is in the page cache
// the moment a NoSync registration returns, so a process killed before the
// sync loses nothing. A copy of the open store's files is what a restart
// after SIGKILL finds.
func TestDeferredSurvivesProcessDeath(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openTest(t, dir, clk, testPolicy())
	for i := range 5 {
		if _, _, err := s.RegisterMail("mail", deferredIntake(fmt.Sprintf("k%d@x.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	crashed := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "LOCK" || e.Name() == holderFile {
			continue
		}
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(crashed, e.Name()))
	}
	c := openTest(t, crashed, clk, testPolicy())
	for i := range 5 {
		if _, ok, err := c.MessageTicket(fmt.Sprintf("k%d@x.org", i)); err != nil || !ok {
			t.Errorf("k%d missing after the simulated kill: %v", i, err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	r, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSyncCoversRotatedLogs: deferred commits that filled a memtable sit in
// a WAL Badger's own Sync no longer looks at; Sync must reach every log file
// written since the last sync.
func TestSyncCoversRotatedLogs(t *testing.T) {
	s, _ := newTestStore(t)
	val := []byte(strings.Repeat("x", 3000)) // under the value threshold: into the memtable
	for b := range 40 {                      // ~12 MB: more than one 8 MB memtable
		err := s.write(func(txn *badger.Txn, w *writeSet) error {
			w.nosync = true
			for i := range 100 {
				if err := txn.Set([]byte(fmt.Sprintf("zfill-%d-%d", b, i)), val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	names, vmax, err := s.logFiles()
	if err != nil {
		t.Fatal(err)
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	for _, n := range names {
		if !s.files[n] {
			t.Errorf("log file %s was not covered by Sync", n)
		}
	}
	if s.vlogFrom != vmax {
		t.Errorf("value-log mark %d, newest file %d", s.vlogFrom, vmax)
	}
	if !s.files[fmt.Sprintf("%05d.mem", 2)] && !s.files[fmt.Sprintf("%05d.mem", 3)] {
		t.Errorf("no memtable rotation: the test wrote too little to exercise it (%v)", names)
	}
}
