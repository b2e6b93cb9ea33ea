package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/deskhq/desk/board"
	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
	"github.com/deskhq/desk/webhook"
)

// logFile opens the data dir's log: the console owns the terminal, so
// everything that would print goes here instead.
func (e *env) logFile() (*log.Logger, func(), error) {
	if err := os.MkdirAll(e.dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating the data directory: %w", err)
	}
	p := filepath.Join(e.dataDir, "desk.log")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the log %s: %w", p, err)
	}
	return log.New(f, "", log.LstdFlags), func() { f.Close() }, nil
}

func (e *env) console() error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	return e.runConsole(cfg, nil, nil, nil)
}

// mailStatus adapts the mail service's status to the console's.
func mailStatus(svc *mailin.Service) func() tui.MailState {
	if svc == nil {
		return nil
	}
	return func() tui.MailState {
		s := svc.Status()
		return tui.MailState{State: s.State, Detail: s.Detail, LastMail: s.LastMail, Outbox: s.Outbox}
	}
}

// runConsole runs the local console. demo, when set, runs beside it
// (started after the store is open, stopped before it closes).
func (e *env) runConsole(cfg *Config, mailCfg *mailin.Config, seed func(*store.Store) error, demo func(ctx context.Context, st *store.Store)) error {
	logger, closeLog, err := e.logFile()
	if err != nil {
		return err
	}
	defer closeLog()
	st, err := e.openStore(cfg, "desk console", logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if seed != nil {
		// Before intake starts, so nothing else writes while the demo's
		// backlog is registered in the past.
		if err := seed(st); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	board, err := board.New(ctx, st, nil)
	if err != nil {
		return fmt.Errorf("loading tickets: %w", err)
	}
	if mailCfg == nil {
		mailCfg = cfg.Mail
	}
	var svc *mailin.Service
	if mailCfg != nil {
		svc, err = newMailService(cfg, *mailCfg, st, logger, nil)
		if err != nil {
			return err
		}
		go func() {
			if err := svc.Run(ctx); err != nil && ctx.Err() == nil {
				logger.Printf("mail intake stopped: %v", err)
			}
		}()
	}
	if demo != nil {
		go demo(ctx, st)
	}
	go st.RunEscalations(ctx, escalationEvery)
	go (&webhook.Sender{St: st, Log: logger}).Run(ctx, escalationEvery)
	index := startSearch(cfg, e.dataDir, st, logger)
	defer index.stop()
	stopMonitor, _ := startMonitoring(cfg, st, logger)
	defer stopMonitor()
	me, role := localOperator(cfg) // the same person and role as desk's other commands
	ops := cfg.OperatorNames()
	if len(ops) == 0 {
		ops = demoOperators
	}
	m := tui.New(tui.Options{
		Store: st, Board: board, Dark: tui.DarkFromColorFGBG(os.Getenv("COLORFGBG")), Location: cfg.displayZone(),
		Operator: me, Role: role, Operators: ops, Teams: cfg.TeamList(), Queues: cfg.QueueList(),
		StoreName: e.dataDir, MailStatus: mailStatus(svc), Bell: cfg.bellOf(me), Search: index.search, Similar: index.similar, Solutions: index.solutions,
		ReleaseMail: func(id uint64, actor string) (store.Ticket, error) { return releaseQuarantined(st, cfg, id, actor) },
		Report:      func(month string) (string, error) { return reportText(st, month, cfg.displayZone()) },
		Reload: func() (string, error) {
			if _, err := e.reloadPolicy(st, nil); err != nil {
				return "", err
			}
			return "config reloaded: SLA policy applied (operators and teams apply to new sessions)", nil
		},
	})
	defer m.Close()
	env := colourEnv(os.Environ())
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithEnvironment(env),
		tea.WithColorProfile(colourProfile(colorprofile.Detect(os.Stdout, env), os.Getenv("TERM"))))
	start := time.Now()
	_, err = p.Run()
	logger.Printf("console closed after %s", time.Since(start).Round(time.Second))
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// escalationEvery is how often the process that holds the store looks for
// escalation steps come due: a step fires within this of its time.
const escalationEvery = 5 * time.Second

// newMailService builds the intake for every command that runs one (the
// console, desk mail, desk serve), so they agree on the queue and on the mail
// domain that tells our own mail from a customer's. orgs nil means the
// config's organisations.
func newMailService(cfg *Config, mc mailin.Config, st *store.Store, logger *log.Logger, orgs []mailin.Organisation) (*mailin.Service, error) {
	if mc.DefaultQueue == "" {
		mc.DefaultQueue = cfg.QueueList()[0]
	}
	if orgs == nil {
		orgs = cfg.Organisations
	}
	// The key that tells our own mail from a forgery lives beside the store.
	key, err := mailin.LoadSelfKey(st.Dir())
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	svc, err := mailin.New(mc, st, mailin.Options{Organisations: orgs, Log: logger, MailDomain: cfg.mailDomain(), SelfKey: key})
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return svc, nil
}

// reloadPolicy rereads the config and applies its SLA policy to the store;
// the console's :reload and desk serve's reload both start here. check, if
// set, vets the new config first. A config that does not load, pass the
// check or apply changes nothing.
func (e *env) reloadPolicy(st *store.Store, check func(*Config) error) (*Config, error) {
	nc, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(nc); err != nil {
			return nil, err
		}
	}
	p, err := nc.Policy()
	if err != nil {
		return nil, err
	}
	if err := st.SetPolicy(p); err != nil {
		return nil, fmt.Errorf("applying the SLA policy: %w", err)
	}
	st.SetRoles(nc.storeRoles(operatorName(nc)))
	st.SetDirectory(nc.directory())
	return nc, nil
}
