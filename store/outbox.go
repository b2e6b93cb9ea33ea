package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// OutMail is one entry of the outbox.
type OutMail struct {
	ID         uint64   `json:"id"`
	Ticket     TicketID `json:"ticket"`
	Kind       string   `json:"kind"` // "ack", "reply", "resolution", "redirect", "escalation"
	To         []string `json:"to"`
	Subject    string   `json:"subject"`
	Body       string   `json:"body"`
	MessageID  string   `json:"message_id"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	Auto       bool     `json:"auto"` // automatic mail: Auto-Submitted: auto-replied
	// Unsubscribe is the link that ends the subscription a notice goes
	// out under (List-Unsubscribe, RFC 2369 and 8058); "" for other mail.
	Unsubscribe string    `json:"unsubscribe,omitempty"`
	Queued      time.Time `json:"queued"`
	Attempts    int       `json:"attempts"`
	NextTry     time.Time `json:"next_try"`
	LastError   string    `json:"last_error,omitempty"`
	Sent        time.Time `json:"sent,omitzero"`
	// Failed is when the mail was given up on: the server refused it for
	// good (a 5xx answer, an address it cannot take). LastError says why;
	// it is not tried again.
	Failed time.Time `json:"failed,omitzero"`
}

// outbound prepares an outbound message event: it gets a Message-ID, the
// support address as sender, a subject tagged with the ticket number and,
// when it has recipients, an outbox entry. Cc recipients are sent to as
// well (the outbox has one recipient list).
func (s *Store) outbound(txn *badger.Txn, w *writeSet, id TicketID, seq int, m *Message, kind string) error {
	if m.MessageID == "" {
		m.MessageID = s.messageID(fmt.Sprintf("sd-%d.%d.%s", uint64(id), seq, randHex(6)))
	}
	if m.From.Email == "" {
		m.From.Email = s.opt.SupportAddress
	}
	m.Subject = s.tagSubject(m.Subject, id)
	if len(m.To) == 0 {
		return nil
	}
	om := OutMail{
		Ticket: id, Kind: kind, To: append(slices.Clone(m.To), m.Cc...),
		Subject: m.Subject, Body: m.Body, MessageID: m.MessageID,
		InReplyTo: m.InReplyTo, References: slices.Clone(m.References),
		Auto: m.Auto,
	}
	if err := s.putOutMail(txn, w, &om); err != nil {
		return err
	}
	m.Outbox = om.ID
	return nil
}

// putOutMail numbers m and writes it with its indexes; the commit is synced
// because the mail will leave the process.
func (s *Store) putOutMail(txn *badger.Txn, w *writeSet, m *OutMail) error {
	if len(m.To) == 0 {
		return errors.New("store: an outbound mail needs at least one recipient")
	}
	n, err := nextCounter(txn, ctrOutbox)
	if err != nil {
		return err
	}
	now := s.now()
	m.ID = n
	m.Queued = now
	if m.NextTry.IsZero() {
		m.NextTry = now
	}
	m.Sent, m.Failed, m.Attempts, m.LastError = time.Time{}, time.Time{}, 0, ""
	if m.Ticket != 0 {
		m.Subject = s.tagSubject(m.Subject, m.Ticket)
		m.Body = strings.ReplaceAll(m.Body, TicketPlaceholder, s.TicketTag(m.Ticket))
	}
	if m.MessageID == "" {
		m.MessageID = s.messageID(fmt.Sprintf("sd-%d.out%d.%s", uint64(m.Ticket), n, randHex(6)))
	}
	m.MessageID = normKey(m.MessageID)
	if m.Ticket != 0 {
		if err := setIfAbsent(txn, messageKey(m.MessageID), u64(nil, uint64(m.Ticket))); err != nil {
			return err
		}
	}
	if m.Auto {
		for _, a := range m.To {
			if err := txn.Set(autoKey(a, now, n), nil); err != nil {
				return err
			}
		}
	}
	if err := putOut(txn, m); err != nil {
		return err
	}
	if err := txn.Set(outDueKey(m.NextTry, n), nil); err != nil {
		return err
	}
	w.sync = true
	return nil
}

func putOut(txn *badger.Txn, m *OutMail) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: encode outbox entry %d: %w", m.ID, err)
	}
	return txn.Set(outboxKey(m.ID), b)
}

// Enqueue adds a mail that belongs to no ticket event (e.g. a redirect
// answer). The entry is on disk when it returns.
func (s *Store) Enqueue(m OutMail) (OutMail, error) {
	m.To = slices.Clone(m.To)
	m.References = slices.Clone(m.References)
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		c := m
		if err := s.putOutMail(txn, w, &c); err != nil {
			return err
		}
		m = c
		return nil
	})
	return m, err
}

// Outbox returns unsent mail due at or before now, oldest first. What it
// returns is on disk, deferred registrations included (see Intake.NoSync).
func (s *Store) Outbox(now time.Time) ([]OutMail, error) {
	if !s.journal.replayed.Load() {
		if err := s.replayJournal(); err != nil {
			return nil, err
		}
	}
	var out []OutMail
	err := s.read(func(txn *badger.Txn) error {
		ids, err := dueIDs(txn, pOutDue, now)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var m OutMail
			if err := getJSON(txn, outboxKey(id), &m); err != nil {
				return fmt.Errorf("store: read outbox entry %d: %w", id, err)
			}
			out = append(out, m)
		}
		if len(out) == 0 {
			return nil
		}
		// An entry queued by a deferred registration must not be sent
		// before that registration is on disk.
		return s.syncedForSending()
	})
	return out, err
}

// OutboxAll returns the whole outbox (sent and unsent), newest first, up to
// limit (0 or less: no limit).
func (s *Store) OutboxAll(limit int) ([]OutMail, error) {
	var out []OutMail
	err := s.read(func(txn *badger.Txn) error {
		return reverseScan(txn, []byte{pOutbox}, func(item *badger.Item) (bool, error) {
			var m OutMail
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &m) }); err != nil {
				return false, fmt.Errorf("store: read outbox entry %x: %w", item.Key(), err)
			}
			out = append(out, m)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}

// reverseScan iterates prefix p from its last key to its first.
func reverseScan(txn *badger.Txn, p []byte, fn func(item *badger.Item) (bool, error)) error {
	o := badger.DefaultIteratorOptions
	o.Prefix = p
	o.Reverse = true
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Seek(append(slices.Clone(p), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); it.ValidForPrefix(p); it.Next() {
		more, err := fn(it.Item())
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// MarkSent records a successful send; it is on disk when it returns, so a
// restart does not send the mail again.
func (s *Store) MarkSent(id uint64, at time.Time) error {
	return s.recordAttempts([]Attempt{{ID: id, Sent: at}}, true, true)
}

// MarkFailed records a failed attempt and when to try again; it is on disk
// when it returns.
func (s *Store) MarkFailed(id uint64, reason string, next time.Time) error {
	return s.recordAttempts([]Attempt{{ID: id, Error: reason, NextTry: next}}, true, true)
}

// Attempt is the outcome of one try to send an outbox entry.
type Attempt struct {
	ID   uint64
	Sent time.Time // when it was sent; zero: it was not
	// Error is why it was not sent, or, for a sent mail, the recipients
	// that refused it.
	Error string
	// Permanent: not sent and never to be tried again (Failed is set to At).
	Permanent bool
	At        time.Time // when a permanent failure happened
	NextTry   time.Time // not sent, not permanent: when to try again
	// Entry, when set, is the entry as Outbox returned it: the record is
	// then not read and decoded again when it is still as it was. Only an
	// attempt changes an entry once queued, and an attempt always moves or
	// deletes its due key, so the due key of Entry.NextTry still being
	// there proves that nobody recorded an outcome since Entry was read
	// (and a concurrent one makes the transaction conflict and run again).
	Entry *OutMail
}

// RecordAttempts records the outcomes of send attempts in one transaction.
// With sync it is on disk when it returns. Without, it survives the
// process being killed at once (the kernel holds what Badger wrote) but not
// a power loss until the next synced write or Sync: a sender records each
// mail so the moment it is sent, and syncs once per round. An entry that is
// already sent or given up is left alone.
func (s *Store) RecordAttempts(as []Attempt, sync bool) error {
	return s.recordAttempts(as, sync, false)
}

// recordAttempts is RecordAttempts; strict refuses an entry already sent or
// given up instead of leaving it alone.
func (s *Store) recordAttempts(as []Attempt, sync, strict bool) error {
	if len(as) == 0 {
		return nil
	}
	// Committed unsynced, then synced if asked: the journal learns of the
	// commit in between, so the sync can empty it.
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync, w.nosync = true, true
		for _, a := range as {
			m, err := s.attempted(txn, a)
			if err != nil {
				return err
			}
			if !m.Sent.IsZero() || !m.Failed.IsZero() {
				if strict {
					return fmt.Errorf("store: outbox entry %d was already %s", a.ID, m.state())
				}
				s.logf("outbox entry %d was already %s; attempt not recorded", a.ID, m.state())
				continue
			}
			if err := s.applyAttempt(txn, a, &m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.journalApplied(as)
	if sync {
		return s.Sync()
	}
	return nil
}

// applyAttempt records a on m, the entry as stored, not sent or given up.
func (s *Store) applyAttempt(txn *badger.Txn, a Attempt, m *OutMail) error {
	if err := txn.Delete(outDueKey(m.NextTry, a.ID)); err != nil {
		return err
	}
	m.Attempts++
	m.LastError = a.Error
	switch {
	case !a.Sent.IsZero():
		m.Sent = a.Sent
	case a.Permanent:
		m.Failed = a.At
		if m.Failed.IsZero() {
			m.Failed = s.now()
		}
	default:
		m.NextTry = a.NextTry
		if err := txn.Set(outDueKey(m.NextTry, a.ID), nil); err != nil {
			return err
		}
	}
	return putOut(txn, m)
}

// attempted is the entry an attempt is about: a.Entry while its due key
// says it is unchanged, else the record as stored.
func (s *Store) attempted(txn *badger.Txn, a Attempt) (OutMail, error) {
	if e := a.Entry; e != nil && e.ID == a.ID && e.Sent.IsZero() && e.Failed.IsZero() {
		ok, err := exists(txn, outDueKey(e.NextTry, a.ID))
		if err != nil {
			return OutMail{}, err
		}
		if ok {
			return *e, nil
		}
	}
	var m OutMail
	if err := getJSON(txn, outboxKey(a.ID), &m); err != nil {
		return OutMail{}, fmt.Errorf("store: outbox entry %d: %w", a.ID, err)
	}
	return m, nil
}

func (m *OutMail) state() string {
	if !m.Sent.IsZero() {
		return "sent at " + m.Sent.Format(time.RFC3339)
	}
	return "given up at " + m.Failed.Format(time.RFC3339)
}

// OutboxCount counts the unsent mail still to be tried, due or not (not
// those given up on). It reads only keys and never waits for the disk.
func (s *Store) OutboxCount() (int, error) {
	n := 0
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pOutDue}, true, func(*badger.Item) (bool, error) {
			n++
			return true, nil
		})
	})
	return n, err
}

// AutoMailsToday counts automatic mails queued to addr in the 24 hours before now.
func (s *Store) AutoMailsToday(addr string, now time.Time) (int, error) {
	p := autoPrefix(addr)
	from, to := timeKey(now.Add(-24*time.Hour)), timeKey(now)
	n := 0
	err := s.read(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = p
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(u64(slices.Clone(p), from+1)); it.ValidForPrefix(p); it.Next() {
			k := it.Item().Key()
			if len(k) != len(p)+16 {
				continue
			}
			if binary.BigEndian.Uint64(k[len(p):]) > to {
				break
			}
			n++
		}
		return nil
	})
	return n, err
}

// dueIDs are the ids in a due index (prefix, then next-try time and id)
// due at or before now, in id order: the order they were queued.
func dueIDs(txn *badger.Txn, prefix byte, now time.Time) ([]uint64, error) {
	var ids []uint64
	end := timeKey(now)
	err := prefixScan(txn, []byte{prefix}, true, func(item *badger.Item) (bool, error) {
		k := item.Key()
		if len(k) != 17 {
			return true, nil
		}
		if binary.BigEndian.Uint64(k[1:9]) > end {
			return false, nil
		}
		ids = append(ids, binary.BigEndian.Uint64(k[9:]))
		return true, nil
	})
	slices.Sort(ids)
	return ids, err
}
