package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// backupFixture is a store with a few hundred tickets (bodies large enough
// to live in the value log), a quarantined mail and a checkpoint, and its
// backup.
func backupFixture(t *testing.T) (*Store, *testClock, []byte) {
	t.Helper()
	s, clk := newTestStore(t)
	for i := range 300 {
		mustCreate(t, s, NewTicket{Priority: Priority(i%4 + 1), Queue: "q", Subject: fmt.Sprintf("ticket %d", i),
			Requester: Person{Email: fmt.Sprintf("r%d@x", i%17)},
			Message:   &Message{Body: strings.Repeat(fmt.Sprintf("body of ticket %d ", i), 400)}})
		clk.Add(time.Minute)
	}
	mustUpdate(t, s, 7, setStatus(StatusOpen))
	if _, err := s.Quarantine(Quarantined{Key: "q@x", Raw: []byte("raw mail")}, Checkpoint{Mailbox: "INBOX", UIDValidity: 3, LastUID: 9}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return s, clk, buf.Bytes()
}

// siblings lists the names in the directory holding dir.
func siblings(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestRestoreDamagedBackupLeavesStoreUnchanged(t *testing.T) {
	_, clk, good := backupFixture(t)
	if len(good) < 3*maxChunk {
		t.Fatalf("the fixture's backup has %d bytes; the test wants several chunks", len(good))
	}
	// The target holds no tickets but is not empty: a checkpoint and a
	// quarantined mail that must survive a failed restore.
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	target := openTest(t, dir, clk, testPolicy())
	if _, err := target.Quarantine(Quarantined{Key: "local@x", Raw: []byte("local")}, Checkpoint{Mailbox: "INBOX", UIDValidity: 1, LastUID: 4}); err != nil {
		t.Fatal(err)
	}
	want := dump(t, target)

	overwrite := func(at int) []byte {
		b := bytes.Clone(good)
		copy(b[at:], []byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef})
		return b
	}
	chunkAt := func(n int) int { return len(backupMagic) + n*(chunkHead+maxChunk+4) }
	endAt := len(good) - (chunkHead + trailerSize + 4)
	cases := []struct {
		name   string
		backup []byte
		says   []string
		offset int // where the error must point, -1: anywhere
	}{
		{"8 bytes overwritten in the middle", overwrite(len(good) / 2),
			[]string{"checksum does not match", "changed after the backup was written"}, chunkAt((len(good)/2 - len(backupMagic)) / (chunkHead + maxChunk + 4))},
		{"8 bytes overwritten in a chunk header", overwrite(chunkAt(1) + 2), []string{"chunk 1"}, chunkAt(1)},
		{"8 bytes overwritten in the end marker", overwrite(endAt + chunkHead + 10), []string{"checksum does not match"}, endAt},
		{"truncated in a chunk", good[:len(good)/2], []string{"incomplete"}, -1},
		{"truncated before the end marker", good[:endAt], []string{"without its end marker", "incomplete"}, endAt},
		{"a chunk left out", append(bytes.Clone(good[:chunkAt(1)]), good[chunkAt(2):]...), []string{"chunk 1 should come here, the header says 2"}, chunkAt(1)},
		{"data after the end", append(bytes.Clone(good), "more"...), []string{"data after the end"}, len(good)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := target.RestoreFrom(bytes.NewReader(c.backup))
			if err == nil {
				t.Fatal("the damaged backup was restored")
			}
			t.Log(err)
			var be *BackupError
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a *BackupError", err)
			}
			if c.offset >= 0 && be.Offset != int64(c.offset) {
				t.Errorf("the error points at byte %d, want %d", be.Offset, c.offset)
			}
			msg := err.Error()
			for _, w := range append(c.says, dir+" is unchanged", "another copy of the backup") {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q: %s", w, msg)
				}
			}
			if got := dump(t, target); len(got) != len(want) {
				t.Errorf("the store holds %d records after the failed restore, %d before", len(got), len(want))
			} else {
				for k, v := range want {
					if got[k] != v {
						t.Errorf("record %q changed", k)
					}
				}
			}
			if n := siblings(t, dir); len(n) != 1 {
				t.Errorf("beside the data directory: %v (a restore directory left behind?)", n)
			}
			if _, err := VerifyBackup(bytes.NewReader(c.backup)); !errors.As(err, &be) {
				t.Errorf("VerifyBackup of the damaged backup: %v", err)
			}
		})
	}
	// The store still works.
	if tk := mustCreate(t, target, NewTicket{Subject: "after"}); tk.ID != 1 {
		t.Errorf("first ticket after the failed restores is %s", tk.ID)
	}
}

func TestRestoreIntactBackupMatches(t *testing.T) {
	src, clk, good := backupFixture(t)
	want := dump(t, src)
	info, err := VerifyBackup(bytes.NewReader(good))
	if err != nil || !info.Verified || info.Format != 2 || info.Tickets != 300 || info.Records != uint64(len(want)) || !info.Made.Equal(clk.Now()) {
		t.Fatalf("VerifyBackup = %+v, %v (the store has %d records)", info, err, len(want))
	}

	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	r := openTest(t, dir, clk, testPolicy())
	os.WriteFile(filepath.Join(dir, "desk.log"), []byte("console log\n"), 0o600)
	got, err := r.RestoreFrom(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Verified || got.Tickets != 300 || got.Records != uint64(len(want)) || got.Kept != "" {
		t.Errorf("RestoreFrom = %+v", got)
	}
	have := dump(t, r)
	if len(have) != len(want) {
		t.Errorf("restored %d records, want %d", len(have), len(want))
	}
	for k, v := range want {
		if have[k] != v {
			t.Errorf("record %q differs after restore", k)
		}
	}
	checkIndexes(t, r)
	if tk, err := r.Get(7); err != nil || tk.Status != StatusOpen || tk.Subject != "ticket 6" {
		t.Errorf("SD-7 after restore: %+v %v", tk, err)
	}
	if tk := mustCreate(t, r, NewTicket{}); tk.ID != 301 {
		t.Errorf("first ticket after restore is %s, want SD-301", tk.ID)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "desk.log")); err != nil || string(b) != "console log\n" {
		t.Errorf("desk.log after the restore: %q %v", b, err)
	}
	if n := siblings(t, dir); len(n) != 1 {
		t.Errorf("beside the data directory after the restore: %v", n)
	}
	// The restored store is the one on disk: it survives a reopen.
	r.Close()
	r = openTest(t, dir, clk, testPolicy())
	if n := len(dump(t, r)); n <= len(want) {
		t.Errorf("after reopening: %d records, the backup had %d and a ticket was added", n, len(want))
	}
	if tk, err := r.Get(301); err != nil {
		t.Errorf("SD-301 after reopening: %+v %v", tk, err)
	}
	if _, err := r.RestoreFrom(bytes.NewReader(good)); err == nil || !strings.Contains(err.Error(), "already holds tickets") {
		t.Errorf("restore into a store with tickets: %v", err)
	}
}

// A data directory with more than counters in it (quarantined mail) is kept
// beside the restored one, and the error-free report says where.
func TestRestoreKeepsPreviousContents(t *testing.T) {
	_, clk, good := backupFixture(t)
	dir := filepath.Join(t.TempDir(), "data")
	r := openTest(t, dir, clk, testPolicy())
	if _, err := r.Quarantine(Quarantined{Key: "local@x", Raw: []byte("local")}, Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	got, err := r.RestoreFrom(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kept == "" || !strings.HasPrefix(got.Kept, dir+".before-restore-") {
		t.Fatalf("Kept = %q", got.Kept)
	}
	old, err := Open(got.Kept, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if q, err := old.QuarantineList(); err != nil || len(q) != 1 || q[0].Key != "local@x" {
		t.Errorf("the kept store holds %+v, %v", q, err)
	}
	// Counters: the larger of both, so numbers are never handed out twice.
	if q, err := r.QuarantineList(); err != nil || len(q) != 1 || q[0].Key != "q@x" {
		t.Errorf("the restored store's quarantine: %+v %v", q, err)
	}
}

// Backups made before checksums (format 1: Badger's stream after the
// header) still restore, and say they could not be verified.
func TestRestoreFormat1(t *testing.T) {
	src, clk, _ := backupFixture(t)
	var v1 bytes.Buffer
	v1.WriteString(backupMagicV1)
	if _, err := src.db.Backup(&v1, 0); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, t.TempDir(), clk, testPolicy())
	got, err := r.RestoreFrom(bytes.NewReader(v1.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != 1 || got.Verified || got.Tickets != 300 {
		t.Errorf("RestoreFrom = %+v", got)
	}
	want, have := dump(t, src), dump(t, r)
	for k, v := range want {
		if have[k] != v {
			t.Errorf("record %q differs after restore", k)
		}
	}
	// Damage a format 1 backup can show (its frames) fails and changes nothing.
	for name, bad := range map[string][]byte{
		"absurd length": append([]byte(backupMagicV1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3),
		"garbage frame": append([]byte(backupMagicV1), 9, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"truncated":     v1.Bytes()[:v1.Len()/2],
	} {
		dir := t.TempDir()
		empty := openTest(t, dir, clk, testPolicy())
		if _, err := empty.RestoreFrom(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "is unchanged") {
			t.Errorf("restoring %s: %v", name, err)
		}
		if n := len(dump(t, empty)); n != 0 {
			t.Errorf("restoring %s left %d records", name, n)
		}
	}
	fresh := openTest(t, t.TempDir(), clk, testPolicy())
	if _, err := fresh.RestoreFrom(strings.NewReader("desk-backup 9\nwhatever")); err == nil || !strings.Contains(err.Error(), "format \"9\"") {
		t.Errorf("unknown format: %v", err)
	}
}

// The chunk format's integers and checksums, checked against a hand-made
// chunk so the layout cannot drift silently.
func TestBackupChunkLayout(t *testing.T) {
	var buf bytes.Buffer
	cw := &chunkWriter{w: &buf, sum: sha256.New()}
	cw.Write([]byte("abc"))
	if err := cw.finish(trailer{records: 1, tickets: 0, made: time.Unix(5, 0)}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if b[0] != 'D' || binary.BigEndian.Uint32(b[1:]) != 0 || binary.BigEndian.Uint32(b[5:]) != 3 || string(b[9:12]) != "abc" {
		t.Fatalf("data chunk = %x", b[:16])
	}
	end := b[16:]
	if end[0] != 'E' || binary.BigEndian.Uint32(end[1:]) != 1 || binary.BigEndian.Uint32(end[5:]) != trailerSize ||
		binary.BigEndian.Uint64(end[9:]) != 3 || binary.BigEndian.Uint64(end[17:]) != 1 || len(end) != chunkHead+trailerSize+4 {
		t.Fatalf("end chunk = %x", end)
	}

	// An empty store's backup: no records, only the end marker.
	buf.Reset()
	cw = &chunkWriter{w: &buf, sum: sha256.New()}
	if err := cw.finish(trailer{made: time.Unix(5, 0)}); err != nil {
		t.Fatal(err)
	}
	info, err := VerifyBackup(io.MultiReader(strings.NewReader(backupMagic), &buf))
	if err != nil || !info.Verified || info.Records != 0 || !info.Made.Equal(time.Unix(5, 0)) {
		t.Errorf("VerifyBackup of an empty backup = %+v, %v", info, err)
	}
}

// Where directories cannot be exchanged in one step, two renames do it.
func TestRestoreWithoutExchange(t *testing.T) {
	_, clk, good := backupFixture(t)
	exchange = func(a, b string) error { return errors.New("not here") }
	t.Cleanup(func() { exchange = exchangeDirs })
	dir := filepath.Join(t.TempDir(), "data")
	r := openTest(t, dir, clk, testPolicy())
	got, err := r.RestoreFrom(bytes.NewReader(good))
	if err != nil || got.Tickets != 300 {
		t.Fatalf("RestoreFrom = %+v, %v", got, err)
	}
	if tk, err := r.Get(300); err != nil || tk.Subject != "ticket 299" {
		t.Errorf("SD-300: %+v %v", tk, err)
	}
	if n := siblings(t, dir); len(n) != 1 {
		t.Errorf("beside the data directory: %v", n)
	}
}
