package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// SLA clocks during service windows. With WindowRules.PauseSLA a ticket's
// clocks stand still while a planned window of its service is on: its
// timeline gets the windows as holds (slaengine.Hold), which the engine
// treats as time without business hours. The holds are derived from the
// window records, kept in memory (windows are few) and given to every
// computation of a ticket's clocks; planning or cancelling a window, or
// switching PauseSLA, recomputes the active tickets of the services
// concerned so that their deadlines move at once.

// holdSet is the holds per service.
type holdSet map[string][]slaengine.Hold

// holdsOf are the spans a window took or takes: a window cancelled before
// it began holds nothing, one cancelled while on holds until then.
func holdsOf(ws []Window) holdSet {
	out := holdSet{}
	for _, w := range ws {
		end := w.End()
		if !w.Cancelled.IsZero() {
			if !w.Cancelled.After(w.Start) {
				continue
			}
			if w.Cancelled.Before(end) {
				end = w.Cancelled
			}
		}
		out[w.Service] = append(out[w.Service], slaengine.Hold{From: w.Start, To: end})
	}
	return out
}

// loadHolds reads the windows into the in-memory hold set.
func (s *Store) loadHolds() error {
	var ws []Window
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pWindow}, false, func(item *badger.Item) (bool, error) {
			var w Window
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &w) }); err != nil {
				return false, err
			}
			ws = append(ws, w)
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: read the service windows: %w", err)
	}
	h := holdsOf(ws)
	s.holds.Store(&h)
	return nil
}

// holdsFor are the holds for a ticket of service created at created: none
// unless the desk pauses clocks during windows.
func (s *Store) holdsFor(service string, created time.Time) []slaengine.Hold {
	if service == "" || !s.people().Windows.PauseSLA {
		return nil
	}
	h := s.holds.Load()
	if h == nil {
		return nil
	}
	var out []slaengine.Hold
	for _, x := range (*h)[service] {
		if x.To.After(created) {
			out = append(out, x)
		}
	}
	return out
}

// recomputeServices recomputes the clocks of the active tickets of the
// given services (all services when nil), in batches like SetPolicy.
func (s *Store) recomputeServices(services map[string]bool) error {
	var ids []TicketID
	for _, st := range Statuses {
		if !st.Active() {
			continue
		}
		if err := s.ByStatus(st, "", func(id TicketID) bool { ids = append(ids, id); return true }); err != nil {
			return fmt.Errorf("store: list active tickets to recompute their clocks: %w", err)
		}
	}
	only := func(t Ticket) bool { return services == nil || services[t.Service] }
	for len(ids) > 0 {
		n := min(setPolicyBatch, len(ids))
		for {
			err := s.recomputeWhere(ids[:n], only)
			if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
				n /= 2
				continue
			}
			if err != nil {
				return fmt.Errorf("store: recompute SLA clocks for the service windows: %w", err)
			}
			break
		}
		ids = ids[n:]
	}
	return nil
}

// windowsChanged reloads the holds after a window was planned or
// cancelled and moves the deadlines of the service's tickets.
func (s *Store) windowsChanged(service string) error {
	if err := s.loadHolds(); err != nil {
		return err
	}
	if !s.people().Windows.PauseSLA {
		return nil
	}
	return s.recomputeServices(map[string]bool{service: true})
}
