package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// A lead decides what becomes of quarantined mail: released into a new
// ticket, or dropped with a reason. Both are recorded on the quarantine
// entry (who, when, which ticket or why) and the raw copy stays.

// QuarantinedMail returns one quarantined mail with its raw copy.
func (s *Store) QuarantinedMail(id uint64) (Quarantined, error) {
	var q Quarantined
	err := s.read(func(txn *badger.Txn) error {
		err := getJSON(txn, quarantineKey(id), &q)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("quarantined mail %d: %w (desk quarantine lists them)", id, ErrNotFound)
		}
		return err
	})
	return q, err
}

func (s *Store) decideQuarantine(id uint64, actor string, fn func(txn *badger.Txn, w *writeSet, q *Quarantined) error) (Quarantined, error) {
	var out Quarantined
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		if s.RoleOf(actor) != RoleLead {
			return refuse(0, actor+" is not a lead: quarantined mail is released or dropped by a lead", "ask a lead")
		}
		var q Quarantined
		if err := getJSON(txn, quarantineKey(id), &q); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("quarantined mail %d: %w (desk quarantine lists them)", id, ErrNotFound)
			}
			return err
		}
		switch {
		case q.Released:
			return refuse(0, fmt.Sprintf("quarantined mail %d was released into %s by %s already", id, q.Ticket, q.DecidedBy), "")
		case q.Dropped:
			return refuse(0, fmt.Sprintf("quarantined mail %d was dropped by %s already (%s)", id, q.DecidedBy, q.DropReason), "")
		}
		if err := fn(txn, w, &q); err != nil {
			return err
		}
		q.DecidedBy, q.DecidedAt = actor, s.now()
		b, err := json.Marshal(&q)
		if err != nil {
			return err
		}
		out = q
		out.Raw = nil
		return txn.Set(quarantineKey(id), b)
	})
	return out, err
}

// ReleaseQuarantine registers quarantined mail id as the new ticket nt (the
// caller parses the raw copy into it; see mailin.ReleaseTicket) and marks
// the entry released, in one transaction. Blobs are attachment contents.
func (s *Store) ReleaseQuarantine(id uint64, actor string, nt NewTicket, blobs map[string][]byte) (Ticket, error) {
	var t Ticket
	_, err := s.decideQuarantine(id, actor, func(txn *badger.Txn, w *writeSet, q *Quarantined) error {
		var err error
		t, err = s.createIn(txn, w, actor, nt, []Event{{Kind: EvNote,
			Text: fmt.Sprintf("Released from quarantine (mail %d, held because: %s)", id, q.Reason)}})
		if err != nil {
			return err
		}
		if nt.Message != nil {
			if k := normKey(nt.Message.MessageID); k != "" {
				if err := setIfAbsent(txn, messageKey(k), u64(nil, uint64(t.ID))); err != nil {
					return err
				}
			}
		}
		for k, b := range blobs {
			if k != "" {
				if err := setIfAbsent(txn, blobKey(k), b); err != nil {
					return err
				}
			}
		}
		q.Released, q.Ticket = true, t.ID
		return nil
	})
	return t, err
}

// DropQuarantine marks quarantined mail id as dropped with a reason (spam,
// a duplicate); the copy is kept.
func (s *Store) DropQuarantine(id uint64, actor, reason string) (Quarantined, error) {
	return s.decideQuarantine(id, actor, func(_ *badger.Txn, _ *writeSet, q *Quarantined) error {
		if strings.TrimSpace(reason) == "" {
			return refuse(0, "dropping quarantined mail needs a reason", "say why, e.g. \"spam\" or \"duplicate of SD-12\"")
		}
		q.Dropped, q.DropReason = true, reason
		return nil
	})
}
