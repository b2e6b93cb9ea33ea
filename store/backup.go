package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Backup writes the whole store to w: a consistent snapshot of every record
// (tickets, histories, indexes, counters, checkpoints, outbox, quarantine,
// blobs) in Badger's backup format after a one-line header. Writers may go on meanwhile.
func (s *Store) Backup(w io.Writer) error {
	if s.closed.Load() {
		return errors.New("store: the store is closed")
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if _, err := io.WriteString(w, backupMagic); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := s.db.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore loads a backup into an empty store; it refuses a store that
// already holds tickets. It waits for every other operation to finish and
// holds them off while it loads (Badger's Load needs that). Counters end at
// the larger of the store's and the backup's, so no ticket or outbox number
// is ever handed out twice. Watchers are not told: restore is meant for a
// store no console is using yet (`desk restore FILE`).
func (s *Store) Restore(r io.Reader) error {
	if s.closed.Load() {
		return errors.New("store: the store is closed")
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	before := map[string]uint64{}
	err := s.db.View(func(txn *badger.Txn) error {
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
		for _, c := range []string{ctrTicket, ctrOutbox, ctrQuarantine} {
			v, err := readCounter(txn, c)
			if err != nil {
				return err
			}
			before[c] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	br := bufio.NewReader(r)
	head := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != backupMagic {
		return errors.New("store: restore refused: the file is not a desk backup (made by `desk backup FILE`)")
	}
	if err := s.load(&frameChecker{r: br}); err != nil {
		return fmt.Errorf("store: restore: the backup could not be loaded (damaged or truncated?); "+
			"%s may now hold part of it: remove it and restore into a new, empty directory: %w", s.dir, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
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
	if err != nil {
		return fmt.Errorf("store: restore: keep counters: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: restore: sync to disk: %w", err)
	}
	return nil
}

const backupMagic = "desk-backup 1\n"

// load runs Badger's Load, which panics on some malformed input.
func (s *Store) load(r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed backup: %v", p)
		}
	}()
	return s.db.Load(r, 256)
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
