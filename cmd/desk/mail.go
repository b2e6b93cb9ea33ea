package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/webhook"
)

// mail runs intake headless: once (for cron and scripted checks) or until
// stopped.
func (e *env) mail(once bool) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Mail == nil {
		return fmt.Errorf("no [mail] table in the config (%s): desk.example.toml shows one", dash(cfg.path))
	}
	logger := log.New(e.stderr, "desk mail: ", log.LstdFlags)
	st, err := e.openStore(cfg, "desk mail", logger)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc, err := newMailService(cfg, *cfg.Mail, st, logger, nil)
	if err != nil {
		return err
	}
	if once {
		// Steps due now are recorded first, so their mail leaves in this pass.
		if _, err := st.FireEscalations(st.Now()); err != nil {
			logger.Printf("escalation: %v", err)
		}
		if _, err := (&webhook.Sender{St: st, Log: logger}).Flush(ctx); err != nil {
			logger.Printf("webhook: %v", err)
		}
		s, err := svc.Once(ctx)
		if err != nil && s == (mailin.Stats{}) {
			return err // nothing happened: the error alone says it
		}
		fmt.Fprintf(e.stdout, "registered %d, duplicates %d, quarantined %d, sent %d, send failures %d\n",
			s.Registered, s.Duplicates, s.Quarantined, s.Sent, s.Failed)
		if err != nil {
			return fmt.Errorf("reading the mailbox: %w (the outbox was still sent)", err)
		}
		return nil
	}
	go st.RunEscalations(ctx, escalationEvery)
	go (&webhook.Sender{St: st, Log: logger}).Run(ctx, escalationEvery)
	index := startSearch(cfg, e.dataDir, st, logger)
	defer index.stop()
	err = svc.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
