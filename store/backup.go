package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A backup (format 2) is a header line and checksummed chunks:
//
//	header   "desk-backup 2\n"
//	chunk    'D' | seq uint32 | n uint32 | n bytes of payload | CRC-32C uint32
//	end      'E' | seq uint32 | 64 uint32 | trailer (64 bytes)  | CRC-32C uint32
//	trailer  stream bytes uint64 | records uint64 | tickets uint64 |
//	         made (Unix ns) int64 | SHA-256 of the stream (32 bytes)
//
// All integers are big-endian. seq counts chunks from 0, so a chunk that is
// lost, repeated or moved is noticed where it happens; each CRC-32C
// (Castagnoli) covers its chunk's kind, seq, length and payload; payloads are
// at most 1 MiB, so a damaged byte is located to within a MiB. The payloads,
// one after the other, are a stream Badger's Load reads (8-byte
// little-endian length, a protobuf KVList, repeated) holding the newest
// version of every live key of one snapshot; records and tickets count those
// keys and the ticket records among them, so a restore can check that the
// loaded store holds exactly what was backed up. Nothing may follow the end
// chunk.
//
// Format 1 ("desk-backup 1\n", desk before checksums) was the header
// followed by Badger's own backup stream. It is still restored, but it has
// nothing to check damage against; Restored.Verified says so.
const (
	backupMagic   = "desk-backup 2\n"
	backupMagicV1 = "desk-backup 1\n"

	chunkData    = 'D'
	chunkEnd     = 'E'
	chunkHead    = 9 // kind, seq, length
	maxChunk     = 1 << 20
	trailerSize  = 64
	backupFrame  = 4 << 20 // records per Badger KVList frame, by size
	loadInFlight = 4       // Badger write batches a format 1 restore keeps in flight
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BackupInfo describes a backup, as read back by VerifyBackup or Restore.
type BackupInfo struct {
	Format  int       // 2: checksummed; 1: made by a desk before checksums
	Made    time.Time // when the backup was taken (format 2)
	Bytes   uint64    // size of the records stream
	Records uint64    // records (keys) in it (format 2)
	Tickets uint64    // tickets among them (format 2)
	// Verified: every checksum and the counts matched (format 2). A format 1
	// backup cannot be checked: damage may go unnoticed.
	Verified bool
}

// Restored is what RestoreFrom did.
type Restored struct {
	BackupInfo
	// Kept is where the data directory's previous contents were moved when
	// they held anything besides counters (quarantined mail, checkpoints);
	// empty when there was nothing worth keeping.
	Kept string
}

// BackupError says where a backup is damaged and how.
type BackupError struct {
	Offset int64 // byte offset in the backup file
	Chunk  int   // chunk number from 0; -1 outside the chunks
	Reason string
}

func (e *BackupError) Error() string {
	if e.Chunk < 0 {
		return fmt.Sprintf("the backup is damaged at byte %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("the backup is damaged at byte %d (chunk %d): %s", e.Offset, e.Chunk, e.Reason)
}

// Backup writes the whole store to w: one consistent snapshot of every
// record (tickets, histories, indexes, counters, checkpoints, outbox,
// quarantine, blobs) in the checksummed format above. Writers may go on
// meanwhile.
func (s *Store) Backup(w io.Writer) error {
	if s.closed.Load() {
		return s.closedErr()
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	cw := &chunkWriter{w: w, sum: sha256.New()}
	if _, err := io.WriteString(w, backupMagic); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	var tr trailer
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false // values can be large: read one at a time
		it := txn.NewIterator(o)
		defer it.Close()
		var f kvFrame
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			err := item.Value(func(v []byte) error {
				f.add(k, v, item.UserMeta(), item.Version())
				return nil
			})
			if err != nil {
				return fmt.Errorf("read %q: %w", k, err)
			}
			tr.records++
			if len(k) == 9 && k[0] == pTicket {
				tr.tickets++
			}
			if f.size() >= backupFrame {
				if err := f.writeTo(cw); err != nil {
					return err
				}
			}
		}
		return f.writeTo(cw)
	})
	if err == nil {
		tr.made = s.now()
		err = cw.finish(tr)
	}
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

type trailer struct {
	bytes, records, tickets uint64
	made                    time.Time
	sum                     [32]byte
}

func (t trailer) encode() []byte {
	b := make([]byte, 0, trailerSize)
	b = binary.BigEndian.AppendUint64(b, t.bytes)
	b = binary.BigEndian.AppendUint64(b, t.records)
	b = binary.BigEndian.AppendUint64(b, t.tickets)
	b = binary.BigEndian.AppendUint64(b, uint64(t.made.UnixNano()))
	return append(b, t.sum[:]...)
}

func decodeTrailer(b []byte) trailer {
	t := trailer{
		bytes:   binary.BigEndian.Uint64(b),
		records: binary.BigEndian.Uint64(b[8:]),
		tickets: binary.BigEndian.Uint64(b[16:]),
		made:    time.Unix(0, int64(binary.BigEndian.Uint64(b[24:]))).UTC(),
	}
	copy(t.sum[:], b[32:])
	return t
}

// kvFrame builds one Badger KVList frame (protobuf, encoded by hand: KV
// fields key = 1, value = 2, user_meta = 3, version = 4; KVList kv = 1).
type kvFrame struct{ list, kv []byte }

func (f *kvFrame) add(key, value []byte, userMeta byte, version uint64) {
	kv := f.kv[:0]
	kv = appendBytesField(kv, 1, key)
	kv = appendBytesField(kv, 2, value)
	kv = appendBytesField(kv, 3, []byte{userMeta})
	kv = binary.AppendUvarint(append(kv, 4<<3), version) // field 4, varint wire type 0
	f.list = appendBytesField(f.list, 1, kv)
	f.kv = kv
}

func appendBytesField(b []byte, field byte, v []byte) []byte {
	b = binary.AppendUvarint(append(b, field<<3|2), uint64(len(v)))
	return append(b, v...)
}

func (f *kvFrame) size() int { return len(f.list) }

func (f *kvFrame) writeTo(w io.Writer) error {
	if len(f.list) == 0 {
		return nil
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(f.list)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(f.list); err != nil {
		return err
	}
	f.list = f.list[:0]
	return nil
}

// chunkWriter cuts the records stream into checksummed chunks.
type chunkWriter struct {
	w     io.Writer
	buf   []byte
	seq   uint32
	sum   hash.Hash
	bytes uint64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	c.sum.Write(p)
	c.bytes += uint64(n)
	for len(p) > 0 {
		k := min(maxChunk-len(c.buf), len(p))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == maxChunk {
			if err := c.chunk(chunkData, c.buf); err != nil {
				return 0, err
			}
			c.buf = c.buf[:0]
		}
	}
	return n, nil
}

func (c *chunkWriter) chunk(kind byte, payload []byte) error {
	b := make([]byte, chunkHead, chunkHead+len(payload)+4)
	b[0] = kind
	binary.BigEndian.PutUint32(b[1:], c.seq)
	binary.BigEndian.PutUint32(b[5:], uint32(len(payload)))
	b = append(b, payload...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	c.seq++
	_, err := c.w.Write(b)
	return err
}

func (c *chunkWriter) finish(t trailer) error {
	if len(c.buf) > 0 {
		if err := c.chunk(chunkData, c.buf); err != nil {
			return err
		}
		c.buf = nil
	}
	t.bytes = c.bytes
	copy(t.sum[:], c.sum.Sum(nil))
	return c.chunk(chunkEnd, t.encode())
}

// chunkReader reads a format 2 backup after its header, handing out the
// records stream only after each chunk's checksum matched; at the end chunk
// it checks the whole stream's SHA-256 and length and that nothing follows.
type chunkReader struct {
	r       *bufio.Reader
	off     int64 // offset in the file of the next byte of r
	seq     uint32
	payload []byte
	pos     int
	sum     hash.Hash
	bytes   uint64
	end     *trailer
	err     error // sticky
}

func newChunkReader(r *bufio.Reader, off int64) *chunkReader {
	return &chunkReader{r: r, off: off, sum: sha256.New()}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.pos == len(c.payload) {
		if c.err != nil {
			return 0, c.err
		}
		if c.end != nil {
			return 0, io.EOF
		}
		c.err = c.next()
	}
	n := copy(p, c.payload[c.pos:])
	c.pos += n
	return n, nil
}

func (c *chunkReader) damaged(at int64, format string, a ...any) error {
	return &BackupError{Offset: at, Chunk: int(c.seq), Reason: fmt.Sprintf(format, a...)}
}

func (c *chunkReader) next() error {
	start := c.off
	var head [chunkHead]byte
	n, err := io.ReadFull(c.r, head[:])
	c.off += int64(n)
	if err == io.EOF {
		return c.damaged(start, "the backup ends here without its end marker: it is incomplete (written or copied only in part)")
	}
	if err != nil {
		return c.damaged(start, "the backup ends inside the header of a chunk: it is incomplete (%v)", err)
	}
	kind, seq, size := head[0], binary.BigEndian.Uint32(head[1:]), binary.BigEndian.Uint32(head[5:])
	switch {
	case kind != chunkData && kind != chunkEnd:
		return c.damaged(start, "a chunk should start here but the bytes there are not a chunk header")
	case seq != c.seq:
		return c.damaged(start, "chunk %d should come here, the header says %d: chunks are missing, repeated or the header is damaged", c.seq, seq)
	case size > maxChunk || (kind == chunkEnd && size != trailerSize):
		return c.damaged(start, "the chunk header claims %d bytes, more than a chunk can hold: the header is damaged", size)
	}
	buf := make([]byte, chunkHead+int(size)+4)
	copy(buf, head[:])
	n, err = io.ReadFull(c.r, buf[chunkHead:])
	c.off += int64(n)
	if err != nil {
		return c.damaged(start, "the backup ends inside this chunk (%d of its %d bytes are there): it is incomplete", n, len(buf)-chunkHead)
	}
	body := buf[:len(buf)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(buf[len(buf)-4:]); got != want {
		return c.damaged(start, "its checksum does not match (CRC-32C %08x, recorded %08x): bytes between %d and %d were changed after the backup was written",
			got, want, start, c.off)
	}
	c.seq++
	payload := body[chunkHead:]
	if kind == chunkData {
		c.sum.Write(payload)
		c.bytes += uint64(len(payload))
		c.payload, c.pos = payload, 0
		return nil
	}
	t := decodeTrailer(payload)
	if t.bytes != c.bytes {
		return c.damaged(start, "the end marker records %d bytes of records, the chunks hold %d", t.bytes, c.bytes)
	}
	if sum := c.sum.Sum(nil); string(sum) != string(t.sum[:]) {
		return c.damaged(start, "every chunk is intact but the SHA-256 of the whole does not match the one recorded")
	}
	if _, err := c.r.Peek(1); err != io.EOF {
		return &BackupError{Offset: c.off, Chunk: -1, Reason: "there is data after the end of the backup (two files joined, or appended to?)"}
	}
	c.end = &t
	c.payload, c.pos = nil, 0
	return nil
}

// openBackup reads the header and returns the records stream of r: checked
// chunk by chunk for format 2, as it is for format 1.
func openBackup(r io.Reader) (io.Reader, *chunkReader, int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, head); err != nil || !strings.HasPrefix(string(head), "desk-backup ") {
		return nil, nil, 0, errors.New("the file is not a desk backup (those are made by `desk backup FILE`)")
	}
	switch string(head) {
	case backupMagic:
		cr := newChunkReader(br, int64(len(head)))
		return &frameChecker{r: cr}, cr, 2, nil
	case backupMagicV1:
		return &frameChecker{r: br}, nil, 1, nil
	}
	return nil, nil, 0, fmt.Errorf("the backup is of format %q, which this desk does not know: restore it with the desk version that made it, or a newer one",
		strings.TrimSpace(strings.TrimPrefix(string(head), "desk-backup ")))
}

// VerifyBackup reads a whole backup and checks every checksum and its end
// marker, without restoring anything. A format 1 backup has no checksums:
// it is only read through to its end (Verified is false).
func VerifyBackup(r io.Reader) (BackupInfo, error) {
	src, cr, format, err := openBackup(r)
	if err != nil {
		return BackupInfo{}, err
	}
	n, err := io.Copy(io.Discard, src)
	if err != nil {
		return BackupInfo{Format: format}, err
	}
	return info(format, cr, uint64(n)), nil
}

func info(format int, cr *chunkReader, n uint64) BackupInfo {
	if cr == nil || cr.end == nil {
		return BackupInfo{Format: format, Bytes: n}
	}
	t := cr.end
	return BackupInfo{Format: format, Made: t.made, Bytes: t.bytes, Records: t.records, Tickets: t.tickets, Verified: true}
}

// Restore is RestoreFrom without the report.
func (s *Store) Restore(r io.Reader) error {
	_, err := s.RestoreFrom(r)
	return err
}

// RestoreFrom restores a backup into this store, which must hold no tickets
// (`desk restore FILE` into a new data directory). It loads the backup into
// a new directory beside the data directory, checking every chunk's
// checksum before Badger sees its bytes, then checks the end marker
// (whole-stream SHA-256) and that the loaded store holds exactly the
// backup's records and tickets. Only then does it swap the two directories
// (atomically where Linux allows, see exchangeDirs); on any failure the
// data directory is untouched and the error says what was wrong and where.
// Counters end at the larger of the store's and the backup's, so no ticket
// or outbox number is ever handed out twice. Other operations wait only
// while the directories are swapped. Watchers are not told: restore is
// meant for a store no console is using yet.
func (s *Store) RestoreFrom(r io.Reader) (Restored, error) {
	if s.closed.Load() {
		return Restored{}, s.closedErr()
	}
	if s.readOnly.Load() {
		return Restored{}, fmt.Errorf("store: restore refused: %w", s.diskFull(s.space.last(), "the restore"))
	}
	if err := s.read(s.refuseTickets); err != nil {
		return Restored{}, err
	}
	refused := func(err error) error {
		return fmt.Errorf("store: restore refused, %s is unchanged: %w", s.dir, err)
	}
	src, cr, format, err := openBackup(r)
	if err != nil {
		return Restored{}, refused(err)
	}
	if free, err := s.space.fresh(); err == nil && free < s.space.margin {
		return Restored{}, refused(s.diskFull(free, "the restore"))
	}
	stage, err := s.stagingDir()
	if err != nil {
		return Restored{}, refused(err)
	}
	swapped := false
	defer func() {
		if !swapped {
			os.RemoveAll(stage)
		}
	}()
	sdb, err := badger.Open(s.badgerOptions(stage, false))
	if err != nil {
		return Restored{}, refused(fmt.Errorf("open a new database in %s: %w", stage, err))
	}
	defer func() {
		if sdb != nil {
			sdb.Close()
		}
	}()

	sr := &spaceReader{r: src, s: s}
	if format == 2 {
		err = s.loadRecords(sdb, sr)
	} else {
		err = loadInto(sdb, sr)
	}
	if err != nil {
		// The reader's own error says more than Badger's about it.
		var be *BackupError
		var df *DiskFullError
		switch {
		case errors.As(sr.err, &be) || errors.As(err, &be):
			err = be
		case errors.As(sr.err, &df) || errors.As(err, &df):
			return Restored{}, refused(df)
		case format == 1:
			err = fmt.Errorf("the backup could not be read (damaged or truncated?): %w", err)
		default:
			err = fmt.Errorf("the backup's checksums match but its records could not be loaded: %w", err)
		}
		return Restored{}, refused(withAdvice(err))
	}
	if cr != nil && cr.end == nil {
		return Restored{}, refused(errors.New("the backup's records ended before its end marker was read"))
	}
	done := Restored{BackupInfo: info(format, cr, sr.n)}
	records, tickets, err := countRecords(sdb)
	if err != nil {
		return Restored{}, refused(fmt.Errorf("read back the loaded records: %w", err))
	}
	if format == 2 && (records != done.Records || tickets != done.Tickets) {
		return Restored{}, refused(withAdvice(fmt.Errorf("the backup holds %d records (%d tickets) but %d (%d tickets) were loaded",
			done.Records, done.Tickets, records, tickets)))
	}
	done.Records, done.Tickets = records, tickets

	s.gate.Lock()
	defer s.gate.Unlock()
	if s.closed.Load() {
		return Restored{}, s.closedErr()
	}
	keep := false
	before := map[string]uint64{}
	err = s.db.View(func(txn *badger.Txn) error {
		if err := s.refuseTickets(txn); err != nil {
			return err
		}
		for _, c := range []string{ctrTicket, ctrOutbox, ctrQuarantine} {
			v, err := readCounter(txn, c)
			if err != nil {
				return err
			}
			before[c] = v
		}
		// Anything besides counters (quarantined mail, checkpoints) is kept.
		return prefixScan(txn, nil, true, func(item *badger.Item) (bool, error) {
			keep = item.Key()[0] != pCounter
			return !keep, nil
		})
	})
	if err != nil {
		return Restored{}, err
	}
	err = sdb.Update(func(txn *badger.Txn) error {
		for c, v := range before {
			now, err := readCounter(txn, c)
			if err != nil {
				return err
			}
			if v > now {
				if err := txn.Set(counterKey(c), u64(nil, v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = sdb.Sync()
	}
	if err == nil {
		err = sdb.Close()
		sdb = nil
	}
	if err != nil {
		return Restored{}, refused(fmt.Errorf("finish the new database in %s: %w", stage, err))
	}
	kept, staged, err := s.swapIn(stage, keep)
	if err != nil {
		swapped = staged // the error names it: the operator can use it
		return Restored{}, err
	}
	swapped = true
	done.Kept = kept
	return done, nil
}

// refuseTickets refuses to restore over tickets.
func (s *Store) refuseTickets(txn *badger.Txn) error {
	has := false
	if err := prefixScan(txn, []byte{pTicket}, true, func(*badger.Item) (bool, error) {
		has = true
		return false, nil
	}); err != nil {
		return err
	}
	if has {
		return fmt.Errorf("store: restore refused: %s already holds tickets; restore into a new, empty data directory", s.dir)
	}
	return nil
}

func withAdvice(err error) error {
	return fmt.Errorf("%w. Restore from another copy of the backup, or make a new one with `desk backup FILE` "+
		"(`ssh HOST backup > FILE` from a running desk serve)", err)
}

// stagingDir makes the directory a restore loads into: beside the data
// directory, on the same filesystem, so the two can be swapped by rename.
func (s *Store) stagingDir() (string, error) {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		return "", err
	}
	d, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".restoring-")
	if err != nil {
		return "", fmt.Errorf("make a directory for the restore beside %s: %w", s.dir, err)
	}
	if fi, err := os.Stat(abs); err == nil {
		os.Chmod(d, fi.Mode().Perm())
	}
	return d, nil
}

// swapIn puts the restored database in stage in place of the data
// directory; gate.Lock is held. Files desk keeps beside Badger's (desk.log)
// move along. The old contents are removed, or kept beside the data
// directory when keep is set (returned path). When the swap fails the data
// directory is reopened as it was, and staged says the restored copy was
// left in stage for the operator (the error says so).
func (s *Store) swapIn(stage string, keep bool) (kept string, staged bool, err error) {
	// The send journal speaks of the database being replaced: it stays
	// with it (the restored outbox is as the backup left it).
	s.closeJournal()
	s.journal.mu.Lock()
	s.journal.pending, s.journal.unused = nil, true
	s.journal.mu.Unlock()
	if err := s.db.Close(); err != nil {
		s.logf("restore: close %s before the swap: %v", s.dir, err)
	}
	reopenOld := func(cause error) error {
		if err := s.openDB(false); err != nil {
			s.breaks(fmt.Errorf("store: %s could not be reopened after a failed restore: %w", s.dir, err))
		}
		return cause
	}
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		return "", false, reopenOld(err)
	}
	if err := exchange(stage, abs); err != nil {
		// No atomic exchange here: two renames, undone if the second fails.
		aside := stage + ".old"
		if err2 := os.Rename(abs, aside); err2 != nil {
			return "", true, reopenOld(fmt.Errorf("store: restore: the backup is verified and complete in %s, but %s could not be replaced "+
				"(%v; a mount point?): stop desk and move what is in the first into the second, or use --data %s", stage, s.dir, err2, stage))
		}
		if err2 := os.Rename(stage, abs); err2 != nil {
			os.Rename(aside, abs)
			return "", true, reopenOld(fmt.Errorf("store: restore: the backup is verified and complete in %s, but it could not be moved to %s "+
				"(%v): stop desk and move what is in the first into the second, or use --data %s", stage, s.dir, err2, stage))
		}
		if err := os.Rename(aside, stage); err != nil {
			stage = aside
		}
	}
	// stage now holds the old contents. Badger's files stay there; desk's
	// own (desk.log) move to the restored directory.
	if ents, err := os.ReadDir(stage); err == nil {
		for _, e := range ents {
			if n := e.Name(); !isBadgerFile(n) && n != holderFile && n != journalFile {
				if _, err := os.Lstat(filepath.Join(abs, n)); errors.Is(err, os.ErrNotExist) {
					os.Rename(filepath.Join(stage, n), filepath.Join(abs, n))
				}
			}
		}
	}
	if keep {
		kept = abs + ".before-restore-" + time.Now().Format("20060102-150405")
		if err := os.Rename(stage, kept); err != nil {
			kept = stage
		}
	} else if err := os.RemoveAll(stage); err != nil {
		s.logf("restore: remove the old contents of %s in %s: %v", s.dir, stage, err)
	}
	if err := s.openDB(false); err != nil {
		return kept, false, s.breaks(fmt.Errorf("store: the restored store in %s could not be opened: %w", s.dir, err))
	}
	return kept, false, nil
}

// exchange is exchangeDirs; tests replace it to take the two-rename path.
var exchange = exchangeDirs

func isBadgerFile(n string) bool {
	switch n {
	case "MANIFEST", "KEYREGISTRY", "DISCARD", "LOCK", "REWRITE-MANIFEST", "KEYREGISTRY-REWRITE":
		return true
	}
	for _, ext := range []string{".sst", ".vlog", ".mem"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// countRecords counts the live keys of db and the tickets among them.
func countRecords(db *badger.DB) (records, tickets uint64, err error) {
	err = db.View(func(txn *badger.Txn) error {
		return prefixScan(txn, nil, true, func(item *badger.Item) (bool, error) {
			records++
			if k := item.Key(); len(k) == 9 && k[0] == pTicket {
				tickets++
			}
			return true, nil
		})
	})
	return records, tickets, err
}

// spaceReader counts what a restore read and, for format 1 (loaded by
// Badger's Load, which batches up to 100 MB on its own), reads the free
// space again every MiB.
type spaceReader struct {
	r    io.Reader
	s    *Store
	n    uint64 // bytes read
	next uint64 // check again after this many
	err  error  // the reader's error, or why it stopped
}

func (sr *spaceReader) Read(p []byte) (int, error) {
	if sr.n >= sr.next {
		sr.next = sr.n + maxChunk
		if err := sr.s.roomToRestore(); err != nil {
			sr.err = err
			return 0, err
		}
	}
	n, err := sr.r.Read(p)
	sr.n += uint64(n)
	if err != nil && err != io.EOF {
		sr.err = err
	}
	return n, err
}

func (s *Store) roomToRestore() error {
	if free, err := s.space.fresh(); err == nil && free < s.space.margin {
		return s.diskFull(free, "the restore")
	}
	return nil
}

// loadBatch is how much a restore writes per transaction; the free space
// is read again before each commit, so a restore stops with ErrDiskFull
// before Badger could write into a full disk.
const loadBatch = 4 << 20

// loadRecords writes a format 2 records stream (frames of KVList as Backup
// writes them: one version per key, so order does not matter) into db.
func (s *Store) loadRecords(db *badger.DB, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	txn := db.NewTransaction(true)
	defer func() { txn.Discard() }()
	pending := 0
	commit := func() error {
		if err := s.roomToRestore(); err != nil {
			return err
		}
		if err := txn.Commit(); err != nil {
			return err
		}
		txn = db.NewTransaction(true)
		pending = 0
		return nil
	}
	var frame []byte
	for {
		var n [8]byte
		if _, err := io.ReadFull(br, n[:]); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("a record list header is cut short: %w", err)
		}
		size := binary.LittleEndian.Uint64(n[:])
		if size > maxFrame {
			return fmt.Errorf("a record list claims %d bytes", size)
		}
		if uint64(cap(frame)) < size {
			frame = make([]byte, size)
		}
		frame = frame[:size]
		if _, err := io.ReadFull(br, frame); err != nil {
			return fmt.Errorf("a record list is cut short: %w", err)
		}
		err := decodeKVList(frame, func(key, value []byte, userMeta byte) error {
			e := badger.NewEntry(bytes.Clone(key), bytes.Clone(value)).WithMeta(userMeta)
			err := txn.SetEntry(e)
			if errors.Is(err, badger.ErrTxnTooBig) {
				if err = commit(); err == nil {
					err = txn.SetEntry(e)
				}
			}
			if err != nil {
				return err
			}
			if pending += len(key) + len(value); pending >= loadBatch {
				return commit()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return commit()
}

// decodeKVList reads the KVs of a KVList as kvFrame encodes them (and
// skips fields it does not use).
func decodeKVList(b []byte, fn func(key, value []byte, userMeta byte) error) error {
	return protoFields(b, func(field uint64, kv []byte, _ uint64) error {
		if field != 1 || kv == nil {
			return nil
		}
		var key, value []byte
		var userMeta byte
		err := protoFields(kv, func(field uint64, v []byte, _ uint64) error {
			switch field {
			case 1:
				key = v
			case 2:
				value = v
			case 3:
				if len(v) > 0 {
					userMeta = v[0]
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(key) == 0 {
			return errors.New("a record without a key")
		}
		return fn(key, value, userMeta)
	})
}

// protoFields walks protobuf fields: length-delimited ones with their bytes
// (never nil), varints with their value.
func protoFields(b []byte, fn func(field uint64, bytes []byte, varint uint64) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("malformed record list (tag)")
		}
		b = b[n:]
		field, wire := tag>>3, tag&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("malformed record list (varint)")
			}
			b = b[n:]
			if err := fn(field, nil, v); err != nil {
				return err
			}
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errors.New("malformed record list (length)")
			}
			v := b[n : n+int(l) : n+int(l)]
			if v == nil {
				v = []byte{}
			}
			b = b[n+int(l):]
			if err := fn(field, v, 0); err != nil {
				return err
			}
		case 1:
			if len(b) < 8 {
				return errors.New("malformed record list (fixed64)")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return errors.New("malformed record list (fixed32)")
			}
			b = b[4:]
		default:
			return fmt.Errorf("malformed record list (wire type %d)", wire)
		}
	}
	return nil
}

// loadInto runs Badger's Load, which panics on some malformed input.
func loadInto(db *badger.DB, r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed backup: %v", p)
		}
	}()
	return db.Load(r, loadInFlight)
}

// maxFrame bounds one record list of a backup; Badger writes lists of a few
// MB, and an absurd length would make Load allocate it.
const maxFrame = 1 << 30

// frameChecker passes Badger's backup stream (8-byte little-endian length,
// then that many bytes, repeated) through, failing on an absurd length.
type frameChecker struct {
	r       io.Reader
	left    uint64 // bytes left in the current frame
	pending []byte // header bytes read but not yet handed out
}

func (f *frameChecker) Read(p []byte) (int, error) {
	if len(f.pending) > 0 {
		n := copy(p, f.pending)
		f.pending = f.pending[n:]
		return n, nil
	}
	if f.left == 0 {
		var hdr [8]byte
		n, err := io.ReadFull(f.r, hdr[:])
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, fmt.Errorf("truncated record header after %d bytes: %w", n, err)
		}
		size := binary.LittleEndian.Uint64(hdr[:])
		if size > maxFrame {
			return 0, fmt.Errorf("a record list claims %d bytes", size)
		}
		f.left = size
		f.pending = hdr[:]
		return f.Read(p)
	}
	if uint64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= uint64(n)
	if err == io.EOF && f.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
