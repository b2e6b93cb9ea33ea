package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// Policy returns the policy in force.
func (s *Store) Policy() slaengine.Policy { return *s.policy.Load() }

// setPolicyBatch is how many tickets one SetPolicy transaction rewrites;
// ErrTxnTooBig halves it.
const setPolicyBatch = 500

// SetPolicy replaces the SLA policy (config reload) and recomputes the clocks
// and deadline index of every active ticket, in batches of transactions. A
// write racing a batch simply conflicts and is retried, and writes made
// after the swap already use the new policy. Each recomputed ticket appears
// on the change feed.
func (s *Store) SetPolicy(p slaengine.Policy) (err error) {
	old := s.policy.Swap(&p)
	defer func() {
		if err != nil {
			// The caller says "the old config stays": make it so for every
			// write from now on (tickets already recomputed keep the new
			// deadlines until their next change).
			s.policy.Store(old)
		}
	}()
	if err := s.recomputeActive(nil); err != nil {
		return fmt.Errorf("store: recompute SLA clocks with the new policy: %w", err)
	}
	return nil
}

// recomputeActive recomputes the clocks of the active tickets that only
// accepts (all when nil), in batches of transactions, each halved when it
// does not fit one.
func (s *Store) recomputeActive(only func(Ticket) bool) error {
	var ids []TicketID
	for _, st := range Statuses {
		if !st.Active() {
			continue
		}
		if err := s.ByStatus(st, "", func(id TicketID) bool { ids = append(ids, id); return true }); err != nil {
			return fmt.Errorf("list the active tickets: %w", err)
		}
	}
	for len(ids) > 0 {
		n := min(setPolicyBatch, len(ids))
		for {
			err := s.recomputeWhere(ids[:n], only)
			if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
				n /= 2
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		ids = ids[n:]
	}
	return nil
}

// recomputeWhere recomputes the clocks of the tickets of ids that only
// accepts (all when nil).
func (s *Store) recomputeWhere(ids []TicketID, only func(Ticket) bool) error {
	return s.write(func(txn *badger.Txn, w *writeSet) error {
		for _, id := range ids {
			old, err := getTicket(txn, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if only != nil && !only(old) {
				continue
			}
			var tl slaengine.Timeline
			if err := getJSON(txn, timelineKey(id), &tl); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("read SLA timeline of %s: %w", id, err)
			}
			cur := old
			tl.Type = string(cur.Type)
			// Clocks are evaluated at Updated, like every write does
			// (see Ticket.SLA); Due does not depend on it.
			s.computeSLA(&cur, tl, cur.Updated)
			if err := s.putProjection(txn, &old, &cur, false); err != nil {
				return err
			}
			w.changes = append(w.changes, Change{Ticket: id, Seq: cur.Events})
		}
		return nil
	})
}
