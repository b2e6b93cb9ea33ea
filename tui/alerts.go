package tui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/board"
)

// Alerts reach the operator on every session they have open: the board
// makes each alert once (board.Alert), and each session takes from the
// snapshot those for its operator that it has not seen yet, rings the
// terminal bell once for them and shows the newest in the status line.

// alertShown is how long an alert stays in the status line: long enough
// for an operator who went for coffee when the bell rang.
const alertShown = 5 * time.Minute

// alerts is the session's side of the alerts.
type alerts struct {
	seen  uint64      // the newest alert this session has handled
	last  board.Alert // the newest for this operator
	count int         // how many arrived while last was shown
	until time.Time
}

// bellOn reports whether this session rings the bell: as configured, else
// on for operators and leads and off for viewers.
func (m *Model) bellOn() bool {
	if m.o.Bell != nil {
		return *m.o.Bell
	}
	return m.o.Role != RoleViewer
}

// takeAlerts handles the snapshot's alerts not seen yet: the status line
// shows the newest for this operator, and the bell rings once for them
// all. Called on every new snapshot, never on a tick, so an alert rings
// once.
func (m *Model) takeAlerts(s *Snapshot) tea.Cmd {
	if s == nil {
		return nil
	}
	mine := 0
	for _, a := range s.AlertsSince(m.alerts.seen) {
		m.alerts.seen = a.Seq
		if !a.For(m.o.Operator) {
			continue
		}
		mine++
		if m.alerts.until.IsZero() || m.o.Now().After(m.alerts.until) {
			m.alerts.count = 0
		}
		m.alerts.last, m.alerts.until = a, m.o.Now().Add(alertShown)
		m.alerts.count++
	}
	if mine == 0 || !m.bellOn() {
		return nil
	}
	return bell
}

// bell rings the terminal bell: BEL written as is to the program's output
// (tea.Printf prints nothing while the alternate screen is on). BEL moves
// no cursor, so the renderer's picture of the screen stays true.
var bell = tea.Raw("\a")

// alertText is what the status line says about alerts, "" when none is
// shown.
func (m *Model) alertText(narrow bool) string {
	a := &m.alerts
	if !m.alertShown() {
		return ""
	}
	s := "ALERT " + a.last.Text
	if a.count > 1 {
		s = fmt.Sprintf("ALERT (%d) %s", a.count, a.last.Text)
	}
	if !narrow {
		s += " (" + a.last.At.In(m.loc).Format("15:04") + ")"
	}
	return s
}

// alertShown reports whether an alert is in its time on screen.
func (m *Model) alertShown() bool {
	return !m.alerts.until.IsZero() && !m.now.After(m.alerts.until)
}
