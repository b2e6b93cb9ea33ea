package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/deskhq/desk/slaengine"
)

// statusLine is the top line: what is burning, the mailbox, who is logged
// in and the time. Narrow terminals get the same facts in fewer words.
func (m *Model) statusLine() string {
	s := m.queues.snap
	st := m.styles
	narrow := m.width < 110
	parts := []string{"desk"}
	if m.o.StoreName != "" && m.width >= 160 {
		parts = append(parts, m.o.StoreName)
	}
	warning := s.Warning
	if narrow {
		// the SLA column's own markers: ! breached, * warning
		parts = append(parts, fmt.Sprintf("%d open", s.Active), fmt.Sprintf("%d! %d*", s.Breached, warning))
	} else {
		parts = append(parts, fmt.Sprintf("%d open", s.Active), fmt.Sprintf("%d breached, %d warning", s.Breached, warning))
	}
	if s.NextBreach != nil {
		left := strings.TrimSpace(FormatLeft(m.o.Board.Policy(), &s.NextBreach.T, m.nextBreachLeft()))
		if narrow {
			parts = append(parts, fmt.Sprintf("next %s %s", s.NextBreach.T.ID, left))
		} else {
			parts = append(parts, fmt.Sprintf("next breach %s %s in %s", s.NextBreach.T.ID, s.NextBreach.T.Priority, left))
		}
	}
	if m.o.MailStatus != nil {
		ms := "mail " + m.mail.State
		if m.mail.Detail != "" && m.mail.State == "error" {
			ms += ": " + SafeLine(m.mail.Detail)
		}
		if !m.mail.LastMail.IsZero() && !narrow {
			ms += ", last " + m.mail.LastMail.In(m.loc).Format("15:04")
		}
		if m.mail.Outbox > 0 {
			ms += fmt.Sprintf(", %d unsent", m.mail.Outbox)
		}
		parts = append(parts, ms)
	}
	right := fmt.Sprintf("%s (%s) %s", m.o.Operator, m.o.Role, m.now.In(m.loc).Format("15:04:05"))
	if narrow {
		right = fmt.Sprintf("%s %s", m.o.Operator, m.now.In(m.loc).Format("15:04:05"))
	}
	if m.disk != "" {
		// Nothing can be saved: that outranks every countdown.
		parts = append([]string{m.disk}, parts...)
	}
	left := " " + strings.Join(parts, " · ")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		left = ansiTruncate(left, max(m.width-lipgloss.Width(right)-2, 0))
		gap = max(m.width-lipgloss.Width(left)-lipgloss.Width(right)-1, 1)
	}
	line := left + strings.Repeat(" ", gap) + right + " "
	style := st.Status
	if m.mail.State == "error" || m.disk != "" {
		style = st.StatusErr
	} else if s.Hot.Len() > 0 {
		style = st.StatusWarn
	}
	return style.Render(pad(line, m.width))
}

func (m *Model) nextBreachLeft() time.Duration {
	r := m.queues.snap.NextBreach
	c, _ := m.o.Board.Policy().ProjectFor(string(r.T.Type), slaengine.Priority(r.T.Priority), r.T.SLA, m.now).Next()
	return c.Left
}
