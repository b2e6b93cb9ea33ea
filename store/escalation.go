package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// Escalation steps fire here, in the store, like every other change: the
// ladder is the policy's (slaengine), the index of when each active
// ticket's next step comes due is written with the ticket, and a step's
// event and its mail are one transaction — so a step fires once, and a
// crash between its due time and its mail sends it once after restart.

// Escalation is what an escalation event records.
type Escalation struct {
	Priority Priority  `json:"priority"`
	Clock    string    `json:"clock"` // "response" or "resolution"
	Step     string    `json:"step"`
	Due      time.Time `json:"due"`
	// Late: the step came due while no desk process ran (it fired more
	// than lateAfter after its due time).
	Late bool   `json:"late,omitempty"`
	Told []Told `json:"told,omitempty"`
}

// Told is one person or address a step reached, and how.
type Told struct {
	Who     string `json:"who"`               // an operator's name, "oncall:incident-manager", "team:security", an address
	Address string `json:"address,omitempty"` // where the mail went
	Via     string `json:"via"`               // mail, console, webhook
}

// Key is the step's name in Ticket.Fired: once per priority, clock and step.
func (x Escalation) Key() string { return x.Priority.String() + "/" + x.Clock + "/" + x.Step }

// lateAfter: a worker checks every few seconds, so a step fired later than
// this after its due time came due while nobody ran.
const lateAfter = time.Minute

// Directory is who the ladder's names are: operators' addresses, the
// leads, the teams' addresses and the on-call roster. cmd/desk sets it from
// the config at start and on every reload.
type Directory struct {
	Operators map[string]string // operator name -> mail address ("" none)
	Leads     []string
	Teams     map[string]string // team -> mail address
	Roster    slaengine.Roster
	// Console is the address the console shows in mails ("ssh -p 2222
	// desk.example.org"), "" for none.
	Console string
	// Services in config order; Cadence is when major-incident updates
	// are due (zero Every: Borger.dk's table on the business calendar).
	Services []Service
	Cadence  slaengine.UpdateCadence
	// Webhook is where steps that tell "webhook" POST their JSON ("" none).
	Webhook string
	// StatusURL is the status page's address as subscribers reach it
	// ("https://status.example.org"): confirmation and unsubscribe links.
	StatusURL string
	// Windows are the notice rules of planned service windows.
	Windows WindowRules
}

// SetDirectory sets whom escalation steps reach, the services and the
// window rules. Switching WindowRules.PauseSLA moves the deadlines of the
// tickets of services with windows (a failure is logged: the clocks then
// follow at each ticket's next change).
func (s *Store) SetDirectory(d Directory) {
	old := s.directory.Swap(&d)
	if (old != nil && old.Windows.PauseSLA) == d.Windows.PauseSLA {
		return
	}
	h := s.holds.Load()
	if h == nil {
		return
	}
	since := s.now().AddDate(0, 0, -90)
	services := map[string]bool{}
	for svc, hs := range *h {
		for _, x := range hs {
			if x.To.After(since) {
				services[svc] = true
			}
		}
	}
	if len(services) == 0 {
		return
	}
	if err := s.recomputeServices(services); err != nil {
		s.logf("SLA clocks during service windows: %v", err)
	}
}

func (s *Store) people() Directory {
	if d := s.directory.Load(); d != nil {
		return *d
	}
	return Directory{}
}

var clockNames = [2]string{"response", "resolution"}

func clockOf(c *slaengine.Clocks, name string) slaengine.Clock {
	if name == "response" {
		return c.Response
	}
	return c.Resolution
}

// nextEscalation is when t's next unfired step comes due, zero when none
// can while its clocks stay as they are (stopped, paused, no ladder).
func (s *Store) nextEscalation(t *Ticket) time.Time {
	if !t.Status.Active() {
		return time.Time{}
	}
	var next time.Time
	if m := t.Major; m.Open() && m.Reminded <= m.Updates {
		next = m.NextUpdate
	}
	p := s.policy.Load()
	if p == nil {
		return next
	}
	prio := slaengine.Priority(t.Priority)
	for _, step := range p.Ladder(string(t.Type), prio) {
		for _, name := range clockNames {
			if !step.Watches(name) || slices.Contains(t.Fired, (Escalation{Priority: t.Priority, Clock: name, Step: step.Name}).Key()) {
				continue
			}
			w := p.StepWhen(string(t.Type), prio, step, clockOf(&t.SLA, name))
			if !w.IsZero() && (next.IsZero() || w.Before(next)) {
				next = w
			}
		}
	}
	return next
}

// FireEscalations fires every step due at now, each in one transaction
// with its mail; it returns how many fired.
func (s *Store) FireEscalations(now time.Time) (int, error) {
	var ids []TicketID
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pEscalate}, true, func(item *badger.Item) (bool, error) {
			k := item.Key()
			if len(k) != 17 {
				return true, nil
			}
			if keyTime(binary.BigEndian.Uint64(k[1:9])).After(now) {
				return false, nil
			}
			ids = append(ids, idSuffix(k))
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	fired := 0
	var errs []error
	for _, id := range ids {
		n, err := s.fireTicket(id, now)
		fired += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return fired, errors.Join(errs...)
}

func (s *Store) fireTicket(id TicketID, now time.Time) (int, error) {
	unlock := s.lockTicket(id)
	defer unlock()
	n := 0
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		n = 0
		w.escalating = true
		cur, err := getTicket(txn, id)
		if err != nil {
			return err
		}
		evs := s.dueSteps(cur, now)
		n = len(evs)
		if n == 0 {
			// Nothing due after all (a write moved the clocks): the
			// projection is written again so the index says when instead.
			if !cur.EscalateAt.IsZero() && cur.EscalateAt.After(now) {
				return nil
			}
			_, err := s.appendIn(txn, w, cur, nil, "escalation")
			return err
		}
		_, err = s.appendIn(txn, w, cur, evs, "escalation")
		return err
	})
	return n, err
}

// dueSteps are the events of the steps due on cur at now.
func (s *Store) dueSteps(cur Ticket, now time.Time) []Event {
	if !cur.Status.Active() {
		return nil
	}
	var evs []Event
	if e, ok := s.updateReminder(cur, now); ok {
		evs = append(evs, e)
	}
	p := s.policy.Load()
	if p == nil {
		return evs
	}
	prio := slaengine.Priority(cur.Priority)
	typ := string(cur.Type)
	clocks := p.ProjectFor(typ, prio, cur.SLA, now)
	d := s.people()
	for _, step := range p.Ladder(typ, prio) {
		for _, name := range clockNames {
			x := Escalation{Priority: cur.Priority, Clock: name, Step: step.Name}
			if !step.Watches(name) || slices.Contains(cur.Fired, x.Key()) || !step.Due(clockOf(&clocks, name)) {
				continue
			}
			x.Due = p.StepWhen(typ, prio, step, clockOf(&cur.SLA, name))
			if x.Due.IsZero() || x.Due.After(now) {
				x.Due = now
			}
			x.Late = now.Sub(x.Due) > lateAfter
			var to []string
			x.Told, to = d.resolve(step, cur, now)
			e := Event{Kind: EvEscalation, Escalation: &x}
			if len(to) > 0 {
				e.Message = &Message{To: to, Subject: escalationSubject(cur, x), Body: s.escalationBody(cur, x, clockOf(&clocks, name), d)}
			}
			evs = append(evs, e)
		}
	}
	return evs
}

// resolve names whom step tells about t: the Told list and the mail
// recipients (deduplicated).
func (d Directory) resolve(step slaengine.Step, t Ticket, now time.Time) ([]Told, []string) {
	var told []Told
	var to []string
	mail := slices.Contains(step.Via, slaengine.ViaMail)
	console := slices.Contains(step.Via, slaengine.ViaConsole)
	webhook := slices.Contains(step.Via, slaengine.ViaWebhook)
	addMail := func(who, addr string) {
		if !mail || addr == "" {
			return
		}
		if !slices.ContainsFunc(to, func(a string) bool { return strings.EqualFold(a, addr) }) {
			to = append(to, addr)
		}
		told = append(told, Told{Who: who, Address: addr, Via: slaengine.ViaMail})
	}
	addOperator := func(name string) {
		addMail(name, d.Operators[name])
		if console {
			told = append(told, Told{Who: name, Via: slaengine.ViaConsole})
		}
	}
	leads := func() {
		for _, l := range d.Leads {
			addOperator(l)
		}
	}
	for _, n := range step.Notify {
		switch n {
		case slaengine.NotifyAssignee:
			switch {
			case t.Assignee != "":
				addOperator(t.Assignee)
			case t.Team != "" && d.Teams[t.Team] != "":
				addMail("team:"+t.Team, d.Teams[t.Team])
			default:
				leads() // nobody has it: the leads must hand it out
			}
		case slaengine.NotifyTeam:
			if t.Team != "" && d.Teams[t.Team] != "" {
				addMail("team:"+t.Team, d.Teams[t.Team])
			} else {
				leads()
			}
		case slaengine.NotifyLeads:
			leads()
		case slaengine.NotifyOnCall:
			if oc, ok := d.Roster.At(now); ok {
				addMail("oncall:"+oc.Name, oc.Contact)
			}
		default:
			addMail(n, n)
		}
	}
	if webhook {
		// Address empty: the step asks for one and the config has none
		// ([webhook] url); the history says so rather than pretend.
		told = append(told, Told{Who: "webhook", Address: d.Webhook, Via: slaengine.ViaWebhook})
	}
	return told, to
}

func escalationSubject(t Ticket, x Escalation) string {
	return fmt.Sprintf("Escalation %s: %s %s %s", x.Step, t.Priority, t.Type, stripReply(t.Subject))
}

func (s *Store) escalationBody(t Ticket, x Escalation, c slaengine.Clock, d Directory) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: %s\n\n", TicketPlaceholder, t.Priority, t.Type, t.Subject)
	state := fmt.Sprintf("%s of the %s target used", pct(c), x.Clock)
	if c.State == slaengine.StateBreached {
		state = fmt.Sprintf("the %s target was missed at %s", x.Clock, c.Due.UTC().Format("Mon 02 Jan 15:04 UTC"))
	}
	fmt.Fprintf(&b, "Escalation step %q: %s.\n", x.Step, state)
	if x.Late {
		fmt.Fprintf(&b, "This step came due at %s while no desk was running; it is sent late.\n", x.Due.UTC().Format("Mon 02 Jan 15:04 UTC"))
	}
	who := t.Assignee
	if who == "" {
		who = "nobody yet"
	}
	fmt.Fprintf(&b, "\nStatus %s, queue %s, assigned to %s", t.Status, t.Queue, who)
	if t.Team != "" {
		fmt.Fprintf(&b, ", with team %s", t.Team)
	}
	fmt.Fprintf(&b, ".\nRequester: %s <%s>\n", t.Requester.Name, t.Requester.Email)
	if d.Console != "" {
		fmt.Fprintf(&b, "\nOpen it: %s, then :%s\n", d.Console, TicketPlaceholder)
	}
	return b.String()
}

func pct(c slaengine.Clock) string {
	if c.Target <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", int(100*float64(c.Used)/float64(c.Target)))
}

// RunEscalations fires due steps every interval until ctx ends: the
// process that holds the store runs it (console, desk serve, desk mail).
func (s *Store) RunEscalations(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if n, err := s.FireEscalations(s.now()); err != nil {
			if s.closed.Load() {
				return
			}
			s.logf("escalation: %v (tried again in %s)", err, every)
		} else if n > 0 {
			s.logf("escalation: %d step(s) fired", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Roster is who is on call, as the config in force says.
func (s *Store) Roster() slaengine.Roster { return s.people().Roster }
