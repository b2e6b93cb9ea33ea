package mailin

import (
	"regexp"
	"slices"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// Bounce is what a delivery failure report says about the mail that could
// not be delivered: a DSN (multipart/report; report-type=delivery-status,
// RFC 3464: Postfix, Exchange, most MTAs) or a classic bounce from
// MAILER-DAEMON or postmaster with the original attached (message/rfc822
// or text/rfc822-headers). Every field is sanitised text (no control
// characters, bounded); any may be empty when the report does not say.
//
// The fields are what the report claims, like any header: a sender can
// make a mail look like a bounce of a mail whose Message-ID they know.
type Bounce struct {
	// OriginalIDs are the Message-IDs (without angle brackets) of the mail
	// that bounced, most reliable first: the attached original's
	// Message-ID, then the report's In-Reply-To, then its References,
	// newest first. No duplicates.
	OriginalIDs []string
	// Recipients are the addresses delivery failed for (Final-Recipient,
	// X-Failed-Recipients), lower case. For a report of a delay only, the
	// delayed ones.
	Recipients []string
	// Status is the enhanced status code, e.g. "5.1.1" (permanent) or
	// "4.4.1" (temporary).
	Status string
	// Diagnostic is the remote server's answer, e.g.
	// "smtp; 550 5.1.1 <x@y>: Recipient address rejected: User unknown".
	Diagnostic string
	// Action is the report's action for the recipients: "failed",
	// "delayed", ...; empty for a classic bounce, which does not say.
	Action string
}

// Permanent tells whether the report is of a permanent failure (an
// enhanced status 5.x.x, or a failed action without a status).
func (b *Bounce) Permanent() bool {
	if b == nil {
		return false
	}
	if b.Status != "" {
		return strings.HasPrefix(b.Status, "5.")
	}
	return b.Action == "failed" || b.Action == ""
}

const (
	maxBounceRecipients = 100
	maxBounceIDs        = 100
)

// reportPart sorts a part by what a bounce reader wants of it.
func reportPart(mt string) (dsn, original bool) {
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		return true, false
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers":
		return false, true
	}
	return false, false
}

// notice is called by keep for every part kept as an attachment, with its
// decoded content as far as it was read.
func (w *walker) notice(mt string, b []byte) {
	dsn, orig := reportPart(mt)
	switch {
	case dsn && len(w.dsn) < 5:
		w.dsn = append(w.dsn, b)
	case orig && !w.origSeen:
		w.origSeen, w.orig = true, b
	}
}

// bounce reads the delivery report, if the mail is one; the mail is then
// automatic (never acknowledged).
func (w *walker) bounce() *Bounce {
	p := w.p
	top := message.Header{Header: p.Header}
	mt, params, _ := top.ContentType()
	report := len(w.dsn) > 0 || (mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status"))
	if !report && !(systemSender(p.Msg.From.Email) && (w.origSeen || p.Header.Has("X-Failed-Recipients"))) {
		return nil
	}
	b := &Bounce{}
	for _, d := range w.dsn {
		b.readDSN(d)
	}
	for _, v := range p.Header.Values("X-Failed-Recipients") {
		for _, a := range strings.Split(v, ",") {
			b.addRecipient(a)
		}
	}
	if b.Status == "" {
		// A classic bounce says it in words: take the first line of its
		// text with an enhanced status code.
		for _, l := range strings.Split(p.Msg.Body, "\n") {
			if m := statusInTextRE.FindStringSubmatch(l); m != nil {
				b.Status = m[1]
				if b.Diagnostic == "" {
					b.Diagnostic = headerSafe(l, 500)
				}
				break
			}
		}
	}
	if w.origSeen {
		h, _, _ := salvageHeader(w.orig)
		mh := mail.Header{Header: message.Header{Header: h}}
		if id, err := mh.MessageID(); err == nil && id != "" {
			b.addID(id)
		} else {
			b.addID(looseIDs(rawField(mh, "Message-Id")).first())
		}
	}
	b.addID(p.Msg.InReplyTo)
	refs := slices.Clone(p.Msg.References)
	slices.Reverse(refs)
	for _, r := range refs {
		b.addID(r)
	}
	p.Msg.Auto = true
	return b
}

// systemSender: the senders of classic bounces.
func systemSender(addr string) bool {
	local, _, _ := splitAddr(strings.ToLower(strings.TrimSpace(addr)))
	local = strings.ReplaceAll(strings.ReplaceAll(local, "-", ""), "_", "")
	return local == "mailerdaemon" || local == "postmaster"
}

var (
	statusRE       = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}`)
	statusInTextRE = regexp.MustCompile(`(?:^|\s)([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:$|[\s;:,.)])`)
	blankLineRE    = regexp.MustCompile(`\r?\n[ \t]*\r?\n`)
)

// readDSN reads a message/delivery-status body: a block of per-message
// fields, then one block per recipient. The failed recipients are kept
// (all of them when none failed: a delay notice), with the status and
// diagnostic of the first.
func (b *Bounce) readDSN(data []byte) {
	type rcpt struct{ addr, action, status, diag string }
	var all []rcpt
	for _, block := range blankLineRE.Split(string(data), 200) {
		h, _, _ := salvageHeader([]byte(strings.TrimLeft(block, "\r\n")))
		addr := h.Get("Final-Recipient")
		if addr == "" {
			addr = h.Get("Original-Recipient")
		}
		if addr == "" {
			continue // the per-message fields, or no recipient block
		}
		r := rcpt{addr: addr, action: strings.ToLower(headerSafe(h.Get("Action"), 40)), diag: headerSafe(h.Get("Diagnostic-Code"), 500)}
		st := headerSafe(h.Get("Status"), 60)
		if m := statusRE.FindString(st); m != "" {
			st = m
		}
		r.status = st
		all = append(all, r)
	}
	var failed []rcpt
	for _, r := range all {
		if r.action == "failed" || (r.action == "" && strings.HasPrefix(r.status, "5.")) {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		failed = all
	}
	for _, r := range failed {
		b.addRecipient(r.addr)
		if b.Action == "" && b.Status == "" && b.Diagnostic == "" {
			b.Action, b.Status, b.Diagnostic = r.action, r.status, r.diag
		}
	}
}

// addRecipient adds an address as a report writes it ("rfc822; a@b",
// "<a@b>"), once.
func (b *Bounce) addRecipient(v string) {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i+1:]
	}
	v = strings.ToLower(headerSafe(strings.Trim(strings.TrimSpace(v), "<>"), 320))
	v = strings.Trim(v, "<> ")
	if v == "" || len(b.Recipients) >= maxBounceRecipients || slices.Contains(b.Recipients, v) {
		return
	}
	b.Recipients = append(b.Recipients, v)
}

// addID adds a Message-ID once; one holding control characters or spaces
// is no id we made, and could reach a terminal.
func (b *Bounce) addID(id string) {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	if id == "" || len(id) > 250 || len(b.OriginalIDs) >= maxBounceIDs || slices.Contains(b.OriginalIDs, id) {
		return
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			return
		}
	}
	b.OriginalIDs = append(b.OriginalIDs, id)
}
