package demomail

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
)

// The demo desk: a backlog of a desk that has been running for a week and a
// half, and colleagues who work it while the user watches or joins in.
// Everything they do goes through the store's operations, under their own
// names, and never under the name of the user at the console.

// Clock is the demo's time: the backlog is registered in the past (so the
// SLA clocks show every state at once), then it runs at the base clock.
type Clock struct {
	base func() time.Time
	off  atomic.Int64
}

// NewClock returns a clock at base (time.Now when nil).
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the demo's time; give it to the store as its clock.
func (c *Clock) Now() time.Time { return c.base().Add(time.Duration(c.off.Load())) }

func (c *Clock) back(ago time.Duration) { c.off.Store(int64(-ago)) }

// Gap is the pause before demo mail number i arrives, for a pace unit of
// 4 s in the default demo: the first mail after half a unit and three more
// half a unit to 1.5 units apart (a newcomer sees mail become tickets
// within seconds),
// then one every 5–22.5 units (20–90 s), sometimes a second report of the
// same trouble close behind (1–3 units).
func Gap(i int, unit time.Duration, r *rand.Rand) time.Duration {
	switch {
	case i == 0:
		return unit / 2
	case i < 4:
		return unit/2 + time.Duration(r.Int64N(int64(unit)))
	case r.IntN(8) == 0:
		return unit + time.Duration(r.Int64N(int64(2*unit)))
	default:
		return 5*unit + time.Duration(r.Int64N(int64(35*unit/2)))
	}
}

// Desk plays the colleagues of a service desk.
type Desk struct {
	// Me is the user at the console: nothing the demo does is under this name.
	Me string
	// Colleagues act: take, answer, escalate, resolve and close tickets.
	// Those the store holds to be leads also approve incident reports.
	Colleagues []string
	Teams      []string // 3rd-level teams to escalate to
	Queue      string   // where new tickets land
	// Target is the number of active tickets the desk hovers around
	// (default 32): colleagues resolve more when there are more.
	Target int
	// Direct: there is no demo mailbox, so Step registers the mail itself,
	// at the pace of Gap.
	Direct bool
	// Mail words the acknowledgements of tickets the demo registers.
	Mail mailin.Config
	// Unit is one round of Step (default 4 s); Run steps once per Unit.
	Unit  time.Duration
	Clock *Clock
	Rand  *rand.Rand

	elapsed, nextMail time.Duration
	mails             int
	active            int // active tickets at the last look
	inBacklog         map[string]bool
}

const (
	defaultTarget = 32
	resolvedCap   = 10 // resolved tickets kept before the oldest are closed
	backlogSize   = 108
)

func (d *Desk) unit() time.Duration {
	if d.Unit <= 0 {
		return 4 * time.Second
	}
	return d.Unit
}

func (d *Desk) teams() []string {
	if len(d.Teams) == 0 {
		return []string{"operations", "application", "component", "security"}
	}
	return d.Teams
}

func (d *Desk) target() int {
	if d.Target <= 0 {
		return defaultTarget
	}
	return d.Target
}

// Run steps once per Unit until ctx ends; report gets what went wrong.
func (d *Desk) Run(ctx context.Context, st *store.Store, report func(error)) {
	t := time.NewTicker(d.unit())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.Step(st); err != nil && ctx.Err() == nil && report != nil {
			report(err)
		}
	}
}

// Step is one round (Unit) of the desk: maybe a mail (Direct) or a phone
// call, and maybe a colleague's next step on a ticket. A refusal or a
// conflict with someone else's edit is what happens on a desk, not an
// error: the colleague moves on.
func (d *Desk) Step(st *store.Store) error {
	u := d.unit()
	d.elapsed += u
	var errs []error
	for d.Direct && d.elapsed >= d.nextMail {
		errs = append(errs, d.mail(st))
		d.nextMail += Gap(d.mails, u, d.Rand)
		d.mails++
	}
	if d.Rand.IntN(150) == 0 && len(d.Colleagues) > 0 {
		errs = append(errs, d.phoneCall(st))
	}
	// Colleagues work harder when the desk fills up.
	busy := 0.45 + 0.06*float64(d.active-d.target())
	if d.Rand.Float64() < min(max(busy, 0.3), 0.9) && len(d.Colleagues) > 0 {
		errs = append(errs, d.work(st, d.Colleagues[d.Rand.IntN(len(d.Colleagues))]))
	}
	for i, err := range errs {
		if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrRefused) {
			errs[i] = nil
		}
	}
	return errors.Join(errs...)
}

// newTicket is what a requester's mail (or call) makes of an issue.
func (d *Desk) newTicket(st *store.Store, is issue, inbound bool, body string) store.NewTicket {
	now := d.Clock.Now()
	nt := store.NewTicket{Type: is.typ, Priority: is.prio, Subject: is.subject, Requester: is.req, Queue: d.Queue,
		Inbound: inbound, Message: &store.Message{From: is.req, Subject: is.subject, Body: body, Date: now}}
	if inbound {
		if d.Mail.Address != "" {
			nt.Message.To = []string{d.Mail.Address}
		}
		nt.Message.MessageID = fmt.Sprintf("demo.%d.%d@%s", now.UnixNano(), d.Rand.IntN(1e6), domainOf(is.req.Email))
	}
	nt.Ack = mailin.Acknowledgement(d.Mail, st.Policy(), &nt, now)
	return nt
}

func domainOf(addr string) string {
	if _, dom, ok := strings.Cut(addr, "@"); ok {
		return dom
	}
	return "mail.example"
}

// mail registers a requester's mail as the intake does (Direct only).
func (d *Desk) mail(st *store.Store) error {
	is := issues[d.Rand.IntN(len(issues))]
	_, err := st.Create("mail", d.newTicket(st, is, true, greeting(is)))
	return err
}

func greeting(is issue) string {
	first, _, _ := strings.Cut(is.req.Name, " ")
	return "Hello,\n\n" + is.body + "\n\nBest regards,\n" + first + "\n" + is.req.Organisation
}

// phoneCall: a colleague takes a call and registers it; the call is the
// first response.
func (d *Desk) phoneCall(st *store.Store) error {
	c := d.Colleagues[d.Rand.IntN(len(d.Colleagues))]
	is := issues[d.Rand.IntN(len(issues))]
	t, err := st.Create(c, d.newTicket(st, is, false, "Phone call from "+is.req.Name+": "+is.body))
	if err != nil {
		return err
	}
	if _, err := st.SetField(t.ID, c, store.FieldAssignee, "", c); err != nil {
		return err
	}
	_, err = st.MarkResponded(t.ID, c)
	return err
}

// desk is what a colleague sees before acting.
type deskView struct {
	active, resolved []store.Ticket
	mine             int // active tickets assigned to Me
}

func (d *Desk) look(st *store.Store) (deskView, error) {
	var v deskView
	err := st.Tickets(func(t store.Ticket) bool {
		switch {
		case t.Status.Active():
			v.active = append(v.active, t)
			if t.Assignee == d.Me {
				v.mine++
			}
		case t.Status == store.StatusResolved:
			v.resolved = append(v.resolved, t)
		}
		return true
	})
	return v, err
}

func (d *Desk) colleague(name string) bool {
	return name != d.Me && slices.Contains(d.Colleagues, name)
}

func (d *Desk) leads(st *store.Store) []string {
	var out []string
	for _, c := range d.Colleagues {
		if c != d.Me && st.RoleOf(c) == store.RoleLead {
			out = append(out, c)
		}
	}
	return out
}

// signed is a text to a requester with the colleague's signature.
func signed(text, who string) string {
	return text + "\n\n" + title(who) + ", 2nd-line support"
}

func title(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (d *Desk) pickText(texts []string) string { return texts[d.Rand.IntN(len(texts))] }

// work is one colleague's next step: the resolved queue tidied when it is
// long, else a ticket of theirs or an unassigned one, urgent ones first.
func (d *Desk) work(st *store.Store, c string) error {
	v, err := d.look(st)
	if err != nil {
		return err
	}
	d.active = len(v.active)
	// A major incident's subscribers are owed their update: its owner
	// (or, while nobody holds it, a lead) writes one when it falls due.
	now := d.Clock.Now()
	for _, t := range v.active {
		m := t.Major
		if !m.Open() || m.NextUpdate.IsZero() || m.NextUpdate.After(now) {
			continue
		}
		if t.Assignee == c || (t.Assignee == "" && slices.Contains(d.leads(st), c)) {
			_, err := st.PostUpdate(t.ID, c, d.pickText(statusUpdates))
			return err
		}
	}
	// The most urgent first: an unassigned P1 or P2, or one of c's own
	// that nobody has answered yet.
	var urgent *store.Ticket
	for i, t := range v.active {
		if t.Priority > 2 || !t.Responded.IsZero() || (t.Assignee != "" && t.Assignee != c) {
			continue
		}
		if urgent == nil || t.Priority < urgent.Priority || (t.Priority == urgent.Priority && t.Created.Before(urgent.Created)) {
			urgent = &v.active[i]
		}
	}
	if urgent != nil {
		return d.next(st, c, *urgent, v)
	}
	if over := len(v.resolved) - resolvedCap; over > 0 && d.Rand.Float64() < min(0.2+float64(over)/5, 0.6) {
		if did, err := d.closeOldest(st, c, v); did {
			return err
		}
	}
	var pool []store.Ticket
	var weights []int
	total := 0
	for _, t := range v.active {
		w := 0
		switch {
		case t.Assignee == "":
			w = 2
		case t.Assignee == c && t.Responded.IsZero():
			w = 6
		case t.Assignee == c:
			w = 2
		}
		if w > 0 {
			pool, weights = append(pool, t), append(weights, w)
			total += w
		}
	}
	if total == 0 {
		return nil
	}
	n := d.Rand.IntN(total)
	for i, w := range weights {
		if n < w {
			return d.next(st, c, pool[i], v)
		}
		n -= w
	}
	return nil
}

// pressure is how likely a ready ticket is resolved now: the fuller the
// desk, the more colleagues push tickets to done.
func (d *Desk) pressure(active int) float64 {
	lo, hi := float64(d.target()-10), float64(d.target()+4)
	p := (float64(active) - lo) / (hi - lo)
	return min(max(p, 0.03), 1)
}

// next does what comes next for ticket t, as colleague c.
func (d *Desk) next(st *store.Store, c string, t store.Ticket, v deskView) error {
	u := d.unit()
	since := d.Clock.Now().Sub(t.Updated)
	id := t.ID
	var err error
	switch {
	case t.Assignee == "":
		to := c
		if slices.Contains(d.leads(st), c) && d.Rand.IntN(4) == 0 {
			// A lead dispatches: to a colleague, now and then to you.
			if d.Me != "" && v.mine < 2 && d.Rand.IntN(3) == 0 {
				to = d.Me
			} else {
				to = d.Colleagues[d.Rand.IntN(len(d.Colleagues))]
			}
		}
		_, err = st.SetField(id, c, store.FieldAssignee, "", to)
	case t.Responded.IsZero() && t.Requester.Email != "":
		_, err = st.Reply(id, c, signed(d.pickText(firstReplies), c))
	case t.Responded.IsZero():
		_, err = st.MarkResponded(id, c)
	case t.Status == store.StatusNew:
		_, err = st.SetField(id, c, store.FieldStatus, string(t.Status), string(store.StatusOpen))
	case since < 2*u:
		// Just touched: give it a moment.
	case t.Status == store.StatusWaiting:
		if since >= 40*u {
			if _, err = st.AddNote(id, c, d.pickText(answered)); err == nil {
				_, err = st.SetField(id, c, store.FieldStatus, string(t.Status), string(store.StatusOpen))
			}
		}
	case t.Status == store.StatusEscalated:
		if since >= 40*u {
			f, ok := findings[t.Team]
			if !ok {
				f = "fixed on their side; please confirm with the requester."
			}
			_, err = st.HandBack(id, c, f)
		}
	case t.Status == store.StatusPendingRelease:
		if since >= 30*u {
			_, _, err = st.Resolve(id, c, signed("The fix is deployed with this week's release. Reply to this mail if you still see the problem.", c))
		}
	case t.Status == store.StatusOpen:
		if d.Rand.Float64() < d.pressure(len(v.active)) || t.Events > 16 {
			_, _, err = st.Resolve(id, c, signed(d.pickText(resolutions), c))
			break
		}
		switch r := d.Rand.IntN(10); {
		case r < 3 && t.Requester.Email != "":
			if _, err = st.Reply(id, c, signed(d.pickText(questions), c)); err == nil {
				_, err = st.SetField(id, c, store.FieldStatus, string(t.Status), string(store.StatusWaiting))
			}
		case r == 3 && t.Team == "" && t.Type == store.Incident:
			teams := d.teams()
			team := teams[d.Rand.IntN(len(teams))]
			_, err = st.Escalate(id, c, team, "Escalated to "+team+": "+d.pickText(notes))
		case r == 4 && t.Type == store.Incident:
			if _, err = st.AddNote(id, c, "The supplier has a fix; it goes out with the next release."); err == nil {
				_, err = st.SetField(id, c, store.FieldStatus, string(t.Status), string(store.StatusPendingRelease))
			}
		default:
			_, err = st.AddNote(id, c, d.pickText(notes))
		}
	}
	return err
}

// closeOldest takes the oldest resolved ticket one step towards closed: an
// incident report for one that was P1 or P2, a lead's approval, then the
// closure. Tickets assigned to Me are left to them. It reports whether it
// did anything.
func (d *Desk) closeOldest(st *store.Store, c string, v deskView) (bool, error) {
	rs := slices.Clone(v.resolved)
	slices.SortFunc(rs, func(a, b store.Ticket) int { return a.Resolved.Compare(b.Resolved) })
	leads := d.leads(st)
	for _, t := range rs {
		if t.Assignee == d.Me && d.Me != "" {
			continue
		}
		if peak := t.Peak; (peak != 0 && peak <= 2) || (peak == 0 && t.Priority <= 2) {
			if t.Report == nil {
				author := c
				if d.colleague(t.Assignee) {
					author = t.Assignee
				}
				_, err := st.ReportIncident(t.ID, author, d.report(t))
				return true, err
			}
			if t.Report.Approved.IsZero() {
				if len(leads) == 0 {
					continue // for a lead (you, perhaps) to approve
				}
				_, err := st.ApproveReport(t.ID, leads[d.Rand.IntN(len(leads))], t.Report.Version)
				return true, err
			}
		}
		_, err := st.CloseTicket(t.ID, c, "")
		return true, err
	}
	return false, nil
}

func (d *Desk) report(t store.Ticket) store.IncidentReport {
	at := t.Created.In(time.Local).Format("15:04")
	return store.IncidentReport{
		Summary:   t.Subject,
		Impact:    "Users of " + t.Requester.Organisation + " and other organisations could not use the service as usual.",
		RootCause: "A configuration change at the supplier that was not tested against production load.",
		Actions:   "Configuration restored; the supplier adds the case to its release test. Monitoring alert added.",
		Timeline:  at + " first report; first response and escalation within the target; resolved " + t.Resolved.In(time.Local).Format("15:04") + ".",
	}
}

// statusUpdates are what a colleague tells a major incident's subscribers.
var statusUpdates = []string{
	"We have identified the cause in the login broker and are failing over to the standby. Logins still fail for most users.",
	"The supplier is restarting the affected nodes. Some logins succeed again; we keep watching the error rate.",
	"The error rate is falling: about 70% of attempts now succeed. We expect normal service within the hour.",
	"Still under investigation with the supplier. There is no workaround yet; please refer citizens to the phone line.",
}
