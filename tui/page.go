package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// pageModel shows a read-only page (outbox, quarantine, report) over the
// list; esc or q closes it.
type pageModel struct {
	styles *Styles
	title  string
	vp     viewport.Model
	active bool
}

func newPageModel(s *Styles) pageModel { return pageModel{styles: s, vp: viewport.New(0, 0)} }

func (p *pageModel) SetSize(w, h int) { p.vp.Width, p.vp.Height = w, max(h-2, 1) }

func (p *pageModel) Open(title, content string) {
	p.title, p.active = title, true
	p.vp.SetContent(content)
	p.vp.GotoTop()
}

func (p pageModel) Update(msg tea.Msg) (pageModel, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch km.String() {
		case "esc", "q", "?":
			p.active = false
			return p, nil
		case "g", "home":
			p.vp.GotoTop()
			return p, nil
		case "G", "end":
			p.vp.GotoBottom()
			return p, nil
		}
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

func (p pageModel) View() string {
	return p.styles.Title.Render(p.title) + "\n" + p.vp.View() + "\n" + p.styles.Dim.Render("j/k scroll · esc close")
}

func (m *Model) showOutbox() tea.Cmd {
	mails, err := m.o.Store.OutboxAll(500)
	if err != nil {
		m.setFlash("reading the outbox: "+err.Error(), true)
		return nil
	}
	var b strings.Builder
	if len(mails) == 0 {
		b.WriteString("The outbox is empty: no mail has been queued yet.\n")
	}
	for _, o := range mails {
		state := "sent " + o.Sent.In(m.loc).Format("02 Jan 15:04:05")
		if !o.Sent.IsZero() && o.LastError != "" {
			state += ", but " + SafeLine(o.LastError) // some recipients refused it
		} else if o.Sent.IsZero() && !o.Failed.IsZero() {
			state = "FAILED " + o.Failed.In(m.loc).Format("02 Jan 15:04:05") + ", not retried: " + SafeLine(o.LastError)
		} else if o.Sent.IsZero() {
			state = fmt.Sprintf("queued, %d attempts, next try %s", o.Attempts, o.NextTry.In(m.loc).Format("15:04:05"))
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
	m.page.Open(fmt.Sprintf("Outbox (%d, newest first)", len(mails)), b.String())
	return nil
}

func (m *Model) showQuarantine() tea.Cmd {
	qs, err := m.o.Store.QuarantineHeaders(500)
	if err != nil {
		m.setFlash("reading the quarantine: "+err.Error(), true)
		return nil
	}
	var b strings.Builder
	if len(qs) == 0 {
		b.WriteString("Nothing in quarantine.\n")
	}
	for _, q := range qs {
		fmt.Fprintf(&b, "#%d  %s  from %s\n    %s\n    reason: %s (%d bytes kept)\n", q.ID, q.At.In(m.loc).Format("02 Jan 15:04"),
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
	m.page.Open(fmt.Sprintf("Quarantine (%d, newest first)", len(qs)), b.String())
	return nil
}
