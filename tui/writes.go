package tui

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// writtenMsg is the answer to a write to the store.
type writtenMsg struct {
	what    string
	id      store.TicketID
	ticket  store.Ticket
	err     error
	created bool
	change  *undoable // a field change that u can take back
}

// writeQueue runs a session's writes one at a time, in the order the keys
// were pressed. A write is built only when it runs, from this session's
// own latest result: pressing 1 then 2 quickly is P1 then P2, not a
// conflict with a change "by someone else" that was this session's own.
type writeQueue struct {
	busy    bool
	pending []func() tea.Cmd
	last    store.Ticket // the result of this session's latest write
}

// write queues an operation; build returns nil when there turns out to be
// nothing to write.
func (m *Model) write(build func() tea.Cmd) tea.Cmd {
	m.writes.pending = append(m.writes.pending, build)
	if m.writes.busy {
		return nil
	}
	return m.nextWrite()
}

func (m *Model) nextWrite() tea.Cmd {
	for len(m.writes.pending) > 0 {
		build := m.writes.pending[0]
		m.writes.pending = m.writes.pending[1:]
		if cmd := build(); cmd != nil {
			m.writes.busy = true
			return cmd
		}
	}
	m.writes.busy = false
	return nil
}

// latest is t as this session last wrote it, when that is newer.
func (m *Model) latest(t store.Ticket) store.Ticket {
	if w := m.writes.last; w.ID == t.ID && w.Events > t.Events {
		return w
	}
	return t
}

// do runs one store operation. The values it needs are copied now, so the
// Cmd never reads the model later. The console decides only which key was
// pressed: every rule is the store's.
func (m *Model) do(id store.TicketID, what string, op func(st *store.Store, actor string) (store.Ticket, error)) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return m.write(func() tea.Cmd {
		return func() tea.Msg {
			t, err := op(st, actor)
			return writtenMsg{what: what, id: id, ticket: t, err: err}
		}
	})
}

// setField changes one field if it still has the value the operator saw
// (or this session's own write left).
func (m *Model) setField(t store.Ticket, field store.Field, to string) tea.Cmd {
	return m.asWriter(func() tea.Cmd {
		return m.write(func() tea.Cmd { return m.fieldCmd(m.latest(t), field, to, false) })
	})
}

func (m *Model) fieldCmd(t store.Ticket, field store.Field, to string, undo bool) tea.Cmd {
	seen := store.FieldValue(&t, field)
	if seen == to {
		m.setFlash(fmt.Sprintf("%s %s is already %s", t.ID, field, orDash(to)), false)
		return nil
	}
	st, actor, id := m.o.Store, m.o.Operator, t.ID
	what := fmt.Sprintf("%s %s → %s", field, orDash(seen), orDash(to))
	if undo {
		what = "undone: " + what
	}
	return func() tea.Msg {
		op := st.SetField
		if undo {
			op = st.UndoField
		}
		nt, err := op(id, actor, field, seen, to)
		msg := writtenMsg{what: what, id: id, ticket: nt, err: err}
		if err == nil && !undo {
			msg.change = &undoable{id: id, field: field, from: seen, to: to}
		}
		return msg
	}
}

// undoable is the latest field change, which u takes back while its
// message is on screen.
type undoable struct {
	id       store.TicketID
	field    store.Field
	from, to string
}

func (m *Model) undoLast() tea.Cmd {
	u := m.undo
	if u.id == 0 {
		m.setFlash("nothing to undo: u takes back a field change while its message is shown", false)
		return nil
	}
	m.undo = undoable{}
	return m.asWriter(func() tea.Cmd {
		return m.write(func() tea.Cmd {
			t := m.writes.last
			if t.ID != u.id {
				return nil
			}
			return m.fieldCmd(t, u.field, u.from, true)
		})
	})
}

func (m *Model) written(msg writtenMsg) tea.Cmd {
	if msg.err == nil && msg.ticket.ID != 0 {
		// Before the next queued write is built: it starts from this one.
		m.writes.last = msg.ticket
	}
	next := m.nextWrite()
	if msg.err != nil {
		var ch *store.ConflictError
		var no *store.RefusedError
		switch {
		case errors.As(msg.err, &ch):
			m.setFlash(ch.Error(), true)
		case errors.As(msg.err, &no):
			m.setFlash(no.Error(), true)
		case errors.Is(msg.err, store.ErrStale):
			m.setFlash(msg.id.String()+" changed while you were editing: showing the current state, try again", true)
		case msg.id == 0:
			m.setFlash(msg.err.Error(), true)
		default:
			m.setFlash(fmt.Sprintf("%s not saved: %v", msg.id, msg.err), true)
		}
		if msg.id != 0 && (m.focusDetail || m.wide()) {
			return tea.Batch(next, m.loadDetail(msg.id))
		}
		return next
	}
	if msg.id == 0 {
		m.setFlash(msg.what, false)
	} else if msg.change != nil {
		m.setFlash(fmt.Sprintf("%s %s · u undoes", msg.id, msg.what), false)
		m.undo = *msg.change
	} else {
		m.setFlash(fmt.Sprintf("%s %s", msg.id, msg.what), false)
	}
	if msg.created {
		// The caller is still on the line: show the ticket just registered.
		m.form.Reset()
		m.focusDetail = true
		m.layout()
		return tea.Batch(next, m.loadDetail(msg.id))
	}
	if m.detail.loaded && m.detail.id == msg.id || m.focusDetail && m.detail.id == msg.id {
		m.scrollToEnd = true
		return tea.Batch(next, m.loadDetail(msg.id))
	}
	return next
}
