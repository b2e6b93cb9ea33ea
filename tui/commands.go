package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// command is one : command. The table is the help screen too, so the two
// cannot drift.
type command struct {
	names []string
	usage string
	help  string
	need  Role // "" anyone, RoleOperator writers, RoleLead leads
	run   func(m *Model, arg string, fields []string) tea.Cmd
}

// commands is filled in init: its :help runs the help screen, which lists
// commands.
var commands []command

func init() {
	commands = []command{
		{[]string{"open", "o"}, ":SD-12 (or :open SD-12)", "open a ticket by number", "",
			func(m *Model, arg string, _ []string) tea.Cmd { return m.openTicket(arg) }},
		{[]string{"search", "s"}, `:search WORDS "a phrase" from:DOMAIN prio:P1`, "full-text search of every message, note and reference", "",
			func(m *Model, arg string, _ []string) tea.Cmd { return m.runSearch(arg) }},
		{[]string{"queue"}, ":queue NAME, :queue all", "one queue only, or all", "", (*Model).cmdQueue},
		{[]string{"move"}, ":move NAME", "move the ticket to another queue", RoleOperator, (*Model).cmdMove},
		{[]string{"service"}, ":service NAME, :service all", "one service only, or all (S sets a ticket's)", "", (*Model).cmdService},
		{[]string{"major"}, ":major [SERVICE] [why]", "declare a major incident (banner, subscribers told)", RoleOperator, (*Model).cmdMajor},
		{[]string{"ref"}, ":ref SYSTEM:ID", "reference in another tracker (jira:NSP-123)", RoleOperator,
			func(m *Model, arg string, _ []string) tea.Cmd {
				return m.onCurrent(func(t store.Ticket) tea.Cmd {
					return m.do(t.ID, "reference "+arg+" added", func(st *store.Store, actor string) (store.Ticket, error) {
						return st.AddReference(t.ID, actor, arg)
					})
				})
			}},
		{[]string{"reopen"}, ":reopen [why]", "reopen a resolved or closed ticket", RoleOperator,
			func(m *Model, arg string, _ []string) tea.Cmd {
				return m.onCurrent(func(t store.Ticket) tea.Cmd {
					return m.do(t.ID, "reopened", func(st *store.Store, actor string) (store.Ticket, error) {
						return st.Reopen(t.ID, actor, arg)
					})
				})
			}},
		{[]string{"outbox"}, ":outbox", "outgoing mail: queued, sent, failed", "",
			func(m *Model, _ string, _ []string) tea.Cmd { return m.loadPage(pageOutbox, "") }},
		{[]string{"quarantine"}, ":quarantine", "mail that was held back, with the reason", "",
			func(m *Model, _ string, _ []string) tea.Cmd { return m.loadPage(pageQuarantine, "") }},
		{[]string{"release"}, ":release ID", "held mail into a ticket (lead)", RoleLead, (*Model).cmdRelease},
		{[]string{"drop"}, ":drop ID WHY", "held mail dropped, with the reason (lead)", RoleLead, (*Model).cmdRelease},
		{[]string{"report"}, ":report [YYYY-MM]", "SLA compliance, this month if none given (lead)", RoleLead,
			func(m *Model, arg string, _ []string) tea.Cmd { return m.loadPage(pageReport, arg) }},
		{[]string{"handover"}, ":handover [12h]", "the shift handover (default the last 8h)", "",
			func(m *Model, arg string, _ []string) tea.Cmd { return m.loadPage(pageHandover, arg) }},
		{[]string{"oncall"}, ":oncall", "who is on call now, and who is next", "",
			func(m *Model, _ string, _ []string) tea.Cmd { return m.loadPage(pageOncall, "") }},
		{[]string{"reload"}, ":reload", "reload the config (lead)", RoleLead,
			func(m *Model, _ string, _ []string) tea.Cmd { return m.loadPage(pageReload, "") }},
		{[]string{"help"}, ":help", "every key and command", "",
			func(m *Model, _ string, _ []string) tea.Cmd { m.openHelp(); return nil }},
		{[]string{"q", "quit", "exit"}, ":q  :quit", "leave the console", "",
			func(m *Model, _ string, _ []string) tea.Cmd { m.quitting = true; return tea.Quit }},
	}
}

// runCommand runs a : command line.
func (m *Model) runCommand(line string) tea.Cmd {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	name := strings.ToLower(fields[0])
	arg := strings.Join(fields[1:], " ")
	for _, c := range commands {
		if !slices.Contains(c.names, name) {
			continue
		}
		run := func() tea.Cmd { return c.run(m, arg, fields) }
		switch c.need {
		case RoleLead:
			return m.asLead(":"+name, run)
		case RoleOperator:
			return m.asWriter(run)
		}
		return run()
	}
	if _, err := store.ParseTicketID(fields[0]); err == nil {
		return m.openTicket(fields[0])
	}
	m.setFlash(fmt.Sprintf("unknown command %q — ? lists the commands", fields[0]), true)
	return nil
}

func (m *Model) onCurrent(f func(t store.Ticket) tea.Cmd) tea.Cmd {
	t, ok := m.current()
	if !ok {
		m.setFlash("no ticket selected", true)
		return nil
	}
	return f(t)
}

func (m *Model) knownQueue(q string) bool {
	if slices.Contains(m.o.Queues, q) {
		return true
	}
	m.setFlash(fmt.Sprintf("no queue named %q (queues: %s)", q, strings.Join(m.o.Queues, ", ")), true)
	return false
}

func (m *Model) cmdQueue(arg string, _ []string) tea.Cmd {
	switch {
	case arg == "" || arg == "all":
		m.queues.queue = ""
	case !m.knownQueue(arg):
		return nil
	default:
		m.queues.queue = arg
	}
	m.refresh(true)
	return m.followSelection()
}

func (m *Model) cmdMove(arg string, _ []string) tea.Cmd {
	if !m.knownQueue(arg) {
		return nil
	}
	return m.onCurrent(func(t store.Ticket) tea.Cmd { return m.setField(t, store.FieldQueue, arg) })
}

func (m *Model) cmdRelease(_ string, fields []string) tea.Cmd {
	drop := strings.ToLower(fields[0]) == "drop"
	if len(fields) < 2 || (drop && len(fields) < 3) {
		m.setFlash("use :release ID or :drop ID REASON (the ids are in :quarantine)", true)
		return nil
	}
	qid, err := strconv.ParseUint(strings.TrimPrefix(fields[1], "#"), 10, 64)
	if err != nil {
		m.setFlash(fmt.Sprintf("%q is not a quarantine id: :quarantine lists them (#3 is 3)", fields[1]), true)
		return nil
	}
	st, actor, reason, release := m.o.Store, m.o.Operator, strings.Join(fields[2:], " "), m.o.ReleaseMail
	if drop {
		return m.write(func() tea.Cmd {
			return func() tea.Msg {
				_, err := st.DropQuarantine(qid, actor, reason)
				return writtenMsg{what: fmt.Sprintf("quarantined mail %d dropped", qid), err: err}
			}
		})
	}
	if release == nil {
		m.setFlash("releasing mail needs the mail parser: not available in this console", true)
		return nil
	}
	return m.write(func() tea.Cmd {
		return func() tea.Msg {
			t, err := release(qid, actor)
			return writtenMsg{what: fmt.Sprintf("registered from quarantined mail %d", qid), id: t.ID, ticket: t, err: err, created: err == nil}
		}
	})
}

func (m *Model) openTicket(s string) tea.Cmd {
	id, err := store.ParseTicketID(s)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	// Select it in the list when it is in the current queue; open it anyway.
	m.list.selectID(id)
	m.focusDetail = true
	m.layout()
	return m.loadDetail(id)
}

func (m *Model) promptDone(msg promptDoneMsg) tea.Cmd {
	switch msg.kind {
	case promptFilter:
		if !msg.ok {
			m.setFilter("")
			return m.followSelection()
		}
		m.setFilter(msg.value)
		if m.o.Search != nil && strings.TrimSpace(msg.value) != "" && (looksLikeSearch(msg.value) || m.list.Selected() == nil) {
			// More than a filter: field terms, a phrase, or words no row
			// of the list holds. The list is left as it was.
			m.setFilter("")
			return tea.Batch(m.followSelection(), m.runSearch(msg.value))
		}
		return m.followSelection()
	case promptMaster:
		t := m.target
		if !msg.ok || strings.TrimSpace(msg.value) == "" || t.ID == 0 {
			return nil
		}
		master, err := store.ParseTicketID(msg.value)
		if err != nil {
			m.setFlash(err.Error(), true)
			return nil
		}
		if master == t.ID {
			m.setFlash("a ticket cannot be its own master", true)
			return nil
		}
		child := t.ID
		return m.do(child, "linked to master "+master.String(), func(st *store.Store, actor string) (store.Ticket, error) {
			return st.Link(child, master, actor)
		})
	case promptCommand:
		if !msg.ok {
			return nil
		}
		return m.runCommand(strings.TrimSpace(msg.value))
	}
	return nil
}
