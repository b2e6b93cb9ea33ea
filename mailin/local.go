package mailin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

var quiet = log.New(io.Discard, "", 0)

// LocalIMAP is an in-process IMAP server with one user and an INBOX, on
// loopback: the demo mailbox (package demomail) and the tests use it.
type LocalIMAP struct {
	User *imapmemserver.User
	Addr string
	mem  *imapmemserver.Server
	srv  *imapserver.Server
	ln   net.Listener
}

// StartLocalIMAP listens on a loopback port; idle offers IMAP4rev2 (IDLE).
func StartLocalIMAP(user, pass string, idle bool) (*LocalIMAP, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, pass)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("demo IMAP server: create INBOX: %w", err)
	}
	mem.AddUser(u)
	caps := imap.CapSet{imap.CapIMAP4rev1: {}}
	if idle {
		caps[imap.CapIMAP4rev2] = struct{}{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       quiet,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo IMAP server: listen on loopback: %w", err)
	}
	go srv.Serve(ln)
	return &LocalIMAP{User: u, Addr: ln.Addr().String(), mem: mem, srv: srv, ln: ln}, nil
}

// Append delivers a raw mail into mailbox.
func (m *LocalIMAP) Append(mailbox string, raw []byte) error {
	_, err := m.User.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()})
	return err
}

func (m *LocalIMAP) Close() error { return m.srv.Close() }

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// SentMail is one mail a LocalSink received.
type SentMail struct {
	At        time.Time
	From      string   // envelope sender
	To        []string // envelope recipients
	Subject   string
	MessageID string
	InReplyTo string
	Auto      bool // Auto-Submitted other than "no"
	Body      string
	Raw       []byte
}

// LocalSink is an in-process SMTP server on loopback that keeps what it
// receives (the demo's outgoing mail, and the tests').
type LocalSink struct {
	Addr string
	srv  *smtp.Server
	mu   sync.Mutex
	got  []SentMail
	note chan struct{}
}

// StartLocalSink listens on addr ("" is any loopback port).
func StartLocalSink(addr string) (*LocalSink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	k := &LocalSink{note: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = quiet
	srv.MaxMessageBytes = 32 << 20
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo SMTP sink: listen on %s: %w", addr, err)
	}
	go srv.Serve(ln)
	k.Addr, k.srv = ln.Addr().String(), srv
	return k, nil
}

func (k *LocalSink) Close() error { return k.srv.Close() }

// Sent returns a copy of every mail received so far, oldest first.
func (k *LocalSink) Sent() []SentMail {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]SentMail(nil), k.got...)
}

type sinkSession struct {
	k    *LocalSink
	from string
	to   []string
}

func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	p := Parse(raw, 1<<20)
	as := p.Header.Get("Auto-Submitted")
	sm := SentMail{At: time.Now(), From: s.from, To: s.to, Subject: p.Msg.Subject, MessageID: p.Msg.MessageID,
		InReplyTo: p.Msg.InReplyTo, Auto: as != "" && as != "no", Body: p.Msg.Body, Raw: raw}
	s.k.mu.Lock()
	s.k.got = append(s.k.got, sm)
	s.k.mu.Unlock()
	select {
	case s.k.note <- struct{}{}:
	default:
	}
	return nil
}

// sessionFor serves the same in-memory user again (a restarted server).
func sessionFor(m *LocalIMAP) imapserver.Session { return m.mem.NewSession() }
