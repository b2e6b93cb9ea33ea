package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/deskhq/desk/store"
)

// writtenMsg is the result of a write to the store.
type writtenMsg struct {
	what    string
	id      store.TicketID
	ticket  store.Ticket
	err     error
	created bool
}

// canWrite refuses writes for viewers at once, without a round trip; the
// store refuses them too, whoever the writer.
func (m *Model) canWrite() tea.Cmd {
	if m.o.Role == RoleViewer {
		m.setFlash("read-only: "+m.o.Operator+" is a viewer; ask a lead for the operator role to change tickets", true)
		return func() tea.Msg { return nil }
	}
	return nil
}

// do runs one store operation in a Cmd. The values it needs are copied
// now, so the Cmd never reads the model later. The console decides only
// which key was pressed: every rule is the store's.
func (m *Model) do(id store.TicketID, what string, op func(st *store.Store, actor string) (store.Ticket, error)) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return func() tea.Msg {
		t, err := op(st, actor)
		return writtenMsg{what: what, id: id, ticket: t, err: err}
	}
}

// setField changes one field if it still has the value the operator saw.
func (m *Model) setField(t store.Ticket, field store.Field, to string) tea.Cmd {
	if cmd := m.canWrite(); cmd != nil {
		return cmd
	}
	seen := store.FieldValue(&t, field)
	if seen == to {
		m.setFlash(fmt.Sprintf("%s %s is already %s", t.ID, field, orDash(to)), false)
		return nil
	}
	return m.do(t.ID, fmt.Sprintf("%s %s → %s", field, orDash(seen), orDash(to)), func(st *store.Store, actor string) (store.Ticket, error) {
		return st.SetField(t.ID, actor, field, seen, to)
	})
}

// ticketKey handles the keys that act on the current ticket.
func (m *Model) ticketKey(km tea.KeyMsg) (tea.Cmd, bool) {
	k := &m.keys
	t, ok := m.current()
	if !ok {
		return nil, false
	}
	if key.Matches(km, k.P1, k.P2, k.P3, k.P4, k.Type, k.Status, k.Assign, k.Escalate, k.Master,
		k.Note, k.Reply, k.Responded, k.Report, k.Approve, k.HandBack) {
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
	}
	switch {
	case key.Matches(km, k.P1, k.P2, k.P3, k.P4):
		return m.setField(t, store.FieldPriority, "P"+km.String()), true
	case key.Matches(km, k.Type):
		var opts []string
		for _, ty := range store.Types {
			opts = append(opts, string(ty))
		}
		m.target = t
		m.picker.Open(pickType, "Type of "+t.ID.String(), opts,
			[]string{"something is broken", "a service request", "request for change"}, string(t.Type))
		return nil, true
	case key.Matches(km, k.Status):
		var opts []string
		for _, s := range store.Statuses {
			opts = append(opts, string(s))
		}
		m.target = t
		m.picker.Open(pickStatus, "Status of "+t.ID.String(), opts, []string{
			"registered, not triaged", "being worked on", "on the requester (clocks paused)",
			"with a 3rd-level team", "fix waits for a release (clocks paused)",
			"solved: you write the resolution, it is mailed", "done after validation",
		}, string(t.Status))
		return nil, true
	case key.Matches(km, k.Assign):
		opts := []string{m.o.Operator}
		hints := []string{"me"}
		for _, o := range m.o.Operators {
			if o != m.o.Operator {
				opts = append(opts, o)
				hints = append(hints, "")
			}
		}
		opts = append(opts, "(nobody)")
		hints = append(hints, "unassign")
		m.target = t
		m.picker.Open(pickAssignee, "Assign "+t.ID.String()+" to", opts, hints, t.Assignee)
		return nil, true
	case key.Matches(km, k.Escalate):
		if len(m.o.Teams) == 0 {
			m.setFlash("no 3rd-level teams configured: add [[teams]] to the config", true)
			return nil, true
		}
		var opts, hints []string
		for _, tm := range m.o.Teams {
			opts, hints = append(opts, tm.Name), append(hints, tm.Description)
		}
		m.target = t
		m.picker.Open(pickTeam, "Escalate "+t.ID.String()+" to", opts, hints, t.Team)
		return nil, true
	case key.Matches(km, k.HandBack):
		if t.Status != store.StatusEscalated {
			m.setFlash(t.ID.String()+" is not escalated: nothing to hand back", true)
			return nil, true
		}
		return m.compose.Open(composeHandBack, t.ID, t.Team, m.width, m.bodyHeight()), true
	case key.Matches(km, k.Master):
		m.target = t
		return m.prompt.Open(promptMaster, "link "+t.ID.String()+" to master ticket: SD-", ""), true
	case key.Matches(km, k.Note):
		return m.compose.Open(composeNote, t.ID, "", m.width, m.bodyHeight()), true
	case key.Matches(km, k.Reply):
		if t.Requester.Email == "" {
			m.setFlash(t.ID.String()+" has no requester address to reply to (registered by phone?) — add a note instead", true)
			return nil, true
		}
		return m.compose.Open(composeReply, t.ID, t.Requester.Email, m.width, m.bodyHeight()), true
	case key.Matches(km, k.Responded):
		if !t.Responded.IsZero() {
			m.setFlash(t.ID.String()+" already has its first response", false)
			return nil, true
		}
		return m.do(t.ID, "marked responded", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.MarkResponded(t.ID, actor)
		}), true
	case key.Matches(km, k.Report):
		var r store.IncidentReport
		if t.Report != nil {
			r = *t.Report
		}
		return m.compose.OpenWith(composeReport, t.ID, "", store.ReportText(r), m.width, m.bodyHeight()), true
	case key.Matches(km, k.Approve):
		if m.o.Role != RoleLead {
			m.setFlash("incident reports are approved by a lead", true)
			return nil, true
		}
		seen := 0 // the version on the operator's screen
		if t.Report != nil {
			seen = t.Report.Version
		}
		return m.do(t.ID, "incident report approved", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.ApproveReport(t.ID, actor, seen)
		}), true
	}
	return nil, false
}

func (m *Model) picked(msg pickedMsg) tea.Cmd {
	if !msg.ok {
		return nil
	}
	// The ticket as it was when the picker opened: the list may have moved
	// under the picker (another operator's change), and what the operator
	// saw is what a conflicting change is checked against.
	t := m.target
	if t.ID == 0 {
		return nil
	}
	switch msg.purpose {
	case pickType:
		return m.setField(t, store.FieldType, msg.value)
	case pickAssignee:
		v := msg.value
		if v == "(nobody)" {
			v = ""
		}
		return m.setField(t, store.FieldAssignee, v)
	case pickStatus:
		switch store.Status(msg.value) {
		case store.StatusResolved:
			// The seeds' resolution step: the resolution text is mailed to
			// the requester, who may reply to reopen.
			return m.compose.Open(composeResolve, t.ID, t.Requester.Email, m.width, m.bodyHeight())
		case store.StatusClosed:
			if t.Status.Active() {
				// Closing what was never resolved: the store wants the
				// resolution, so ask for it now rather than refuse.
				return m.compose.Open(composeClose, t.ID, t.Requester.Email, m.width, m.bodyHeight())
			}
			return m.do(t.ID, "closed", func(st *store.Store, actor string) (store.Ticket, error) {
				return st.CloseTicket(t.ID, actor, "")
			})
		case store.StatusEscalated:
			return m.ticketKeyPress(t, "e")
		}
		if v := store.Status(msg.value); t.Status == store.StatusEscalated && (v == store.StatusOpen || v == store.StatusNew) {
			// Back from the 3rd-level team: with their findings.
			return m.compose.Open(composeHandBack, t.ID, t.Team, m.width, m.bodyHeight())
		}
		return m.setField(t, store.FieldStatus, msg.value)
	case pickTeam:
		team := msg.value
		return m.do(t.ID, "escalated to "+team, func(st *store.Store, actor string) (store.Ticket, error) {
			return st.Escalate(t.ID, actor, team, "")
		})
	}
	return nil
}

// ticketKeyPress acts as if key k was pressed on t (the status picker's
// "escalated" opens the team picker).
func (m *Model) ticketKeyPress(t store.Ticket, k string) tea.Cmd {
	m.target = t
	cmd, _ := m.ticketKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	return cmd
}

func (m *Model) composed(msg composedMsg) tea.Cmd {
	id, text := msg.ticket, msg.text
	queued := "queued for sending"
	if m.o.MailStatus == nil {
		// Say so: without a mailbox the mail only waits in the outbox.
		queued = "kept in the outbox (no [mail] configured, nothing is sent)"
	}
	switch msg.kind {
	case composeNote:
		return m.do(id, "note added", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.AddNote(id, actor, text)
		})
	case composeReply:
		return m.do(id, "reply "+queued, func(st *store.Store, actor string) (store.Ticket, error) {
			return st.Reply(id, actor, text)
		})
	case composeResolve:
		st, actor := m.o.Store, m.o.Operator
		return func() tea.Msg {
			t, linked, err := st.Resolve(id, actor, text)
			what := "resolved; resolution " + queued
			if t.Requester.Email == "" {
				what = "resolved (no requester address: the resolution is a note)"
			}
			if len(linked) > 0 {
				what = fmt.Sprintf("resolved with %d linked ticket(s); resolutions %s", len(linked), queued)
			}
			return writtenMsg{what: what, id: id, ticket: t, err: err}
		}
	case composeClose:
		return m.do(id, "resolved and closed; resolution "+queued, func(st *store.Store, actor string) (store.Ticket, error) {
			return st.CloseTicket(id, actor, text)
		})
	case composeHandBack:
		return m.do(id, "handed back to 2nd line", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.HandBack(id, actor, text)
		})
	case composeReport:
		r := store.ParseReportText(text)
		return m.do(id, "incident report saved; a lead approves it with A", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.ReportIncident(id, actor, r)
		})
	}
	return nil
}

func (m *Model) create(nt store.NewTicket) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return func() tea.Msg {
		t, err := st.Create(actor, nt)
		return writtenMsg{what: "registered", id: t.ID, ticket: t, err: err, created: true}
	}
}

func (m *Model) written(msg writtenMsg) tea.Cmd {
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
			return m.loadDetail(msg.id)
		}
		return nil
	}
	if msg.id == 0 {
		m.setFlash(msg.what, false)
	} else {
		m.setFlash(fmt.Sprintf("%s %s", msg.id, msg.what), false)
	}
	if msg.ticket.ID != 0 {
		m.lastWritten = msg.ticket
	}
	if msg.created {
		// The caller is still on the line: show the ticket just registered.
		m.form.Reset()
		m.focusDetail = true
		m.layout()
		return m.loadDetail(msg.id)
	}
	if m.detail.loaded && m.detail.id == msg.id || m.focusDetail && m.detail.id == msg.id {
		m.scrollToEnd = true
		return m.loadDetail(msg.id)
	}
	return nil
}

func (m *Model) promptDone(msg promptDoneMsg) tea.Cmd {
	switch msg.kind {
	case promptFilter:
		if !msg.ok {
			m.filter = ""
		} else {
			m.filter = strings.TrimSpace(msg.value)
		}
		m.refresh(true)
		return m.followSelection()
	case promptMaster:
		if !msg.ok || strings.TrimSpace(msg.value) == "" {
			return nil
		}
		t := m.target
		if t.ID == 0 {
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
		return m.command(strings.TrimSpace(msg.value))
	}
	return nil
}

// command runs a : command.
func (m *Model) command(line string) tea.Cmd {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	arg := strings.Join(fields[1:], " ")
	switch strings.ToLower(fields[0]) {
	case "q", "quit", "exit":
		m.quitting = true
		return tea.Quit
	case "open", "o":
		return m.openTicket(arg)
	case "queue":
		if arg == "" || arg == "all" {
			m.queue = ""
		} else {
			known := false
			for _, q := range m.o.Queues {
				known = known || q == arg
			}
			if !known {
				m.setFlash(fmt.Sprintf("no queue named %q (queues: %s)", arg, strings.Join(m.o.Queues, ", ")), true)
				return nil
			}
			m.queue = arg
		}
		m.refresh(true)
		return m.followSelection()
	case "move":
		// Another queue for the ticket under the cursor (or open).
		t, ok := m.current()
		if !ok {
			return nil
		}
		if !slices.Contains(m.o.Queues, arg) {
			m.setFlash(fmt.Sprintf("no queue named %q (queues: %s)", arg, strings.Join(m.o.Queues, ", ")), true)
			return nil
		}
		return m.setField(t, store.FieldQueue, arg)
	case "ref", "reopen":
		t, ok := m.current()
		if !ok {
			return nil
		}
		if cmd := m.canWrite(); cmd != nil {
			return cmd
		}
		if strings.ToLower(fields[0]) == "ref" {
			return m.do(t.ID, "reference "+arg+" added", func(st *store.Store, actor string) (store.Ticket, error) {
				return st.AddReference(t.ID, actor, arg)
			})
		}
		return m.do(t.ID, "reopened", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.Reopen(t.ID, actor, arg)
		})
	case "release", "drop":
		if cmd := m.canWrite(); cmd != nil {
			return cmd
		}
		if len(fields) < 2 || (fields[0] == "drop" && len(fields) < 3) {
			m.setFlash("use :release ID or :drop ID REASON (the ids are in :quarantine)", true)
			return nil
		}
		qid, err := strconv.ParseUint(strings.TrimPrefix(fields[1], "#"), 10, 64)
		if err != nil {
			m.setFlash(fmt.Sprintf("%q is not a quarantine id: :quarantine lists them (#3 is 3)", fields[1]), true)
			return nil
		}
		st, actor, reason, release := m.o.Store, m.o.Operator, strings.Join(fields[2:], " "), m.o.ReleaseMail
		if strings.ToLower(fields[0]) == "drop" {
			return func() tea.Msg {
				_, err := st.DropQuarantine(qid, actor, reason)
				return writtenMsg{what: fmt.Sprintf("quarantined mail %d dropped", qid), err: err}
			}
		}
		if release == nil {
			m.setFlash("releasing mail needs the mail parser: not available in this console", true)
			return nil
		}
		return func() tea.Msg {
			t, err := release(qid, actor)
			return writtenMsg{what: fmt.Sprintf("registered from quarantined mail %d", qid), id: t.ID, ticket: t, err: err, created: err == nil}
		}
	case "outbox":
		return m.showOutbox()
	case "quarantine":
		return m.showQuarantine()
	case "report":
		if m.o.Role != RoleLead || m.o.Report == nil {
			m.setFlash("reports are for leads", true)
			return nil
		}
		out, err := m.o.Report(arg)
		if err != nil {
			m.setFlash(err.Error(), true)
			return nil
		}
		m.page.Open("SLA compliance", out)
		return nil
	case "reload":
		if m.o.Role != RoleLead || m.o.Reload == nil {
			m.setFlash("only a lead can reload the config", true)
			return nil
		}
		msg, err := m.o.Reload()
		if err != nil {
			m.setFlash("reload failed, the old config stays: "+err.Error(), true)
		} else {
			m.setFlash(msg, false)
		}
		return nil
	case "help":
		m.openHelp()
		return nil
	}
	if _, err := store.ParseTicketID(fields[0]); err == nil {
		return m.openTicket(fields[0])
	}
	m.setFlash(fmt.Sprintf("unknown command %q — ? lists the commands", fields[0]), true)
	return nil
}

func (m *Model) openTicket(s string) tea.Cmd {
	id, err := store.ParseTicketID(s)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	// Select it in the list when it is in the current queue; open it anyway.
	if i := m.list.find(id); i >= 0 {
		m.list.cursor = i
		m.list.clamp()
	}
	m.focusDetail = true
	m.layout()
	return m.loadDetail(id)
}
