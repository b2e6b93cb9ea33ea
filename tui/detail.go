package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// detailModel is the ticket pane: fields, SLA clocks and the full history.
// Its text is laid out when the ticket or the width changes; View only
// slices the viewport.
type detailModel struct {
	styles *Styles
	keys   *KeyMap
	policy slaengine.Policy

	id      store.TicketID
	ticket  store.Ticket
	history []store.Event
	loaded  bool
	err     error
	vp      viewport.Model
	width   int
	height  int
	now     time.Time
	loc     *time.Location
	focused bool
	// similar are the tickets most like this one (from the search index),
	// looked up once per ticket opened.
	similar    []search.Hit
	solutions  []search.Hit // knowledge-base articles most like it (K applies the first)
	similarFor store.TicketID
}

// detailLoadedMsg carries a ticket read by a Cmd; req drops stale answers.
type detailLoadedMsg struct {
	req       uint64
	ticket    store.Ticket
	history   []store.Event
	similar   []search.Hit // nil: not looked up this time
	solutions []search.Hit
	err       error
}

// similarFunc finds the tickets most like a ticket (Options.Similar).
type similarFunc func(t store.Ticket, h []store.Event, n int) ([]search.Hit, error)

func newDetailModel(s *Styles, k *KeyMap, loc *time.Location) *detailModel {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{
		Up:           k.Up,
		Down:         k.Down,
		PageUp:       k.PageUp,
		PageDown:     k.PageDown,
		HalfPageUp:   key.NewBinding(key.WithDisabled()),
		HalfPageDown: key.NewBinding(key.WithDisabled()),
		Left:         key.NewBinding(key.WithDisabled()),
		Right:        key.NewBinding(key.WithDisabled()),
	}
	return &detailModel{styles: s, keys: k, vp: vp, loc: loc}
}

func (d *detailModel) ShortHelp() []key.Binding {
	k := d.keys
	return []key.Binding{k.Back, k.Reply, k.Note, k.Status, k.Assign, k.Down, k.Command}
}

func (d *detailModel) FullHelp() [][]key.Binding { return d.keys.FullHelp() }

func loadDetail(st *store.Store, similar, solutions similarFunc, id store.TicketID, req uint64) tea.Cmd {
	return func() tea.Msg {
		t, err := st.Get(id)
		if err != nil {
			return detailLoadedMsg{req: req, err: fmt.Errorf("reading %s: %w", id, err)}
		}
		h, err := st.History(id)
		msg := detailLoadedMsg{req: req, ticket: t, history: h, err: err}
		if similar != nil && err == nil {
			// A failing index leaves the list empty; the ticket still shows.
			msg.similar, _ = similar(t, h, 4)
			if msg.similar == nil {
				msg.similar = []search.Hit{}
			}
			if solutions != nil {
				msg.solutions, _ = solutions(t, h, 3)
			}
		}
		return msg
	}
}

func (d *detailModel) SetSize(w, h int) {
	d.width, d.height = w, h
	d.vp.SetWidth(w)
	d.vp.SetHeight(max(h-clockLines, 1))
	d.layout()
}

func (d *detailModel) SetTicket(t store.Ticket, h []store.Event) {
	keepOffset := d.loaded && d.id == t.ID
	d.id, d.ticket, d.history, d.loaded, d.err = t.ID, t, h, true, nil
	off := d.vp.YOffset()
	d.layout()
	if keepOffset {
		d.vp.SetYOffset(off)
	} else {
		d.vp.GotoTop()
	}
}

func (d *detailModel) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, d.keys.Top):
			d.vp.GotoTop()
			return nil
		case key.Matches(km, d.keys.Bottom):
			d.vp.GotoBottom()
			return nil
		}
	}
	d.vp, cmd = d.vp.Update(msg)
	return cmd
}

// maxShownBody caps what one event shows in the pane.
const maxShownBody = 32 << 10

// clockLines is the fixed header above the scrolling part: the live clocks
// stay in view however far the history is scrolled.
const clockLines = 6

func (d *detailModel) View() string {
	if d.err != nil {
		return d.styles.FlashErr.Render(pad(d.err.Error(), d.width))
	}
	if !d.loaded {
		return d.styles.Dim.Render(pad("  no ticket selected", d.width))
	}
	return d.clocks() + "\n" + d.vp.View()
}

// clocks renders the title and both SLA clocks, projected to now; this is
// the only part that changes with time.
func (d *detailModel) clocks() string {
	t := &d.ticket
	title := d.styles.Title.Render(pad(t.ID.String()+"  "+SafeLine(t.Subject), d.width))
	c := d.policy.ProjectFor(string(t.Type), slaengine.Priority(t.Priority), t.SLA, d.now)
	line := func(name string, k slaengine.Clock) string {
		var s string
		switch {
		case k.State == slaengine.StateMet:
			s = "met at " + k.Stopped.In(d.loc).Format("Mon 02 Jan 15:04")
		case k.State == slaengine.StateBreached && !k.Running:
			s = "breached (stopped " + k.Stopped.In(d.loc).Format("Mon 02 Jan 15:04") + ")"
		case k.State == slaengine.StatePaused:
			s = "paused, " + FormatLeft(d.policy, t, k.Left) + " left"
		case k.State == slaengine.StateBreached:
			s = "BREACHED " + FormatLeft(d.policy, t, k.Left) + " (due " + k.Due.In(d.loc).Format("Mon 02 Jan 15:04") + ")"
		case k.Running:
			s = FormatLeft(d.policy, t, k.Left) + " left, due " + k.Due.In(d.loc).Format("Mon 02 Jan 15:04")
			if h, ok := k.HeldAt(d.now); ok {
				s = "held: window until " + h.To.In(d.loc).Format("15:04") + " · " + s
			}
		default:
			s = FormatLeft(d.policy, t, k.Left) + " left, due " + k.Due.In(d.loc).Format("Mon 02 Jan 15:04")
		}
		return d.styles.Label.Render(fmt.Sprintf("%-11s", name)) + d.styles.SLA[k.State].Render(slaMarker(k.State)+s)
	}
	return title + "\n" + d.fieldLines() + "\n" + line("response", c.Response) + "\n" + line("resolution", c.Resolution)
}

// fieldLines are the fields triage changes: they stay in view however far
// the history is scrolled, so the effect of a key is always visible.
func (d *detailModel) fieldLines() string {
	t := &d.ticket
	field := func(label, value string) string {
		return d.styles.Label.Render(label+" ") + d.styles.Value.Render(SafeLine(value))
	}
	assignee := t.Assignee
	if assignee == "" {
		assignee = "(unassigned)"
	}
	l1 := field("status", string(t.Status)) + "  " + field("priority", t.Priority.String()) + "  " + field("type", string(t.Type))
	l2 := field("queue", orDash(t.Queue)) + "  " + field("assignee", assignee) + "  " + field("team", orDash(t.Team))
	if t.Service != "" {
		l2 += "  " + field("service", t.Service)
	}
	req := t.Requester.Name
	if t.Requester.Email != "" {
		req += " <" + t.Requester.Email + ">"
	}
	if t.Requester.Organisation != "" {
		req += ", " + t.Requester.Organisation
	}
	l3 := field("requester", req)
	return truncateLine(l1, d.width) + "\n" + truncateLine(l2, d.width) + "\n" + truncateLine(l3, d.width)
}

// layout renders the fields and the history into the viewport.
func (d *detailModel) layout() {
	if !d.loaded || d.width <= 0 {
		return
	}
	t := &d.ticket
	w := d.width
	var b strings.Builder
	field := func(label, value string) string {
		return d.styles.Label.Render(fmt.Sprintf("%-10s ", label)) + d.styles.Value.Render(SafeLine(value))
	}
	fields := []string{
		field("created", t.Created.In(d.loc).Format("Mon 02 Jan 2006 15:04")) + "   " + field("updated", t.Updated.In(d.loc).Format("Mon 02 Jan 15:04")),
	}
	if t.Master != 0 {
		fields = append(fields, field("master", t.Master.String()))
	}
	if len(t.Links) > 0 {
		var ls []string
		for _, l := range t.Links {
			ls = append(ls, string(l.Kind)+" "+l.To.String())
		}
		fields = append(fields, field("links", strings.Join(ls, ", ")))
	}
	if len(t.External) > 0 {
		fields = append(fields, field("external", strings.Join(t.External, ", ")))
	}
	if t.Resolution != "" {
		fields = append(fields, field("resolution", firstLine(t.Resolution)))
	}
	if t.Peak != 0 && t.Peak <= 2 {
		// The close gate, said before anyone runs into it.
		state := "none yet: I writes it, a lead approves it with A"
		if r := t.Report; r != nil {
			state = fmt.Sprintf("version %d by %s, not approved yet (a lead: A)", r.Version, r.Author)
			if !r.Approved.IsZero() {
				state = fmt.Sprintf("version %d by %s, approved by %s %s", r.Version, r.Author, r.Approver, r.Approved.In(d.loc).Format("02 Jan 15:04"))
			}
		}
		if t.Peak != t.Priority {
			// Why a P3 needs a report: it was more urgent once.
			state = "(was " + t.Peak.String() + ") " + state
		}
		fields = append(fields, field("report", state))
	}
	if mj := t.Major; mj != nil && !mj.Declared.IsZero() {
		state := fmt.Sprintf("%d update(s) sent · declared %s by %s · owner %s", mj.Updates, mj.Declared.In(d.loc).Format("02 Jan 15:04"), mj.By, orDash(mj.Owner))
		switch {
		case !mj.Ended.IsZero():
			state = "ended " + mj.Ended.In(d.loc).Format("02 Jan 15:04") + " · " + state
		case !mj.NextUpdate.IsZero():
			state = "next update due " + mj.NextUpdate.In(d.loc).Format("02 Jan 15:04") + " (U) · " + state
		}
		fields = append(fields, field("major", state))
	}
	fields = append(fields, d.ladderLines(field)...)
	for i, h := range d.solutions {
		label := ""
		if i == 0 {
			label = "known"
		}
		fields = append(fields, field(label, fmt.Sprintf("%s %s %s (solved %d)", h.Article.ID, h.Article.Kind, h.Article.Title, h.Article.Applied)))
	}
	if len(d.solutions) > 0 && d.ticket.Status.Active() {
		fields = append(fields, d.styles.Dim.Render("           K applies "+d.solutions[0].Article.ID.String()+" as the resolution"))
	}
	for i, h := range d.similar {
		label := ""
		if i == 0 {
			label = "similar"
		}
		fields = append(fields, field(label, fmt.Sprintf("%s %s %s", h.Ticket.ID, h.Ticket.Status, h.Ticket.Subject)))
	}
	for _, f := range fields {
		b.WriteString(truncateLine(f, w))
		b.WriteString("\n")
	}
	b.WriteString(d.styles.Header.Render(pad(fmt.Sprintf("── history (%d events) ", len(d.history)), w)))
	b.WriteString("\n")
	for _, e := range d.history {
		b.WriteString(d.renderEvent(e, w))
	}
	d.vp.SetContent(b.String())
}

func (d *detailModel) renderEvent(e store.Event, w int) string {
	meta := d.styles.EventMeta.Render(e.At.In(d.loc).Format("02 Jan 15:04") + " " + SafeLine(e.Actor) + " ")
	var head, body string
	switch e.Kind {
	case store.EvCreated:
		head = "created"
		if e.Created != nil {
			head += fmt.Sprintf(" %s %s %s", e.Created.Priority, e.Created.Type, orDash(e.Created.Queue))
		}
	case store.EvMessageIn, store.EvMessageOut:
		dir := "message from"
		if e.Actor == "mail" {
			dir = "from" // the actor column already says "mail"
		}
		who := ""
		if m := e.Message; m != nil {
			who = strings.TrimSpace(m.From.Name)
			switch {
			case who == "":
				who = m.From.Email
			case m.From.Email != "":
				who += " <" + m.From.Email + ">"
			}
		}
		if e.Kind == store.EvMessageOut {
			dir = "reply to"
			if e.Message != nil {
				who = strings.Join(e.Message.To, ", ")
			}
		}
		head = dir + " " + who
		if m := e.Message; m != nil {
			if m.Auto {
				head += " (automatic: not acknowledged)"
			}
			body = m.Body
			for _, a := range m.Attachments {
				note := ""
				if a.Blob == "" {
					note = ", content not kept (over the size limit)"
				}
				body += fmt.Sprintf("\n[attachment] %s (%s, %s%s)", a.Name, a.ContentType, humanBytes(a.Size), note)
			}
			for _, p := range m.Problems {
				body += "\n[problem] " + p
			}
		}
	case store.EvNote:
		head, body = "note", e.Text
	case store.EvField:
		head = fmt.Sprintf("%s: %s → %s", e.Field, orDash(e.From), orDash(e.To))
		if e.Text != "" {
			head += " (" + e.Text + ")" // an undo says so
		}
	case store.EvStatus:
		head = fmt.Sprintf("status: %s → %s", orDash(e.From), e.To)
		if e.Text == "undo" {
			head += " (undo)"
		} else {
			body = e.Text
		}
	case store.EvLinked:
		if e.Link != nil {
			head = "linked: " + string(e.Link.Kind) + " " + e.Link.To.String()
		}
	case store.EvResponded:
		head = "first response given"
	case store.EvReport:
		head = "incident report written"
		if e.Report != nil {
			body = store.ReportText(*e.Report)
		}
	case store.EvApproved:
		head = "incident report approved"
		body = e.Text
	case store.EvEscalation:
		head = "escalation"
		if x := e.Escalation; x != nil {
			head = "escalated: " + x.Clock + " " + x.Step
			if x.Clock == store.ClockUpdate {
				head = "status update due: owner reminded"
			}
			if x.Late {
				head += " (late: no desk process ran when it came due)"
			}
			var told []string
			for _, w := range x.Told {
				told = append(told, w.Who+" by "+w.Via)
			}
			if len(told) > 0 {
				body = "told " + strings.Join(told, ", ")
			}
		}
	case store.EvMajor:
		head, body = "major incident declared", e.Text
		if e.Major != nil && e.Major.Service != "" {
			head += " for " + e.Major.Service
		}
		if e.Message != nil && len(e.Message.To) > 0 {
			head += fmt.Sprintf(", %d subscriber(s) told", len(e.Message.To))
		}
	case store.EvMajorNote:
		head, body = "status update published", e.Text
		if e.Message != nil && len(e.Message.To) > 0 {
			head += fmt.Sprintf(" to %d subscriber(s)", len(e.Message.To))
		}
	case store.EvMajorEnd:
		head = "major incident ended"
		if e.Message != nil && len(e.Message.To) > 0 {
			head += fmt.Sprintf(", %d subscriber(s) told", len(e.Message.To))
		}
	default:
		head = string(e.Kind)
	}
	var b strings.Builder
	b.WriteString(truncateLine(meta+d.styles.Event.Render(SafeLine(head)), w))
	b.WriteString("\n")
	if len(body) > maxShownBody {
		// A mail of megabytes would freeze the pane on every change; the
		// whole text stays in the store and `desk show` prints it.
		body = body[:maxShownBody] + fmt.Sprintf("\n[… %s more: desk show %s prints it all]", humanBytes(int64(len(body)-maxShownBody)), e.Ticket)
	}
	if body = strings.TrimSpace(SafeText(body)); body != "" {
		wrapped := lipgloss.NewStyle().Width(max(w-2, 10)).Render(body)
		for _, ln := range strings.Split(wrapped, "\n") {
			b.WriteString("  " + strings.TrimRight(ln, " ") + "\n")
		}
	}
	return b.String()
}

func truncateLine(s string, w int) string {
	if lipgloss.Width(s) > w {
		return ansiTruncate(s, w)
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ladderLines are the ticket's escalation steps: those fired (in Fired)
// and, for a running clock, when the next ones come due.
func (d *detailModel) ladderLines(field func(label, value string) string) []string {
	t := &d.ticket
	typ, prio := string(t.Type), slaengine.Priority(t.Priority)
	var fired, pending []string
	for _, k := range t.Fired {
		if p, rest, ok := strings.Cut(k, "/"); ok && p == t.Priority.String() {
			fired = append(fired, rest)
		} else {
			fired = append(fired, k)
		}
	}
	if t.Status.Active() {
		for _, step := range d.policy.Ladder(typ, prio) {
			for _, k := range [2]struct {
				name string
				c    slaengine.Clock
			}{{"response", t.SLA.Response}, {"resolution", t.SLA.Resolution}} {
				name, c := k.name, k.c
				key := store.Escalation{Priority: t.Priority, Clock: name, Step: step.Name}.Key()
				if !step.Watches(name) || !c.Running || slices.Contains(t.Fired, key) {
					continue
				}
				if at := d.policy.StepWhen(typ, prio, step, c); !at.IsZero() {
					pending = append(pending, name+"/"+step.Name+" "+at.In(d.loc).Format("02 Jan 15:04"))
				}
			}
		}
	}
	var out []string
	if len(fired) > 0 {
		out = append(out, field("escalated", strings.Join(fired, ", ")))
	}
	if len(pending) > 0 {
		out = append(out, field("next steps", strings.Join(pending, ", ")))
	}
	return out
}
