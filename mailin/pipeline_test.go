package mailin

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/store"
)

// noPipelining hides the PIPELINING extension of the server behind it, as
// servers without it answer EHLO.
type noPipelining struct{ net.Listener }

func (l noPipelining) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return hidePipe{c}, err
}

type hidePipe struct{ net.Conn }

func (c hidePipe) Write(b []byte) (int, error) {
	return c.Conn.Write(bytes.ReplaceAll(b, []byte("PIPELINING"), []byte("XPIPELINEX")))
}

// TestOutboxMailOutcomesPipelinedOrNot: the same round against a server
// with and without PIPELINING gives each mail the same outcome: a mail to
// two recipients one of whom is refused for good goes to the other; one
// with a recipient refused for now goes to nobody and waits; a refused
// sender fails the mail; the mails between them all go, once.
func TestOutboxMailOutcomesPipelinedOrNot(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		name := "pipelined"
		if !pipe {
			name = "one command at a time"
		}
		t.Run(name, func(t *testing.T) {
			k := &policySink{got: map[string]int{}, refuse: func(to string) *smtp.SMTPError {
				switch to {
				case "gone@x.example":
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
				case "busy@x.example":
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
				}
				return nil
			}}
			srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &policySession{k: k}, nil }))
			srv.Domain = "localhost"
			srv.ErrorLog = quiet
			var ln net.Listener
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			if !pipe {
				ln = noPipelining{ln}
			}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
			r := newRig(t, func(c *Config, _ *Options) { c.SMTP = "smtp://" + addr })
			queue := func(to ...string) uint64 {
				m, err := r.st.Enqueue(store.OutMail{Kind: "reply", To: to, Subject: "s", Body: "line\n.\nafter a dot\n"})
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			}
			var plain []uint64
			for i := range 5 {
				plain = append(plain, queue("u"+string(rune('a'+i))+"@x.example"))
			}
			half := queue("gone@x.example", "two@x.example")
			plain = append(plain, queue("ua@x.example"))
			wait := queue("busy@x.example", "three@x.example")
			plain = append(plain, queue("ub@x.example"))
			refused := queue("gone@x.example")
			plain = append(plain, queue("uc@x.example"))
			sent, failed, _ := r.svc.flush(context.Background())
			if sent != len(plain)+1 || failed != 2 {
				t.Fatalf("sent %d failed %d, want %d sent, 2 failed", sent, failed, len(plain)+1)
			}
			if sc, ok := dialCheck(t, r.svc); ok != pipe {
				t.Fatalf("the connection pipelines: %v, want %v (%v)", ok, pipe, sc)
			}
			all, err := r.st.OutboxAll(0)
			if err != nil {
				t.Fatal(err)
			}
			by := map[uint64]store.OutMail{}
			for _, m := range all {
				by[m.ID] = m
			}
			for _, id := range plain {
				if m := by[id]; m.Sent.IsZero() || m.LastError != "" {
					t.Errorf("mail %d: %+v, want sent", id, m)
				}
			}
			if m := by[half]; m.Sent.IsZero() || k.count("two@x.example") != 1 {
				t.Errorf("the mail with one good recipient: %+v, two@ got %d; want sent to it", m, k.count("two@x.example"))
			}
			if m := by[wait]; !m.Sent.IsZero() || !m.Failed.IsZero() || k.count("three@x.example") != 0 {
				t.Errorf("the mail with a recipient refused for now: %+v, three@ got %d; want waiting, sent to nobody", m, k.count("three@x.example"))
			}
			if m := by[refused]; m.Failed.IsZero() {
				t.Errorf("the mail refused for good: %+v, want failed", m)
			}
			if n := k.count("ua@x.example"); n != 2 {
				t.Errorf("ua@ got %d mails, want 2", n)
			}
		})
	}
}

func dialCheck(t *testing.T, s *Service) (*smtpConn, bool) {
	sc, err := s.dialSMTP(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	return sc, sc.pipe
}
