package slaengine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An escalation ladder is what happens as a clock runs out: steps at a
// share of the target or at (or some time after) the breach, each naming
// whom to tell and how. The engine only says which steps are due and when
// the next one will be; the store fires them, once per ticket and clock,
// in the same write as the mail they send.

// Who a step tells.
const (
	NotifyAssignee = "assignee" // the ticket's assignee (the team, or the leads, when it has none)
	NotifyTeam     = "team"     // the 3rd-level team it is escalated to (else the leads)
	NotifyLeads    = "leads"    // the desk's leads (operational escalation)
	NotifyOnCall   = "oncall"   // whoever the roster has on call at that moment
	// anything with an @ is a named contact: "servicedelivery@example.org"
)

// How a step tells them.
const (
	ViaMail    = "mail"    // through the outbox
	ViaConsole = "console" // an alert on the consoles of the operators concerned
	ViaWebhook = "webhook" // a JSON POST to the configured URL (chat, SMS gateway)
)

// Step is one rung.
type Step struct {
	Name string
	// Clock is the clock the step watches: "response", "resolution", or ""
	// for each of them (it then fires once per clock).
	Clock string
	// Share of the target used at which the step is due (0.75); ignored
	// when AfterBreach.
	Share float64
	// AfterBreach: due Delay after the clock breached (wall-clock time: a
	// breached P1 does not wait for office hours).
	AfterBreach bool
	Delay       time.Duration
	Notify      []string
	Via         []string
}

// Watches reports whether the step is for the named clock.
func (s Step) Watches(clock string) bool { return s.Clock == "" || s.Clock == clock }

// Ladder is the steps of one priority (and type), in order.
type Ladder []Step

// Due reports whether step s is due for clock c (evaluated at c.At). Only a
// running clock escalates: one that is stopped has its verdict, and one
// paused waits on the requester, which paging people does not speed up.
func (s Step) Due(c Clock) bool {
	if !c.Running || c.Target <= 0 {
		return false
	}
	if s.AfterBreach {
		return c.State == StateBreached && !c.At.Before(c.Due.Add(s.Delay))
	}
	return float64(c.Used) >= s.Share*float64(c.Target)
}

// When is the instant step s comes due for clock c if nothing changes
// (c.At or earlier when it already is), counting business time around the
// clock (Policy.StepWhen counts on the ticket's calendar); zero when it
// cannot while c stays as it is (stopped or paused).
func (s Step) When(c Clock) time.Time {
	return s.when(c, AlwaysOpen().Without(c.holds()))
}

// when is When on the calendar cal the clock runs on.
func (s Step) when(c Clock, cal *Calendar) time.Time {
	if !c.Running || c.Target <= 0 {
		return time.Time{}
	}
	if s.AfterBreach {
		return c.Due.Add(s.Delay)
	}
	need := time.Duration(s.Share * float64(c.Target))
	if c.Used >= need {
		return c.At
	}
	return cal.Add(c.At, need-c.Used)
}

// Ladder is the escalation ladder of a ticket of this type and priority.
func (p Policy) Ladder(ticketType string, prio Priority) Ladder {
	if m, ok := p.LaddersByType[ticketType]; ok {
		if l, ok := m[prio]; ok {
			return l
		}
	}
	if p.Ladders == nil {
		return defaultLadders[prio]
	}
	return p.Ladders[prio]
}

var defaultLadders = DefaultLadders()

// StepWhen is s.When(c) for a clock of a ticket of this type and priority
// that may have lost its calendar (read back from storage): the target's
// calendar counts the share.
func (p Policy) StepWhen(ticketType string, prio Priority, s Step, c Clock) time.Time {
	return s.when(c, c.calendar(p, ticketType, prio))
}

// DefaultLadders are the seeds' escalation paths, per priority:
//   - P1/P2 at registration (0%): whoever is on call, by mail and on the
//     consoles (NSP: P1/P2 incidents notify the incident manager; MAGDA: a
//     P1 is an operational and a hierarchical escalation at once).
//   - every priority at 75%: the assignee, on the console (and by mail for
//     P1/P2), so the owner acts before the promise is broken.
//   - at breach: the leads by mail and console (Borger.dk: incidents not
//     started or finished in time are escalated functionally or
//     hierarchically); for P1/P2 the on-call contact too.
//   - P1/P2 one hour after breach: the leads and on-call again, by mail
//     (the hierarchical step; a named service delivery manager belongs
//     here in a real config).
func DefaultLadders() map[Priority]Ladder {
	mc := []string{ViaMail, ViaConsole}
	high := func() Ladder {
		return Ladder{
			{Name: "registered", Clock: "resolution", Share: 0, Notify: []string{NotifyOnCall}, Via: mc},
			{Name: "warning", Share: 0.75, Notify: []string{NotifyAssignee}, Via: mc},
			{Name: "breached", AfterBreach: true, Notify: []string{NotifyLeads, NotifyOnCall}, Via: mc},
			{Name: "breached+1h", AfterBreach: true, Delay: time.Hour, Notify: []string{NotifyLeads, NotifyOnCall}, Via: []string{ViaMail}},
		}
	}
	low := func() Ladder {
		return Ladder{
			{Name: "warning", Share: 0.75, Notify: []string{NotifyAssignee}, Via: []string{ViaConsole}},
			{Name: "breached", AfterBreach: true, Notify: []string{NotifyLeads}, Via: mc},
		}
	}
	return map[Priority]Ladder{1: high(), 2: high(), 3: low(), 4: low()}
}

// StepSpec is a step as a config writes it:
//
//	at = "75%" | "breach" | "breach+30m"
//	clock = "response" | "resolution" (default: each)
//	notify = ["assignee", "team", "leads", "oncall", "sdm@example.org"]
//	via = ["mail", "console", "webhook"]
type StepSpec struct {
	Name   string
	At     string
	Clock  string
	Notify []string
	Via    []string
}

// ParseLadder checks the steps of one priority: each valid, names unique
// (a fired step is remembered by its name and clock).
func ParseLadder(key string, specs []StepSpec) (Ladder, error) {
	var l Ladder
	seen := map[string]int{}
	for i, s := range specs {
		st, err := ParseStep(fmt.Sprintf("%s[%d]", key, i), s)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[st.Name]; dup {
			return nil, &SpecError{Key: fmt.Sprintf("%s[%d].name", key, i), Value: st.Name, Msg: fmt.Sprintf("steps %d and %d are both named %q: give each step its own name", j+1, i+1, st.Name)}
		}
		seen[st.Name] = i
		l = append(l, st)
	}
	return l, nil
}

// ParseStep checks a step spec; key is where it is written, for errors.
func ParseStep(key string, s StepSpec) (Step, error) {
	fail := func(field, value, msg string) error {
		return &SpecError{Key: key + "." + field, Value: value, Msg: msg}
	}
	st := Step{Name: s.Name, Clock: s.Clock, Notify: s.Notify, Via: s.Via}
	at := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s.At)), " ", "")
	switch {
	case at == "breach" || at == "breached":
		st.AfterBreach = true
	case strings.HasPrefix(at, "breach+"):
		d, err := time.ParseDuration(strings.TrimPrefix(at, "breach+"))
		if err != nil || d < 0 {
			return st, fail("at", s.At, fmt.Sprintf("%q: write the delay after the breach as a duration, like breach+30m", s.At))
		}
		st.AfterBreach, st.Delay = true, d
	case strings.HasSuffix(at, "%"):
		v, err := strconv.ParseFloat(strings.TrimSuffix(at, "%"), 64)
		if err != nil || v < 0 || v > 100 {
			return st, fail("at", s.At, fmt.Sprintf("%q: a share of the target is 0%% to 100%% (100%% is the breach; later steps are breach+DELAY)", s.At))
		}
		st.Share = v / 100
		if v == 100 {
			st.AfterBreach, st.Share = true, 0
		}
	default:
		return st, fail("at", s.At, fmt.Sprintf("%q: write when the step is due as \"75%%\" (of the target), \"breach\" or \"breach+30m\"", s.At))
	}
	if st.Clock != "" && st.Clock != "response" && st.Clock != "resolution" {
		return st, fail("clock", s.Clock, fmt.Sprintf("%q: a step watches the \"response\" or the \"resolution\" clock (leave it out for both)", s.Clock))
	}
	if len(st.Notify) == 0 {
		return st, fail("notify", "", "a step must tell someone: notify = [\"assignee\"], \"team\", \"leads\", \"oncall\" or an address")
	}
	for _, n := range st.Notify {
		switch n {
		case NotifyAssignee, NotifyTeam, NotifyLeads, NotifyOnCall:
		default:
			if !strings.Contains(n, "@") {
				return st, fail("notify", n, fmt.Sprintf("%q: notify names assignee, team, leads, oncall or an address (name@example.org)", n))
			}
		}
	}
	if len(st.Via) == 0 {
		st.Via = []string{ViaMail, ViaConsole}
	}
	for _, v := range st.Via {
		if v != ViaMail && v != ViaConsole && v != ViaWebhook {
			return st, fail("via", v, fmt.Sprintf("%q: via is mail, console or webhook", v))
		}
	}
	if st.Name == "" {
		st.Name = strings.ReplaceAll(at, "%", "pct")
	}
	return st, nil
}
