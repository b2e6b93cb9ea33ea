package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/store"
)

const (
	retryFirst = 30 * time.Second
	retryMax   = 30 * time.Minute
)

// retryAfter is the pause after the n-th failed attempt (n >= 1).
func retryAfter(n int) time.Duration {
	d := retryFirst
	for i := 1; i < n && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// outboxLoop sends due outbox mail every few seconds, and at once when
// intake queued something.
func (s *Service) outboxLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if _, _, err := s.flush(ctx); err != nil && ctx.Err() == nil {
			s.log.Printf("mail: outbox: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

func (s *Service) countOutbox() {
	// Every unsent entry, due or not (well inside UnixNano's range).
	all, err := s.st.Outbox(s.now().Add(100 * 365 * 24 * time.Hour))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.status.Outbox = len(all)
	}
}

func (s *Service) setOutboxErr(e string) {
	s.mu.Lock()
	s.status.OutboxErr = e
	s.mu.Unlock()
}

// flush sends every due outbox entry over one SMTP connection. A failed
// entry is marked with the reason and retried later with backoff; nothing
// is dropped.
func (s *Service) flush(ctx context.Context) (sent, failed int, err error) {
	defer s.countOutbox()
	now := s.now()
	due, err := s.st.Outbox(now)
	if err != nil {
		return 0, 0, fmt.Errorf("read the outbox: %w", err)
	}
	if len(due) == 0 {
		return 0, 0, nil
	}
	fail := func(m store.OutMail, reason string) {
		failed++
		next := now.Add(retryAfter(m.Attempts + 1))
		if err := s.st.MarkFailed(m.ID, reason, next); err != nil {
			s.log.Printf("mail: record failed send of outbox mail %d: %v", m.ID, err)
		}
	}
	c, err := s.dialSMTP(ctx)
	if err != nil {
		for _, m := range due {
			fail(m, err.Error())
		}
		s.setOutboxErr(err.Error())
		return 0, failed, err
	}
	defer c.Close()
	var lastErr error
	for i, m := range due {
		if ctx != nil && ctx.Err() != nil {
			break
		}
		rcpt, raw, err := compose(m, s.cfg.Address, s.cfg.Name, s.now(), s.me.key)
		if err != nil {
			// This mail cannot be built (say, no usable recipient): it is
			// marked and retried later, and the connection serves the rest.
			lastErr = fmt.Errorf("outbox mail %d (%s to %v) cannot be sent: %w", m.ID, m.Kind, m.To, err)
			fail(m, err.Error())
			continue
		}
		err = c.SendMail(s.cfg.Address, rcpt, bytes.NewReader(raw))
		if err != nil {
			lastErr = fmt.Errorf("send outbox mail %d (%s to %v): %w", m.ID, m.Kind, m.To, err)
			fail(m, err.Error())
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				// The server refused this mail; the connection is still good.
				c.Reset()
				continue
			}
			// The connection broke: the rest waits for the next round,
			// without an attempt counted against mail never tried.
			s.log.Printf("mail: SMTP connection lost after outbox mail %d; %d mails wait for the next round", m.ID, len(due)-i-1)
			break
		}
		if err := s.st.MarkSent(m.ID, s.now()); err != nil {
			// Sent but not recorded: it will be sent again. Rare, and a
			// duplicate ack is better than a lost one.
			s.log.Printf("mail: record sent outbox mail %d: %v", m.ID, err)
		}
		sent++
	}
	c.Quit()
	if lastErr != nil {
		s.setOutboxErr(lastErr.Error())
	} else {
		s.setOutboxErr("")
	}
	return sent, failed, lastErr
}

func (s *Service) dialSMTP(ctx context.Context) (*smtp.Client, error) {
	var c *smtp.Client
	var err error
	switch {
	case s.sm.TLS:
		c, err = smtp.DialTLS(s.sm.Host, s.tlsConfig(s.sm))
	case s.cfg.StartTLS:
		c, err = smtp.DialStartTLS(s.sm.Host, s.tlsConfig(s.sm))
	default:
		c, err = smtp.Dial(s.sm.Host)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to SMTP server %s: %w", s.sm.Host, err)
	}
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = 2 * time.Minute
	if err := c.Hello(heloName(s.me.Domain)); err != nil {
		c.Close()
		return nil, fmt.Errorf("greet SMTP server %s: %w", s.sm.Host, err)
	}
	if s.sm.User != "" {
		pass := s.sm.pass
		if pass == "" {
			if pass, err = s.cfg.Password(ctxOrBackground(ctx)); err != nil {
				c.Close()
				return nil, err
			}
		}
		if err := c.Auth(sasl.NewPlainClient("", s.sm.User, pass)); err != nil {
			c.Close()
			return nil, fmt.Errorf("log in to SMTP server %s as %s: %w", s.sm.Host, s.sm.User, err)
		}
	}
	return c, nil
}

func heloName(domain string) string {
	if domain == "" || net.ParseIP(domain) != nil {
		return "localhost"
	}
	return domain
}

func ctxOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
