package board

import "github.com/deskhq/desk/store"

// due is when a running clock's state can next change (Unix ns).
type due struct {
	at int64
	r  *Row
}

// dueHeap is a min-heap on at, written out rather than container/heap
// because boxing each entry in an interface would allocate on every push.
type dueHeap []due

func (h dueHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *dueHeap) push(d due) {
	*h = append(*h, d)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *dueHeap) pop() due {
	s := *h
	d := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = due{}
	*h = s[:n]
	h.down(0)
	return d
}

func (h dueHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].at < h[l].at {
			m = r
		}
		if h[i].at <= h[m].at {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// rowHeap is a min-heap of rows in default order. A slice already in that
// order is one.
type rowHeap []*Row

func (h *rowHeap) push(r *Row) {
	*h = append(*h, r)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !less(s[i], s[p]) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *rowHeap) pop() *Row {
	s := *h
	r := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	*h = s[:n]
	h.down(0)
	return r
}

func (h rowHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h rowHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// index finds the current row of a ticket. Ticket ids are sequential and
// never reused, so a slice indexed by id is a tenth of a map's size at
// 10^6; ids far beyond the count (a restored foreign backup, say) go to
// the map instead of growing the slice.
type index struct {
	dense  []*Row
	sparse map[store.TicketID]*Row
}

func (x *index) get(id store.TicketID) *Row {
	if uint64(id) < uint64(len(x.dense)) {
		return x.dense[id]
	}
	return x.sparse[id]
}

func (x *index) set(id store.TicketID, r *Row) {
	if uint64(id) < uint64(len(x.dense)) {
		x.dense[id] = r
		return
	}
	if uint64(id) < 2*uint64(len(x.dense))+1<<16 {
		n := max(2*len(x.dense), int(id)+1, 1024)
		x.dense = append(x.dense, make([]*Row, n-len(x.dense))...)
		x.dense[id] = r
		for sid, sr := range x.sparse {
			if uint64(sid) < uint64(len(x.dense)) {
				x.dense[sid] = sr
				delete(x.sparse, sid)
			}
		}
		return
	}
	if r == nil {
		delete(x.sparse, id)
		return
	}
	if x.sparse == nil {
		x.sparse = map[store.TicketID]*Row{}
	}
	x.sparse[id] = r
}
