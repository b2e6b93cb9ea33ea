package tui

import (
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// globalKey handles the keys that mean the same whatever ticket is
// selected: help, quit, back, filter, command, queues, focus, new ticket.
func (m *Model) globalKey(km tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	switch {
	case key.Matches(km, k.Help):
		m.openHelp()
	case key.Matches(km, k.Quit):
		if km.String() != "ctrl+c" && m.focusDetail {
			m.focusDetail = false
			m.layout()
			return nil, true
		}
		return m.quit(), true
	case key.Matches(km, k.Back):
		switch {
		case m.focusDetail:
			m.focusDetail = false
			m.layout()
		case m.queues.narrowed():
			m.queues.filter, m.queues.queue = "", ""
			m.refresh(true)
			m.setFlash("filter cleared", false)
		}
	case key.Matches(km, k.Filter):
		return m.prompt.Open(promptFilter, "/", m.queues.filter), true
	case key.Matches(km, k.Command):
		return m.prompt.Open(promptCommand, ":", ""), true
	case key.Matches(km, k.NextTab, k.PrevTab) && !m.focusDetail:
		d := 1
		if key.Matches(km, k.PrevTab) {
			d = -1
		}
		m.switchTab(d)
		return m.followSelection(), true
	case key.Matches(km, k.Focus):
		if m.list.Selected() == nil && !m.focusDetail {
			return nil, true
		}
		m.focusDetail = !m.focusDetail
		m.layout()
		if m.focusDetail {
			return m.loadDetail(m.list.Selected().T.ID), true
		}
	case key.Matches(km, k.Open) && !m.focusDetail:
		sel := m.list.Selected()
		if sel == nil {
			return nil, true
		}
		m.focusDetail = true
		m.layout()
		return m.loadDetail(sel.T.ID), true
	case key.Matches(km, k.New):
		return m.asWriter(func() tea.Cmd {
			return m.open(m.form, m.form.Open(m.o.Queues, m.width, m.bodyHeight()))
		}), true
	case key.Matches(km, k.Undo):
		return m.undoLast(), true
	default:
		return nil, false
	}
	return nil, true
}

// openHelp shows every key in a scrollable page (it is longer than 24 lines).
func (m *Model) openHelp() {
	m.page.Open("desk — every key", helpView(m.styles, &m.keys)) // the footer says how to scroll and close
	m.overlay = m.page
}

// quit leaves the console, but not over unsent words: with drafts open, the
// first quit says where they are and only a second one leaves.
func (m *Model) quit() tea.Cmd {
	if d := m.drafts(); d != "" && !m.quitArmed {
		m.quitArmed = true
		m.setFlash("unsent drafts on "+d+": open them with n/r/c, or press q again to quit and lose them", true)
		return nil
	}
	m.quitting = true
	return tea.Quit
}

func (m *Model) drafts() string {
	var out []string
	for _, k := range m.compose.drafts.keys() {
		kind := "note"
		switch k.kind {
		case composeReply:
			kind = "reply"
		case composeResolve, composeClose:
			kind = "resolution"
		}
		out = append(out, k.ticket.String()+" ("+kind+")")
	}
	if m.form.hasDraft() {
		out = append(out, "a new ticket")
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// asWriter runs f for those who may change tickets; a viewer is told at
// once, without a round trip (the store refuses viewers too, whoever writes).
func (m *Model) asWriter(f func() tea.Cmd) tea.Cmd {
	if m.o.Role == RoleViewer {
		m.setFlash("read-only: "+m.o.Operator+" is a viewer; ask a lead for the operator role", true)
		return nil
	}
	return f()
}

// asLead runs f for leads only; what says what is reserved to them.
func (m *Model) asLead(what string, f func() tea.Cmd) tea.Cmd {
	if m.o.Role != RoleLead {
		m.setFlash(what+" is for leads", true)
		return nil
	}
	return f()
}
