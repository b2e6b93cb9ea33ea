package store

import (
	"fmt"
	"time"

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
	ws, err := s.Windows(time.Time{})
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
// given services (all services when nil).
func (s *Store) recomputeServices(services map[string]bool) error {
	if err := s.recomputeActive(func(t Ticket) bool { return services == nil || services[t.Service] }); err != nil {
		return fmt.Errorf("store: recompute SLA clocks for the service windows: %w", err)
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
