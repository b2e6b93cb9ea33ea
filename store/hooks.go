package store

import (
	"encoding/json"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Webhooks: an escalation step that tells "webhook" queues a JSON POST
// (for a chat room or an SMS gateway) in the same write as its event, as
// mail goes through the outbox; a sender (package webhook) delivers it
// and records the outcome here. A crash between the write and the POST
// sends it after the restart; one between the POST and its record sends
// it twice, which a receiver tells by the id in the body.

// Hook is one queued webhook call.
type Hook struct {
	ID        uint64          `json:"id"`
	Ticket    TicketID        `json:"ticket"`
	URL       string          `json:"url"`
	Body      json.RawMessage `json:"body"`
	Queued    time.Time       `json:"queued"`
	Attempts  int             `json:"attempts"`
	NextTry   time.Time       `json:"next_try"`
	LastError string          `json:"last_error,omitempty"`
	Sent      time.Time       `json:"sent,omitzero"`
	Failed    time.Time       `json:"failed,omitzero"` // given up: the receiver refused it for good
}

// HookPayload is what the receiver gets: the step, the ticket, whom it
// told. Names are snake_case and stable: chat bots parse them.
type HookPayload struct {
	ID       uint64    `json:"id"` // the hook's: the same on a retry
	Event    string    `json:"event"`
	Ticket   string    `json:"ticket"`
	Subject  string    `json:"subject"`
	Priority string    `json:"priority"`
	Type     string    `json:"type"`
	Status   string    `json:"status"`
	Service  string    `json:"service,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	Clock    string    `json:"clock"`
	Step     string    `json:"step"`
	Due      time.Time `json:"due"`
	Late     bool      `json:"late,omitempty"`
	Told     []Told    `json:"told,omitempty"`
	Text     string    `json:"text"` // one line for a chat room
}

const ctrHook = "hook"

func hookKey(id uint64) []byte { return u64([]byte{pHook}, id) }
func hookDueKey(next time.Time, id uint64) []byte {
	return u64(u64([]byte{pHookDue}, timeKey(next)), id)
}

// putHook queues the webhook call of escalation event e on cur.
func (s *Store) putHook(txn *badger.Txn, w *writeSet, cur *Ticket, e *Event, url string) error {
	n, err := nextCounter(txn, ctrHook)
	if err != nil {
		return err
	}
	x := e.Escalation
	p := HookPayload{ID: n, Event: "escalation", Ticket: cur.ID.String(), Subject: cur.Subject, Priority: cur.Priority.String(),
		Type: string(cur.Type), Status: string(cur.Status), Service: cur.Service, Assignee: cur.Assignee,
		Clock: x.Clock, Step: x.Step, Due: x.Due.UTC(), Late: x.Late, Told: x.Told,
		Text: escalationSubject(*cur, *x) + " [" + s.TicketTag(cur.ID) + "]"}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := s.now()
	h := Hook{ID: n, Ticket: cur.ID, URL: url, Body: body, Queued: now, NextTry: now}
	if err := putJSON(txn, hookKey(n), h); err != nil {
		return err
	}
	if err := txn.Set(hookDueKey(now, n), nil); err != nil {
		return err
	}
	w.sync = true // the call leaves the process
	return nil
}

// HooksDue are the webhook calls due at or before now, oldest first.
func (s *Store) HooksDue(now time.Time) ([]Hook, error) {
	var out []Hook
	err := s.read(func(txn *badger.Txn) error {
		ids, err := dueIDs(txn, pHookDue, now)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var h Hook
			if err := getJSON(txn, hookKey(id), &h); err != nil {
				return fmt.Errorf("store: read webhook call %d: %w", id, err)
			}
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// Hooks are every webhook call, newest first, up to limit (0: all).
func (s *Store) Hooks(limit int) ([]Hook, error) {
	var out []Hook
	err := s.read(func(txn *badger.Txn) error {
		return reverseScan(txn, []byte{pHook}, func(item *badger.Item) (bool, error) {
			var h Hook
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &h) }); err != nil {
				return false, err
			}
			out = append(out, h)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}

// RecordHook records the outcome of one call: sent (sent non-zero), given
// up (permanent), or to be tried again at next. It is on disk when it
// returns; a call already sent or given up is left alone.
func (s *Store) RecordHook(id uint64, sent time.Time, reason string, permanent bool, next time.Time) error {
	return s.write(func(txn *badger.Txn, w *writeSet) error {
		var h Hook
		if err := getJSON(txn, hookKey(id), &h); err != nil {
			return fmt.Errorf("store: read webhook call %d: %w", id, err)
		}
		if !h.Sent.IsZero() || !h.Failed.IsZero() {
			return nil
		}
		if err := txn.Delete(hookDueKey(h.NextTry, id)); err != nil {
			return err
		}
		h.Attempts++
		h.LastError = reason
		switch {
		case !sent.IsZero():
			h.Sent = sent
		case permanent:
			h.Failed = s.now()
		default:
			h.NextTry = next
			if err := txn.Set(hookDueKey(next, id), nil); err != nil {
				return err
			}
		}
		w.sync = true
		return putJSON(txn, hookKey(id), h)
	})
}

func putJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}
