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

// memIMAP is an in-process IMAP server with one user and an INBOX.
type memIMAP struct {
	User *imapmemserver.User
	Addr string
	mem  *imapmemserver.Server
	srv  *imapserver.Server
	ln   net.Listener
}

func startMemIMAP(user, pass string, idle bool) (*memIMAP, error) {
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
	return &memIMAP{User: u, Addr: ln.Addr().String(), mem: mem, srv: srv, ln: ln}, nil
}

// Append delivers a raw mail into mailbox.
func (m *memIMAP) Append(mailbox string, raw []byte) error {
	_, err := m.User.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()})
	return err
}

func (m *memIMAP) Close() error { return m.srv.Close() }

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// SentMail is one mail the demo's SMTP sink received.
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

// smtpSink is an in-process SMTP server that keeps what it receives.
type smtpSink struct {
	Addr string
	srv  *smtp.Server
	mu   sync.Mutex
	got  []SentMail
	note chan struct{}
}

func startSink(addr string) (*smtpSink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	k := &smtpSink{note: make(chan struct{}, 1)}
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

func (k *smtpSink) Close() error { return k.srv.Close() }

// Sent returns a copy of every mail received so far, oldest first.
func (k *smtpSink) Sent() []SentMail {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]SentMail(nil), k.got...)
}

type sinkSession struct {
	k    *smtpSink
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
func sessionFor(m *memIMAP) imapserver.Session { return m.mem.NewSession() }
