package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/deskhq/desk/demomail"
	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
)

// demoOperators staff the demo desk when the config names none.
var demoOperators = []string{"mette", "pieter", "sofie", "jonas"}

// demoColleagues are who work the demo desk beside me: the config's
// operators who may write, else the demo's own; never me.
func demoColleagues(cfg *Config, me string) []string {
	var out []string
	for _, names := range [][]string{cfg.OperatorNames(), demoOperators} {
		for _, o := range names {
			if o != me && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}

// prepareDemo staffs the demo desk for cfg: the persona (mette) when the
// config names no operator, the colleagues, and, when the config lists no
// operators, a roster of them (you and the first colleague leads, so
// incident reports get approved and P1/P2 tickets can close). base is the
// clock the demo runs at (nil: the real one); every is the pace unit.
func prepareDemo(cfg *Config, base func() time.Time, every time.Duration, noMail bool, mail mailin.Config) *demomail.Desk {
	if cfg.Operator == "" {
		cfg.Operator = "mette" // the demo's persona: the backlog has work handed to her
	}
	// The simulated colleagues never act under the operator's own name:
	// what happens as "you" is only what you did.
	me, _ := localOperator(cfg)
	colleagues := demoColleagues(cfg, me)
	if len(cfg.Operators) == 0 {
		// Addresses in the demo's SMTP sink: the ladder's steps that name
		// an operator are mailed there.
		cfg.Operators = append(cfg.Operators, OperatorConfig{Name: me, Role: "lead", Email: me + "@desk.demo.invalid"})
		for i, c := range colleagues {
			role := Role("operator")
			if i == 0 {
				role = "lead"
			}
			cfg.Operators = append(cfg.Operators, OperatorConfig{Name: c, Role: role, Email: c + "@desk.demo.invalid"})
		}
	}
	if len(cfg.OnCall) == 0 && len(cfg.OnCallOverrides) == 0 {
		// NSP's roster: the incident manager in the late afternoon, the
		// system owner at night and at weekends, the desk lead by day.
		cfg.OnCall = demoRoster(colleagues)
		if r, err := cfg.compileRoster(); err == nil {
			cfg.roster = r
		}
	}
	if len(cfg.Services) == 0 {
		// The services the demo's mail is about, each with the single
		// points of contact of the organisations that use it: a P1 shows
		// a major incident and its subscriber mail in the outbox.
		cfg.Services = demoServices
	}
	var teams []string
	for _, t := range cfg.TeamList() {
		teams = append(teams, t.Name)
	}
	return &demomail.Desk{
		Me: me, Colleagues: colleagues, Teams: teams, Queue: cfg.QueueList()[0],
		Direct: noMail, Mail: mail, Unit: every, Clock: demomail.NewClock(base),
		Rand: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
	}
}

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
	var mailCfg *mailin.Config
	ack := mailin.Config{}
	if cfg.Mail != nil {
		ack = *cfg.Mail
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !noMail {
		// Mail at a desk's pace: a few at once, then one every 20–90 s
		// (at the default --every 4s).
		d, err := demomail.Start(ctx, demomail.Options{Pace: every})
		if err != nil {
			return fmt.Errorf("starting the demo mailbox: %w (try desk demo --no-mail)", err)
		}
		defer d.Close()
		c := d.Config()
		mailCfg, ack = &c, c
		// The demo's senders are known organisations, as on a real desk.
		cfg.Organisations = append(cfg.Organisations, d.Organisations()...)
		if cfg.MailDomain == "" {
			cfg.MailDomain = "desk.demo.invalid"
		}
	}
	if len(probesOf(cfg)) == 0 && cfg.Status.Listen == "" {
		// Probes on the demo's own health endpoints, one service of which
		// goes down for a while every few minutes, and the status page.
		h, err := demomail.StartHealth("DAWA", 6*time.Minute, 70*time.Second)
		if err != nil {
			return err
		}
		defer h.Close()
		demoMonitoring(cfg, h)
	}
	desk := prepareDemo(cfg, nil, every, noMail, ack)
	e.now = desk.Clock.Now
	return e.runConsole(cfg, mailCfg, desk.Seed, func(ctx context.Context, st *store.Store) {
		desk.Run(ctx, st, func(err error) { fmt.Fprintln(os.Stderr, "demo:", err) })
	})
}

var demoServices = []ServiceConfig{
	{Name: "borger.dk", Description: "citizen portal and MitID login", Words: []string{"borger.dk", "mitid"},
		Subscribers: []string{"digitalisering@aarhus.dk", "itsupport@kk.dk"}},
	{Name: "FMK", Description: "Fælles Medicinkort", Words: []string{"fmk", "prescriptions"},
		Subscribers: []string{"drift@sundhedsdata.dk", "it-kontakt@rsyd.dk"}},
	{Name: "Digital Post", Description: "letters to citizens via e-Boks", Words: []string{"digital post", "e-boks"},
		Subscribers: []string{"it-kontakt@rsyd.dk", "digitalisering@aarhus.dk"}},
	{Name: "e-loket", Description: "Flemish citizens' counter", Words: []string{"e-loket"},
		Subscribers: []string{"servicedesk@vlaanderen.be", "ict@stad.gent"}},
	{Name: "NSP", Description: "national service platform (health)", Words: []string{"nsp", "sts"}, Domains: []string{"sundhedsdata.dk"},
		Subscribers: []string{"drift@sundhedsdata.dk"}},
	{Name: "DAWA", Description: "address lookup", Words: []string{"dawa", "address lookup"}},
}

func demoRoster(colleagues []string) []OnCallConfig {
	lead := "desk-lead"
	if len(colleagues) > 0 {
		lead = colleagues[0]
	}
	return []OnCallConfig{
		{Name: "incident-manager", Contact: "incident-manager@desk.demo.invalid", Hours: map[string]string{"mon-fri": "16:00-18:00"}},
		{Name: "system-owner", Contact: "system-owner@desk.demo.invalid", Hours: map[string]string{"mon-fri": "18:00-24:00, 00:00-08:00", "sat-sun": "00:00-24:00"}},
		{Name: lead, Contact: lead + "@desk.demo.invalid", Hours: map[string]string{"mon-fri": "08:00-16:00"}},
	}
}

func probesOf(cfg *Config) []ProbeConfig {
	var out []ProbeConfig
	for _, sv := range cfg.Services {
		out = append(out, sv.Probes...)
	}
	return out
}

// demoMonitoring gives each demo service a probe of its health endpoint
// and turns the status page on at localhost:8088 (if that port is taken,
// the console says so in its log and runs without the page).
func demoMonitoring(cfg *Config, h *demomail.Health) {
	if len(cfg.Services) == 0 {
		cfg.Services = slices.Clone(demoServices)
	}
	for i := range cfg.Services {
		sv := &cfg.Services[i]
		p := ProbeConfig{Kind: "http", Name: "health", URL: h.URL(sv.Name), Interval: mailin.Duration{Duration: 5 * time.Second},
			FailAfter: 2, RecoverAfter: 2, Contains: "ok"}
		if sv.Name == h.Flaky {
			// Its outage is a P2 that monitoring resolves itself: the
			// demo shows the whole round without an operator.
			p.Priority, p.Resolve = "P2", true
		}
		sv.Probes = append(slices.Clone(sv.Probes), p)
	}
	cfg.Status = StatusConfig{Listen: "127.0.0.1:8088", Title: "Demo services"}
}
