package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// flash is the message of the latest action, shown in the footer until it
// expires. A long one wraps at word boundaries onto a second or third
// line instead of being cut mid-word.
type flash struct {
	text  string
	err   bool
	until time.Time
}

func (f flash) expired(now time.Time) bool { return !f.until.IsZero() && now.After(f.until) }

func (m *Model) setFlash(s string, isErr bool) {
	m.relayoutAfter(func() {
		m.flash = flash{text: s, err: isErr, until: m.o.Now().Add(6 * time.Second)}
		m.undo = undoable{} // only the newest change can be undone, while it is shown
	})
}

// relayoutAfter runs change and lays the panes out again only when it
// moved the footer's height: a layout re-renders the open ticket's history.
func (m *Model) relayoutAfter(change func()) {
	change()
	m.relayout()
}

// footerHeight is 1, or up to 3 while a long message is shown.
func (m *Model) footerHeight() int {
	if m.flash.text == "" || m.prompt.Active() || m.width <= 0 {
		return 1
	}
	return min(len(m.flashLines()), 3)
}

func (m *Model) flashLines() []string {
	w := max(m.width-1, 10)
	wrapped := lipgloss.NewStyle().Width(w).Render(m.flash.text)
	return strings.Split(wrapped, "\n")
}

// footer is the prompt while one is open, else the latest message, else
// the keys that matter most: help and quit always, the rest as they fit.
func (m *Model) footer() string {
	if m.prompt.Active() {
		return m.prompt.View()
	}
	if m.flash.text != "" {
		st := m.styles.Flash
		if m.flash.err {
			st = m.styles.FlashErr
		}
		lines := m.flashLines()
		if len(lines) > 3 {
			lines = lines[:3]
			lines[2] = ansiTruncate(lines[2]+" …", m.width)
		}
		for i, l := range lines {
			lines[i] = st.Render(pad(l, m.width))
		}
		return strings.Join(lines, "\n")
	}
	return m.hints()
}

// hints puts ? and q first (outside overlays): at 80 columns the help that
// would name every other key must never be what falls off the end.
func (m *Model) hints() string {
	var keys []key.Binding
	switch {
	case m.overlay != nil:
		// In a composer or form ? and q are letters: the overlay's own keys.
		keys = m.overlay.ShortHelp()
	case m.focusDetail:
		keys = append([]key.Binding{m.keys.Help, m.keys.Quit}, m.detail.ShortHelp()...)
	default:
		keys = append([]key.Binding{m.keys.Help, m.keys.Quit}, m.list.ShortHelp()...)
	}
	h := m.styles.help()
	h.SetWidth(m.width)
	return fitHeight(h.ShortHelpView(keys), 1, m.width)
}
