package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/deskhq/desk/store"
)

// Model is the root of the console. It owns layout and routing; every pane
// is its own model in its own file, every store read or write runs in a Cmd
// whose answer comes back as a message.
type Model struct {
	o      Options
	styles *Styles
	keys   KeyMap

	width, height int
	drawn         bool // the first screen is out: keys before it never act
	loc           *time.Location
	now           time.Time

	queues  queueTabs
	list    *listModel
	detail  *detailModel
	prompt  *promptModel
	compose *composeModel
	form    *formModel
	picker  *pickerModel
	page    *pageModel
	results *searchModel
	monitor *monitorModel
	windows *windowsModel
	overlay overlay // the one open overlay, or nil

	focusDetail bool
	req         uint64 // the newest request id; answers to older ones are dropped
	detailReq   uint64
	pageReq     uint64
	searchReq   uint64
	writes      writeQueue
	target      store.Ticket // the ticket an open picker or prompt acts on
	kb          kbEdit       // the article an open knowledge-base composer writes
	scrollToEnd bool         // the next detail load shows the newest events
	quitArmed   bool         // a quit was refused once because of drafts
	flash       flash
	undo        undoable
	mail        MailState
	disk        string // the store's free-space warning, "" while there is room
	alerts      alerts
	laidChrome  int // chromeHeight at the last layout
	boardCh     <-chan struct{}
	unsubscribe func()
	quitting    bool
}

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
	m := &Model{o: o, keys: newKeyMap(), now: o.Now(), loc: o.Location}
	m.queues.tab = tabAll
	m.setStyles(NewStyles(o.Dark))
	m.boardCh, m.unsubscribe = o.Board.Subscribe()
	m.queues.snap = o.Board.Snapshot()
	m.alerts.seen = m.queues.snap.LastAlert() // what rang before the session opened stays quiet
	m.refresh(true)
	return m
}

// setStyles (re)builds the panes' styles: at start, and when the terminal
// answers the background query.
func (m *Model) setStyles(s *Styles) {
	m.styles = s
	if m.list == nil {
		m.list = newListModel(s, &m.keys)
		m.detail = newDetailModel(s, &m.keys, m.loc)
		m.prompt = newPromptModel(s)
		m.compose = newComposeModel(s, m.o.Drafts)
		m.form = newFormModel(s)
		m.picker = &pickerModel{styles: s}
		m.page = newPageModel(s)
		m.results = newSearchModel(s)
		m.monitor = newMonitorModel(s, m.loc)
		m.windows = newWindowsModel(s, m.loc)
		return
	}
	m.list.styles, m.detail.styles, m.picker.styles, m.page.styles, m.results.styles = s, s, s, s, s
	m.monitor.styles, m.windows.styles = s, s
	m.prompt.styles, m.compose.styles, m.form.styles = s, s, s
	m.list.cache = map[*Row]rowCache{}
	m.detail.layout()
}

// Close releases the session's subscription and keeps an open composer's
// text as a draft (a dropped connection ends the session mid-sentence).
func (m *Model) Close() {
	m.compose.keep()
	if m.unsubscribe != nil {
		m.unsubscribe()
	}
}

// Init starts the clock and the board wait, and asks the terminal for its
// background: the answer arrives as a message, never as keys.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.waitBoard(), tick(), tea.RequestBackgroundColor)
}

// Update routes a message: answers and clock first, then the open overlay
// or prompt (they own the keyboard), then global keys, ticket keys and the
// focused pane.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		if dark := msg.IsDark(); dark != m.styles.Dark {
			m.setStyles(NewStyles(dark))
		}
		return m, nil
	case boardMsg:
		return m, m.boardChanged()
	case tickMsg:
		return m, m.tick(time.Time(msg))
	case RoleMsg:
		m.o.Role = msg.Role
		m.setFlash("the config was reloaded: your role is now "+string(msg.Role), false)
		return m, nil
	case detailLoadedMsg:
		return m, m.detailLoaded(msg)
	case reportDraftMsg:
		if msg.err != nil {
			m.setFlash("reading the history for the report: "+msg.err.Error(), true)
			return m, nil
		}
		return m, m.openCompose(composeReport, msg.id, "", msg.text)
	case pageMsg:
		return m, m.pageLoaded(msg)
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
	case searchDoneMsg:
		return m, m.searchDone(msg)
	case kbDoneMsg:
		return m, m.kbDone(msg)
	case attachmentsMsg:
		return m, m.attachmentsLoaded(msg)
	case monitorMsg, windowsMsg, windowActMsg, windowDoneMsg:
		return m, m.monitoring(msg)
	case searchOpenMsg:
		if msg.article != 0 {
			return m, m.loadKB(msg.article)
		}
		return m, m.openTicket(msg.id.String())
	}
	if _, isKey := msg.(tea.KeyPressMsg); isKey && !m.ready() {
		// Nothing is on screen yet (or a 0x0 terminal): a key now would
		// act on a ticket the operator never saw.
		return m, nil
	}
	switch {
	case m.overlay != nil:
		cmd := m.overlay.Update(msg)
		if !m.overlay.Active() {
			m.overlay = nil
		}
		return m, cmd
	case m.prompt.Active():
		cmd := m.prompt.Update(msg)
		if m.prompt.kind == promptFilter {
			m.setFilter(m.prompt.Value()) // the filter applies as you type
		}
		return m, cmd
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	if !key.Matches(km, m.keys.Quit) {
		m.quitArmed = false
	}
	if cmd, handled := m.globalKey(km); handled {
		return m, cmd
	}
	if cmd, handled := m.ticketKey(km); handled {
		return m, cmd
	}
	if m.focusDetail {
		return m, m.detail.Update(km)
	}
	cmd := m.list.Update(km)
	return m, tea.Batch(cmd, m.followSelection())
}

// ready is true once a screen with room in it has been drawn.
func (m *Model) ready() bool { return m.drawn && m.width > 0 && m.height > 0 }

// open shows an overlay and hands it the keyboard.
func (m *Model) open(o overlay, cmd tea.Cmd) tea.Cmd {
	m.overlay = o
	return cmd
}

// wide terminals show list and detail side by side.
func (m *Model) wide() bool { return m.width >= 140 }

func (m *Model) bodyHeight() int { return max(m.height-m.chromeHeight(), 3) }

// chromeHeight is the lines around the body: status line, banner (while
// there is one), tabs and footer.
func (m *Model) chromeHeight() int { return 2 + m.bannerHeight() + m.footerHeight() }

// relayout lays the panes out again if the chrome grew or shrank since
// the last layout (a banner came or went, a long message is shown).
func (m *Model) relayout() {
	if m.chromeHeight() != m.laidChrome {
		m.layout()
	}
}

func (m *Model) layout() {
	m.laidChrome = m.chromeHeight()
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
	for _, p := range []pane{m.compose, m.form, m.page, m.picker, m.results, m.monitor, m.windows} {
		p.SetSize(m.width, h)
	}
	m.prompt.SetSize(m.width, 1)
}

// View draws status line, tabs, body and footer; it formats only what is
// on screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.content())
	v.AltScreen = true
	v.WindowTitle = "desk"
	if m.width > 0 && m.height > 0 {
		m.drawn = true
	}
	return v
}

func (m *Model) content() string {
	if m.quitting {
		return ""
	}
	if m.width == 0 || m.height == 0 {
		return "starting…"
	}
	var body string
	switch {
	case m.overlay != nil:
		body = m.overlay.View()
	case m.wide():
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.list.View(), " ", m.detail.View())
	case m.focusDetail:
		body = m.detail.View()
	default:
		body = m.list.View()
	}
	body = fitHeight(body, m.bodyHeight(), m.width)
	top := m.statusLine() + "\n"
	if m.bannerHeight() > 0 {
		top += m.banner() + "\n"
	}
	return top + m.tabsLine() + "\n" + body + "\n" + m.footer()
}
