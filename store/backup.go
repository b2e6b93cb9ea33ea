package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Backup writes the whole store to w: a consistent snapshot of every record
// (tickets, histories, indexes, counters, checkpoints, outbox, quarantine,
// blobs) in Badger's backup format. Writers may go on meanwhile.
func (s *Store) Backup(w io.Writer) error {
	if s.closed.Load() {
		return errors.New("store: the store is closed")
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
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
	if err := s.db.Load(r, 256); err != nil {
		return fmt.Errorf("store: restore: the backup could not be loaded (damaged or not a desk backup?): %w", err)
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
