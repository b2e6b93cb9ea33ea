package slaengine

import (
	"slices"
	"time"
)

// Hold is a span [From, To) during which a ticket's clocks stand still
// whatever its status: a planned service window of the ticket's service,
// on a desk that pauses SLA clocks during those. Within a hold no business
// time passes, as outside business hours: a clock due inside one falls due
// at its end, later by what was left of the window.
type Hold struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Without is c with no business time during the holds (c itself when there
// are none). Overlapping and touching holds merge; empty ones are ignored.
func (c *Calendar) Without(holds []Hold) *Calendar {
	spans := heldSpans(holds)
	if len(spans) == 0 {
		return c
	}
	base := AlwaysOpen()
	if c != nil {
		base = c
	}
	p := *base.prepared() // shares the base's read-only tables
	p.held = append(slices.Clone(p.held), spans...)
	p.held = mergeSpans(p.held)
	d := *base
	d.prep = &p
	return &d
}

// heldSpans are the holds as instants in ns, sorted and merged.
func heldSpans(holds []Hold) []span {
	var out []span
	for _, h := range holds {
		a, b := clampNs(h.From), clampNs(h.To)
		if b > a {
			out = append(out, span{a, b})
		}
	}
	return mergeSpans(out)
}

func mergeSpans(sp []span) []span {
	slices.SortFunc(sp, func(a, b span) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return 0
	})
	out := sp[:0]
	for _, s := range sp {
		if n := len(out); n > 0 && s.s <= out[n-1].e {
			out[n-1].e = max(out[n-1].e, s.e)
			continue
		}
		out = append(out, s)
	}
	return out
}

// betweenHeld is between without the held spans.
func (p *prepared) betweenHeld(a, b int64) int64 {
	sum := p.between(a, b)
	for _, h := range p.held {
		if h.e <= a {
			continue
		}
		if h.s >= b {
			break
		}
		sum -= p.between(max(a, h.s), min(b, h.e))
	}
	return sum
}

// addHeld is add skipping the held spans: the earliest instant after t by
// which d of business time outside them has passed.
func (p *prepared) addHeld(t, d int64) int64 {
	for _, h := range p.held {
		if h.e <= t {
			continue
		}
		if h.s > t {
			r := p.add(t, d)
			if r <= h.s {
				return r
			}
			d -= p.between(t, h.s)
		}
		t = h.e
	}
	return p.add(t, d)
}

// isHeld tells whether instant n lies in a held span.
func (p *prepared) isHeld(n int64) bool {
	for _, h := range p.held {
		if n < h.s {
			return false
		}
		if n < h.e {
			return true
		}
	}
	return false
}

// HeldAt is the hold of c that t lies in, if any: the clock stands still
// then (a running clock keeps Running; only no business time passes).
func (c Clock) HeldAt(t time.Time) (Hold, bool) {
	for _, h := range c.holds() {
		if !t.Before(h.From) && t.Before(h.To) {
			return h, true
		}
	}
	return Hold{}, false
}
