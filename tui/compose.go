package tui

import (
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// composeModel writes an internal note or a reply to the requester. Drafts
// survive esc: reopening the composer on the same ticket brings the text
// back, so a stray key never costs an operator their words.
type composeModel struct {
	styles *Styles
	area   *textarea.Model // made when first opened: a textarea holds ~0.25 MB, and most sessions never write
	kind   composeKind
	ticket store.TicketID
	to     string
	active bool
	err    string
	drafts *Drafts
}

// Drafts keeps an operator's unsent notes and replies. On `desk serve` one
// Drafts belongs to the operator, not to the SSH session, so a dropped
// connection on a slow night-shift link loses no words: the next login has
// them back. Safe for the operator's concurrent sessions.
type Drafts struct {
	mu sync.Mutex
	m  map[draftKey]string
}

// NewDrafts is an empty draft store.
func NewDrafts() *Drafts { return &Drafts{m: map[draftKey]string{}} }

func (d *Drafts) get(k draftKey) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[k]
}

func (d *Drafts) set(k draftKey, v string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if strings.TrimSpace(v) == "" {
		delete(d.m, k)
		return
	}
	d.m[k] = v
}

func (d *Drafts) keys() []draftKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]draftKey, 0, len(d.m))
	for k := range d.m {
		out = append(out, k)
	}
	return out
}

type composeKind int

const (
	composeNote composeKind = iota
	composeReply
	composeResolve // resolution text, mailed to the requester, status resolved
	composeClose   // the same, then closed at once
	composeHandBack
	composeReport      // the incident report's text form (store.ReportText)
	composeUpdate      // a major incident's status update, mailed to its subscribers
	composeArticle     // a knowledge-base article drafted from a resolved ticket
	composeArticleEdit // an article's new version (ticket holds the article number)
	composeResolveKB   // a resolution applying a known solution (Model.kb)
)

type draftKey struct {
	kind   composeKind
	ticket store.TicketID
}

type composedMsg struct {
	kind   composeKind
	ticket store.TicketID
	text   string
}

func newComposeModel(s *Styles, drafts *Drafts) *composeModel {
	if drafts == nil {
		drafts = NewDrafts()
	}
	return &composeModel{styles: s, drafts: drafts}
}

func (c *composeModel) makeArea() {
	if c.area != nil {
		return
	}
	ta := c.styles.textArea()
	ta.ShowLineNumbers = false
	ta.CharLimit = 64 << 10
	ta.Prompt = "│ "
	c.area = &ta
}

func (c *composeModel) Active() bool { return c.active }

// sends is true for what leaves the desk as mail: its key says send.
func (c *composeModel) sends() bool {
	return c.to != "" && (c.kind == composeReply || c.kind == composeResolve || c.kind == composeClose || c.kind == composeUpdate || c.kind == composeResolveKB)
}

func (c *composeModel) ShortHelp() []key.Binding {
	save := key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save"))
	if c.sends() {
		save = key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "send to "+SafeLine(c.to)))
	}
	return []key.Binding{save, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close, keep draft"))}
}

func (c *composeModel) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }

func (c *composeModel) Open(kind composeKind, t store.TicketID, to string, w, h int) tea.Cmd {
	return c.OpenWith(kind, t, to, "", w, h)
}

// OpenWith starts from text when there is no draft (the incident report
// opens on its headings, or on the current version).
func (c *composeModel) OpenWith(kind composeKind, t store.TicketID, to, text string, w, h int) tea.Cmd {
	c.kind, c.ticket, c.to, c.active, c.err = kind, t, to, true, ""
	c.makeArea()
	c.SetSize(w, h)
	draft := c.drafts.get(draftKey{kind, t})
	if draft != "" {
		text = draft
	}
	c.area.SetValue(text)
	if draft == "" && kind == composeReport {
		// Start writing under the first heading, not after the last.
		for range c.area.LineCount() {
			c.area.CursorUp()
		}
		c.area.CursorDown()
		c.area.CursorEnd()
	}
	return c.area.Focus()
}

func (c *composeModel) SetSize(w, h int) {
	if c.area == nil {
		return
	}
	c.area.SetWidth(max(w-4, 20))
	c.area.SetHeight(max(h-6, 3))
}

func (c *composeModel) Update(msg tea.Msg) tea.Cmd {
	if c.area == nil {
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "ctrl+s":
			text := strings.TrimSpace(c.area.Value())
			if text == "" {
				c.err = "nothing to save yet: write the text first (esc closes)"
				if c.kind == composeResolve || c.kind == composeClose {
					c.err = "write the resolution first: it is mailed to the requester (esc cancels)"
				}
				return nil
			}
			c.err = ""
			c.active = false
			c.area.Blur()
			c.drafts.set(draftKey{c.kind, c.ticket}, "")
			k, t := c.kind, c.ticket
			return func() tea.Msg { return composedMsg{kind: k, ticket: t, text: text} }
		case "esc":
			c.active = false
			c.area.Blur()
			c.drafts.set(draftKey{c.kind, c.ticket}, c.area.Value())
			return nil
		}
	}
	var cmd tea.Cmd
	*c.area, cmd = c.area.Update(msg)
	return cmd
}

func (c *composeModel) View() string {
	if c.area == nil {
		return ""
	}
	title := "Internal note on " + c.ticket.String() + " (not sent to the requester)"
	switch c.kind {
	case composeReply:
		title = "Reply on " + c.ticket.String() + " to " + SafeLine(c.to)
	case composeResolve:
		title = "Resolve " + c.ticket.String() + ": the resolution is mailed to " + SafeLine(c.to)
	case composeClose:
		title = "Close " + c.ticket.String() + ": it was never resolved, so write the resolution; it is mailed to " + SafeLine(c.to)
	case composeHandBack:
		title = "Hand " + c.ticket.String() + " back from " + SafeLine(c.to) + " to 2nd line: the findings"
	case composeReport:
		title = "Incident report on " + c.ticket.String() + " (a lead approves it; a rewrite needs approving again)"
	case composeUpdate:
		title = "Status update on major incident " + c.ticket.String() + ": mailed as written to " + SafeLine(c.to)
		if c.to == "" {
			title = "Status update on " + c.ticket.String() + ": no subscribers, kept in the history only"
		}
	}
	switch c.kind {
	case composeArticle:
		title = "New knowledge-base article from " + c.ticket.String() + ": Title/Kind (solution, workaround, known-error)/Service/Tags, a blank line, the text (Markdown)"
	case composeArticleEdit:
		title = "Edit " + store.ArticleID(c.ticket).String() + ": a new version; its history keeps the old"
	case composeResolveKB:
		title = "Resolve " + c.ticket.String() + " with the known solution below (edit it for this requester): mailed to " + SafeLine(c.to)
	}
	if (c.kind == composeResolve || c.kind == composeClose || c.kind == composeResolveKB) && c.to == "" {
		title = "Resolve " + c.ticket.String() + ": no requester address, the resolution is kept as a note"
	}
	foot := c.styles.Dim.Render("ctrl+s save · esc keep draft and close")
	if c.sends() {
		foot = c.styles.Dim.Render("ctrl+s send to " + SafeLine(c.to) + " · esc keep draft and close")
	}
	if c.err != "" {
		foot = c.styles.FlashErr.Render(c.err)
	}
	return c.styles.Title.Render(title) + "\n" + c.area.View() + "\n" + foot
}

// keep saves what is being written as a draft (the session is ending).
func (c *composeModel) keep() {
	if c.active && c.area != nil {
		c.drafts.set(draftKey{c.kind, c.ticket}, c.area.Value())
	}
}
