package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// listModel is the ticket list pane: a window over the rows of the current
// queue tab. It renders only the visible rows, so its View costs the same
// with ten tickets as with a million.
type listModel struct {
	styles *Styles
	keys   *KeyMap
	policy slaengine.Policy

	rows     rowSource
	cursor   int
	offset   int
	selected store.TicketID // kept across refreshes so the cursor follows its ticket
	width    int
	height   int // rows of tickets, header excluded
	now      time.Time
	focused  bool
	empty    string
	cache    map[*Row]rowCache // styled rows, shared by the model's copies (see renderRow)
}

func newListModel(s *Styles, k *KeyMap) *listModel {
	return &listModel{styles: s, keys: k, focused: true, cache: map[*Row]rowCache{}, rows: rowSlice(nil)}
}

// rowSource is what the list shows: the board's own ordered list when the
// queue is a slice of it (nothing copied at 10^6 tickets), or the rows a
// filter kept.
type rowSource interface {
	Len() int
	At(i int) *Row
	Range(from int, fn func(i int, r *Row) bool)
}

// rowSlice is a rowSource of rows a filter kept.
type rowSlice []*Row

func (s rowSlice) Len() int      { return len(s) }
func (s rowSlice) At(i int) *Row { return s[i] }
func (s rowSlice) Range(from int, fn func(i int, r *Row) bool) {
	for i := max(from, 0); i < len(s); i++ {
		if !fn(i, s[i]) {
			return
		}
	}
}

func (l *listModel) ShortHelp() []key.Binding {
	k := l.keys
	return []key.Binding{k.Open, k.Assign, k.Status, k.Note, k.Reply, k.Filter, k.Command, k.NextTab}
}

func (l *listModel) FullHelp() [][]key.Binding { return l.keys.FullHelp() }

// selectID puts the cursor on ticket id when it is in the list.
func (l *listModel) selectID(id store.TicketID) {
	if i := l.find(id); i >= 0 {
		l.cursor = i
		l.clamp()
	}
}

// byID is the listed row of ticket id, or nil.
func (l *listModel) byID(id store.TicketID) *Row {
	if i := l.find(id); i >= 0 {
		return l.rows.At(i)
	}
	return nil
}

func (l *listModel) SetSize(w, h int) {
	l.width, l.height = w, max(h-1, 1)
	l.clamp()
}

// SetRows replaces the rows, keeping the cursor on the same ticket when it
// is still there.
func (l *listModel) SetRows(rows rowSource) {
	l.rows = rows
	defer l.trimCache()
	if l.selected != 0 {
		// The selected ticket usually stays near the cursor: look there
		// first so a refresh of a huge queue stays cheap.
		if i := l.find(l.selected); i >= 0 {
			l.cursor = i
		}
	}
	l.clamp()
}

func (l *listModel) find(id store.TicketID) int {
	lo, hi := max(l.cursor-64, 0), min(l.cursor+64, l.rows.Len())
	for i := lo; i < hi; i++ {
		if l.rows.At(i).T.ID == id {
			return i
		}
	}
	found := -1
	l.rows.Range(0, func(i int, r *Row) bool {
		if r.T.ID == id {
			found = i
			return false
		}
		return true
	})
	return found
}

func (l *listModel) clamp() {
	defer l.trimCache()
	if l.cursor >= l.rows.Len() {
		l.cursor = l.rows.Len() - 1
	}
	if l.cursor < 0 {
		l.cursor = 0
	}
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+l.height {
		l.offset = l.cursor - l.height + 1
	}
	if l.offset > max(l.rows.Len()-l.height, 0) {
		l.offset = max(l.rows.Len()-l.height, 0)
	}
	if l.offset < 0 {
		l.offset = 0
	}
	if l.rows.Len() > 0 {
		l.selected = l.rows.At(l.cursor).T.ID
	}
}

// Selected returns the row under the cursor, or nil.
func (l *listModel) Selected() *Row {
	if l.cursor < 0 || l.cursor >= l.rows.Len() {
		return nil
	}
	return l.rows.At(l.cursor)
}

func (l *listModel) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, l.keys.Up):
		l.cursor--
	case key.Matches(km, l.keys.Down):
		l.cursor++
	case key.Matches(km, l.keys.PageUp):
		l.cursor -= l.height
	case key.Matches(km, l.keys.PageDown):
		l.cursor += l.height
	case key.Matches(km, l.keys.Top):
		l.cursor = 0
	case key.Matches(km, l.keys.Bottom):
		l.cursor = l.rows.Len() - 1
	default:
		return nil
	}
	l.clamp()
	return nil
}

// columns decides the layout once per width: narrow terminals get the
// columns a night operator triages by; wide ones get queue, assignee and age.
type columns struct {
	req, subj, queue, assignee int
	wide                       bool
}

func (l *listModel) columns() columns {
	// marker 1, id 7, prio 2, type 3, status 9, sla 7, separators
	fixed := 1 + 7 + 1 + 2 + 1 + 3 + 1 + 9 + 1 + 7 + 1
	c := columns{}
	rest := l.width - fixed
	if l.width >= 120 {
		c.wide = true
		c.queue, c.assignee = 12, 12
		rest -= c.queue + c.assignee + 2
	}
	c.req = min(max(rest/3, 8), 24)
	c.subj = max(rest-c.req-1, 4)
	return c
}

func (l *listModel) View() string {
	var b strings.Builder
	c := l.columns()
	hdr := fmt.Sprintf(" %-7s %-2s %-3s %-9s %7s %s", "ID", "P", "TYP", "STATUS", "SLA", pad("REQUESTER", c.req))
	if c.wide {
		hdr += " " + pad("QUEUE", c.queue) + " " + pad("ASSIGNEE", c.assignee)
	}
	hdr += " SUBJECT"
	if l.rows.Len() > 0 {
		// Where am I in a long queue: "12/325", at the right of the header.
		pos := fmt.Sprintf(" %d/%d", l.cursor+1, l.rows.Len())
		hdr = pad(hdr, max(l.width-len(pos), 0)) + pos
	}
	b.WriteString(l.styles.Header.Render(pad(hdr, l.width)))
	if l.rows.Len() == 0 {
		b.WriteString("\n")
		b.WriteString(l.styles.Dim.Render(pad("  "+l.empty, l.width)))
		for i := 1; i < l.height; i++ {
			b.WriteString("\n")
		}
		return b.String()
	}
	end := min(l.offset+l.height, l.rows.Len())
	for i := l.offset; i < end; i++ {
		b.WriteString("\n")
		b.WriteString(l.renderRow(l.rows.At(i), i == l.cursor, c))
	}
	for i := end - l.offset; i < l.height; i++ {
		b.WriteString("\n")
	}
	return b.String()
}

func (l *listModel) renderRow(r *Row, selected bool, c columns) string {
	clock, state := l.countdown(r)
	// A row's text changes when its ticket does (a new *Row), its countdown
	// text, the selection or the layout: most rows change once a minute,
	// so the styled line is kept and only rebuilt when one of those moved.
	key := rowKey{clock: clock, state: state, selected: selected, focused: l.focused, width: l.width}
	if l.cache != nil {
		if e, ok := l.cache[r]; ok && e.key == key {
			return e.line
		}
	}
	line := l.buildRow(r, clock, state, selected, c)
	if l.cache != nil {
		l.cache[r] = rowCache{key: key, line: line}
	}
	return line
}

type rowKey struct {
	clock    string
	state    slaengine.State
	selected bool
	focused  bool
	width    int
}

type rowCache struct {
	key  rowKey
	line string
}

// trimCache forgets rows that are no longer on screen, so the cache holds
// a screenful whatever the queue's size.
func (l *listModel) trimCache() {
	if len(l.cache) <= 4*max(l.height, 1) {
		return
	}
	keep := make(map[*Row]rowCache, l.height)
	end := min(l.offset+l.height, l.rows.Len())
	for i := l.offset; i < end; i++ {
		if e, ok := l.cache[l.rows.At(i)]; ok {
			keep[l.rows.At(i)] = e
		}
	}
	l.cache = keep
}

func (l *listModel) buildRow(r *Row, clock string, state slaengine.State, selected bool, c columns) string {
	t := &r.T
	slaText := slaMarker(state) + clock
	cells := []string{
		pad(t.ID.String()+rowMarker(t), 7),
		l.styles.Prio[clampPrio(t.Priority)].Render(t.Priority.String()),
		typeAbbrev(t.Type),
		pad(string(t.Status), 9),
		l.styles.SLA[state].Render(padLeft(slaText, 7)),
		pad(SafeLine(t.Requester.Name), c.req),
	}
	if c.wide {
		cells = append(cells, pad(SafeLine(t.Queue), c.queue), pad(SafeLine(t.Assignee), c.assignee))
	}
	cells = append(cells, pad(SafeLine(t.Subject), c.subj))
	line := strings.Join(cells, " ")
	// The marker keeps the selection visible without colour or reverse
	// video (NO_COLOR, a vt100 over a slow link).
	if selected {
		if l.focused {
			return l.styles.RowSelected.Render("›" + ansi.Strip(line))
		}
		return l.styles.Title.Render("›") + line
	}
	return " " + line
}

// countdown is the SLA cell: the clock an operator must watch, projected to now.
func (l *listModel) countdown(r *Row) (string, slaengine.State) {
	if !r.T.Status.Active() {
		return "-", slaengine.StateMet
	}
	c, _ := l.policy.ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, l.now).Next()
	switch c.State {
	case slaengine.StateMet:
		return "met", c.State
	}
	return FormatLeft(l.policy, &r.T, c.Left), c.State
}

// FormatLeft renders time left in the days of the ticket's own calendar:
// two business days read "2d 0h", not sixteen hours.
func FormatLeft(p slaengine.Policy, t *store.Ticket, d time.Duration) string {
	day := 24 * time.Hour
	if cal := p.Target(string(t.Type), slaengine.Priority(t.Priority)).Calendar; cal != nil {
		day = cal.DayLength()
	}
	return slaengine.FormatLeftIn(d, day)
}

// slaMarker keeps the state readable without colour (NO_COLOR, vt100).
func slaMarker(s slaengine.State) string {
	switch s {
	case slaengine.StateWarning:
		return "*"
	case slaengine.StateBreached:
		return "!"
	case slaengine.StatePaused:
		return "="
	}
	return ""
}

func typeAbbrev(t store.Type) string {
	switch t {
	case store.Incident:
		return "INC"
	case store.Request:
		return "REQ"
	case store.ChangeReq:
		return "RFC"
	}
	return pad(strings.ToUpper(string(t)), 3)
}

func clampPrio(p store.Priority) int {
	if p < 1 || p > 4 {
		return 3
	}
	return int(p)
}

// pad truncates or pads s to exactly w cells (display width, not bytes).
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

func padLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw >= w {
		return ansi.Truncate(s, w, "")
	}
	return strings.Repeat(" ", w-sw) + s
}

func ansiTruncate(s string, w int) string { return ansi.Truncate(s, w, "…") }

// fitHeight pads or cuts s to exactly h lines of at most w cells, so the
// footer stays put and the renderer has a stable grid to diff.
func fitHeight(s string, h, w int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansiTruncate(l, w)
		}
	}
	return strings.Join(lines, "\n")
}

// rowMarker flags a row after its id: ◆ an open major incident, ▲ the
// escalation ladder has gone past registration (a warning or a breach
// step fired: someone was told it is late).
func rowMarker(t *store.Ticket) string {
	if t.Major.Open() {
		return "◆"
	}
	for _, k := range t.Fired {
		if !strings.HasSuffix(k, "/registered") {
			return "▲"
		}
	}
	return ""
}
