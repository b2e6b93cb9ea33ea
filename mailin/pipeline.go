package mailin

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/store"
)

// smtpConn is one connection to the SMTP server for an outbox round. The
// go-smtp client greets, starts TLS, logs in and knows the extensions; when
// the server offers PIPELINING (RFC 2920) the round's mails are then sent
// over conn directly, pipelined: a mail's envelope (MAIL, RCPT, DATA) goes
// in one write together with the end of the mail before it, so a mail
// costs about one round trip instead of four.
type smtpConn struct {
	c    *smtp.Client
	conn net.Conn // what c reads and writes, after TLS
	pipe bool
	// Extensions that shape the MAIL command.
	utf8, eightBit bool
}

func (sc *smtpConn) Close() error { return sc.c.Close() }

const (
	smtpCommandTimeout    = 30 * time.Second
	smtpSubmissionTimeout = 2 * time.Minute
)

// greeted is a connection whose greeting was already read (before
// STARTTLS): go-smtp, handed the TLS connection, reads it once more.
type greeted struct {
	net.Conn
	pre []byte
}

func (g *greeted) Read(b []byte) (int, error) {
	if len(g.pre) > 0 {
		n := copy(b, g.pre)
		g.pre = g.pre[n:]
		return n, nil
	}
	return g.Conn.Read(b)
}

// startTLS greets the server on raw, asks for STARTTLS and returns the TLS
// connection, ready for a new EHLO.
func startTLS(raw net.Conn, cfg *tls.Config, helo string) (net.Conn, error) {
	raw.SetDeadline(time.Now().Add(smtpCommandTimeout))
	defer raw.SetDeadline(time.Time{})
	t := textproto.NewConn(raw)
	if _, _, err := t.ReadResponse(220); err != nil {
		return nil, smtpErr(err)
	}
	if err := t.PrintfLine("EHLO %s", helo); err != nil {
		return nil, err
	}
	_, msg, err := t.ReadResponse(250)
	if err != nil {
		return nil, smtpErr(err)
	}
	ok := false
	for _, l := range strings.Split(msg, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
			ok = true
		}
	}
	if !ok {
		return nil, errors.New("smtp: server doesn't support STARTTLS")
	}
	if err := t.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := t.ReadResponse(220); err != nil {
		return nil, smtpErr(err)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	return tc, nil
}

// smtpErr turns a server's answer into an *smtp.SMTPError, as go-smtp's
// client does; other errors (the connection) pass as they are.
func smtpErr(err error) error {
	var pe *textproto.Error
	if !errors.As(err, &pe) {
		return err
	}
	se := &smtp.SMTPError{Code: pe.Code, Message: pe.Msg}
	if code, rest, ok := strings.Cut(pe.Msg, " "); ok {
		if p := strings.Split(code, "."); len(p) == 3 {
			var ec smtp.EnhancedCode
			good := true
			for i, x := range p {
				n, err := strconv.Atoi(x)
				if err != nil {
					good = false
					break
				}
				ec[i] = n
			}
			if good {
				se.EnhancedCode = ec
				se.Message = strings.ReplaceAll(rest, "\n"+code+" ", "\n")
			}
		}
	}
	return se
}

// prepared is one outbox mail composed for sending: its recipients, the
// mail, and the MAIL parameters; early is set when it cannot be sent at
// all (no usable recipient, an address the server cannot take).
type prepared struct {
	m       store.OutMail
	rcpt    []string
	raw     []byte
	utf8    bool
	refused []string // recipients left out, with why
	early   *outcome
}

// prepare composes m and picks the recipients the server can take: the
// one place both send paths (pipelined or not) start from.
func (s *Service) prepare(m store.OutMail, utf8OK bool) *prepared {
	p := &prepared{m: m}
	rcpt, raw, err := compose(m, s.cfg.Address, s.cfg.Name, s.now(), s.me.key)
	if err != nil {
		p.early = &outcome{permanent: true, reason: err.Error()}
		return p
	}
	from := s.cfg.Address
	if !isASCII(from) || !all(rcpt, isASCII) {
		switch {
		case utf8OK:
			p.utf8 = true
		case !isASCII(from):
			p.early = &outcome{permanent: true, reason: fmt.Sprintf("the support address %s is not ASCII and the SMTP server cannot take that (no SMTPUTF8)", from)}
			return p
		default:
			var ok []string
			for _, a := range rcpt {
				if isASCII(a) {
					ok = append(ok, a)
				} else {
					p.refused = append(p.refused, a+": the SMTP server cannot take a non-ASCII address (no SMTPUTF8)")
				}
			}
			rcpt = ok
		}
	}
	if len(rcpt) == 0 {
		p.early = &outcome{permanent: true, reason: "refused: " + strings.Join(p.refused, "; ")}
		return p
	}
	p.rcpt, p.raw = rcpt, raw
	return p
}

// pipeliner sends prepared mails over a PIPELINING server. At most one
// mail is ever between the end of its data and its recorded outcome: the
// end of a mail's data leaves with the next mail's envelope, after the
// outcome of the mail before it was heard and recorded (done, which
// journals it before it returns), so a kill finds at most that one mail
// sent and not marked.
type pipeliner struct {
	s    *Service
	sc   *smtpConn
	r    *textproto.Reader
	bw   *bufio.Writer
	w    *textproto.Writer
	from string
	// pend is the mail whose data has been ended and whose answer is not
	// read yet.
	pend *prepared
}

func newPipeliner(s *Service, sc *smtpConn) *pipeliner {
	bw := bufio.NewWriterSize(sc.conn, 32<<10)
	return &pipeliner{s: s, sc: sc, r: textproto.NewReader(bufio.NewReaderSize(lineLimit{sc.conn}, 4096)), bw: bw,
		w: textproto.NewWriter(bw), from: s.cfg.Address}
}

// lineLimit keeps a server from making the client read an endless line: a
// reply line has at most 512 octets (RFC 5321 4.5.3.1.5); a read of more
// than 64 KB without a line break ends the connection.
type lineLimit struct{ c net.Conn }

func (l lineLimit) Read(b []byte) (int, error) {
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	return l.c.Read(b)
}

func (p *pipeliner) deadline(d time.Duration) { p.sc.conn.SetDeadline(time.Now().Add(d)) }

// envelope writes MAIL, RCPT for each recipient and, for a mail with one
// recipient, DATA; it does not flush.
func (p *pipeliner) envelope(m *prepared, withData bool) {
	var b strings.Builder
	b.Grow(64 + len(p.from))
	b.WriteString("MAIL FROM:<")
	b.WriteString(p.from)
	b.WriteString(">")
	if p.sc.eightBit {
		b.WriteString(" BODY=8BITMIME")
	}
	if m.utf8 {
		b.WriteString(" SMTPUTF8")
	}
	b.WriteString("\r\n")
	for _, a := range m.rcpt {
		b.WriteString("RCPT TO:<")
		b.WriteString(a)
		b.WriteString(">\r\n")
	}
	if withData {
		b.WriteString("DATA\r\n")
	}
	p.bw.WriteString(b.String())
}

// answer reads one reply: nil for the code expected, an *smtp.SMTPError
// for another, else the connection's error.
func (p *pipeliner) answer(code int) error {
	_, _, err := p.r.ReadResponse(code)
	return smtpErr(err)
}

func isSMTP(err error) (*smtp.SMTPError, bool) {
	var se *smtp.SMTPError
	ok := errors.As(err, &se)
	return se, ok
}

// finish reads the answer to the pending mail's data.
func (p *pipeliner) finish() (*prepared, outcome) {
	m := p.pend
	p.pend = nil
	p.deadline(smtpSubmissionTimeout)
	err := p.answer(250)
	if err == nil {
		o := outcome{sent: true}
		if len(m.refused) > 0 {
			o.reason = "not delivered to " + strings.Join(m.refused, "; ")
		}
		return m, o
	}
	se, ok := isSMTP(err)
	if !ok {
		return m, outcome{broken: true, reason: err.Error()}
	}
	// After the end of the data the transaction is over either way.
	return m, outcome{permanent: se.Code/100 == 5, reason: "the server refused the mail: " + se.Error()}
}

// reset ends a transaction the server opened for a mail not sent.
func (p *pipeliner) reset(o outcome) outcome {
	p.deadline(smtpCommandTimeout)
	if err := p.w.PrintfLine("RSET"); err != nil {
		o.broken = true
		return o
	}
	if err := p.answer(250); err != nil {
		o.broken = true
	}
	return o
}

// start sends m's envelope (with the end of the pending mail, if any, in
// the same write), hears the pending mail's answer (done), then m's. On
// success m's data is written, all but its end, and m becomes pending
// (decided false). Otherwise o is m's outcome (decided), or m was not tried
// at all; stop ends the round either way.
func (p *pipeliner) start(m *prepared, done func(*prepared, outcome) bool) (o outcome, decided, stop bool) {
	broken := func(err error) (outcome, bool, bool) { return outcome{broken: true, reason: err.Error()}, true, true }
	withData := len(m.rcpt) == 1
	p.envelope(m, withData)
	p.deadline(smtpCommandTimeout)
	if err := p.bw.Flush(); err != nil {
		if p.pend != nil {
			pm := p.pend
			p.pend = nil
			done(pm, outcome{broken: true, reason: err.Error()})
			return outcome{}, false, true // m was not tried
		}
		return broken(err)
	}
	if p.pend != nil {
		if !done(p.finish()) {
			return outcome{}, false, true // m was not tried
		}
	}
	p.deadline(smtpCommandTimeout)
	mailErr := p.answer(250)
	if _, ok := isSMTP(mailErr); mailErr != nil && !ok {
		return broken(mailErr)
	}
	accepted, later := 0, ""
	for _, a := range m.rcpt {
		err := p.answer(250)
		se, ok := isSMTP(err)
		switch {
		case err == nil:
			accepted++
		case !ok:
			return broken(err)
		case mailErr != nil:
			// Refused because MAIL was: the sender is the reason.
		case se.Code/100 == 5:
			m.refused = append(m.refused, a+": "+se.Error())
		default:
			later = a + ": " + se.Error()
		}
	}
	var dataErr error
	if withData {
		dataErr = p.answer(354)
		if _, ok := isSMTP(dataErr); dataErr != nil && !ok {
			return broken(dataErr)
		}
		if dataErr == nil && (mailErr != nil || accepted == 0) {
			// A server that takes the data of a mail it refused: end it
			// at once, empty, for nobody.
			if err := p.w.PrintfLine("."); err != nil {
				return broken(err)
			}
			p.answer(250)
		}
	}
	switch {
	case mailErr != nil:
		se, _ := isSMTP(mailErr)
		o := p.reset(outcome{permanent: se.Code/100 == 5, reason: "the server refused the sender: " + se.Error()})
		return o, true, o.broken
	case later != "" || accepted == 0:
		o := outcome{reason: later}
		if later == "" {
			o = outcome{permanent: true, reason: "refused: " + strings.Join(m.refused, "; ")}
		}
		o = p.reset(o)
		return o, true, o.broken
	}
	if !withData {
		if err := p.w.PrintfLine("DATA"); err != nil {
			return broken(err)
		}
		dataErr = p.answer(354)
	}
	if dataErr != nil {
		se, ok := isSMTP(dataErr)
		if !ok {
			return broken(dataErr)
		}
		o := p.reset(outcome{permanent: se.Code/100 == 5, reason: "the server refused the mail: " + se.Error()})
		return o, true, o.broken
	}
	dw := p.w.DotWriter()
	if _, err := dw.Write(m.raw); err != nil {
		return broken(err)
	}
	// Close puts the end of the data in the buffer: it leaves with the
	// next mail's envelope, or at the end of the round.
	if err := dw.Close(); err != nil {
		return broken(err)
	}
	p.pend = m
	return outcome{}, false, false
}

// sendPipelined sends due over sc, composing each mail while the one
// before it is on the wire. done hears each mail's outcome in order and
// says whether to go on; the mails after a stop are not tried.
func (s *Service) sendPipelined(ctx context.Context, sc *smtpConn, due []store.OutMail, done func(*prepared, outcome) bool) {
	ready := make(chan *prepared, 8)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(ready)
		for _, m := range due {
			select {
			case ready <- s.prepare(m, sc.utf8):
			case <-quit:
				return
			}
		}
	}()
	p := newPipeliner(s, sc)
	// flushPending lets the end of the pending mail go now.
	flushPending := func() bool {
		if p.pend == nil {
			return true
		}
		p.deadline(smtpCommandTimeout)
		if err := p.bw.Flush(); err != nil {
			pm := p.pend
			p.pend = nil
			done(pm, outcome{broken: true, reason: err.Error()})
			return false
		}
		return true
	}
	for {
		var m *prepared
		var ok bool
		select {
		case m, ok = <-ready:
		default:
			// The next mail is not composed yet: the pending one need not
			// wait for it.
			if !flushPending() {
				return
			}
			m, ok = <-ready
		}
		if !ok || (ctx != nil && ctx.Err() != nil) {
			break
		}
		if m.early != nil {
			if !done(m, *m.early) {
				return
			}
			continue
		}
		o, decided, stop := p.start(m, done)
		if decided && !done(m, o) {
			return
		}
		if stop {
			return
		}
	}
	if !flushPending() {
		return
	}
	if p.pend != nil {
		if !done(p.finish()) {
			return
		}
	}
	p.deadline(smtpCommandTimeout)
	if p.w.PrintfLine("QUIT") == nil {
		p.answer(221)
	}
	sc.conn.SetDeadline(time.Time{})
}
