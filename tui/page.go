package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/handover"
	"github.com/deskhq/desk/store"
)

// pageModel shows a read-only page (help, outbox, quarantine, report) over
// the list; esc, q or ? closes it.
type pageModel struct {
	styles *Styles
	title  string
	vp     viewport.Model
	active bool
	keys   pageKeys
}

type pageKeys struct{ scroll, ends, close key.Binding }

func newPageModel(s *Styles) *pageModel {
	return &pageModel{styles: s, vp: viewport.New(), keys: pageKeys{
		scroll: key.NewBinding(key.WithKeys("j", "k"), key.WithHelp("j/k", "scroll")),
		ends:   key.NewBinding(key.WithKeys("g", "G"), key.WithHelp("g/G", "top/end")),
		close:  key.NewBinding(key.WithKeys("esc", "q", "?"), key.WithHelp("esc/q", "close")),
	}}
}

func (p *pageModel) SetSize(w, h int) { p.vp.SetWidth(w); p.vp.SetHeight(max(h-1, 1)) }
func (p *pageModel) Active() bool     { return p.active }

func (p *pageModel) ShortHelp() []key.Binding {
	return []key.Binding{p.keys.scroll, p.keys.ends, p.keys.close}
}
func (p *pageModel) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *pageModel) Open(title, content string) {
	p.title, p.active = title, true
	p.vp.SetContent(content)
	p.vp.GotoTop()
}

func (p *pageModel) Update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "g", "home":
			p.vp.GotoTop()
			return nil
		case "G", "end":
			p.vp.GotoBottom()
			return nil
		}
		if key.Matches(km, p.keys.close) {
			p.active = false
			return nil
		}
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return cmd
}

// View is the title and the text; the page's keys are in the footer
// (ShortHelp), said once.
func (p *pageModel) View() string {
	return p.styles.Title.Render(p.title) + "\n" + p.vp.View()
}

type pageKind int

const (
	pageOutbox pageKind = iota
	pageQuarantine
	pageReport
	pageReload
	pageHandover
	pageOncall
)

// pageMsg is a page read in a Cmd: the store and the config are never read
// inside Update, where a slow read would freeze the console.
type pageMsg struct {
	req            uint64
	title, content string
	flash          string // a result to show in the footer instead of a page
	err            error
}

func (m *Model) loadPage(kind pageKind, arg string) tea.Cmd {
	req := m.nextReq()
	m.pageReq = req
	st, loc, o, now := m.o.Store, m.loc, m.o, m.now
	month := arg
	if month == "" {
		// The month so far: last month's report is on a fresh desk all zeros.
		month = m.now.In(loc).Format("2006-01")
	}
	return func() tea.Msg {
		msg := pageMsg{req: req}
		switch kind {
		case pageOutbox:
			msg.title, msg.content, msg.err = outboxPage(st, loc)
		case pageQuarantine:
			msg.title, msg.content, msg.err = quarantinePage(st, loc)
		case pageReport:
			if o.Report == nil {
				msg.err = fmt.Errorf("reports are not available in this console")
				break
			}
			msg.title = "SLA compliance " + month
			msg.content, msg.err = o.Report(month)
		case pageHandover:
			since := now.Add(-8 * time.Hour)
			if arg != "" {
				d, err := time.ParseDuration(arg)
				if err != nil || d <= 0 {
					msg.err = fmt.Errorf(":handover %s: give how far back the shift began, e.g. :handover 12h", arg)
					break
				}
				since = now.Add(-d)
			}
			h, err := handover.Build(st, since, now)
			msg.title, msg.content, msg.err = "Shift handover", h.Text(loc), err
		case pageOncall:
			msg.title, msg.content = "On call", st.Roster().Describe(now.In(loc))
		case pageReload:
			if o.Reload == nil {
				msg.err = fmt.Errorf("this console cannot reload the config")
				break
			}
			msg.flash, msg.err = o.Reload()
			if msg.err != nil {
				msg.err = fmt.Errorf("reload failed, the old config stays: %w", msg.err)
			}
		}
		return msg
	}
}

func (m *Model) pageLoaded(msg pageMsg) tea.Cmd {
	if msg.req != m.pageReq {
		return nil // the operator has moved on
	}
	switch {
	case msg.err != nil:
		m.setFlash(msg.err.Error(), true)
	case msg.flash != "":
		m.setFlash(msg.flash, false)
	default:
		m.page.Open(msg.title, msg.content)
		m.overlay = m.page
	}
	return nil
}

func outboxPage(st *store.Store, loc *time.Location) (string, string, error) {
	mails, err := st.OutboxAll(500)
	if err != nil {
		return "", "", fmt.Errorf("reading the outbox: %w", err)
	}
	var b strings.Builder
	if len(mails) == 0 {
		b.WriteString("The outbox is empty: no mail has been queued yet.\n")
	}
	for _, o := range mails {
		state := "sent " + o.Sent.In(loc).Format("02 Jan 15:04:05")
		if !o.Sent.IsZero() && o.LastError != "" {
			state += ", but " + SafeLine(o.LastError) // some recipients refused it
		} else if o.Sent.IsZero() && !o.Failed.IsZero() {
			state = "FAILED " + o.Failed.In(loc).Format("02 Jan 15:04:05") + ", not retried: " + SafeLine(o.LastError)
		} else if o.Sent.IsZero() {
			state = fmt.Sprintf("queued, %d attempts, next try %s", o.Attempts, o.NextTry.In(loc).Format("15:04:05"))
			if o.LastError != "" {
				state += ", last error: " + SafeLine(o.LastError)
			}
		}
		fmt.Fprintf(&b, "%-6s %-10s to %s\n       %s\n       %s\n", o.Ticket, o.Kind, SafeLine(strings.Join(o.To, ", ")),
			SafeLine(o.Subject), state)
		// The first lines of what was said, so a lead can check the wording.
		lines := strings.Split(strings.TrimSpace(SafeText(o.Body)), "\n")
		for i, l := range lines {
			if i == 3 {
				b.WriteString("       │ …\n")
				break
			}
			b.WriteString("       │ " + l + "\n")
		}
	}
	return fmt.Sprintf("Outbox (%d, newest first)", len(mails)), b.String(), nil
}

func quarantinePage(st *store.Store, loc *time.Location) (string, string, error) {
	qs, err := st.QuarantineHeaders(500)
	if err != nil {
		return "", "", fmt.Errorf("reading the quarantine: %w", err)
	}
	var b strings.Builder
	if len(qs) == 0 {
		b.WriteString("Nothing in quarantine.\n")
	}
	for _, q := range qs {
		fmt.Fprintf(&b, "#%d  %s  from %s\n    %s\n    reason: %s (%d bytes kept)\n", q.ID, q.At.In(loc).Format("02 Jan 15:04"),
			SafeLine(q.From), SafeLine(q.Subject), SafeLine(q.Reason), q.Size)
		switch {
		case q.Released:
			fmt.Fprintf(&b, "    released into %s by %s\n", q.Ticket, SafeLine(q.DecidedBy))
		case q.Dropped:
			fmt.Fprintf(&b, "    dropped by %s: %s\n", SafeLine(q.DecidedBy), SafeLine(q.DropReason))
		}
	}
	if len(qs) > 0 {
		b.WriteString("\nA lead releases mail into a ticket with :release ID, or drops it with :drop ID REASON.\n")
	}
	return fmt.Sprintf("Quarantine (%d, newest first)", len(qs)), b.String(), nil
}
