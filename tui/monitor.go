package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// :monitor lists every probe the monitoring keeps (package monitor records
// them through store.RecordProbe): its state, since when, the last check,
// seven days of uptime and the incident of an outage, which enter opens.
// The list is read again every few seconds while it is open, in a Cmd,
// never while one read is still under way.

// monitorEvery is how often an open monitor (or windows) overlay is read
// again; a read that has not answered after monitorStuck is given up on.
const (
	monitorEvery = 5 * time.Second
	monitorStuck = time.Minute
)

func init() {
	commands = append(commands[:len(commands)-2], append([]command{
		{[]string{"monitor", "mon"}, ":monitor  :mon", "probes: state, 7-day uptime, incident (enter opens)", "",
			func(m *Model, _ string, _ []string) tea.Cmd { return m.openMonitor() }},
	}, commands[len(commands)-2:]...)...)
}

// monitorRow is one probe as the overlay shows it.
type monitorRow struct {
	p      store.ProbeState
	uptime float64 // percent of the last 7 days' checks that passed; < 0: none
}

// monitorMsg is the probes read for request req.
type monitorMsg struct {
	req  uint64
	rows []monitorRow
	at   time.Time
	err  error
}

// refresher is what an overlay read again on the clock keeps about its
// reads: the newest request, whether it is still out and when it went.
type refresher struct {
	req      uint64
	inflight bool
	asked    time.Time
}

// due says whether a new read should go out at now.
func (r *refresher) due(now time.Time) bool {
	if r.inflight {
		return now.Sub(r.asked) >= monitorStuck
	}
	return now.Sub(r.asked) >= monitorEvery
}

func (r *refresher) ask(req uint64, now time.Time) { r.req, r.inflight, r.asked = req, true, now }

// answer takes an answer: false when it is not the newest request's.
func (r *refresher) answer(req uint64) bool {
	if req != r.req {
		return false
	}
	r.inflight = false
	return true
}

type monitorModel struct {
	styles        *Styles
	loc           *time.Location
	now           time.Time
	rows          []monitorRow
	read          time.Time // when rows were read
	loaded        bool
	cursor, top   int
	width, height int
	active        bool
	note          string // what the last key did not do
	col           monitorCols
	refresher
	keys monitorKeys
}

type monitorKeys struct{ open, move, ends, close key.Binding }

func newMonitorModel(s *Styles, loc *time.Location) *monitorModel {
	return &monitorModel{styles: s, loc: loc, keys: monitorKeys{
		open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open incident")),
		move:  key.NewBinding(key.WithKeys("j", "k", "down", "up"), key.WithHelp("j/k", "move")),
		ends:  key.NewBinding(key.WithKeys("g", "G"), key.WithHelp("g/G", "first/last")),
		close: key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "close")),
	}}
}

func (o *monitorModel) Active() bool     { return o.active }
func (o *monitorModel) SetSize(w, h int) { o.width, o.height = w, h; o.layout() }
func (o *monitorModel) ShortHelp() []key.Binding {
	return []key.Binding{o.keys.open, o.keys.move, o.keys.ends, o.keys.close}
}
func (o *monitorModel) FullHelp() [][]key.Binding { return [][]key.Binding{o.ShortHelp()} }

// openMonitor shows the overlay at once (with the last rows it read, if
// any) and reads the probes.
func (m *Model) openMonitor() tea.Cmd {
	o := m.monitor
	o.active, o.note, o.now = true, "", m.now
	m.overlay = o
	return m.loadMonitor()
}

// loadMonitor reads the probes and their uptime in a Cmd.
func (m *Model) loadMonitor() tea.Cmd {
	req := m.nextReq()
	m.monitor.ask(req, m.now)
	st, clock := m.o.Store, m.o.Now
	return func() tea.Msg {
		now := clock()
		rows, err := readMonitor(st, now)
		return monitorMsg{req: req, rows: rows, at: now, err: err}
	}
}

// readMonitor is every probe with its uptime over the last 7 days (today
// and the six before), the worst first.
func readMonitor(st *store.Store, now time.Time) ([]monitorRow, error) {
	ps, err := st.Probes()
	if err != nil {
		return nil, fmt.Errorf("reading the probes: %w", err)
	}
	rows := make([]monitorRow, 0, len(ps))
	for _, p := range ps {
		days, err := st.Uptime(p.Key, now.AddDate(0, 0, -6))
		if err != nil {
			return nil, fmt.Errorf("reading the uptime of %s: %w", p.Key, err)
		}
		ok, all := 0, 0
		for _, d := range days {
			ok, all = ok+d.OK, all+d.OK+d.Fail
		}
		r := monitorRow{p: p, uptime: -1}
		if all > 0 {
			r.uptime = 100 * float64(ok) / float64(all)
		}
		rows = append(rows, r)
	}
	rank := map[string]int{store.ProbeDown: 0, store.ProbeFailing: 1, store.ProbeUnknown: 2, store.ProbeUp: 3}
	slices.SortStableFunc(rows, func(a, b monitorRow) int {
		return cmp.Or(cmp.Compare(rank[a.p.State], rank[b.p.State]), strings.Compare(a.p.Key, b.p.Key))
	})
	return rows, nil
}

func (m *Model) monitorLoaded(msg monitorMsg) tea.Cmd {
	if !m.monitor.answer(msg.req) {
		return nil // a newer read is on its way
	}
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
		return nil
	}
	m.monitor.set(msg.rows, msg.at)
	return nil
}

// set takes new rows; the cursor stays on the probe it was on.
func (o *monitorModel) set(rows []monitorRow, at time.Time) {
	var on string
	if o.cursor < len(o.rows) {
		on = o.rows[o.cursor].p.Key
	}
	o.rows, o.read, o.loaded = rows, at, true
	o.cursor = 0
	for i, r := range rows {
		if r.p.Key == on {
			o.cursor = i
		}
	}
	o.layout()
}

// layout sizes the columns when the rows or the terminal change, not on
// every frame.
func (o *monitorModel) layout() {
	o.col = o.cols()
	o.scroll()
}

// refreshOverlay reads an open monitor or windows overlay again when it
// is due (called on the clock's tick).
func (m *Model) refreshOverlay(now time.Time) tea.Cmd {
	m.monitor.now, m.windows.now = now, now
	switch m.overlay {
	case overlay(m.monitor):
		if m.monitor.active && m.monitor.due(now) {
			return m.loadMonitor()
		}
	case overlay(m.windows):
		if m.windows.active && m.windows.due(now) {
			return m.loadWindows()
		}
	}
	return nil
}

func (o *monitorModel) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	o.note = ""
	n := len(o.rows)
	switch km.String() {
	case "j", "down", "k", "up", "g", "home", "G", "end":
		o.cursor = moveCursor(km.String(), o.cursor, n)
	case "enter":
		if n == 0 {
			return nil
		}
		p := o.rows[o.cursor].p
		if p.Outage == 0 {
			o.note = fmt.Sprintf("%s %s has no open incident (it is %s)", SafeLine(p.Service), SafeLine(p.Name), p.State)
			return nil
		}
		o.active = false
		id := p.Outage
		return func() tea.Msg { return searchOpenMsg{id: id} }
	case "esc", "q":
		o.active = false
	}
	o.scroll()
	return nil
}

// perRow is the lines a probe takes: one on a wide terminal, else two
// (the last check's detail under the rest).
func (o *monitorModel) perRow() int {
	if o.width >= 120 {
		return 1
	}
	return 2
}

// visible is how many probes fit under the title and the header.
func (o *monitorModel) visible() int {
	h := o.height - 2
	if o.note != "" {
		h--
	}
	return max(h/o.perRow(), 1)
}

func (o *monitorModel) scroll() {
	n := o.visible()
	if o.cursor < o.top {
		o.top = o.cursor
	}
	if o.cursor >= o.top+n {
		o.top = o.cursor - n + 1
	}
	o.top = max(min(o.top, len(o.rows)-n), 0)
}

func (o *monitorModel) View() string {
	s := o.styles
	lines := []string{s.Title.Render(fitWidth(o.title(), o.width))}
	switch {
	case !o.loaded:
		lines = append(lines, "", "  reading the probes…")
	case len(o.rows) == 0:
		lines = append(lines, "",
			fitWidth("  No probe has reported yet.", o.width), "",
			fitWidth("  Probes are configured per service in the config, as [[services.probes]]", o.width),
			fitWidth(`  under its [[services]]: kind = "http" with url, or "tcp"/"tls" with`, o.width),
			fitWidth("  address; interval, fail_after, recover_after (see desk.example.toml).", o.width),
			fitWidth("  desk serve (or the console) runs them; desk monitor lists them too.", o.width))
	default:
		lines = append(lines, o.table()...)
	}
	if o.note != "" {
		lines = append(lines, s.Dim.Render(fitWidth("  "+o.note, o.width)))
	}
	return strings.Join(lines, "\n")
}

func (o *monitorModel) title() string {
	count := map[string]int{}
	for _, r := range o.rows {
		count[r.p.State]++
	}
	t := fmt.Sprintf("Monitoring: %d probes", len(o.rows))
	for _, st := range []string{store.ProbeDown, store.ProbeFailing, store.ProbeUnknown, store.ProbeUp} {
		if count[st] > 0 {
			t += fmt.Sprintf(" · %d %s", count[st], st)
		}
	}
	if o.loaded {
		t += " · read " + o.read.In(o.loc).Format("15:04:05")
	}
	return t
}

// monitorCols are the widths of the columns for a terminal width.
type monitorCols struct{ svc, probe, last int }

const (
	mcState   = 7 // "failing", "unknown"
	mcSince   = 6 // "23h59m"
	mcLatency = 7 // "LATENCY", "999ms", "12.3s"
	mcUptime  = 6 // "99.9%"
	mcTicket  = 8 // "SD-12345"
)

func (o *monitorModel) cols() monitorCols {
	svc, probe := 7, 5
	for _, r := range o.rows {
		svc = max(svc, len([]rune(SafeLine(r.p.Service))))
		probe = max(probe, len([]rune(SafeLine(r.p.Name))))
	}
	c := monitorCols{svc: min(svc, 14)}
	fixed := 2 + mcState + 1 + c.svc + 1 + 1 + mcSince + 1 + mcLatency + 1 + mcUptime + 1 + mcTicket
	if o.perRow() == 1 {
		c.probe = min(probe, 36)
		c.last = max(o.width-fixed-c.probe-1, 10)
		return c
	}
	c.probe = max(o.width-fixed, 8)
	return c
}

func (o *monitorModel) table() []string {
	s := o.styles
	c := o.col
	head := "  " + pad("STATE", mcState) + " " + pad("SERVICE", c.svc) + " " + pad("PROBE", c.probe) + " " +
		padLeft("SINCE", mcSince) + " " + padLeft("LATENCY", mcLatency) + " " + padLeft("7D UP", mcUptime) + " " + pad("INCIDENT", mcTicket)
	if c.last > 0 {
		head += " LAST CHECK"
	}
	lines := []string{s.Header.Render(fitWidth(head, o.width))}
	for i := o.top; i < len(o.rows) && i < o.top+o.visible(); i++ {
		r := o.rows[i]
		p := r.p
		state := pad(p.State, mcState)
		rest := " " + pad(SafeLine(p.Service), c.svc) + " " + pad(SafeLine(p.Name), c.probe) + " " +
			padLeft(o.since(p), mcSince) + " " + padLeft(latency(p.Last), mcLatency) + " " +
			padLeft(uptimeText(r.uptime), mcUptime) + " " + pad(incident(p), mcTicket)
		last := o.lastCheck(p)
		if c.last > 0 {
			rest += " " + pad(last, c.last)
		}
		if i == o.cursor {
			lines = append(lines, s.RowSelected.Render(fitWidth("› "+state+rest, o.width)))
		} else {
			st, ok := s.Probe[p.State]
			if !ok {
				st = s.Dim
			}
			lines = append(lines, fitWidth("  "+st.Render(state)+rest, o.width))
		}
		if c.last == 0 {
			lines = append(lines, s.Dim.Render(fitWidth("    "+last, o.width)))
		}
	}
	return lines
}

// lastCheck is when the probe last checked and what it saw; the detail
// comes from the probed server and is made safe for the terminal.
func (o *monitorModel) lastCheck(p store.ProbeState) string {
	if p.Last.At.IsZero() {
		return "no check yet"
	}
	d := termtext.Line(p.Last.Detail)
	if p.Last.Slow {
		d = "slow: " + d
	}
	return p.Last.At.In(o.loc).Format("15:04:05") + " " + d
}

// since is how long the probe has been in its state.
func (o *monitorModel) since(p store.ProbeState) string {
	if p.Since.IsZero() {
		return "-"
	}
	return shortSpan(o.now.Sub(p.Since))
}

// shortSpan is a duration in at most two units: 45s, 12m, 3h12m, 2d4h.
func shortSpan(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func latency(r store.ProbeResult) string {
	switch {
	case r.At.IsZero():
		return "-"
	case r.Latency < time.Millisecond:
		return "<1ms"
	case r.Latency < time.Second:
		return fmt.Sprintf("%dms", r.Latency.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", r.Latency.Seconds())
}

// uptimeText is a percentage that never rounds a failure up to 100%.
func uptimeText(p float64) string {
	switch {
	case p < 0:
		return "-"
	case p >= 100:
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", math.Min(math.Floor(p*10)/10, 99.9))
}

func incident(p store.ProbeState) string {
	if p.Outage == 0 {
		return "-"
	}
	return p.Outage.String()
}

// monitoring routes the messages of the :monitor and :window overlays.
func (m *Model) monitoring(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case monitorMsg:
		return m.monitorLoaded(msg)
	case windowsMsg:
		return m.windowsLoaded(msg)
	case windowActMsg:
		return m.windowAct(msg)
	case windowDoneMsg:
		return m.windowDone(msg)
	}
	return nil
}
