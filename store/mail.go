package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Checkpoint is how far intake has read one mailbox.
type Checkpoint struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
	// Since is when intake started with start_from = "now": a renumbered
	// mailbox (UIDVALIDITY change) is then read again only from that day.
	Since time.Time `json:"since,omitzero"`
}

// Checkpoint returns the checkpoint for mailbox (zero value when none).
func (s *Store) Checkpoint(mailbox string) (Checkpoint, error) {
	var cp Checkpoint
	err := s.read(func(txn *badger.Txn) error {
		err := getJSON(txn, checkpointKey(mailbox), &cp)
		if errors.Is(err, ErrNotFound) {
			cp = Checkpoint{}
			return nil
		}
		return err
	})
	return cp, err
}

// SaveCheckpoint records cp (used when nothing is registered, e.g. "start
// from now"). It is on disk when it returns.
func (s *Store) SaveCheckpoint(cp Checkpoint) error {
	if cp.Mailbox == "" {
		return errors.New("store: a checkpoint needs a mailbox name")
	}
	return s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync = true
		return putCheckpoint(txn, cp, true)
	})
}

// putCheckpoint writes cp; unless force, it never moves a mailbox's
// checkpoint backwards within one UIDVALIDITY (two intakes racing, or a
// replayed mail, must not make intake read everything again).
func putCheckpoint(txn *badger.Txn, cp Checkpoint, force bool) error {
	if cp.Mailbox == "" {
		return nil
	}
	if !force {
		var old Checkpoint
		err := getJSON(txn, checkpointKey(cp.Mailbox), &old)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && old.UIDValidity == cp.UIDValidity && old.LastUID >= cp.LastUID {
			return nil
		}
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return txn.Set(checkpointKey(cp.Mailbox), b)
}

// MessageTicket returns the ticket that holds (or sent) the message with
// this Message-ID (or content-hash key). Angle brackets are ignored.
func (s *Store) MessageTicket(key string) (TicketID, bool, error) {
	k := normKey(key)
	if k == "" {
		return 0, false, nil
	}
	var id TicketID
	found := false
	err := s.read(func(txn *badger.Txn) error {
		var err error
		id, found, err = messageTicket(txn, k)
		return err
	})
	return id, found, err
}

func messageTicket(txn *badger.Txn, k string) (TicketID, bool, error) {
	item, err := txn.Get(messageKey(k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var id TicketID
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("store: message index entry %q is damaged", k)
		}
		id = TicketID(binary.BigEndian.Uint64(b))
		return nil
	})
	return id, err == nil, err
}

// Intake is one inbound mail to register atomically.
type Intake struct {
	// Key is the Message-ID, or a content hash when the mail has none; a
	// key already registered makes RegisterMail a no-op that reports dup.
	Key        string
	Checkpoint Checkpoint // advanced in the same transaction
	// Either append to Ticket, or create New.
	Ticket TicketID
	New    *NewTicket
	// Events to append (message-in, status changes such as a reopen). For
	// a new ticket they follow the created event.
	Events []Event
	// Blobs are attachment contents keyed by Attachment.Blob.
	Blobs map[string][]byte
	// Ack, when set, queues an acknowledgement to the requester in the same
	// transaction; the store fills in the ticket number (Ticket, a "[SD-n]"
	// subject tag, and TicketPlaceholder in Subject and Body), Kind "ack"
	// when empty, and Auto.
	Ack *OutMail
	// NoSync commits without waiting for the disk: the caller calls Sync
	// (or makes any synced write, such as SaveCheckpoint) before anything
	// about the mail leaves the process. Outbox syncs by itself before it
	// hands out an Ack queued so. The registration is still one atomic
	// transaction and visible at once to lookups and later registrations.
	//
	// After a crash of the process alone the commit survives (the kernel
	// keeps what Badger wrote); after a power loss before the sync it may be
	// lost, and not necessarily as a clean tail: Badger keeps separate log
	// files for rotated memtables and large values. So a caller that defers
	// should not advance the checkpoint here (leave Checkpoint zero) but in
	// a synced write after the batch: whatever was lost is then read again
	// and the dedupe key, which is always in the same transaction as the
	// ticket, keeps what survived from being registered twice.
	NoSync bool
}

// RegisterMail registers one mail exactly once: dedupe by Key, ticket
// create/append, message-id index, blobs, outbox entry and checkpoint in one
// durable (synced, unless in.NoSync) transaction. A duplicate still advances the checkpoint
// and returns the ticket that holds the mail.
func (s *Store) RegisterMail(actor string, in Intake) (t Ticket, dup bool, err error) {
	key, err := checkIntake(in)
	if err != nil {
		return Ticket{}, false, err
	}
	if in.Ticket != 0 {
		defer s.lockTicket(in.Ticket)()
	}
	err = s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync, w.nosync = true, in.NoSync
		var err error
		t, dup, err = s.registerIn(txn, w, actor, key, in)
		return err
	})
	if err != nil {
		return Ticket{}, false, err
	}
	return t, dup, nil
}

// Registered is what RegisterMails did with one Intake.
type Registered struct {
	Ticket Ticket // the ticket that holds the mail
	Dup    bool   // the key was registered already
}

// BatchError is RegisterMails failing at one intake: the intakes before
// Index are registered, that one and those after it are not.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return e.Err.Error() }
func (e *BatchError) Unwrap() error { return e.Err }

// RegisterMails registers a batch of mails, each exactly as RegisterMail
// would, in order, in as few transactions as the store can hold (usually
// one: a chunk of intake costs one commit instead of one per mail). A mail
// sees those before it in the batch: a duplicate key is a duplicate, an
// append to a ticket an earlier mail of the batch created or changed
// applies to that ticket as it now is. The commits are synced unless every
// intake has NoSync. An error is a *BatchError saying how far it got; the
// results returned are those of the intakes registered before it.
func (s *Store) RegisterMails(actor string, ins []Intake) ([]Registered, error) {
	out := make([]Registered, 0, len(ins))
	for len(out) < len(ins) {
		res, err := s.registerBatch(actor, ins[len(out):])
		out = append(out, res...)
		if err != nil {
			return out, &BatchError{Index: len(out), Err: err}
		}
	}
	return out, nil
}

// errStopBatch ends a batch transaction at the intake that failed.
var errStopBatch = errors.New("store: batch stopped")

// registerBatch commits a prefix of ins in one transaction and returns its
// results: all of ins, or those before the first that failed (with that
// one's error), or those that fit in one transaction (no error: the caller
// goes on with the rest).
func (s *Store) registerBatch(actor string, ins []Intake) ([]Registered, error) {
	keys := make([]string, len(ins))
	limit := len(ins)
	var pending error // the error of ins[limit], reported once the prefix is in
	nosync := true
	for i, in := range ins {
		k, err := checkIntake(in)
		if err != nil {
			limit, pending = i, err
			break
		}
		keys[i] = k
		nosync = nosync && in.NoSync
	}
	for limit > 0 {
		unlock := s.lockIntakes(ins[:limit])
		var res []Registered
		failAt, failErr := -1, error(nil)
		err := s.write(func(txn *badger.Txn, w *writeSet) error {
			res, failAt, failErr = res[:0], -1, nil
			w.sync, w.nosync = true, nosync
			for i := range limit {
				t, dup, err := s.registerIn(txn, w, actor, keys[i], ins[i])
				if err != nil {
					failAt, failErr = i, err
					return errStopBatch
				}
				res = append(res, Registered{Ticket: t, Dup: dup})
			}
			return nil
		})
		unlock()
		switch {
		case err == nil:
			return res, pending
		case !errors.Is(err, errStopBatch):
			return nil, err
		case failAt == 0:
			return nil, failErr
		}
		// Commit the intakes before the one that failed; one that did not
		// fit is tried again in the next transaction.
		limit = failAt
		pending = failErr
		if errors.Is(failErr, badger.ErrTxnTooBig) {
			pending = nil
		}
	}
	return nil, pending
}

// checkIntake validates in and returns its dedupe key.
func checkIntake(in Intake) (string, error) {
	key := normKey(in.Key)
	if key == "" {
		return "", errors.New("store: register mail: the mail has no key; use its Message-ID or a content hash")
	}
	if (in.New == nil) == (in.Ticket == 0) {
		return "", errors.New("store: register mail: give either a ticket to append to or a new ticket, not both or neither")
	}
	return key, nil
}

// lockIntakes takes the stripes of every ticket the intakes append to.
func (s *Store) lockIntakes(ins []Intake) func() {
	var ids []TicketID
	for _, in := range ins {
		if in.Ticket != 0 {
			ids = append(ids, in.Ticket)
		}
	}
	return s.lockTickets(ids...)
}

// registerIn is one mail's registration inside txn.
func (s *Store) registerIn(txn *badger.Txn, w *writeSet, actor, key string, in Intake) (t Ticket, dup bool, err error) {
	if err := putCheckpoint(txn, in.Checkpoint, false); err != nil {
		return Ticket{}, false, fmt.Errorf("store: advance checkpoint of %s: %w", in.Checkpoint.Mailbox, err)
	}
	held, found, err := messageTicket(txn, key)
	if err != nil {
		return Ticket{}, false, err
	}
	if found {
		t, err = getTicket(txn, held)
		return t, true, err
	}
	if in.New != nil {
		t, err = s.createIn(txn, w, actor, *in.New, in.Events)
	} else {
		var cur Ticket
		if cur, err = getTicket(txn, in.Ticket); err == nil {
			if len(in.Events) == 0 {
				return Ticket{}, false, fmt.Errorf("store: register mail %s on %s: no events to append", key, in.Ticket)
			}
			t, err = s.appendIn(txn, w, cur, inbound(cur, in.Events), actor)
		}
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("store: register mail %s: %w", key, err)
	}
	if err := setIfAbsent(txn, messageKey(key), u64(nil, uint64(t.ID))); err != nil {
		return Ticket{}, false, err
	}
	for k, b := range in.Blobs {
		if k == "" {
			continue
		}
		if err := setIfAbsent(txn, blobKey(k), b); err != nil {
			return Ticket{}, false, fmt.Errorf("store: keep attachment %s: %w", k, err)
		}
	}
	if in.Ack != nil {
		ack := *in.Ack
		ack.To = slices.Clone(ack.To)
		ack.References = slices.Clone(ack.References)
		ack.Ticket = t.ID
		ack.Auto = true
		if ack.Kind == "" {
			ack.Kind = "ack"
		}
		if err := s.putOutMail(txn, w, &ack); err != nil {
			return Ticket{}, false, fmt.Errorf("store: queue acknowledgement for %s: %w", t.ID, err)
		}
	}
	return t, false, nil
}

// Quarantined is a mail that could not be registered (or was held by the
// sender policy), kept whole so nothing is lost.
type Quarantined struct {
	ID       uint64    `json:"id"`
	Key      string    `json:"key"`
	Mailbox  string    `json:"mailbox"`
	UID      uint32    `json:"uid"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	Subject  string    `json:"subject"`
	Reason   string    `json:"reason"`
	Raw      []byte    `json:"raw"`
	Size     int       `json:"size"` // len(Raw), kept so lists need not load Raw
	Released bool      `json:"released"`
	// What a lead decided: released into Ticket, or dropped with a reason.
	// The copy is kept either way, so nothing is lost.
	DecidedBy  string    `json:"decided_by,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	Ticket     TicketID  `json:"ticket,omitempty"`
	Dropped    bool      `json:"dropped,omitempty"`
	DropReason string    `json:"drop_reason,omitempty"`
}

// Quarantine stores q (and advances cp) in one durable transaction; dedupe
// by q.Key (an empty Key is never a duplicate).
func (s *Store) Quarantine(q Quarantined, cp Checkpoint) (dup bool, err error) {
	err = s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync = true
		if err := putCheckpoint(txn, cp, false); err != nil {
			return fmt.Errorf("store: advance checkpoint of %s: %w", cp.Mailbox, err)
		}
		dup, err = s.quarantineIn(txn, q)
		return err
	})
	return dup, err
}

// HoldMail is mail intake setting a mail aside (a bounce it cannot place,
// a reply to a closed ticket it rejects, an unknown sender it redirects):
// q kept and, when answer is set and q is not a duplicate, the answer
// queued, in one transaction that does not wait for the disk. As with
// Intake.NoSync, the caller's next synced write makes it durable, and
// Outbox syncs before it hands the answer out.
func (s *Store) HoldMail(q Quarantined, answer *OutMail) (dup bool, err error) {
	err = s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync, w.nosync = true, true
		if dup, err = s.quarantineIn(txn, q); err != nil || dup || answer == nil {
			return err
		}
		m := *answer
		m.To, m.References = slices.Clone(m.To), slices.Clone(m.References)
		return s.putOutMail(txn, w, &m)
	})
	return dup, err
}

func (s *Store) quarantineIn(txn *badger.Txn, q Quarantined) (dup bool, err error) {
	key := normKey(q.Key)
	q.Size = len(q.Raw)
	if key != "" {
		ok, err := exists(txn, quarKeyKey(key))
		if err != nil || ok {
			return ok, err
		}
	}
	n, err := nextCounter(txn, ctrQuarantine)
	if err != nil {
		return false, err
	}
	q.ID, q.Key = n, key
	if q.At.IsZero() {
		q.At = s.now()
	}
	b, err := json.Marshal(&q)
	if err != nil {
		return false, fmt.Errorf("store: encode quarantined mail: %w", err)
	}
	if err := txn.Set(quarantineKey(n), b); err != nil {
		return false, err
	}
	if key != "" {
		return false, txn.Set(quarKeyKey(key), u64(nil, n))
	}
	return false, nil
}

// QuarantineList returns quarantined mails, newest first.
func (s *Store) QuarantineList() ([]Quarantined, error) {
	var out []Quarantined
	err := s.read(func(txn *badger.Txn) error {
		return reverseScan(txn, []byte{pQuarantine}, func(item *badger.Item) (bool, error) {
			var q Quarantined
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &q) }); err != nil {
				return false, fmt.Errorf("store: read quarantined mail %x: %w", item.Key(), err)
			}
			out = append(out, q)
			return true, nil
		})
	})
	return out, err
}

// QuarantineHeaders lists the newest quarantined mails (at most limit)
// without their raw copies: what the console shows, cheap however large the
// held mails are.
func (s *Store) QuarantineHeaders(limit int) ([]Quarantined, error) {
	var out []Quarantined
	err := s.read(func(txn *badger.Txn) error {
		return reverseScan(txn, []byte{pQuarantine}, func(item *badger.Item) (bool, error) {
			var q quarantinedHeader
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &q) }); err != nil {
				return false, fmt.Errorf("store: read quarantined mail %x: %w", item.Key(), err)
			}
			out = append(out, Quarantined(q.quarantinedNoRaw))
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}

// quarantinedHeader decodes a Quarantined record but skips Raw: the JSON
// decoder then only scans past the copy instead of decoding it.
type quarantinedHeader struct {
	quarantinedNoRaw
	Raw skipJSON `json:"raw"`
}

// skipJSON takes a JSON value and keeps nothing of it.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

type quarantinedNoRaw Quarantined

// Blob returns stored attachment content.
func (s *Store) Blob(key string) ([]byte, error) {
	var b []byte
	err := s.read(func(txn *badger.Txn) error {
		item, err := txn.Get(blobKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("attachment %q: %w", key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		b, err = item.ValueCopy(nil)
		return err
	})
	return b, err
}
