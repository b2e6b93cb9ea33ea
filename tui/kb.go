package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/glamour/v2"

	"github.com/deskhq/desk/store"
)

// kbEdit is the article a composer writes to: the one being edited (with
// the version the operator started from) or the known solution a
// resolution applies.
type kbEdit struct {
	article store.ArticleID
	version int
}

func init() {
	ticketActions = append(ticketActions, ticketAction{
		func(k *KeyMap) []key.Binding { return []key.Binding{k.Knowledge} }, RoleOperator, (*Model).knowledgeKey})
	commands = append(commands[:len(commands)-2], append([]command{
		{[]string{"kb"}, ":kb, :kb N, :kb edit N, :kb retire N WHY", "the knowledge base: list, open, edit, retire", "", (*Model).cmdKB},
	}, commands[len(commands)-2:]...)...)
}

// knowledgeKey is K: on a resolved or closed ticket, an article drafted
// from its resolution; on an open one, the best known solution the detail
// pane lists, as the draft resolution (the ticket records the article).
func (m *Model) knowledgeKey(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	if !t.Status.Active() {
		d := store.ArticleDraft{Title: t.Subject, Kind: store.KindSolution, Service: t.Service, Body: t.Resolution}
		m.kb = kbEdit{}
		return m.openCompose(composeArticle, t.ID, "", store.ArticleText(d))
	}
	if m.detail.similarFor != t.ID || len(m.detail.solutions) == 0 {
		m.setFlash("no known solution for "+t.ID.String()+" in the knowledge base (:kb lists it; K on a resolved ticket writes one)", false)
		return nil
	}
	a := m.detail.solutions[0].Article
	m.kb = kbEdit{article: a.ID, version: a.Version}
	return m.openCompose(composeResolveKB, t.ID, t.Requester.Email, a.Body)
}

func (m *Model) cmdKB(arg string, fields []string) tea.Cmd {
	args := fields[1:]
	switch {
	case len(args) == 0:
		return m.loadKB(0)
	case args[0] == "edit" && len(args) == 2:
		return m.asWriter(func() tea.Cmd { return m.editArticle(args[1]) })
	case args[0] == "retire" && len(args) >= 3:
		id, err := store.ParseArticleID(args[1])
		if err != nil {
			m.setFlash(err.Error(), true)
			return nil
		}
		why := strings.Join(args[2:], " ")
		return m.asWriter(func() tea.Cmd {
			return m.kbWrite(id.String()+" retired", func(st *store.Store, actor string) error {
				_, err := st.RetireArticle(id, actor, why)
				return err
			})
		})
	case len(args) == 1:
		id, err := store.ParseArticleID(args[0])
		if err != nil {
			m.setFlash(err.Error(), true)
			return nil
		}
		return m.loadKB(id)
	}
	m.setFlash("usage: :kb, :kb N, :kb edit N, :kb retire N WHY", true)
	return nil
}

// loadKB opens the list of articles (id 0) or one article, rendered.
func (m *Model) loadKB(id store.ArticleID) tea.Cmd {
	req := m.nextReq()
	m.pageReq = req
	st, loc, dark, width := m.o.Store, m.loc, m.styles.Dark, m.width
	return func() tea.Msg {
		msg := pageMsg{req: req}
		if id == 0 {
			list, err := st.Articles(false)
			if err != nil {
				msg.err = err
				return msg
			}
			var b strings.Builder
			if len(list) == 0 {
				b.WriteString("The knowledge base is empty. K on a resolved ticket drafts an article from its resolution.\n")
			}
			for _, a := range list {
				svc := ""
				if a.Service != "" {
					svc = "  · " + SafeLine(a.Service)
				}
				fmt.Fprintf(&b, "%-6s %-11s solved %-3d %s%s\n", a.ID, a.Kind, a.Applied, SafeLine(a.Title), svc)
			}
			b.WriteString("\n:kb N opens one · :kb edit N · :kb retire N WHY\nK on an open ticket applies the best match")
			msg.title, msg.content = fmt.Sprintf("Knowledge base: %d articles", len(list)), b.String()
			return msg
		}
		a, err := st.Article(id)
		if err != nil {
			msg.err = err
			return msg
		}
		h, err := st.ArticleHistory(id)
		if err != nil {
			msg.err = err
			return msg
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s · service %s · tags %s · version %d by %s · solved %d tickets\n", a.Kind, SafeLine(orDash(a.Service)),
			SafeLine(orDash(strings.Join(a.Tags, ", "))), a.Version, SafeLine(a.Author), a.Applied)
		if a.Retired {
			b.WriteString("RETIRED\n")
		}
		b.WriteString(renderMarkdown(a.Body, dark, width))
		b.WriteString("\n── history\n")
		for _, e := range h {
			fmt.Fprintf(&b, "%s %s %s\n", e.At.In(loc).Format("02 Jan 15:04"), SafeLine(e.Actor), SafeLine(e.Text))
		}
		msg.title, msg.content = a.ID.String()+"  "+SafeLine(a.Title), b.String()
		return msg
	}
}

// renderMarkdown draws an article's Markdown for the session's terminal
// (glamour, in the session's light or dark style); the text is made safe
// first, so only glamour's own styling reaches the terminal.
func renderMarkdown(md string, dark bool, width int) string {
	style := "light"
	if dark {
		style = "dark"
	}
	r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(max(width-4, 20)))
	if err != nil {
		return SafeText(md)
	}
	out, err := r.Render(SafeText(md))
	if err != nil {
		return SafeText(md)
	}
	return out
}

func (m *Model) editArticle(arg string) tea.Cmd {
	id, err := store.ParseArticleID(arg)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	a, err := m.o.Store.Article(id)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	m.kb = kbEdit{article: id, version: a.Version}
	d := store.ArticleDraft{Title: a.Title, Body: a.Body, Kind: a.Kind, Service: a.Service, Tags: a.Tags}
	return m.openCompose(composeArticleEdit, store.TicketID(id), "", store.ArticleText(d))
}

// kbComposed saves what a knowledge-base composer wrote.
func (m *Model) kbComposed(msg composedMsg) tea.Cmd {
	id, text, kb := msg.ticket, msg.text, m.kb
	switch msg.kind {
	case composeArticle:
		d := store.ParseArticleText(text)
		d.Tickets = []store.TicketID{id}
		return m.kbWrite("article saved to the knowledge base", func(st *store.Store, actor string) error {
			_, err := st.CreateArticle(actor, d)
			return err
		})
	case composeArticleEdit:
		d := store.ParseArticleText(text)
		return m.kbWrite(kb.article.String()+" saved (a new version)", func(st *store.Store, actor string) error {
			a, err := st.Article(kb.article)
			if err == nil {
				d.Tickets = a.Tickets
				_, err = st.EditArticle(kb.article, actor, kb.version, d)
			}
			return err
		})
	case composeResolveKB:
		st, actor := m.o.Store, m.o.Operator
		return m.write(func() tea.Cmd {
			return func() tea.Msg {
				t, _, err := st.ResolveWith(id, kb.article, actor, text)
				return writtenMsg{what: "resolved with " + kb.article.String() + "; resolution queued", id: id, ticket: t, err: err}
			}
		})
	}
	return nil
}

// kbDoneMsg is how a knowledge-base write went.
type kbDoneMsg struct {
	what string
	err  error
}

// kbWrite runs a knowledge-base write in a Cmd; the footer says how it went.
func (m *Model) kbWrite(what string, fn func(st *store.Store, actor string) error) tea.Cmd {
	st, actor := m.o.Store, m.o.Operator
	return func() tea.Msg { return kbDoneMsg{what: what, err: fn(st, actor)} }
}

func (m *Model) kbDone(msg kbDoneMsg) tea.Cmd {
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
	} else {
		m.setFlash(msg.what, false)
	}
	return nil
}
