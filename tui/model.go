package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// Role decides what an operator may do; the store enforces it, the
// console only hides what would be refused.
type Role = store.Role

const (
	RoleOperator = store.RoleOperator // triage and reply
	RoleLead     = store.RoleLead     // also reports, config reload, approving incident reports
	RoleViewer   = store.RoleViewer   // read only
)

// Team is a 3rd-level team tickets can be escalated to.
type Team struct {
	Name        string
	Description string
}

// MailState is what the status line says about the mailbox.
type MailState struct {
	State    string // "off", "connecting", "idle", "polling", "error"
	Detail   string
	LastMail time.Time
	Outbox   int
}

// Options wire one console session.
type Options struct {
	Store    *store.Store
	Board    *Board
	Renderer *lipgloss.Renderer
	// Term and NoColor are the session's TERM and NO_COLOR (see PrepareRenderer).
	Term     string
	NoColor  bool
	Operator string
	Role     Role
	// Operators are the names an operator can assign to.
	Operators []string
	Teams     []Team
	Queues    []string
	StoreName string // shown in the status line (data dir)
	// MailStatus is polled once a second; nil means no mailbox.
	MailStatus func() MailState
	// Reload reloads the config (lead only); nil hides the command.
	Reload func() (string, error)
	// Report renders the compliance report for a month (lead only).
	Report func(month string) (string, error)
	// ReleaseMail turns quarantined mail into a ticket (lead only): the
	// caller parses the held copy; nil hides :release.
	ReleaseMail func(id uint64, actor string) (store.Ticket, error)
	Now         func() time.Time
	// Drafts, when set, outlive the session (desk serve keeps one per
	// operator); nil gives the session its own.
	Drafts *Drafts
	// Location is the time zone times are shown in (the desk's business
	// calendar zone, not the server's); nil means the local zone.
	Location *time.Location
}

// Model is the root of the console. It owns layout and routing; each pane
// is its own model in its own file.
type Model struct {
	o      Options
	styles *Styles
	keys   KeyMap

	width, height int
	loc           *time.Location
	snap          *Snapshot
	rowsVersion   uint64
	now           time.Time
	tab           int
	queue         string // "" = all queues
	filter        string
	mine          int

	list    listModel
	detail  detailModel
	prompt  promptModel
	picker  pickerModel
	compose composeModel
	form    formModel
	page    pageModel

	focusDetail bool
	detailReq   uint64
	lastWritten store.Ticket // the result of this session's latest write
	target      store.Ticket // the ticket an open picker or prompt acts on
	scrollToEnd bool         // the next detail load shows the newest events
	quitArmed   bool         // a quit was refused once because of drafts
	flash       string
	flashErr    bool
	flashUntil  time.Time
	mail        MailState
	disk        string // the store's free-space warning, "" while there is room
	boardCh     <-chan struct{}
	unsubscribe func()
	quitting    bool
}

type tabDef struct {
	name  string
	short string // for 80 columns when a filter is shown too
	match func(m *Model, r *Row) bool
}

var tabs = []tabDef{
	{"Unassigned", "Unas", func(m *Model, r *Row) bool { return r.group != 2 && r.T.Assignee == "" }},
	{"Mine", "Mine", func(m *Model, r *Row) bool { return r.group != 2 && r.T.Assignee == m.o.Operator }},
	{"All open", "Open", func(m *Model, r *Row) bool { return r.group != 2 }},
	{"Waiting", "Wait", func(m *Model, r *Row) bool { return r.T.Status == store.StatusWaiting }},
	{"Breaching", "Hot", nil}, // from the board's Hot rows
	{"Resolved", "Done", func(m *Model, r *Row) bool { return r.group == 2 }},
}

const (
	tabUnassigned = iota
	tabMine
	tabAll
	tabWaiting
	tabBreaching
	tabResolved
)

// New builds a session. Call Close when the session ends.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Role == "" {
		o.Role = RoleOperator
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	m := &Model{o: o, keys: newKeyMap(), tab: tabAll, now: o.Now(), loc: o.Location}
	m.styles = NewStyles(o.Renderer, PrepareRenderer(o.Renderer, o.Term, o.NoColor))
	m.list = newListModel(m.styles, &m.keys)
	m.detail = newDetailModel(m.styles, &m.keys)
	m.detail.loc = m.loc
	m.prompt = newPromptModel(m.styles)
	m.picker = pickerModel{styles: m.styles}
	m.compose = newComposeModel(m.styles)
	if o.Drafts != nil {
		m.compose.drafts = o.Drafts
	}
	m.form = newFormModel(m.styles)
	m.page = newPageModel(m.styles)
	m.boardCh, m.unsubscribe = o.Board.Subscribe()
	m.snap = o.Board.Snapshot()
	m.refresh(true)
	return m
}

// openHelp shows every key in a scrollable page (it is longer than 24 lines).
func (m *Model) openHelp() {
	m.page.Open("Help — j/k to scroll, ? or esc to close", helpView(m.styles, &m.keys, m.width))
}

// Close releases the session's subscription and keeps an open composer's
// text as a draft (a dropped connection ends the session mid-sentence).
func (m *Model) Close() {
	m.compose.keep()
	if m.unsubscribe != nil {
		m.unsubscribe()
	}
}

type boardMsg struct{}

// RoleMsg changes the session's role (a config reload by a lead).
type RoleMsg struct{ Role Role }
type tickMsg time.Time

func (m *Model) waitBoard() tea.Cmd {
	ch := m.boardCh
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return nil
		}
		return boardMsg{}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.waitBoard(), tick())
}

// refresh rebuilds the visible queue from the latest snapshot. Filtering is
// linear in the number of tickets and runs only when tickets changed, the
// tab or the filter changed: never on a clock tick or a key that moves.
func (m *Model) refresh(rowsChanged bool) {
	s := m.snap
	m.now = s.Now
	m.list.now, m.list.hot, m.detail.now = s.Now, s.Hot, s.Now
	p := m.o.Board.Policy()
	m.list.policy, m.detail.policy = p, p
	if !rowsChanged && m.tab != tabBreaching {
		return
	}
	m.rowsVersion = s.RowsVersion
	f := strings.ToLower(m.filter)
	// The default order puts active tickets first, so "All open" and
	// "Resolved" are slices of the snapshot: shared, nothing copied.
	src, match := s.Rows, tabs[m.tab].match
	switch m.tab {
	case tabBreaching:
		src, match = s.HotRows, nil
	case tabAll:
		src, match = s.Rows[:s.Active], nil
	case tabResolved:
		src, match = s.Rows[s.Active:], nil
	}
	if match == nil && f == "" && m.queue == "" {
		m.list.SetRows(src)
	} else {
		out := make([]*Row, 0, 64)
		for _, r := range src {
			if match != nil && !match(m, r) {
				continue
			}
			if m.queue != "" && r.T.Queue != m.queue {
				continue
			}
			if f != "" && !strings.Contains(r.search, f) {
				continue
			}
			out = append(out, r)
		}
		m.list.SetRows(out)
	}
	m.mine = 0
	for _, r := range s.Rows {
		if r.group != 2 && r.T.Assignee == m.o.Operator {
			m.mine++
		}
	}
	switch {
	case f != "":
		m.list.empty = "no ticket matches \"" + m.filter + "\" in this queue — esc clears the filter"
	case m.tab == tabMine:
		m.list.empty = "nothing assigned to you — press a on a ticket to take it"
	default:
		m.list.empty = "no tickets here"
	}
}

func (m *Model) setFlash(s string, isErr bool) {
	m.flash, m.flashErr, m.flashUntil = s, isErr, m.o.Now().Add(6*time.Second)
}

// Update routes a message: overlays first (they own the keyboard while
// open), then global keys, then the focused pane.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok && km.Type == tea.KeyRunes && len(km.Runes) > 1 && !km.Paste {
		// Keys typed faster than a frame (a slow SSH link, tmux send-keys)
		// arrive as one message; each is a command of its own, and ":"
		// must open the prompt before the letters after it arrive.
		var cmds []tea.Cmd
		for _, r := range km.Runes {
			_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: km.Alt})
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case boardMsg:
		m.snap = m.o.Board.Snapshot()
		changed := m.snap.RowsVersion != m.rowsVersion
		m.refresh(changed)
		cmd := m.waitBoard()
		if changed && m.detail.loaded && m.detail.id != 0 {
			// Another session (or the mail intake) may have changed the open
			// ticket: reload it when its event count moved.
			if r := m.rowByID(m.detail.id); r != nil && r.T.Events != m.detail.ticket.Events {
				return m, tea.Batch(cmd, m.loadDetail(m.detail.id))
			}
		}
		if m.wide() && !m.focusDetail {
			if sel := m.list.Selected(); sel != nil && sel.T.ID != m.detail.id {
				return m, tea.Batch(cmd, m.loadDetail(sel.T.ID))
			}
		}
		return m, cmd
	case tickMsg:
		m.now = time.Time(msg)
		m.list.now, m.detail.now = m.now, m.now
		if m.o.MailStatus != nil {
			m.mail = m.o.MailStatus()
		}
		m.disk = m.o.Store.Space().Warning()
		if !m.flashUntil.IsZero() && m.now.After(m.flashUntil) {
			m.flash, m.flashUntil = "", time.Time{}
		}
		return m, tick()
	case RoleMsg:
		m.o.Role = msg.Role
		m.setFlash("the config was reloaded: your role is now "+string(msg.Role), false)
		return m, nil
	case detailLoadedMsg:
		if msg.req != m.detailReq {
			return m, nil // a newer request is on its way
		}
		if msg.err != nil {
			m.detail.err = msg.err
			return m, nil
		}
		m.detail.SetTicket(msg.ticket, msg.history)
		if m.scrollToEnd {
			// After the operator's own change, show it: it is the newest event.
			m.detail.vp.GotoBottom()
			m.scrollToEnd = false
		}
		return m, nil
	case writtenMsg:
		return m, m.written(msg)
	case promptDoneMsg:
		return m, m.promptDone(msg)
	case pickedMsg:
		return m, m.picked(msg)
	case composedMsg:
		return m, m.composed(msg)
	case formDoneMsg:
		return m, m.create(msg.nt)
	}

	var cmd tea.Cmd
	switch {
	case m.form.active:
		m.form, cmd = m.form.Update(msg)
		return m, cmd
	case m.compose.active:
		m.compose, cmd = m.compose.Update(msg)
		return m, cmd
	case m.picker.active:
		m.picker, cmd = m.picker.Update(msg)
		return m, cmd
	case m.prompt.active:
		m.prompt, cmd = m.prompt.Update(msg)
		if m.prompt.kind == promptFilter {
			// The filter applies as you type.
			m.filter = m.prompt.Value()
			m.refresh(true)
		}
		return m, cmd
	case m.page.active:
		m.page, cmd = m.page.Update(msg)
		return m, cmd
	}
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	if !key.Matches(km, m.keys.Quit) {
		m.quitArmed = false
	}
	return m, m.handleKey(km)
}

func (m *Model) handleKey(km tea.KeyMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(km, k.Help):
		m.openHelp()
		return nil
	case key.Matches(km, k.Quit):
		if km.String() == "ctrl+c" {
			return m.quit()
		}
		if m.focusDetail {
			m.focusDetail = false
			m.layout()
			return nil
		}
		return m.quit()
	case key.Matches(km, k.Back):
		switch {
		case m.focusDetail:
			m.focusDetail = false
			m.layout()
		case m.filter != "" || m.queue != "":
			m.filter, m.queue = "", ""
			m.refresh(true)
			m.setFlash("filter cleared", false)
		}
		return nil
	case key.Matches(km, k.Filter):
		return m.prompt.Open(promptFilter, "/", m.filter)
	case key.Matches(km, k.Command):
		return m.prompt.Open(promptCommand, ":", "")
	case key.Matches(km, k.NextTab) && !m.focusDetail:
		m.tab = (m.tab + 1) % len(tabs)
		m.refresh(true)
		return m.followSelection()
	case key.Matches(km, k.PrevTab) && !m.focusDetail:
		m.tab = (m.tab - 1 + len(tabs)) % len(tabs)
		m.refresh(true)
		return m.followSelection()
	case key.Matches(km, k.Focus):
		if m.list.Selected() == nil && !m.focusDetail {
			return nil
		}
		m.focusDetail = !m.focusDetail
		m.layout()
		if m.focusDetail {
			return m.loadDetail(m.list.Selected().T.ID)
		}
		return nil
	case key.Matches(km, k.Open) && !m.focusDetail:
		sel := m.list.Selected()
		if sel == nil {
			return nil
		}
		m.focusDetail = true
		m.layout()
		return m.loadDetail(sel.T.ID)
	case key.Matches(km, k.New):
		if err := m.canWrite(); err != nil {
			return err
		}
		return m.form.Open(m.o.Queues, m.width, m.bodyHeight())
	}
	if cmd, handled := m.ticketKey(km); handled {
		return cmd
	}
	// Movement goes to the focused pane.
	var cmd tea.Cmd
	if m.focusDetail {
		m.detail, cmd = m.detail.Update(km)
		return cmd
	}
	m.list, cmd = m.list.Update(km)
	return tea.Batch(cmd, m.followSelection())
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

func (m *Model) loadDetail(id store.TicketID) tea.Cmd {
	m.detailReq++
	if m.detail.id != id {
		m.detail.loaded = false
		m.detail.id = id
	}
	return loadDetail(m.o.Store, id, m.detailReq)
}

func (m *Model) rowByID(id store.TicketID) *Row {
	for _, r := range m.list.rows {
		if r.T.ID == id {
			return r
		}
	}
	return nil
}

// current is the ticket the operator is acting on: the open detail, else the
// list selection.
func (m *Model) current() (store.Ticket, bool) {
	if m.focusDetail && m.detail.loaded {
		if m.lastWritten.ID == m.detail.id && m.lastWritten.Events > m.detail.ticket.Events {
			return m.lastWritten, true
		}
		return m.detail.ticket, true
	}
	if sel := m.list.Selected(); sel != nil {
		t := sel.T
		if m.detail.loaded && m.detail.id == t.ID && m.detail.ticket.Events > t.Events {
			t = m.detail.ticket
		}
		// This session's own last write may be newer than the board's
		// snapshot: without it, a quick second key would look like someone
		// else's change.
		if m.lastWritten.ID == t.ID && m.lastWritten.Events > t.Events {
			t = m.lastWritten
		}
		return t, true
	}
	return store.Ticket{}, false
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

// wide terminals show list and detail side by side.
func (m *Model) wide() bool { return m.width >= 140 }

func (m *Model) bodyHeight() int { return max(m.height-3, 3) }

func (m *Model) layout() {
	h := m.bodyHeight()
	if m.wide() {
		lw := m.width * 55 / 100
		m.list.SetSize(lw, h)
		m.detail.SetSize(m.width-lw-1, h)
	} else {
		m.list.SetSize(m.width, h)
		m.detail.SetSize(m.width, h)
	}
	m.list.focused = !m.focusDetail
	m.detail.focused = m.focusDetail
	m.compose.SetSize(m.width, h)
	m.form.SetSize(m.width, h)
	m.page.SetSize(m.width, h)
	m.prompt.input.Width = max(m.width-4, 10)
}

// View draws status line, tabs, body and footer. It formats only what is
// on screen.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	if m.width == 0 {
		return "starting…"
	}
	var body string
	switch {
	case m.form.active:
		body = m.form.View()
	case m.compose.active:
		body = m.compose.View()
	case m.page.active:
		body = m.page.View()
	case m.wide():
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.list.View(), " ", m.detail.View())
	case m.focusDetail:
		body = m.detail.View()
	default:
		body = m.list.View()
	}
	if m.picker.active {
		body = m.picker.View()
	}
	body = fitHeight(body, m.bodyHeight(), m.width)
	return m.statusLine() + "\n" + m.tabsLine() + "\n" + body + "\n" + m.footer()
}

// fitHeight pads or cuts the body to exactly h lines so the footer stays
// put and the renderer repaints only lines that changed.
func fitHeight(s string, h, w int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansiTruncate(l, w)
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) statusLine() string {
	s := m.snap
	st := m.styles
	narrow := m.width < 110
	parts := []string{"desk"}
	if m.o.StoreName != "" && m.width >= 160 {
		parts = append(parts, m.o.StoreName)
	}
	if narrow {
		// the SLA column's own markers: ! breached, * warning
		parts = append(parts, fmt.Sprintf("%d open", s.Active), fmt.Sprintf("%d! %d*", s.Breached, len(s.Hot)-s.Breached))
	} else {
		parts = append(parts, fmt.Sprintf("%d open", s.Active), fmt.Sprintf("%d breached, %d warning", s.Breached, len(s.Hot)-s.Breached))
	}
	if s.NextBreach != nil {
		left := strings.TrimSpace(FormatLeft(m.o.Board.Policy(), &s.NextBreach.T, m.nextBreachLeft()))
		if narrow {
			parts = append(parts, fmt.Sprintf("next %s %s", s.NextBreach.T.ID, left))
		} else {
			parts = append(parts, fmt.Sprintf("next breach %s %s in %s", s.NextBreach.T.ID, s.NextBreach.T.Priority, left))
		}
	}
	if m.o.MailStatus != nil {
		ms := "mail " + m.mail.State
		if m.mail.Detail != "" && m.mail.State == "error" {
			ms += ": " + SafeLine(m.mail.Detail)
		}
		if !m.mail.LastMail.IsZero() && !narrow {
			ms += ", last " + m.mail.LastMail.In(m.loc).Format("15:04")
		}
		if m.mail.Outbox > 0 {
			ms += fmt.Sprintf(", %d unsent", m.mail.Outbox)
		}
		parts = append(parts, ms)
	}
	right := fmt.Sprintf("%s (%s) %s", m.o.Operator, m.o.Role, m.now.In(m.loc).Format("15:04:05"))
	if narrow {
		right = fmt.Sprintf("%s %s", m.o.Operator, m.now.In(m.loc).Format("15:04:05"))
	}
	if m.disk != "" {
		// Nothing can be saved: that outranks every countdown.
		parts = append([]string{m.disk}, parts...)
	}
	left := " " + strings.Join(parts, " · ")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		left = ansiTruncate(left, max(m.width-lipgloss.Width(right)-2, 0))
		gap = max(m.width-lipgloss.Width(left)-lipgloss.Width(right)-1, 1)
	}
	line := left + strings.Repeat(" ", gap) + right + " "
	style := st.Status
	if m.mail.State == "error" || m.disk != "" {
		style = st.StatusErr
	} else if len(s.Hot) > 0 {
		style = st.StatusWarn
	}
	return style.Render(pad(line, m.width))
}

func (m *Model) nextBreachLeft() time.Duration {
	r := m.snap.NextBreach
	c, _ := m.o.Board.Policy().ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, m.now).Next()
	return c.Left
}

func (m *Model) tabsLine() string {
	s := m.snap
	counts := []int{s.Unassigned, m.mine, s.Active, s.ByStatus[store.StatusWaiting], len(s.Hot),
		s.ByStatus[store.StatusResolved] + s.ByStatus[store.StatusClosed]}
	var extra []string
	if m.queue != "" {
		extra = append(extra, "queue:"+m.queue)
	}
	if m.filter != "" {
		extra = append(extra, "filter:"+m.filter)
	}
	extraText := strings.Join(extra, " ")
	render := func(short bool) string {
		var parts []string
		for i, t := range tabs {
			name := t.name
			if short {
				name = t.short
			}
			label := fmt.Sprintf("%s %d", name, counts[i])
			if i == m.tab {
				parts = append(parts, m.styles.TabActive.Render("["+label+"]"))
			} else {
				parts = append(parts, m.styles.Tab.Render(" "+label+" "))
			}
		}
		return strings.Join(parts, " ")
	}
	line := render(false)
	if lipgloss.Width(line)+len(extraText)+1 > m.width {
		// Short names when the counts grow or a filter is shown too.
		line = render(true)
	}
	if extraText != "" {
		line += " " + m.styles.Dim.Render(extraText)
	}
	return fitHeight(line, 1, m.width)
}

func (m *Model) footer() string {
	if m.prompt.active {
		return m.prompt.View()
	}
	if m.flash != "" {
		st := m.styles.Flash
		if m.flashErr {
			st = m.styles.FlashErr
		}
		return st.Render(pad(m.flash, m.width))
	}
	var hints []string
	for _, b := range m.keys.ShortHelp() {
		hints = append(hints, m.styles.HelpKey.Render(b.Help().Key)+" "+m.styles.HelpDesc.Render(b.Help().Desc))
	}
	return fitHeight(strings.Join(hints, "  "), 1, m.width)
}
