package tui

import (
	"fmt"
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// ticketAction is one key on the current ticket: what it needs of the
// operator's role is data, checked by one guard, not by each action.
type ticketAction struct {
	keys func(k *KeyMap) []key.Binding
	need Role // "" anyone, RoleOperator a writer, RoleLead a lead
	run  func(m *Model, t store.Ticket, km tea.KeyPressMsg) tea.Cmd
}

var ticketActions = []ticketAction{
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.P1, k.P2, k.P3, k.P4} }, RoleOperator,
		func(m *Model, t store.Ticket, km tea.KeyPressMsg) tea.Cmd {
			return m.setField(t, store.FieldPriority, "P"+km.String())
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Type} }, RoleOperator, (*Model).pickType},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Status} }, RoleOperator, (*Model).pickStatus},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Assign} }, RoleOperator, (*Model).pickAssignee},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Escalate} }, RoleOperator, (*Model).pickTeam},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.HandBack} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			if t.Status != store.StatusEscalated {
				m.setFlash(t.ID.String()+" is not escalated: nothing to hand back", true)
				return nil
			}
			return m.openCompose(composeHandBack, t.ID, t.Team, "")
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Master} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			m.target = t
			m.prompt.describe = m.describeMaster
			return m.prompt.Open(promptMaster, "link "+t.ID.String()+" to master ticket: SD-", m.similarMaster(t))
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Note} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			return m.openCompose(composeNote, t.ID, "", "")
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Reply} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			if t.Requester.Email == "" {
				m.setFlash(t.ID.String()+" has no requester address to reply to (registered by phone?) — add a note instead", true)
				return nil
			}
			return m.openCompose(composeReply, t.ID, t.Requester.Email, "")
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Responded} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			if !t.Responded.IsZero() {
				m.setFlash(t.ID.String()+" already has its first response", false)
				return nil
			}
			return m.do(t.ID, "marked responded", func(st *store.Store, actor string) (store.Ticket, error) {
				return st.MarkResponded(t.ID, actor)
			})
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Report} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			if t.Report != nil {
				return m.openCompose(composeReport, t.ID, "", store.ReportText(*t.Report))
			}
			// The first version starts from the template, its timeline
			// drawn from the history: read in a Cmd, opened when it is back.
			st, loc := m.o.Store, m.loc
			return func() tea.Msg {
				h, err := st.History(t.ID)
				return reportDraftMsg{id: t.ID, text: store.ReportText(store.DraftReport(t, h, loc)), err: err}
			}
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Service} }, RoleOperator, (*Model).pickService},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.MajorUpdate} }, RoleOperator,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			if !t.Major.Open() {
				m.setFlash(t.ID.String()+" is not an open major incident — :major declares one", true)
				return nil
			}
			return m.openCompose(composeUpdate, t.ID, m.subscribersOf(t.Major.Service), "")
		}},
	{func(k *KeyMap) []key.Binding { return []key.Binding{k.Approve} }, RoleLead,
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			seen := 0 // the version on the operator's screen
			if t.Report != nil {
				seen = t.Report.Version
			}
			return m.do(t.ID, "incident report approved", func(st *store.Store, actor string) (store.Ticket, error) {
				return st.ApproveReport(t.ID, actor, seen)
			})
		}},
}

// ticketKey runs the action bound to km on the current ticket, behind the
// role it needs.
func (m *Model) ticketKey(km tea.KeyPressMsg) (tea.Cmd, bool) {
	for _, a := range ticketActions {
		if !key.Matches(km, a.keys(&m.keys)...) {
			continue
		}
		t, ok := m.current()
		if !ok {
			return nil, false
		}
		run := func() tea.Cmd { return a.run(m, t, km) }
		switch a.need {
		case RoleLead:
			return m.asLead("approving incident reports", run), true
		case RoleOperator:
			return m.asWriter(run), true
		}
		return run(), true
	}
	return nil, false
}

// reportDraftMsg is the incident report's template, drawn from the
// ticket's history.
type reportDraftMsg struct {
	id   store.TicketID
	text string
	err  error
}

func (m *Model) openCompose(kind composeKind, id store.TicketID, to, text string) tea.Cmd {
	return m.open(m.compose, m.compose.OpenWith(kind, id, to, text, m.width, m.bodyHeight()))
}

func (m *Model) openPicker(t store.Ticket, purpose pickPurpose, title string, opts, hints []string, current string) tea.Cmd {
	m.target = t
	m.picker.Open(purpose, title, opts, hints, current)
	return m.open(m.picker, nil)
}

func (m *Model) pickType(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	var opts []string
	for _, ty := range store.Types {
		opts = append(opts, string(ty))
	}
	return m.openPicker(t, pickType, "Type of "+t.ID.String(), opts,
		[]string{"something is broken", "a service request", "request for change"}, string(t.Type))
}

func (m *Model) pickStatus(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	var opts []string
	for _, s := range store.Statuses {
		opts = append(opts, string(s))
	}
	return m.openPicker(t, pickStatus, "Status of "+t.ID.String(), opts, []string{
		"registered, not triaged", "being worked on", "on the requester (clocks paused)",
		"with a 3rd-level team", "fix waits for a release (clocks paused)",
		"solved: you write the resolution, it is mailed", "done after validation",
	}, string(t.Status))
}

func (m *Model) pickAssignee(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	opts, hints := []string{m.o.Operator}, []string{"me"}
	for _, o := range m.o.Operators {
		if o != m.o.Operator {
			opts, hints = append(opts, o), append(hints, "")
		}
	}
	opts, hints = append(opts, "(nobody)"), append(hints, "unassign")
	return m.openPicker(t, pickAssignee, "Assign "+t.ID.String()+" to", opts, hints, t.Assignee)
}

func (m *Model) pickTeam(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	if len(m.o.Teams) == 0 {
		m.setFlash("no 3rd-level teams configured: add [[teams]] to the config", true)
		return nil
	}
	var opts, hints []string
	for _, tm := range m.o.Teams {
		opts, hints = append(opts, tm.Name), append(hints, tm.Description)
	}
	return m.openPicker(t, pickTeam, "Escalate "+t.ID.String()+" to", opts, hints, t.Team)
}

func (m *Model) picked(msg pickedMsg) tea.Cmd {
	// The ticket as it was when the picker opened: the list may have moved
	// under the picker (another operator's change), and what the operator
	// saw is what a conflicting change is checked against.
	t := m.target
	if !msg.ok || t.ID == 0 {
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
		switch v := store.Status(msg.value); {
		case v == store.StatusResolved:
			// The seeds' resolution step: the resolution text is mailed to
			// the requester, who may reply to reopen.
			return m.openCompose(composeResolve, t.ID, t.Requester.Email, "")
		case v == store.StatusClosed && t.Status.Active():
			// Closing what was never resolved: the store wants the
			// resolution, so ask for it now rather than refuse.
			return m.openCompose(composeClose, t.ID, t.Requester.Email, "")
		case v == store.StatusClosed:
			return m.do(t.ID, "closed", func(st *store.Store, actor string) (store.Ticket, error) {
				return st.CloseTicket(t.ID, actor, "")
			})
		case v == store.StatusEscalated:
			return m.pickTeam(t, tea.KeyPressMsg{})
		case t.Status == store.StatusEscalated && (v == store.StatusOpen || v == store.StatusNew):
			// Back from the 3rd-level team: with their findings.
			return m.openCompose(composeHandBack, t.ID, t.Team, "")
		}
		return m.setField(t, store.FieldStatus, msg.value)
	case pickAttachment:
		return m.viewAttachment(t.ID, pickedAttachment(msg.value))
	case pickService:
		v := msg.value
		if v == "(none)" {
			v = ""
		}
		return m.setField(t, store.FieldService, v)
	case pickTeam:
		team := msg.value
		return m.do(t.ID, "escalated to "+team, func(st *store.Store, actor string) (store.Ticket, error) {
			return st.Escalate(t.ID, actor, team, "")
		})
	}
	return nil
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
		return m.write(func() tea.Cmd {
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
		})
	case composeClose:
		return m.do(id, "resolved and closed; resolution "+queued, func(st *store.Store, actor string) (store.Ticket, error) {
			return st.CloseTicket(id, actor, text)
		})
	case composeHandBack:
		return m.do(id, "handed back to 2nd line", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.HandBack(id, actor, text)
		})
	case composeUpdate:
		return m.do(id, "status update published to the subscribers", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.PostUpdate(id, actor, text)
		})
	case composeReport:
		r := store.ParseReportText(text)
		return m.do(id, "incident report saved; a lead approves it with A", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.ReportIncident(id, actor, r)
		})
	}
	return m.kbComposed(msg)
}

func (m *Model) create(nt store.NewTicket) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return m.write(func() tea.Cmd {
		return func() tea.Msg {
			t, err := st.Create(actor, nt)
			return writtenMsg{what: "registered", id: t.ID, ticket: t, err: err, created: true}
		}
	})
}

// describeMaster says, as the id is typed, which ticket the link goes to.
func (m *Model) describeMaster(v string) string {
	id, err := store.ParseTicketID(v)
	if err != nil {
		return ""
	}
	if id == m.target.ID {
		return "a ticket cannot be its own master"
	}
	if r := m.o.Board.Find(id); r != nil {
		return "→ " + id.String() + " " + string(r.T.Status) + ": " + SafeLine(r.T.Subject)
	}
	return "→ " + id.String() + ": no such ticket"
}

// similarMaster is the number of the first open ticket the detail pane
// lists as similar to t (the likely master), or "".
func (m *Model) similarMaster(t store.Ticket) string {
	if m.detail.similarFor != t.ID {
		return ""
	}
	for _, h := range m.detail.similar {
		if h.Ticket.Status.Active() && h.Ticket.Master == 0 {
			return strconv.FormatUint(uint64(h.Ticket.ID), 10)
		}
	}
	return ""
}
