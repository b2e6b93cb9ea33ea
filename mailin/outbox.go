package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
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
	n, err := s.st.OutboxCount()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.status.Outbox = n
	}
}

func (s *Service) setOutboxErr(e string) {
	s.mu.Lock()
	s.status.OutboxErr = e
	s.mu.Unlock()
}

// flush sends every due outbox entry over one SMTP connection, one round.
// Each mail's outcome is its own: sent; refused for good (a 5xx answer, an
// address the server cannot take), kept as failed with the server's words
// and not tried again; or refused for now (a 4xx answer), tried again
// later with backoff. The rest of the round goes on either way; only a
// broken connection ends it, and the mails not tried wait for the next
// round without an attempt counted against them. Nothing is dropped.
//
// Durability: the outbox hands out only mail whose queuing is on disk. Each
// outcome is journalled the moment it is known (store.JournalAttempt: one
// append to a file, which survives the process being killed), before the
// next mail's last step (the end of its DATA) leaves, so a kill finds at
// most the one mail in flight sent and not marked. The outcomes reach the
// outbox in the database in batches, behind the sending, and the round
// ends with one synced write (a failed connection is one synced write for
// all of its mails).
func (s *Service) flush(ctx context.Context) (sent, failed int, err error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	defer s.countOutbox()
	now := s.now()
	due, err := s.st.Outbox(now)
	if err != nil {
		return 0, 0, fmt.Errorf("read the outbox: %w", err)
	}
	if len(due) == 0 {
		return 0, 0, nil
	}
	c, err := s.dialSMTP(ctx)
	if err != nil {
		as := make([]store.Attempt, len(due))
		for i, m := range due {
			as[i] = store.Attempt{ID: m.ID, Error: err.Error(), NextTry: now.Add(retryAfter(m.Attempts + 1))}
		}
		if rerr := s.st.RecordAttempts(as, true); rerr != nil {
			s.log.Printf("mail: record the failed sending of %d outbox mails: %v", len(due), rerr)
		}
		s.setOutboxErr(err.Error())
		return 0, len(due), err
	}
	defer c.Close()
	rec := newRecorder(s)
	var lastErr error
	tried := 0
	// report records what became of m; false ends the round (the
	// connection is gone).
	report := func(m store.OutMail, o outcome) bool {
		tried++
		a := store.Attempt{ID: m.ID, Error: o.reason, Entry: &m}
		switch {
		case o.sent:
			a.Sent = s.now()
			sent++
			if o.reason != "" {
				s.log.Printf("mail: outbox mail %d (%s) sent, but %s", m.ID, m.Kind, o.reason)
			}
		case o.permanent:
			a.Permanent, a.At = true, s.now()
			failed++
			lastErr = fmt.Errorf("outbox mail %d (%s to %v) failed and will not be retried: %s", m.ID, m.Kind, m.To, o.reason)
			s.log.Printf("mail: %v", lastErr)
		default:
			a.NextTry = now.Add(retryAfter(m.Attempts + 1))
			failed++
			lastErr = fmt.Errorf("send outbox mail %d (%s to %v): %s", m.ID, m.Kind, m.To, o.reason)
		}
		rec.record(a)
		if o.broken {
			// The rest waits for the next round, without an attempt
			// counted against mail never tried.
			s.log.Printf("mail: SMTP connection lost after outbox mail %d; %d mails wait for the next round", m.ID, len(due)-tried)
			return false
		}
		return true
	}
	if c.pipe {
		s.sendPipelined(ctx, c, due, func(p *prepared, o outcome) bool { return report(p.m, o) })
	} else {
		for _, m := range due {
			if ctx != nil && ctx.Err() != nil {
				break
			}
			if !report(m, s.send(c.c, m, c.utf8)) {
				break
			}
		}
		c.c.Quit()
	}
	rec.finish()
	if lastErr != nil {
		s.setOutboxErr(lastErr.Error())
	} else {
		s.setOutboxErr("")
	}
	return sent, failed, lastErr
}

// recorder journals each outcome as it is handed over and commits the
// outcomes to the outbox in the background, as many per transaction as
// came in while the one before was written; finish writes the rest in the
// round's one synced write.
type recorder struct {
	s     *Service
	mu    sync.Mutex
	queue []store.Attempt
	kick  chan struct{}
	done  chan struct{} // closed when the background writer has stopped
	stop  chan struct{}
}

func newRecorder(s *Service) *recorder {
	r := &recorder{s: s, kick: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			select {
			case <-r.kick:
				r.commit(false)
			case <-r.stop:
				return
			}
		}
	}()
	return r
}

func (r *recorder) record(a store.Attempt) {
	if err := r.s.st.JournalAttempt(a); err != nil {
		// Without the journal, the outbox itself must know before the next
		// mail goes.
		r.s.log.Printf("mail: %v; recording it in the outbox at once", err)
		if err := r.s.st.RecordAttempts([]store.Attempt{a}, false); err != nil {
			// Sent but not recorded: it will be sent again. Rare, and a
			// duplicate ack is better than a lost one.
			r.s.log.Printf("mail: record the outcome of outbox mail %d: %v", a.ID, err)
		}
		return
	}
	r.mu.Lock()
	r.queue = append(r.queue, a)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// commit writes the queued outcomes in one transaction.
func (r *recorder) commit(sync bool) {
	r.mu.Lock()
	as := r.queue
	r.queue = nil
	r.mu.Unlock()
	if len(as) == 0 {
		if sync {
			if err := r.s.st.Sync(); err != nil {
				r.s.log.Printf("mail: sync the outbox round: %v", err)
			}
		}
		return
	}
	if err := r.s.st.RecordAttempts(as, sync); err != nil {
		// The journal still has them: the next start records them.
		r.s.log.Printf("mail: record the outcome of %d outbox mails: %v (the send journal keeps them)", len(as), err)
	}
}

// finish stops the background writer and writes what is left, synced.
func (r *recorder) finish() {
	close(r.stop)
	<-r.done
	r.commit(true)
}

// outcome of one mail's sending.
type outcome struct {
	sent      bool
	permanent bool   // refused for good: not retried
	broken    bool   // the connection is gone
	reason    string // why not sent; for a sent mail, the recipients that refused it
}

// send hands one mail to the server: MAIL, a RCPT per recipient, DATA.
// A recipient refused for good (5xx, or a non-ASCII address a server
// without SMTPUTF8 cannot take) is left out and named in the reason; one
// refused for now (4xx) makes the whole mail wait for a retry; with no
// recipient left the mail has failed for good.
func (s *Service) send(c *smtp.Client, m store.OutMail, utf8OK bool) outcome {
	p := s.prepare(m, utf8OK)
	if p.early != nil {
		return *p.early
	}
	from, rcpt, raw, refused := s.cfg.Address, p.rcpt, p.raw, p.refused
	var opts *smtp.MailOptions
	if p.utf8 {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return refusal(c, "the sender", err)
	}
	accepted, later := 0, ""
	for _, a := range rcpt {
		err := c.Rcpt(a, nil)
		var se *smtp.SMTPError
		switch {
		case err == nil:
			accepted++
		case !errors.As(err, &se):
			return outcome{broken: true, reason: err.Error()}
		case se.Code/100 == 5:
			refused = append(refused, a+": "+se.Error())
		default:
			later = a + ": " + se.Error()
		}
	}
	if later != "" || accepted == 0 {
		o := outcome{reason: later}
		if later == "" {
			o = outcome{permanent: true, reason: "refused: " + strings.Join(refused, "; ")}
		}
		if err := c.Reset(); err != nil {
			o.broken = true
		}
		return o
	}
	w, err := c.Data()
	if err != nil {
		return refusal(c, "the mail", err)
	}
	if _, err := w.Write(raw); err != nil {
		return outcome{broken: true, reason: err.Error()}
	}
	if err := w.Close(); err != nil {
		return refusal(c, "the mail", err)
	}
	o := outcome{sent: true}
	if len(refused) > 0 {
		o.reason = "not delivered to " + strings.Join(refused, "; ")
	}
	return o
}

// refusal classifies an error in the middle of a mail: the server's answer
// (5xx for good, 4xx for now; the connection is reset for the next mail),
// or a broken connection.
func refusal(c *smtp.Client, what string, err error) outcome {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return outcome{broken: true, reason: err.Error()}
	}
	o := outcome{permanent: se.Code/100 == 5, reason: "the server refused " + what + ": " + se.Error()}
	if rerr := c.Reset(); rerr != nil {
		o.broken = true
	}
	return o
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (s *Service) dialSMTP(ctx context.Context) (*smtpConn, error) {
	d := net.Dialer{Timeout: smtpCommandTimeout}
	raw, err := d.DialContext(ctxOrBackground(ctx), "tcp", s.sm.Host)
	if err != nil {
		return nil, fmt.Errorf("connect to SMTP server %s: %w", s.sm.Host, err)
	}
	conn := raw
	switch {
	case s.sm.TLS:
		tc := tls.Client(raw, s.tlsConfig(s.sm))
		raw.SetDeadline(time.Now().Add(smtpCommandTimeout))
		err = tc.Handshake()
		raw.SetDeadline(time.Time{})
		conn = tc
	case s.cfg.StartTLS:
		// STARTTLS is done here rather than by go-smtp so that the
		// connection under TLS stays at hand for pipelining.
		conn, err = startTLS(raw, s.tlsConfig(s.sm), heloName(s.me.Domain))
		if err == nil {
			conn = &greeted{Conn: conn, pre: []byte("220 " + heloName(s.me.Domain) + "\r\n")}
		}
	}
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("connect to SMTP server %s: %w", s.sm.Host, err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = smtpCommandTimeout
	c.SubmissionTimeout = smtpSubmissionTimeout
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
	sc := &smtpConn{c: c, conn: conn}
	sc.pipe, _ = c.Extension("PIPELINING")
	sc.utf8, _ = c.Extension("SMTPUTF8")
	sc.eightBit, _ = c.Extension("8BITMIME")
	return sc, nil
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

func all(l []string, ok func(string) bool) bool {
	return !slices.ContainsFunc(l, func(s string) bool { return !ok(s) })
}
