package mailin

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/store"
)

// policySink is a real go-smtp server (no SMTPUTF8, like many) that refuses
// some recipients: refuse maps an address to the answer its RCPT gets.
type policySink struct {
	addr string
	mu   sync.Mutex
	got  map[string]int // accepted recipient -> mails
	// refuse is consulted for every RCPT; nil accepts.
	refuse func(to string) *smtp.SMTPError
}

func startPolicySink(t *testing.T, refuse func(string) *smtp.SMTPError) *policySink {
	t.Helper()
	k := &policySink{got: map[string]int{}, refuse: refuse}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &policySession{k: k}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = quiet
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	k.addr = ln.Addr().String()
	return k
}

func (k *policySink) count(to string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.got[to]
}

type policySession struct {
	k  *policySink
	to []string
}

func (s *policySession) Reset()                               { s.to = nil }
func (s *policySession) Logout() error                        { return nil }
func (s *policySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *policySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	refuse := s.k.refuse
	s.k.mu.Unlock()
	if refuse != nil {
		if e := refuse(to); e != nil {
			return e
		}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *policySession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.k.mu.Lock()
	for _, a := range s.to {
		s.k.got[a]++
	}
	s.k.mu.Unlock()
	return nil
}

// TestOutboxFailuresArePerMail: one recipient the server cannot take (a
// non-ASCII address, no SMTPUTF8), one it refuses for good (550) and one it
// refuses for now (451) do not stop the other 49 acknowledgements; the two
// refused for good are kept as failed with the reason and never tried
// again, the one refused for now is retried after its backoff.
func TestOutboxFailuresArePerMail(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	sink := startPolicySink(t, func(to string) *smtp.SMTPError {
		switch {
		case to == "gone@x.example":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case to == "busy@x.example" && busy.Load():
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	r := newRig(t, func(c *Config, _ *Options) { c.SMTP = "smtp://" + sink.addr })
	r.deliver(mk("Jörg <jörg@exämple.de>", "kaputt", "x"))
	for i := range 49 {
		r.deliver(mk(fmt.Sprintf("user%d@x.example", i), fmt.Sprintf("problem %d", i), "x"))
		if i == 20 {
			r.deliver(mk("gone@x.example", "left the company", "x"))
			r.deliver(mk("busy@x.example", "mailbox full", "x"))
		}
	}
	st := r.once()
	if st.Registered != 52 || st.Sent != 49 || st.Failed != 3 {
		t.Fatalf("stats %+v, want 52 registered, 49 sent, 3 failed", st)
	}
	for i := range 49 {
		if n := sink.count(fmt.Sprintf("user%d@x.example", i)); n != 1 {
			t.Fatalf("user%d got %d acknowledgements", i, n)
		}
	}
	all, err := r.st.OutboxAll(0)
	if err != nil {
		t.Fatal(err)
	}
	byTo := map[string]store.OutMail{}
	for _, m := range all {
		byTo[m.To[0]] = m
	}
	if m := byTo["jörg@exämple.de"]; m.Failed.IsZero() || !strings.Contains(m.LastError, "SMTPUTF8") {
		t.Errorf("the non-ASCII recipient: failed %v, reason %q; want failed for good, saying why", m.Failed, m.LastError)
	}
	if m := byTo["gone@x.example"]; m.Failed.IsZero() || !strings.Contains(m.LastError, "550") || !strings.Contains(m.LastError, "no such user") {
		t.Errorf("the refused recipient: failed %v, reason %q; want failed for good with the server's answer", m.Failed, m.LastError)
	}
	if m := byTo["busy@x.example"]; !m.Failed.IsZero() || !m.Sent.IsZero() || !strings.Contains(m.LastError, "451") || !m.NextTry.After(r.clk.Now()) {
		t.Errorf("the recipient refused for now: %+v; want queued with a later retry", m)
	}
	if s := r.svc.Status(); s.Outbox != 1 || s.OutboxErr == "" {
		t.Errorf("status %+v, want one mail waiting and the last error shown", s)
	}

	// Later: only the mail refused for now is tried again, and goes.
	busy.Store(false)
	r.clk.Add(retryAfter(1) + time.Second)
	syncs := r.st.Syncs()
	sent, failed, err := r.svc.flush(context.Background())
	if sent != 1 || failed != 0 || err != nil {
		t.Fatalf("retry: sent %d failed %d %v, want the one retry sent", sent, failed, err)
	}
	if n := r.st.Syncs() - syncs; n != 1 {
		t.Errorf("the round cost %d disk syncs, want 1", n)
	}
	if sink.count("busy@x.example") != 1 || sink.count("jörg@exämple.de") != 0 {
		t.Errorf("after the retry: busy got %d, the non-ASCII address %d", sink.count("busy@x.example"), sink.count("jörg@exämple.de"))
	}
	r.clk.Add(24 * time.Hour)
	if sent, failed, _ := r.svc.flush(context.Background()); sent+failed != 0 {
		t.Errorf("a day later %d sent, %d failed: mail given up on was tried again", sent, failed)
	}
}

// TestOutboxRoundIsOneSync: a round of sends costs one disk sync at its
// end, and a failed connection one for all its mails, however many.
func TestOutboxRoundIsOneSync(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	r := newRig(t, func(c *Config, _ *Options) { c.SMTP = "smtp://" + down })
	for i := range 30 {
		if _, err := r.st.Enqueue(store.OutMail{Kind: "reply", To: []string{fmt.Sprintf("u%d@x.example", i)}, Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	syncs := r.st.Syncs()
	if sent, failed, _ := r.svc.flush(context.Background()); sent != 0 || failed != 30 {
		t.Fatalf("with SMTP down: sent %d failed %d", sent, failed)
	}
	if n := r.st.Syncs() - syncs; n != 1 {
		t.Errorf("a failed connection for 30 mails cost %d disk syncs, want 1", n)
	}
	sink, err := StartLocalSink(down)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	r.clk.Add(retryAfter(1) + time.Second)
	syncs = r.st.Syncs()
	if sent, failed, err := r.svc.flush(context.Background()); sent != 30 || failed != 0 {
		t.Fatalf("sent %d failed %d %v", sent, failed, err)
	}
	if n := r.st.Syncs() - syncs; n != 1 {
		t.Errorf("a round of 30 sends cost %d disk syncs, want 1", n)
	}
	if len(sink.Sent()) != 30 {
		t.Errorf("sink got %d", len(sink.Sent()))
	}
}
