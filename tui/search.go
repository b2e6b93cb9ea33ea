package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/store"
)

// searchModel shows the tickets a full-text search found, best first,
// each with the line that matched; enter opens one, esc goes back.
type searchModel struct {
	styles        *Styles
	query         string
	res           search.Result
	cursor, top   int
	width, height int
	active        bool
	keys          searchKeys
}

type searchKeys struct{ move, ends, open, close key.Binding }

func newSearchModel(s *Styles) *searchModel {
	return &searchModel{styles: s, keys: searchKeys{
		move:  key.NewBinding(key.WithKeys("j", "k", "down", "up"), key.WithHelp("j/k", "move")),
		ends:  key.NewBinding(key.WithKeys("g", "G"), key.WithHelp("g/G", "first/last")),
		open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		close: key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "back")),
	}}
}

// searchDoneMsg is the answer to a search, for request req.
type searchDoneMsg struct {
	req   uint64
	query string
	res   search.Result
	err   error
}

// searchOpenMsg: the operator chose a ticket (or an article) among the
// results.
type searchOpenMsg struct {
	id      store.TicketID
	article store.ArticleID
}

func (s *searchModel) Active() bool     { return s.active }
func (s *searchModel) SetSize(w, h int) { s.width, s.height = w, h }
func (s *searchModel) ShortHelp() []key.Binding {
	return []key.Binding{s.keys.open, s.keys.move, s.keys.ends, s.keys.close}
}
func (s *searchModel) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
func (s *searchModel) open(q string, r search.Result) {
	s.query, s.res, s.cursor, s.top, s.active = q, r, 0, 0, true
}

func (s *searchModel) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	n := len(s.res.Hits)
	switch km.String() {
	case "j", "down", "k", "up", "g", "home", "G", "end":
		s.cursor = moveCursor(km.String(), s.cursor, n)
	case "enter":
		if n == 0 {
			return nil
		}
		s.active = false
		h := s.res.Hits[s.cursor]
		msg := searchOpenMsg{id: h.Ticket.ID}
		if h.Article != nil {
			msg = searchOpenMsg{article: h.Article.ID}
		}
		return func() tea.Msg { return msg }
	case "esc", "q":
		s.active = false
	}
	return nil
}

// View draws the hits that fit, two lines each: the ticket, and the line
// of it that matched.
func (s *searchModel) View() string {
	title := fmt.Sprintf("search %q: %d of %d, best first", s.query, len(s.res.Hits), s.res.Total)
	lines := []string{s.styles.Title.Render(fitWidth(SafeLine(title), s.width))}
	if len(s.res.Hits) == 0 {
		lines = append(lines, "", "  nothing matches (tickets or knowledge-base articles)", "",
			s.styles.Dim.Render(fitWidth("  "+search.Help, s.width)))
		return strings.Join(lines, "\n")
	}
	per := max((s.height-1)/2, 1)
	if s.cursor < s.top {
		s.top = s.cursor
	}
	if s.cursor >= s.top+per {
		s.top = s.cursor - per + 1
	}
	for i := s.top; i < len(s.res.Hits) && i < s.top+per; i++ {
		h := s.res.Hits[i]
		var head string
		if a := h.Article; a != nil {
			head = fmt.Sprintf("%-8s %-11s %s", a.ID, a.Kind, SafeLine(a.Title))
		} else {
			t := h.Ticket
			head = fmt.Sprintf("%-8s %-8s %s  %s", t.ID, t.Status, t.Priority, SafeLine(t.Subject))
			if t.Requester.Email != "" {
				head += "  · " + SafeLine(t.Requester.Email)
			}
		}
		line := "    " + h.Line // sanitised by the index
		if i == s.cursor {
			lines = append(lines, s.styles.RowSelected.Render(fitWidth("› "+head, s.width)))
		} else {
			lines = append(lines, fitWidth("  "+head, s.width))
		}
		lines = append(lines, s.styles.Dim.Render(fitWidth(line, s.width)))
	}
	return strings.Join(lines, "\n")
}

// fitWidth cuts s to w cells.
func fitWidth(s string, w int) string {
	if w <= 0 || lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// looksLikeSearch: the text asks for more than the list filter can give
// (field terms, a phrase, a word left out).
func looksLikeSearch(q string) bool {
	if strings.ContainsAny(q, `"`) {
		return true
	}
	for _, w := range strings.Fields(q) {
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			return true
		}
		if f, v, ok := strings.Cut(w, ":"); ok && v != "" && f != "" && !strings.Contains(f, "/") {
			return true
		}
	}
	return false
}

// runSearch asks the index in a Cmd; the answer comes back by request id.
func (m *Model) runSearch(q string) tea.Cmd {
	q = strings.TrimSpace(q)
	if m.o.Search == nil {
		m.setFlash("full-text search is not available in this console", true)
		return nil
	}
	if q == "" {
		m.setFlash("search for what? "+search.Help, true)
		return nil
	}
	m.searchReq++
	req, find := m.searchReq, m.o.Search
	m.setFlash("searching "+SafeLine(q)+"…", false)
	return func() tea.Msg {
		res, err := find(q, 50)
		return searchDoneMsg{req: req, query: q, res: res, err: err}
	}
}

func (m *Model) searchDone(msg searchDoneMsg) tea.Cmd {
	if msg.req != m.searchReq {
		return nil // the operator has moved on
	}
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
		return nil
	}
	m.setFlash(fmt.Sprintf("%d match (%.0f ms)", msg.res.Total, float64(msg.res.Took.Microseconds())/1000), false)
	m.results.open(msg.query, msg.res)
	return m.open(m.results, nil)
}
