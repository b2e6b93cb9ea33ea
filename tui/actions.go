package tui

import (
	"errors"
	"fmt"
	"slices"
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

// canWrite refuses writes for viewers with a message that says why.
func (m *Model) canWrite() tea.Cmd {
	if m.o.Role == RoleViewer {
		m.setFlash("read-only: "+m.o.Operator+" is a viewer; ask a lead for the operator role to change tickets", true)
		return func() tea.Msg { return nil }
	}
	return nil
}

// write runs fn against the store in a Cmd. The values it needs are copied
// now, so the Cmd never reads the model later.
func (m *Model) write(id store.TicketID, what string, fn func(t store.Ticket) ([]store.Event, error)) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return func() tea.Msg {
		t, err := st.Update(id, actor, fn)
		return writtenMsg{what: what, id: id, ticket: t, err: err}
	}
}

// errChanged tells the operator someone else changed the same field first;
// nothing of theirs is overwritten silently.
type errChanged struct{ field, now string }

func (e errChanged) Error() string {
	return fmt.Sprintf("%s is now %s (changed by someone else meanwhile); press again to override", e.field, e.now)
}

// setField changes one field if it still has the value the operator saw.
func (m *Model) setField(t store.Ticket, field, to string) tea.Cmd {
	if cmd := m.canWrite(); cmd != nil {
		return cmd
	}
	seen := store.FieldValue(&t, field)
	if seen == to {
		m.setFlash(fmt.Sprintf("%s %s is already %s", t.ID, field, to), false)
		return nil
	}
	return m.write(t.ID, fmt.Sprintf("%s %s → %s", field, seen, to), func(cur store.Ticket) ([]store.Event, error) {
		now := store.FieldValue(&cur, field)
		if now != seen {
			return nil, errChanged{field, orDash(now)}
		}
		if field == "status" {
			return []store.Event{{Kind: store.EvStatus, From: now, To: to}}, nil
		}
		return []store.Event{{Kind: store.EvField, Field: field, From: now, To: to}}, nil
	})
}

// ticketKey handles the keys that act on the current ticket.
func (m *Model) ticketKey(km tea.KeyMsg) (tea.Cmd, bool) {
	k := &m.keys
	t, ok := m.current()
	if !ok {
		return nil, false
	}
	switch {
	case key.Matches(km, k.P1, k.P2, k.P3, k.P4):
		return m.setField(t, "priority", "P"+km.String()), true
	case key.Matches(km, k.Type):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
		var opts []string
		for _, ty := range store.Types {
			opts = append(opts, string(ty))
		}
		m.target = t
		m.picker.Open(pickType, "Type of "+t.ID.String(), opts,
			[]string{"something is broken", "a service request", "request for change"}, string(t.Type))
		return nil, true
	case key.Matches(km, k.Status):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
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
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
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
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
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
	case key.Matches(km, k.Master):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
		m.target = t
		return m.prompt.Open(promptMaster, "link "+t.ID.String()+" to master ticket: SD-", ""), true
	case key.Matches(km, k.Note):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
		return m.compose.Open(composeNote, t.ID, "", m.width, m.bodyHeight()), true
	case key.Matches(km, k.Reply):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
		if t.Requester.Email == "" {
			m.setFlash(t.ID.String()+" has no requester address to reply to (registered by phone?) — add a note instead", true)
			return nil, true
		}
		return m.compose.Open(composeReply, t.ID, t.Requester.Email, m.width, m.bodyHeight()), true
	case key.Matches(km, k.Responded):
		if cmd := m.canWrite(); cmd != nil {
			return cmd, true
		}
		if !t.Responded.IsZero() {
			m.setFlash(t.ID.String()+" already has its first response", false)
			return nil, true
		}
		return m.write(t.ID, "marked responded", func(cur store.Ticket) ([]store.Event, error) {
			if !cur.Responded.IsZero() {
				return nil, nil
			}
			evs := []store.Event{{Kind: store.EvResponded}}
			if cur.Status == store.StatusNew {
				// someone is on it now, as after a reply
				evs = append(evs, store.Event{Kind: store.EvStatus, From: string(cur.Status), To: string(store.StatusOpen)})
			}
			return evs, nil
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
		return m.setField(t, "type", msg.value)
	case pickAssignee:
		v := msg.value
		if v == "(nobody)" {
			v = ""
		}
		return m.setField(t, "assignee", v)
	case pickStatus:
		if msg.value == string(store.StatusResolved) && t.Requester.Email != "" {
			// The seeds' resolution step: the resolution text is mailed to
			// the requester, who may reply to reopen.
			return m.compose.Open(composeResolve, t.ID, t.Requester.Email, m.width, m.bodyHeight())
		}
		if msg.value == string(store.StatusClosed) && t.Priority <= 2 && !m.hasIncidentReport(t.ID) {
			m.setFlash(fmt.Sprintf("%s needs an incident report to close: n, start it with \"Incident report\"", t.Priority), true)
			return nil
		}
		if msg.value == string(store.StatusClosed) && t.Status.Active() && t.Requester.Email != "" {
			// Closing what was never resolved skips the resolution step: the
			// requester would never hear, yet the SLA would count it as met.
			return m.compose.Open(composeClose, t.ID, t.Requester.Email, m.width, m.bodyHeight())
		}
		return m.setField(t, "status", msg.value)
	case pickTeam:
		team := msg.value
		return m.write(t.ID, "escalated to "+team, func(cur store.Ticket) ([]store.Event, error) {
			evs := []store.Event{{Kind: store.EvField, Field: "team", From: cur.Team, To: team}}
			if cur.Status != store.StatusEscalated {
				evs = append(evs, store.Event{Kind: store.EvStatus, From: string(cur.Status), To: string(store.StatusEscalated),
					Text: "functional escalation to " + team})
			}
			return evs, nil
		})
	}
	return nil
}

// hasIncidentReport looks in the loaded history for a note that is the
// incident report P1/P2 tickets need before closure.
func (m *Model) hasIncidentReport(id store.TicketID) bool {
	if !m.detail.loaded || m.detail.id != id {
		h, err := m.o.Store.History(id)
		if err != nil {
			return false
		}
		return historyHasReport(h)
	}
	return historyHasReport(m.detail.history)
}

func historyHasReport(h []store.Event) bool {
	for _, e := range h {
		if e.Kind == store.EvNote && strings.HasPrefix(strings.ToLower(strings.TrimSpace(e.Text)), "incident report") {
			return true
		}
	}
	return false
}

func (m *Model) composed(msg composedMsg) tea.Cmd {
	id, text := msg.ticket, msg.text
	switch msg.kind {
	case composeNote:
		return m.write(id, "note added", func(store.Ticket) ([]store.Event, error) {
			return []store.Event{{Kind: store.EvNote, Text: text}}, nil
		})
	case composeReply, composeResolve, composeClose:
		st := m.o.Store
		resolve := msg.kind == composeResolve || msg.kind == composeClose
		closing := msg.kind == composeClose
		what := "reply queued for sending"
		switch {
		case closing:
			what = "resolved and closed; resolution queued for sending"
		case resolve:
			what = "resolved; resolution queued for sending"
		}
		if m.o.MailStatus == nil {
			// Say so: without a mailbox the mail only waits in the outbox.
			what = strings.Replace(what, "queued for sending", "kept in the outbox (no [mail] configured, nothing is sent)", 1)
		}
		actor := m.o.Operator
		return func() tea.Msg {
			// Thread the reply under the requester's last mail so their
			// client shows one conversation and their answer comes back here.
			h, err := st.History(id)
			if err != nil {
				return writtenMsg{what: what, id: id, err: err}
			}
			t, err := st.Update(id, actor, func(cur store.Ticket) ([]store.Event, error) {
				evs := replyEvents(cur, h, text, resolve)
				if closing {
					evs = append(evs, store.Event{Kind: store.EvStatus, From: string(store.StatusResolved), To: string(store.StatusClosed)})
				}
				if cur.Assignee == "" {
					// Who answers an unassigned ticket owns it (it shows in Mine).
					evs = append(evs, store.Event{Kind: store.EvField, Field: "assignee", To: actor})
				}
				return evs, nil
			})
			if err != nil || !resolve {
				return writtenMsg{what: what, id: id, ticket: t, err: err}
			}
			// A master carries everyone who reported the same thing: they
			// all get the resolution and are resolved with it.
			n, cerr := resolveChildren(st, actor, t, text)
			if n > 0 {
				what = fmt.Sprintf("resolved with %d linked ticket(s); resolutions queued for sending", n)
			}
			return writtenMsg{what: what, id: id, ticket: t, err: cerr}
		}
	}
	return nil
}

// resolveChildren resolves the active children of a master with its
// resolution text, each mailed to its own requester.
func resolveChildren(st *store.Store, actor string, master store.Ticket, text string) (int, error) {
	n := 0
	for _, l := range master.Links {
		if l.Kind != "child" {
			continue
		}
		h, err := st.History(l.To)
		if err != nil {
			return n, fmt.Errorf("resolving linked %s: %w", l.To, err)
		}
		before, err := st.Get(l.To)
		if err != nil {
			return n, fmt.Errorf("resolving linked %s: %w", l.To, err)
		}
		after, err := st.Update(l.To, actor, func(cur store.Ticket) ([]store.Event, error) {
			if !cur.Status.Active() {
				return nil, nil
			}
			if cur.Requester.Email == "" {
				return []store.Event{
					{Kind: store.EvNote, Text: "Resolved with master " + master.ID.String() + ":\n" + text},
					{Kind: store.EvStatus, From: string(cur.Status), To: string(store.StatusResolved)},
				}, nil
			}
			return replyEvents(cur, h, text, true), nil
		})
		if err != nil {
			return n, fmt.Errorf("resolving linked %s: %w", l.To, err)
		}
		if after.Events > before.Events {
			n++ // counted here: the update function may run more than once
		}
	}
	return n, nil
}

func replyEvents(t store.Ticket, h []store.Event, text string, resolve bool) []store.Event {
	var refs []string
	var inReplyTo string
	for _, e := range h {
		if e.Message != nil && e.Message.MessageID != "" {
			refs = append(refs, e.Message.MessageID)
			if e.Kind == store.EvMessageIn {
				inReplyTo = e.Message.MessageID
			}
		}
	}
	subject := t.Subject
	tag := "[" + t.ID.String() + "]"
	if !strings.Contains(subject, tag) {
		subject = tag + " " + subject
	}
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	msg := &store.Message{
		To: []string{t.Requester.Email}, Subject: subject, Body: text,
		InReplyTo: inReplyTo, References: refs,
	}
	evs := []store.Event{{Kind: store.EvMessageOut, Message: msg}}
	switch {
	case resolve:
		evs = append(evs, store.Event{Kind: store.EvStatus, From: string(t.Status), To: string(store.StatusResolved)})
	case t.Status == store.StatusNew:
		evs = append(evs, store.Event{Kind: store.EvStatus, From: string(t.Status), To: string(store.StatusOpen)})
	}
	return evs
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
		var ch errChanged
		switch {
		case errors.As(msg.err, &ch):
			m.setFlash(msg.id.String()+": "+ch.Error(), true)
		case errors.Is(msg.err, store.ErrStale):
			m.setFlash(msg.id.String()+" changed while you were editing: showing the current state, try again", true)
		default:
			m.setFlash(fmt.Sprintf("%s not saved: %v", msg.id, msg.err), true)
		}
		if msg.id != 0 && (m.focusDetail || m.wide()) {
			return m.loadDetail(msg.id)
		}
		return nil
	}
	m.setFlash(fmt.Sprintf("%s %s", msg.id, msg.what), false)
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
		st, actor, child := m.o.Store, m.o.Operator, t.ID
		return func() tea.Msg {
			// Follow the master's own masters: linking into a chain that
			// leads back here would make each the other's master.
			for cur, hops := master, 0; cur != 0 && hops < 64; hops++ {
				mt, err := st.Get(cur)
				if err != nil {
					return writtenMsg{what: "link to " + master.String(), id: child, err: fmt.Errorf("%s does not exist", cur)}
				}
				if mt.Master == child {
					return writtenMsg{what: "link to " + master.String(), id: child,
						err: fmt.Errorf("%s is under %s already; links may not loop", master, child)}
				}
				cur = mt.Master
			}
			t, err := st.Update(child, actor, func(store.Ticket) ([]store.Event, error) {
				return []store.Event{{Kind: store.EvLinked, Link: &store.Link{Kind: "master", To: master}}}, nil
			})
			if err != nil {
				return writtenMsg{what: "link to " + master.String(), id: child, err: err}
			}
			// The master lists its children, so whoever resolves it sees
			// everyone who reported the same thing.
			_, err = st.Update(master, actor, func(store.Ticket) ([]store.Event, error) {
				return []store.Event{{Kind: store.EvLinked, Link: &store.Link{Kind: "child", To: child}}}, nil
			})
			return writtenMsg{what: "linked to master " + master.String(), id: child, ticket: t, err: err}
		}
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
		return m.setField(t, "queue", arg)
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
