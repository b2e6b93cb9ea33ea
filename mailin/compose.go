package mailin

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/deskhq/desk/store"
)

// compose renders one outbox entry as a mail: text/plain UTF-8,
// quoted-printable, threaded, with our loop header and, given the mail
// key, our signature of its Message-ID and body (X-Desk-Sig). Every
// header value that may carry mail content goes through headerSafe or
// msgIDSafe first, so a hostile subject or Message-ID cannot add headers.
func compose(m store.OutMail, from, fromName string, date time.Time, key []byte) (rcpt []string, raw []byte, err error) {
	for _, to := range m.To {
		a, err := mail.ParseAddress(headerSafe(to, 320))
		if err != nil || strings.ContainsAny(a.Address, "\r\n<> ") {
			continue
		}
		rcpt = append(rcpt, a.Address)
	}
	if len(rcpt) == 0 {
		return nil, nil, fmt.Errorf("outbox mail %d has no usable recipient in %q: fix or drop it", m.ID, m.To)
	}
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Name: headerSafe(fromName, 100), Address: from}})
	to := make([]*mail.Address, len(rcpt))
	for i, a := range rcpt {
		to[i] = &mail.Address{Address: a}
	}
	h.SetAddressList("To", to)
	// The store tagged the subject with the ticket when it queued the mail.
	subj := headerSafe(m.Subject, 400)
	if enc := headerWords(subj); enc != "" {
		// Text that reads like an encoded word (copied from a mail) is
		// sent encoded, so no client decodes it into something else.
		h.Set("Subject", enc)
	} else {
		h.SetSubject(subj)
	}
	h.SetDate(date)
	if id := msgIDSafe(m.MessageID); id != "" {
		h.SetMessageID(id)
	}
	if id := msgIDSafe(m.InReplyTo); id != "" {
		h.SetMsgIDList("In-Reply-To", []string{id})
	}
	var refs []string
	for _, r := range m.References {
		if id := msgIDSafe(r); id != "" {
			refs = append(refs, id)
		}
	}
	if len(refs) > 20 {
		refs = refs[len(refs)-20:]
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", refs)
	}
	if m.Auto {
		h.Set("Auto-Submitted", "auto-replied")
		h.Set("Precedence", "auto_reply")
	}
	if u := m.Unsubscribe; u != "" && !strings.ContainsAny(u, "<>\r\n \t") {
		// A notice to a subscriber: mail clients offer the link as their
		// own unsubscribe button; over HTTPS they may post to it at once
		// (one-click, RFC 8058), which the status page takes.
		h.Set("List-Unsubscribe", "<"+headerSafe(u, 500)+">")
		if strings.HasPrefix(u, "https://") {
			h.Set("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
	}
	// Ask Exchange and friends not to answer us with out-of-office mail.
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set(LoopHeader, from)
	body := m.Body
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "\uFFFD")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if id := msgIDSafe(m.MessageID); id != "" && len(key) > 0 {
		// What lets intake know a copy of this mail as ours (see ownMail).
		h.Set(SigHeader, bodySig(key, id, body))
	}
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")

	var buf bytes.Buffer
	// Room for the header and the quoted-printable body (a third more
	// for non-ASCII text), so the buffer is not regrown on the way.
	buf.Grow(2048 + len(body) + len(body)/3)
	w, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox mail %d: write header: %w", m.ID, err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return nil, nil, fmt.Errorf("outbox mail %d: write body: %w", m.ID, err)
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("outbox mail %d: finish body: %w", m.ID, err)
	}
	return rcpt, buf.Bytes(), nil
}
