package store

import (
	"context"
	"sync"
)

// The change feed is our own fan-out, not Badger's Subscribe: Subscribe
// registers asynchronously (writes right after the call can be missed) and
// only one process ever owns a store, so publishing after each commit in
// this process is exact. Commit and publish happen under one lock, so every
// watcher sees changes in commit order.
//
// Writers never wait for watchers. Each watcher has its own queue drained by
// its own goroutine; while a watcher is less than coalesceAt changes behind,
// it gets every change. Further behind, a change to a ticket already waiting
// in its queue updates that entry's Seq instead of queueing another, so the
// queue is bounded by coalesceAt plus the number of distinct tickets, and a
// slow watcher sees the latest Seq of each ticket (possibly out of commit
// order across tickets). A watcher should reload the ticket on any Change.
const coalesceAt = 1024

type hub struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
}

type sub struct {
	mu   sync.Mutex
	q    []Change
	base int              // absolute position of q[0]
	pos  map[TicketID]int // absolute position of each ticket's last queued change
	wake chan struct{}
	done chan struct{}
	out  chan Change
}

// Watch delivers every change made after it returns, in commit order, until
// ctx ends (or the store closes); then the channel is closed. It is
// registered before it returns, so no later write is missed. See the comment
// at the top of feed.go for what a slow watcher gets.
func (s *Store) Watch(ctx context.Context) <-chan Change {
	w := &sub{
		pos:  map[TicketID]int{},
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		out:  make(chan Change, 16),
	}
	h := &s.hub
	h.mu.Lock()
	if s.closed.Load() {
		h.mu.Unlock()
		close(w.out)
		return w.out
	}
	if h.subs == nil {
		h.subs = map[*sub]struct{}{}
	}
	h.subs[w] = struct{}{}
	h.mu.Unlock()
	go w.pump(ctx, h)
	return w.out
}

func (h *hub) publish(cs []Change) {
	if len(cs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		for _, c := range cs {
			w.push(c)
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		close(w.done)
		delete(h.subs, w)
	}
}

func (w *sub) push(c Change) {
	w.mu.Lock()
	if p, ok := w.pos[c.Ticket]; ok && len(w.q) >= coalesceAt {
		if c.Seq > w.q[p-w.base].Seq {
			w.q[p-w.base].Seq = c.Seq
		}
	} else {
		w.pos[c.Ticket] = w.base + len(w.q)
		w.q = append(w.q, c)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest queued change; ok is false when none is queued.
func (w *sub) pop() (Change, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.q) == 0 {
		return Change{}, false
	}
	c := w.q[0]
	if w.pos[c.Ticket] == w.base {
		delete(w.pos, c.Ticket)
	}
	w.q[0] = Change{}
	w.q = w.q[1:]
	w.base++
	if len(w.q) == 0 {
		w.q = nil // let a burst's backing array go
	}
	return c, true
}

func (w *sub) pump(ctx context.Context, h *hub) {
	defer close(w.out)
	defer func() {
		h.mu.Lock()
		delete(h.subs, w)
		h.mu.Unlock()
	}()
	for {
		c, ok := w.pop()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				return
			case <-w.done:
				return
			}
		}
		select {
		case w.out <- c:
		case <-ctx.Done():
			return
		case <-w.done:
			return
		}
	}
}
