package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"

	"github.com/deskhq/desk/demomail"
	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
)

// demoOperators staff the demo desk when the config names none.
var demoOperators = []string{"mette", "pieter", "sofie", "jonas"}

// demoClock lets the demo register its backlog in the past (so the SLA
// clocks show every state at once) and then runs at real time.
type demoClock struct{ offset atomic.Int64 }

func (c *demoClock) Now() time.Time         { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *demoClock) set(back time.Duration) { c.offset.Store(int64(-back)) }

func (e *env) demo(every time.Duration, noMail bool) error {
	if !e.dataSet {
		// A demo never touches the real store unless told to.
		dir, err := os.MkdirTemp("", "desk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		e.dataDir = dir
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Operator == "" {
		cfg.Operator = "mette" // the demo's persona: the backlog has work assigned to her
	}
	// The simulated colleagues never act under the operator's own name:
	// what happens as "you" is only what you did.
	var colleagues []string
	for _, o := range demoOperators {
		if o != cfg.Operator {
			colleagues = append(colleagues, o)
		}
	}
	clock := &demoClock{}
	e.now = clock.Now

	var mailCfg *mailin.Config
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !noMail {
		d, err := demomail.Start(ctx, demomail.Options{Every: every})
		if err != nil {
			return fmt.Errorf("starting the demo mailbox: %w (try desk demo --no-mail)", err)
		}
		defer d.Close()
		c := d.Config()
		mailCfg = &c
		// The demo's senders are known organisations, as on a real desk.
		cfg.Organisations = append(cfg.Organisations, d.Organisations()...)
		if cfg.MailDomain == "" {
			cfg.MailDomain = "desk.demo.invalid"
		}
	}
	gen := &demoGen{clock: clock, every: every, direct: noMail, ops: colleagues, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	return e.runConsole(cfg, mailCfg, gen.seed, gen.run)
}

// demoGen plays a desk: a backlog of tickets in every state, then phone
// calls and operators at work (and, without the demo mailbox, the mail too).
type demoGen struct {
	clock  *demoClock
	every  time.Duration
	direct bool
	ops    []string
	rnd    *rand.Rand
}

type demoReq struct {
	name, email, org string
}

var demoRequesters = []demoReq{
	{"Søren Kierkegaard Østergård", "soren.ostergaard@aarhus.dk", "Aarhus Kommune"},
	{"Mette Frederiksen-Lund", "mfl@regionh.dk", "Region Hovedstaden"},
	{"Jørgen Ærøe", "jae@odense.dk", "Odense Kommune"},
	{"Anne-Sophie Bækgaard", "asb@sundhedsdata.dk", "Sundhedsdatastyrelsen"},
	{"Pieter De Smedt", "pieter.desmedt@vlaanderen.be", "Digitaal Vlaanderen"},
	{"Elise Van den Broeck", "elise.vandenbroeck@gent.be", "Stad Gent"},
	{"Joëlle Lefèvre", "joelle.lefevre@bosa.fgov.be", "FOD BOSA"},
	{"Lars Løkke Nørgaard", "lln@apoteket-vejle.dk", "Vejle Apotek"},
	{"Katrien Wouters", "k.wouters@kbo.be", "KBO"},
	{"Dorthe Hjælmsø", "dh@laegehuset-ry.dk", "Lægehuset Ry"},
}

var demoIssues = []struct {
	typ     store.Type
	prio    store.Priority
	subject string
	body    string
}{
	{store.Incident, 1, "borger.dk login fails for all users with MitID", "Since 07:50 no citizen can log in. MitID returns an error after the app approval. Our call centre is flooded."},
	{store.Incident, 2, "FMK: prescriptions not synchronising to pharmacies", "Prescriptions created after 10:00 do not show up at the pharmacy. About 8% of our GPs report it."},
	{store.Incident, 3, "NSP certificate expiry warning on test environment", "The test STS certificate expires in 9 days. Can you renew it before our release?"},
	{store.Request, 3, "New MAGDA access for Stad Gent service", "We need access to the KBO service for our new permit application. Form attached to follow."},
	{store.Request, 4, "Please update contact person for our organisation", "Our single point of contact changes from 1 December to Katrien Wouters."},
	{store.ChangeReq, 3, "RFC: raise rate limit for OOTS evidence requests", "During the enrolment peak we exceed 20 req/s. Please raise our limit to 50 req/s."},
	{store.Incident, 2, "Digital Post: letters delayed by 4 hours", "Letters sent via Digital Post arrive 4 hours late in e-Boks. Many citizens affected."},
	{store.Incident, 4, "Typo in the Danish text of the consent page", "'Samtykke' is misspelt as 'Samtykkke' on the consent step."},
	{store.Request, 3, "Export of last month's incident statistics", "Could we have the incident statistics per priority for October?"},
	{store.Incident, 1, "Security: suspicious logins on the admin portal", "We see logins from unknown IP ranges on two admin accounts tonight. Accounts are locked."},
	{store.Incident, 3, "Slow response on the address lookup service", "DAWA lookups take 5–8 seconds since yesterday afternoon."},
	{store.ChangeReq, 4, "RFC: add Dutch translation to the status page", "Our users in Flanders ask for a Dutch version of the status page."},
}

// seed registers a backlog when the store is empty: tickets from the past
// few days in every state, so a newcomer sees warnings, breaches, pauses
// and resolved work at once.
func (g *demoGen) seed(st *store.Store) error {
	empty := true
	if err := st.Tickets(func(store.Ticket) bool { empty = false; return false }); err != nil {
		return err
	}
	if !empty {
		return nil
	}
	defer g.clock.set(0)
	type plan struct {
		ago    time.Duration
		issue  int
		req    int
		script func(id store.TicketID)
	}
	at := func(ago time.Duration) { g.clock.set(ago) }
	// do runs one store operation as a colleague would, ago in the past;
	// the demo goes through the same lifecycle as everyone else.
	do := func(ago time.Duration, op func() (store.Ticket, error)) {
		at(ago)
		if _, err := op(); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}
	set := func(id store.TicketID, who string, f store.Field, seen, to string) func() (store.Ticket, error) {
		return func() (store.Ticket, error) { return st.SetField(id, who, f, seen, to) }
	}
	plans := []plan{
		{50 * time.Hour, 2, 2, func(id store.TicketID) {
			do(49*time.Hour, set(id, "sofie", store.FieldAssignee, "", "sofie"))
			do(49*time.Hour, set(id, "sofie", store.FieldStatus, "new", "open"))
			do(45*time.Hour, func() (store.Ticket, error) {
				return st.AddNote(id, "sofie", "Asked the requester for the certificate serial.")
			})
			do(45*time.Hour, set(id, "sofie", store.FieldStatus, "open", "waiting"))
		}},
		{30 * time.Hour, 4, 8, func(id store.TicketID) {
			do(29*time.Hour, set(id, "jonas", store.FieldAssignee, "", "jonas"))
			do(29*time.Hour, set(id, "jonas", store.FieldStatus, "new", "open"))
			do(2*time.Hour, func() (store.Ticket, error) {
				t, _, err := st.Resolve(id, "jonas", "The shared mailbox permissions were corrected; it shows in Outlook again.")
				return t, err
			})
		}},
		{26 * time.Hour, 5, 4, func(id store.TicketID) {
			do(25*time.Hour, set(id, "pieter", store.FieldAssignee, "", "pieter"))
			do(25*time.Hour, func() (store.Ticket, error) {
				return st.Escalate(id, "pieter", "application", "Reproduced; the export job fails on the supplier's side.")
			})
		}},
		{6 * time.Hour, 6, 3, func(id store.TicketID) {
			do(5*time.Hour, set(id, "mette", store.FieldAssignee, "", "mette"))
			do(5*time.Hour, set(id, "mette", store.FieldStatus, "new", "open"))
		}},
		{5 * time.Hour, 10, 1, nil},
		{3*time.Hour + 50*time.Minute, 1, 3, func(id store.TicketID) {
			do(3*time.Hour+40*time.Minute, set(id, "mette", store.FieldAssignee, "", "mette"))
			do(3*time.Hour+40*time.Minute, func() (store.Ticket, error) { return st.MarkResponded(id, "mette") })
		}},
		{3 * time.Hour, 8, 6, nil},
		{90 * time.Minute, 6, 0, func(id store.TicketID) {
			do(80*time.Minute, func() (store.Ticket, error) {
				return st.AddNote(id, "pieter", "Fix is in release 24.11.2, deployed Thursday.")
			})
			do(80*time.Minute, set(id, "pieter", store.FieldStatus, "new", "pending-release"))
		}},
		{40 * time.Minute, 11, 9, nil},
		{12 * time.Minute, 9, 7, nil},
		{7 * time.Minute, 0, 0, nil},
	}
	for _, p := range plans {
		at(p.ago)
		is, rq := demoIssues[p.issue], demoRequesters[p.req]
		person := store.Person{Name: rq.name, Email: rq.email, Organisation: rq.org}
		t, err := st.Create("phone", store.NewTicket{
			Type: is.typ, Priority: is.prio, Subject: is.subject, Requester: person, Queue: "2nd-line",
			Message: &store.Message{From: person, Subject: is.subject, Body: is.body},
		})
		if err != nil {
			return fmt.Errorf("demo backlog: %w", err)
		}
		if p.script != nil {
			p.script(t.ID)
		}
	}
	return nil
}

// run keeps the desk busy: a phone call now and then, operators assigning,
// reprioritising, replying and resolving (and mail-like tickets when there
// is no demo mailbox).
func (g *demoGen) run(ctx context.Context, st *store.Store) {
	t := time.NewTicker(g.every)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n++
		var err error
		switch {
		case g.direct && n%2 == 1, n%5 == 0:
			err = g.newTicket(st, n)
		default:
			err = g.work(st)
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}
}

func (g *demoGen) newTicket(st *store.Store, n int) error {
	is := demoIssues[g.rnd.IntN(len(demoIssues))]
	rq := demoRequesters[g.rnd.IntN(len(demoRequesters))]
	person := store.Person{Name: rq.name, Email: rq.email, Organisation: rq.org}
	actor := "phone"
	nt := store.NewTicket{Type: is.typ, Priority: is.prio, Subject: is.subject, Requester: person, Queue: "2nd-line",
		Message: &store.Message{From: person, Subject: is.subject, Body: is.body}}
	if g.direct && n%2 == 1 {
		actor, nt.Inbound = "mail", true
		nt.Message.Date = time.Now()
	}
	_, err := st.Create(actor, nt)
	return err
}

// work picks an active ticket and does what an operator would do next.
func (g *demoGen) work(st *store.Store) error {
	var active []store.Ticket
	if err := st.Tickets(func(t store.Ticket) bool {
		if t.Status.Active() {
			active = append(active, t)
		}
		return true
	}); err != nil {
		return err
	}
	if len(active) == 0 {
		return nil
	}
	t := active[g.rnd.IntN(len(active))]
	op := g.ops[g.rnd.IntN(len(g.ops))]
	var err error
	switch {
	case t.Assignee == "":
		_, err = st.SetField(t.ID, op, store.FieldAssignee, "", op)
	case t.Status == store.StatusNew:
		_, err = st.SetField(t.ID, op, store.FieldStatus, string(t.Status), string(store.StatusOpen))
	case t.Responded.IsZero() && t.Requester.Email != "":
		_, err = st.Reply(t.ID, op, "Thank you, we are looking into it and will update you within the hour.\n\n"+op+", 2nd-line support")
	case t.Status == store.StatusOpen && g.rnd.IntN(3) == 0:
		_, err = st.AddNote(t.ID, op, "Reproduced on test; checking the supplier's logs.")
	case t.Status == store.StatusOpen && g.rnd.IntN(2) == 0 && t.Requester.Email != "" && t.Priority > 2:
		// Resolved as the seeds say: the resolution is mailed to the requester.
		_, _, err = st.Resolve(t.ID, op, "We have resolved this: the supplier corrected the configuration. Reply to this mail if it is not solved for you.\n\n"+op)
	}
	if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrRefused) {
		return nil // someone got there first: a colleague moves on
	}
	return err
}
