package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// The messages the session's own Cmds answer with.
type (
	boardMsg struct{}
	tickMsg  time.Time
	// RoleMsg changes the session's role (a config reload by a lead).
	RoleMsg struct{ Role Role }
)

func (m *Model) waitBoard() tea.Cmd {
	ch := m.boardCh
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return nil
		}
		return boardMsg{}
	}
}

// tick wakes the session on the next whole second, so every countdown on
// every screen turns at the same moment.
func tick() tea.Cmd {
	return tea.Every(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) tick(now time.Time) tea.Cmd {
	m.now = now
	m.list.now, m.detail.now = now, now
	if m.o.MailStatus != nil {
		m.mail = m.o.MailStatus()
	}
	if m.o.Store != nil { // benchmarks run on a board in memory
		m.disk = m.o.Store.Space().Warning()
	}
	if m.flash.expired(now) {
		m.flash, m.undo = flash{}, undoable{}
	}
	m.relayout() // an alert's time in the banner may be up
	return tea.Batch(tick(), m.refreshOverlay(now))
}

// boardChanged takes the board's newest snapshot; the open ticket is read
// again when someone else (another session, the mail intake) changed it.
func (m *Model) boardChanged() tea.Cmd {
	s := m.o.Board.Snapshot()
	changed := s.RowsVersion != m.queues.rowsVersion
	m.queues.snap = s
	m.refresh(changed)
	cmds := []tea.Cmd{m.waitBoard(), m.takeAlerts(s)}
	m.relayout() // a major incident opened or ended, an alert came
	if changed && m.detail.loaded && m.detail.id != 0 {
		if r := m.list.byID(m.detail.id); r != nil && r.T.Events != m.detail.ticket.Events {
			cmds = append(cmds, m.loadDetail(m.detail.id))
		}
	}
	if m.wide() && !m.focusDetail {
		cmds = append(cmds, m.followSelection())
	}
	return tea.Batch(cmds...)
}

// followSelection keeps the detail pane on the selected ticket when both
// panes are visible.
func (m *Model) followSelection() tea.Cmd {
	if !m.wide() {
		return nil
	}
	if sel := m.list.Selected(); sel != nil && sel.T.ID != m.detail.id {
		return m.loadDetail(sel.T.ID)
	}
	return nil
}

// nextReq is a new request id: an answer carrying an older one than the
// latest of its kind is dropped.
func (m *Model) nextReq() uint64 {
	m.req++
	return m.req
}

func (m *Model) loadDetail(id store.TicketID) tea.Cmd {
	m.detailReq = m.nextReq()
	if m.detail.id != id {
		m.detail.loaded = false
		m.detail.id = id
	}
	var similar, solutions similarFunc
	if m.o.Similar != nil && m.detail.similarFor != id {
		similar, solutions = m.o.Similar, m.o.Solutions
	}
	return loadDetail(m.o.Store, similar, solutions, id, m.detailReq)
}

func (m *Model) detailLoaded(msg detailLoadedMsg) tea.Cmd {
	if msg.req != m.detailReq {
		return nil // a newer request is on its way
	}
	if msg.err != nil {
		m.detail.err = msg.err
		return nil
	}
	if msg.similar != nil {
		m.detail.similar, m.detail.solutions, m.detail.similarFor = msg.similar, msg.solutions, msg.ticket.ID
	} else if m.detail.similarFor != msg.ticket.ID {
		m.detail.similar, m.detail.solutions = nil, nil
	}
	m.detail.SetTicket(msg.ticket, msg.history)
	if m.scrollToEnd {
		// After the operator's own change, show it: it is the newest event.
		m.detail.vp.GotoBottom()
		m.scrollToEnd = false
	}
	return nil
}

// current is the ticket the operator is acting on: the open detail, else
// the list selection, each replaced by this session's own latest write
// when that is newer than what the board has caught up with.
func (m *Model) current() (store.Ticket, bool) {
	var t store.Ticket
	switch {
	case m.focusDetail && m.detail.loaded:
		t = m.detail.ticket
	case m.list.Selected() != nil:
		t = m.list.Selected().T
		if m.detail.loaded && m.detail.id == t.ID && m.detail.ticket.Events > t.Events {
			t = m.detail.ticket
		}
	default:
		return store.Ticket{}, false
	}
	return m.latest(t), true
}
