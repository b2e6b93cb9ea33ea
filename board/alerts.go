package board

import (
	"slices"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// Alerts are what must reach operators at once, on every session they
// have open: a new (or raised) P1/P2, an escalation step that names them on
// the console, a breach on a ticket they hold. The board sees every change,
// so it makes them once; each session picks those for its operator from
// the snapshot by sequence number, so an alert rings once per session
// however often the session redraws.

// Alert kinds.
const (
	AlertNew        = "new"        // a new P1/P2, for everyone
	AlertRaised     = "raised"     // raised to P1/P2, for everyone
	AlertEscalation = "escalation" // a ladder step that tells operators on the console
	AlertBreach     = "breach"     // a clock of an assigned ticket breached, for the assignee
)

// Alert is one alert; Seq orders them and never repeats.
type Alert struct {
	Seq    uint64
	At     time.Time
	Kind   string
	Ticket store.TicketID
	// Text is one terminal-safe line: "SD-7 P1 new: borger.dk login down".
	Text string
	// To are the operators it is for; empty means every operator.
	To []string
}

// For reports whether the alert is for operator op.
func (a Alert) For(op string) bool { return len(a.To) == 0 || slices.Contains(a.To, op) }

// keptAlerts is how many recent alerts a snapshot carries: a session that
// is woken at least once per this many alerts misses none.
const keptAlerts = 64

// AlertsSince are the alerts of s after seq, oldest first.
func (s *Snapshot) AlertsSince(seq uint64) []Alert {
	i, _ := slices.BinarySearchFunc(s.Alerts, seq+1, func(a Alert, seq uint64) int {
		switch {
		case a.Seq < seq:
			return -1
		case a.Seq > seq:
			return 1
		}
		return 0
	})
	return s.Alerts[i:]
}

// LastAlert is the sequence number of the newest alert (0 for none): a
// new session starts from it, so what rang before it opened stays quiet.
func (s *Snapshot) LastAlert() uint64 {
	if len(s.Alerts) == 0 {
		return 0
	}
	return s.Alerts[len(s.Alerts)-1].Seq
}

// addAlert queues an alert for the next snapshot (b.mu held). Published
// snapshots keep their slices: the new one is always a copy.
func (b *Board) addAlert(a Alert, now time.Time) {
	b.alertSeq++
	a.Seq, a.At = b.alertSeq, now
	b.alerts = append(slices.Clip(b.alerts), a)
	if len(b.alerts) > keptAlerts {
		b.alerts = b.alerts[len(b.alerts)-keptAlerts:]
	}
}

func head(t *store.Ticket) string {
	return t.ID.String() + " " + t.Priority.String()
}

// changeAlerts are the alerts a ticket's change makes, old being its row
// before (nil for a new ticket); oldCode and code are its hot state
// before and after (b.mu held).
func (b *Board) changeAlerts(old, r *Row, oldCode, code uint8, now time.Time) {
	t := &r.T
	subj := termtext.Line(t.Subject)
	if t.Status.Active() && t.Priority >= 1 && t.Priority <= 2 {
		switch {
		case old == nil:
			b.addAlert(Alert{Kind: AlertNew, Ticket: t.ID, Text: head(t) + " new: " + subj}, now)
		case old.T.Priority > t.Priority:
			b.addAlert(Alert{Kind: AlertRaised, Ticket: t.ID, Text: head(t) + " raised from " + old.T.Priority.String() + ": " + subj}, now)
		}
	}
	if old != nil && code == codeBreached && oldCode != codeBreached {
		b.breachAlert(r, now)
	}
}

func (b *Board) breachAlert(r *Row, now time.Time) {
	t := &r.T
	if t.Assignee == "" {
		return // nobody holds it: the ladder's breach step tells the leads
	}
	b.addAlert(Alert{Kind: AlertBreach, Ticket: t.ID, To: []string{t.Assignee},
		Text: head(t) + " breached: " + termtext.Line(t.Subject)}, now)
}

// escalationAlerts are the alerts of the steps fired on t since old (its
// Fired before): one per step that tells operators on the console. They
// are read from the ticket's history, which only a firing makes worth
// reading.
func (b *Board) escalationAlerts(old []string, t store.Ticket) []Alert {
	var fresh []string
	for _, k := range t.Fired {
		if !slices.Contains(old, k) {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 || b.st == nil {
		return nil
	}
	h, err := b.st.History(t.ID)
	if err != nil {
		return nil // the ticket's next firing reads it again
	}
	var out []Alert
	for _, e := range h {
		x := e.Escalation
		if e.Kind != store.EvEscalation || x == nil || !slices.Contains(fresh, x.Key()) {
			continue
		}
		var to []string
		for _, told := range x.Told {
			if told.Via == slaengine.ViaConsole && !slices.Contains(to, told.Who) {
				to = append(to, told.Who)
			}
		}
		if len(to) == 0 {
			continue
		}
		out = append(out, Alert{Kind: AlertEscalation, Ticket: t.ID, To: to,
			Text: head(&t) + " escalated (" + x.Clock + " " + termtext.Line(x.Step) + "): " + termtext.Line(t.Subject)})
	}
	return out
}
