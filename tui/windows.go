package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/deskhq/desk/store"
)

// :window lists the planned service windows (upcoming and on now, the
// cancelled ones dim); n plans one in a small form, x cancels the selected
// one after a y/n. Planning mails the service's subscribers in the same
// write, so there is no undo: the store's notice rules, and its refusals,
// are said as the store says them.

func init() {
	commands = append(commands[:len(commands)-2], append([]command{
		{[]string{"window", "windows"}, ":window  :windows", "planned service windows: n plans one, x cancels", "",
			func(m *Model, _ string, _ []string) tea.Cmd { return m.openWindows() }},
	}, commands[len(commands)-2:]...)...)
}

type windowMode int

const (
	winList windowMode = iota
	winForm
	winConfirm
)

// The form's fields; override is there for leads only.
const (
	wfService = iota
	wfStart
	wfDuration
	wfDesc
	wfOverride
)

type windowAction int

const (
	winAskPlan   windowAction = iota // n: open the form (writers only)
	winPlan                          // the form was submitted
	winAskCancel                     // x: ask y/n (writers only)
	winCancel                        // y: cancel it
)

// windowActMsg is what the overlay asks of the root, which holds the
// role guards and the store.
type windowActMsg struct {
	act      windowAction
	w        store.Window
	override bool
}

// windowsMsg is the windows read for request req.
type windowsMsg struct {
	req  uint64
	list []store.Window
	err  error
}

// windowDoneMsg is how planning (or cancelling) a window went.
type windowDoneMsg struct {
	planned bool
	w       store.Window
	err     error
}

type windowsModel struct {
	styles        *Styles
	loc           *time.Location
	now           time.Time
	list          []store.Window
	loaded        bool
	want          uint64 // select this window when the list comes
	cursor, top   int
	width, height int
	active        bool
	writer        bool // not a viewer: n and x are offered
	mode          windowMode
	note          string
	refresher

	// the form
	services []store.Service
	svc      int
	inputs   []textinput.Model // start, duration, description
	override bool
	lead     bool
	focus    int
	err      string
	busy     bool // a plan or a cancel is on its way

	confirm store.Window // the window a y cancels
	keys    windowKeys
}

type windowKeys struct {
	plan, cancel, move, close                key.Binding
	submit, next, service, overrideKey, back key.Binding
	yes, no                                  key.Binding
}

func newWindowsModel(s *Styles, loc *time.Location) *windowsModel {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	o := &windowsModel{styles: s, loc: loc, keys: windowKeys{
		plan:        b([]string{"n"}, "n", "plan a window"),
		cancel:      b([]string{"x"}, "x", "cancel it"),
		move:        b([]string{"j", "k", "down", "up"}, "j/k", "move"),
		close:       b([]string{"esc", "q"}, "esc/q", "close"),
		submit:      b([]string{"enter"}, "enter", "plan it"),
		next:        b([]string{"tab"}, "tab", "next field"),
		service:     b([]string{"left", "right"}, "←/→", "service"),
		overrideKey: b([]string{"!"}, "!", "override (lead)"),
		back:        b([]string{"esc"}, "esc", "back (kept)"),
		yes:         b([]string{"y"}, "y", "cancel the window"),
		no:          b([]string{"n", "esc"}, "n", "keep it"),
	}}
	for _, ph := range []string{"", "2h", "what is done, and what users will notice"} {
		ti := s.textInput()
		ti.Prompt, ti.Placeholder, ti.CharLimit = "", ph, 300
		o.inputs = append(o.inputs, ti)
	}
	o.inputs[0].CharLimit, o.inputs[1].CharLimit = 40, 20
	return o
}

func (o *windowsModel) Active() bool { return o.active }

func (o *windowsModel) SetSize(w, h int) {
	o.width, o.height = w, h
	o.inputs[0].SetWidth(18)
	o.inputs[1].SetWidth(10)
	o.inputs[2].SetWidth(max(w-18, 20))
	o.scroll()
}

func (o *windowsModel) ShortHelp() []key.Binding {
	k := o.keys
	switch o.mode {
	case winForm:
		h := []key.Binding{k.submit, k.next, k.service}
		if o.lead {
			h = append(h, k.overrideKey)
		}
		return append(h, k.back)
	case winConfirm:
		return []key.Binding{k.yes, k.no}
	}
	if o.writer {
		return []key.Binding{k.plan, k.cancel, k.move, k.close}
	}
	return []key.Binding{k.move, k.close}
}

func (o *windowsModel) FullHelp() [][]key.Binding { return [][]key.Binding{o.ShortHelp()} }

// openWindows shows the overlay and reads the windows.
func (m *Model) openWindows() tea.Cmd {
	o := m.windows
	o.active, o.mode, o.note, o.now = true, winList, "", m.now
	o.writer = m.o.Role != RoleViewer
	m.overlay = o
	return m.loadWindows()
}

// loadWindows reads the windows that have not ended, in a Cmd.
func (m *Model) loadWindows() tea.Cmd {
	req := m.nextReq()
	m.windows.ask(req, m.now)
	st, clock := m.o.Store, m.o.Now
	return func() tea.Msg {
		list, err := st.Windows(clock())
		if err != nil {
			err = fmt.Errorf("reading the service windows: %w", err)
		}
		return windowsMsg{req: req, list: list, err: err}
	}
}

func (m *Model) windowsLoaded(msg windowsMsg) tea.Cmd {
	if !m.windows.answer(msg.req) {
		return nil
	}
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
		return nil
	}
	m.windows.set(msg.list)
	return nil
}

// windowAct does what the overlay asked, behind the role guards: a viewer
// is told at once (the store refuses viewers too).
func (m *Model) windowAct(msg windowActMsg) tea.Cmd {
	o := m.windows
	st, actor := m.o.Store, m.o.Operator
	switch msg.act {
	case winAskPlan:
		return m.asWriter(func() tea.Cmd {
			svcs := m.services()
			if len(svcs) == 0 {
				m.setFlash("no services configured: add [[services]] to the config", true)
				return nil
			}
			return o.openForm(svcs, m.o.Role == RoleLead)
		})
	case winPlan:
		o.busy = false
		return m.asWriter(func() tea.Cmd {
			o.busy = true
			w, override := msg.w, msg.override
			m.setFlash("planning the window and mailing its subscribers…", false)
			return func() tea.Msg {
				got, err := st.PlanWindow(actor, w, override)
				return windowDoneMsg{planned: true, w: got, err: err}
			}
		})
	case winAskCancel:
		return m.asWriter(func() tea.Cmd {
			o.mode, o.confirm = winConfirm, msg.w
			return nil
		})
	case winCancel:
		return m.asWriter(func() tea.Cmd {
			o.busy = true
			id := msg.w.ID
			return func() tea.Msg {
				got, err := st.CancelWindow(id, actor, "")
				return windowDoneMsg{w: got, err: err}
			}
		})
	}
	return nil
}

// windowDone says how it went; a refusal is the store's own words, and
// the form stays open with what was typed.
func (m *Model) windowDone(msg windowDoneMsg) tea.Cmd {
	o := m.windows
	o.busy = false
	if msg.err != nil {
		var no *store.RefusedError
		switch {
		case errors.As(msg.err, &no):
			m.setFlash(no.Error(), true)
		case msg.planned:
			m.setFlash("the window was not planned: "+msg.err.Error(), true)
		default:
			m.setFlash("the window was not cancelled: "+msg.err.Error(), true)
		}
		return nil
	}
	w := msg.w
	if msg.planned {
		o.planned(w)
		what := fmt.Sprintf("window #%d of %s planned, %s; %d subscriber(s) told", w.ID, SafeLine(w.Service), o.when(w), w.Notified)
		if w.Override != "" {
			what += "; override recorded"
		}
		m.setFlash(what, false)
	} else {
		m.setFlash(fmt.Sprintf("window #%d of %s cancelled; its subscribers are told", w.ID, SafeLine(w.Service)), false)
	}
	return m.loadWindows()
}

// set takes a new list; the cursor stays on its window, or goes to the
// one just planned.
func (o *windowsModel) set(list []store.Window) {
	on := o.want
	if on == 0 {
		if sel, ok := o.selected(); ok {
			on = sel.ID
		}
	}
	o.list, o.loaded, o.want = list, true, 0
	o.cursor = min(o.cursor, max(len(list)-1, 0))
	for i, w := range list {
		if w.ID == on {
			o.cursor = i
		}
	}
	o.scroll()
}

func (o *windowsModel) selected() (store.Window, bool) {
	if o.cursor < 0 || o.cursor >= len(o.list) {
		return store.Window{}, false
	}
	return o.list[o.cursor], true
}

// openForm shows the form; what was typed before an esc is still there.
func (o *windowsModel) openForm(svcs []store.Service, lead bool) tea.Cmd {
	o.mode, o.services, o.lead, o.err, o.busy = winForm, svcs, lead, "", false
	if o.svc >= len(svcs) {
		o.svc = 0
	}
	if !lead {
		o.override = false
	}
	// A start that keeps the default rules for a short window: four days
	// on, at one in the night.
	d := o.now.In(o.loc).AddDate(0, 0, 4)
	o.inputs[0].Placeholder = time.Date(d.Year(), d.Month(), d.Day(), 1, 0, 0, 0, o.loc).Format("2006-01-02 15:04")
	return o.setFocus(o.focus)
}

// planned clears the form after a window was planned.
func (o *windowsModel) planned(w store.Window) {
	for i := range o.inputs {
		o.inputs[i].SetValue("")
		o.inputs[i].Blur()
	}
	o.override, o.focus, o.err, o.mode, o.want = false, wfService, "", winList, w.ID
}

func (o *windowsModel) fields() int {
	if o.lead {
		return wfOverride + 1
	}
	return wfDesc + 1
}

func (o *windowsModel) setFocus(i int) tea.Cmd {
	n := o.fields()
	o.focus = (i%n + n) % n
	for j := range o.inputs {
		o.inputs[j].Blur()
	}
	if o.focus >= wfStart && o.focus <= wfDesc {
		return o.inputs[o.focus-wfStart].Focus()
	}
	return nil
}

func (o *windowsModel) Update(msg tea.Msg) tea.Cmd {
	km, isKey := msg.(tea.KeyPressMsg)
	switch {
	case o.mode == winForm:
		return o.updateForm(msg, km, isKey)
	case !isKey:
		return nil
	case o.mode == winConfirm:
		switch km.String() {
		case "y", "Y":
			o.mode = winList
			return act(windowActMsg{act: winCancel, w: o.confirm})
		case "n", "N", "esc", "q":
			o.mode, o.note = winList, fmt.Sprintf("window #%d is kept", o.confirm.ID)
		}
		return nil
	}
	o.note = ""
	n := len(o.list)
	switch km.String() {
	case "j", "down", "k", "up", "g", "home", "G", "end":
		o.cursor = moveCursor(km.String(), o.cursor, n)
	case "n":
		return act(windowActMsg{act: winAskPlan})
	case "x":
		w, ok := o.selected()
		switch {
		case !ok:
			o.note = "no window to cancel"
		case o.busy:
			o.note = "a change is on its way"
		case !w.Cancelled.IsZero():
			o.note = fmt.Sprintf("window #%d is cancelled already", w.ID)
		case !w.End().After(o.now):
			o.note = fmt.Sprintf("window #%d is over", w.ID)
		default:
			return act(windowActMsg{act: winAskCancel, w: w})
		}
	case "esc", "q":
		o.active = false
	}
	o.scroll()
	return nil
}

func act(msg windowActMsg) tea.Cmd { return func() tea.Msg { return msg } }

func (o *windowsModel) updateForm(msg tea.Msg, km tea.KeyPressMsg, isKey bool) tea.Cmd {
	if isKey {
		switch s := km.String(); {
		case s == "esc":
			o.mode, o.err = winList, ""
			for i := range o.inputs {
				o.inputs[i].Blur()
			}
			return nil
		case s == "tab" || s == "down":
			return o.setFocus(o.focus + 1)
		case s == "shift+tab" || s == "up":
			return o.setFocus(o.focus - 1)
		case s == "enter":
			return o.submit()
		case o.focus == wfService:
			o.pickService(s)
			return nil
		case o.focus == wfOverride:
			if s == "space" || s == "!" || s == "x" {
				o.override = !o.override
			}
			return nil
		}
	}
	if o.focus < wfStart || o.focus > wfDesc {
		return nil
	}
	var cmd tea.Cmd
	i := o.focus - wfStart
	o.inputs[i], cmd = o.inputs[i].Update(msg)
	return cmd
}

// pickService turns the service choice: ←/→ (or space) step, a letter
// jumps to the next service it begins.
func (o *windowsModel) pickService(s string) {
	n := len(o.services)
	if n == 0 {
		return
	}
	switch s {
	case "left":
		o.svc = (o.svc - 1 + n) % n
	case "right", "space":
		o.svc = (o.svc + 1) % n
	default:
		if len([]rune(s)) != 1 {
			return
		}
		for i := 1; i <= n; i++ {
			j := (o.svc + i) % n
			if strings.HasPrefix(strings.ToLower(o.services[j].Name), strings.ToLower(s)) {
				o.svc = j
				return
			}
		}
	}
}

// submit checks that the form is filled in and can be read; every rule
// of what may be planned is the store's.
func (o *windowsModel) submit() tea.Cmd {
	if o.busy {
		return nil
	}
	w, override, field, err := o.window()
	if err != nil {
		o.err = err.Error()
		return o.setFocus(field)
	}
	o.busy, o.err = true, ""
	return act(windowActMsg{act: winPlan, w: w, override: override})
}

// window reads the form: a start written with a leading ! asks for the
// override (the store lets only a lead have it).
func (o *windowsModel) window() (store.Window, bool, int, error) {
	if len(o.services) == 0 {
		return store.Window{}, false, wfService, fmt.Errorf("no services configured: add [[services]] to the config")
	}
	start := strings.TrimSpace(o.inputs[0].Value())
	override := o.override
	if rest, ok := strings.CutPrefix(start, "!"); ok {
		start, override = strings.TrimSpace(rest), true
	}
	zone := zoneName(o.loc, o.now)
	if start == "" {
		return store.Window{}, false, wfStart, fmt.Errorf("when does it start? e.g. %s (%s)", o.inputs[0].Placeholder, zone)
	}
	at, err := parseWindowStart(start, o.loc)
	if err != nil {
		return store.Window{}, false, wfStart, fmt.Errorf("start %q: write it as %s (%s), or RFC 3339", start, o.inputs[0].Placeholder, zone)
	}
	dur := strings.ReplaceAll(strings.TrimSpace(o.inputs[1].Value()), " ", "")
	if dur == "" {
		return store.Window{}, false, wfDuration, fmt.Errorf("how long does it last? e.g. 2h or 90m")
	}
	d, err := time.ParseDuration(dur)
	if err != nil {
		return store.Window{}, false, wfDuration, fmt.Errorf("duration %q: write it as 2h, 90m or 1h30m", dur)
	}
	desc := strings.TrimSpace(o.inputs[2].Value())
	if desc == "" {
		return store.Window{}, false, wfDesc, fmt.Errorf("say what is done and what users will notice: it is mailed to the subscribers")
	}
	return store.Window{Service: o.services[o.svc].Name, Start: at, Duration: d, Description: desc}, override, 0, nil
}

// parseWindowStart reads a time in the console's zone, or RFC 3339.
func parseWindowStart(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var err error
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// zoneName is the zone as an operator knows it: its name, or (for the
// machine's own) its abbreviation.
func zoneName(loc *time.Location, now time.Time) string {
	if n := loc.String(); n != "Local" && n != "" {
		return n
	}
	return now.In(loc).Format("MST")
}

// when is a window's time: "Sun 20 Dec 01:00-03:00".
func (o *windowsModel) when(w store.Window) string {
	s, e := w.Start.In(o.loc), w.End().In(o.loc)
	end := e.Format("15:04")
	if y, m, d := s.Date(); e.Day() != d || e.Month() != m || e.Year() != y {
		end = e.Format("Mon 02 Jan 15:04")
	}
	return s.Format("Mon 02 Jan 15:04") + "-" + end
}

// span is a window's length: 2h, 1h30m, 45m.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

func (o *windowsModel) state(w store.Window) string {
	switch {
	case !w.Cancelled.IsZero():
		return "cancelled"
	case w.Active(o.now):
		return "on now"
	case !w.End().After(o.now):
		return "over"
	}
	return "planned"
}

// below is the lines under the list: the selected window's particulars,
// the y/n question, or a note.
const windowsBelow = 4

func (o *windowsModel) visible() int { return max(o.height-2-windowsBelow, 1) }

func (o *windowsModel) scroll() {
	n := o.visible()
	if o.cursor < o.top {
		o.top = o.cursor
	}
	if o.cursor >= o.top+n {
		o.top = o.cursor - n + 1
	}
	o.top = max(min(o.top, len(o.list)-n), 0)
}

func (o *windowsModel) View() string {
	if o.mode == winForm {
		return o.formView()
	}
	s := o.styles
	lines := []string{s.Title.Render(fitWidth(o.title(), o.width))}
	switch {
	case !o.loaded:
		lines = append(lines, "", "  reading the service windows…")
	case len(o.list) == 0:
		lines = append(lines, "", "  No service windows are planned.")
		if o.writer {
			lines = append(lines, "", fitWidth("  n plans one: the service's subscribers are mailed when it is planned.", o.width))
		}
	default:
		lines = append(lines, o.table()...)
	}
	lines = append(lines, "")
	lines = append(lines, o.below()...)
	return strings.Join(lines, "\n")
}

func (o *windowsModel) title() string {
	count := map[string]int{}
	for _, w := range o.list {
		count[o.state(w)]++
	}
	t := "Service windows"
	var parts []string
	for _, st := range []string{"on now", "planned", "cancelled"} {
		if count[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st], st))
		}
	}
	if len(parts) > 0 {
		t += ": " + strings.Join(parts, ", ")
	}
	return t + " · times in " + zoneName(o.loc, o.now)
}

const (
	wcID    = 4  // "#123"
	wcWhen  = 22 // "Sun 20 Dec 01:00-03:00"
	wcSpan  = 5  // "1h30m"
	wcState = 9  // "cancelled"
)

func (o *windowsModel) table() []string {
	s := o.styles
	svc := 7
	for _, w := range o.list {
		svc = max(svc, len([]rune(SafeLine(w.Service))))
	}
	svc = min(svc, 14)
	desc := max(o.width-(2+wcID+1+svc+1+wcWhen+1+wcSpan+1+wcState+1), 10)
	head := "  " + pad("#", wcID) + " " + pad("SERVICE", svc) + " " + pad("WHEN", wcWhen) + " " + pad("LASTS", wcSpan) + " " +
		pad("STATE", wcState) + " DESCRIPTION"
	lines := []string{s.Header.Render(fitWidth(head, o.width))}
	for i := o.top; i < len(o.list) && i < o.top+o.visible(); i++ {
		w := o.list[i]
		state := o.state(w)
		row := pad(fmt.Sprintf("#%d", w.ID), wcID) + " " + pad(SafeLine(w.Service), svc) + " " + pad(o.when(w), wcWhen) + " " +
			pad(span(w.Duration), wcSpan) + " " + pad(state, wcState) + " " + pad(SafeLine(w.Description), desc)
		switch {
		case i == o.cursor:
			lines = append(lines, s.RowSelected.Render(fitWidth("› "+row, o.width)))
		case state == "cancelled" || state == "over":
			lines = append(lines, s.Dim.Render(fitWidth("  "+row, o.width)))
		case state == "on now":
			lines = append(lines, s.Prio[2].Render(fitWidth("  "+row, o.width)))
		default:
			lines = append(lines, fitWidth("  "+row, o.width))
		}
	}
	return lines
}

// below is the y/n question, or the selected window's particulars.
func (o *windowsModel) below() []string {
	s := o.styles
	fit := func(l string) string { return fitWidth(l, o.width) }
	if o.mode == winConfirm {
		w := o.confirm
		return []string{
			s.FlashErr.Render(fit(fmt.Sprintf("  Cancel window #%d of %s, %s?", w.ID, SafeLine(w.Service), o.when(w)))),
			fit("  Its subscribers are mailed that it is off. y cancels it, n keeps it."),
		}
	}
	var lines []string
	if o.note != "" {
		lines = append(lines, s.Dim.Render(fit("  "+o.note)))
	}
	w, ok := o.selected()
	if !ok {
		return lines
	}
	lines = append(lines, fit(fmt.Sprintf("  #%d %s · planned by %s %s · announced to %d subscriber(s)", w.ID, SafeLine(w.Service),
		SafeLine(w.By), w.Planned.In(o.loc).Format("02 Jan 15:04"), w.Notified)))
	if !w.Cancelled.IsZero() {
		lines = append(lines, s.Dim.Render(fit(fmt.Sprintf("  cancelled by %s %s", SafeLine(w.CancelledBy), w.Cancelled.In(o.loc).Format("02 Jan 15:04")))))
	}
	if w.Override != "" {
		lines = append(lines, s.Dim.Render(fit("  override by "+SafeLine(w.Override)+": "+SafeLine(w.OverrideWhy))))
	}
	lines = append(lines, s.Dim.Render(fit("  "+SafeLine(w.Description))))
	if len(lines) > windowsBelow {
		lines = lines[:windowsBelow]
	}
	return lines
}

func (o *windowsModel) formView() string {
	s := o.styles
	label := func(i int, name string) string {
		l := fmt.Sprintf("%-13s", name)
		if o.focus == i {
			return s.Title.Render("› " + l)
		}
		return s.Label.Render("  " + l)
	}
	lines := []string{s.Title.Render(fitWidth("Plan a service window · its subscribers are mailed when it is planned", o.width)), ""}
	svc := "(none)"
	hint := ""
	if len(o.services) > 0 {
		sv := o.services[o.svc]
		// brackets, not only reverse video: visible with NO_COLOR
		svc = s.RowSelected.Render("‹ " + SafeLine(sv.Name) + " ›")
		hint = SafeLine(sv.Description)
		if len(o.services) > 1 {
			hint = strings.TrimSpace(hint + fmt.Sprintf(" (%d of %d)", o.svc+1, len(o.services)))
		}
	}
	lines = append(lines,
		fitWidth(label(wfService, "service")+svc+"  "+s.Dim.Render(hint), o.width),
		fitWidth(label(wfStart, "start")+o.inputs[0].View()+" "+s.Dim.Render("in "+zoneName(o.loc, o.now)), o.width),
		fitWidth(label(wfDuration, "duration")+o.inputs[1].View()+" "+s.Dim.Render("e.g. 2h, 90m, 1h30m"), o.width),
		fitWidth(label(wfDesc, "description")+o.inputs[2].View(), o.width))
	if o.lead {
		box := "[ ]"
		if o.override {
			box = "[x]"
		}
		lines = append(lines, fitWidth(label(wfOverride, "override")+box+" "+s.Dim.Render("plan it although it breaks the notice rules (space or !)"), o.width))
	}
	lines = append(lines, "")
	switch {
	case o.busy:
		lines = append(lines, s.Dim.Render("  planning…"))
	case o.err != "":
		lines = append(lines, s.FlashErr.Render(fitWidth("  "+o.err, o.width)))
	}
	return strings.Join(lines, "\n")
}
