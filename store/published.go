package store

import (
	"fmt"
	"time"
)

// What the desk has published about its services: the major incidents
// and their status updates as the subscribers were told them. The status
// page shows this and nothing else of a ticket: no subject, no mail, no
// requester, because those are what people wrote to the desk, not what
// the desk said.

// PublishedIncident is a major incident as published.
type PublishedIncident struct {
	ID       string    `json:"id"` // "SD-12"
	Service  string    `json:"service"`
	Declared time.Time `json:"declared"`
	Ended    time.Time `json:"ended,omitzero"`
	Updates  []PublishedUpdate
}

// PublishedUpdate is one thing said about it, oldest first.
type PublishedUpdate struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"` // "investigating", "update", "resolved"
	Text   string    `json:"text"`
}

// Published are the major incidents open now or ended after since,
// newest first.
func (s *Store) Published(since time.Time) ([]PublishedIncident, error) {
	var out []PublishedIncident
	var ferr error
	err := s.Majors(func(t Ticket) bool {
		if t.Major == nil || (!t.Major.Ended.IsZero() && t.Major.Ended.Before(since)) {
			return true
		}
		h, err := s.History(t.ID)
		if err != nil {
			ferr = err
			return false
		}
		svc := t.Major.Service
		if svc == "" {
			svc = t.Service
		}
		var p *PublishedIncident
		for _, e := range h {
			switch e.Kind {
			case EvMajor:
				// A ticket declared again after it was reopened is one
				// incident per declaration.
				if p != nil && !p.Ended.IsZero() && !p.Ended.Before(since) {
					out = append(out, *p)
				}
				p = &PublishedIncident{ID: t.ID.String(), Service: svc, Declared: e.At}
				if e.Major != nil && e.Major.Service != "" {
					p.Service = e.Major.Service
				}
				p.Updates = append(p.Updates, PublishedUpdate{At: e.At, Status: "investigating",
					Text: fmt.Sprintf("We are investigating a major incident affecting %s.", nameOr(p.Service, "our service"))})
			case EvMajorNote:
				if p != nil {
					p.Updates = append(p.Updates, PublishedUpdate{At: e.At, Status: "update", Text: e.Text})
				}
			case EvMajorEnd:
				if p != nil {
					p.Ended = e.At
					p.Updates = append(p.Updates, PublishedUpdate{At: e.At, Status: "resolved",
						Text: fmt.Sprintf("The major incident affecting %s is resolved.", nameOr(p.Service, "our service"))})
				}
			}
		}
		if p != nil && (p.Ended.IsZero() || !p.Ended.Before(since)) {
			out = append(out, *p)
		}
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}

func nameOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}
