package mailin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-8859-x, windows-125x and the rest for message.CharsetReader
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"

	"github.com/deskhq/desk/store"
)

const (
	maxDepth     = 16        // nested multiparts; deeper is an attack, not a mail
	maxParts     = 500       // parts per mail
	maxTextBytes = 8 << 20   // body text kept per mail
	maxHeaderLen = 64 << 10  // longest header value we look at
	maxRawCopy   = 256 << 10 // raw text kept of a mail with problems (original.eml)
)

// Parsed is one mail read from the mailbox: the message as the store keeps
// it, the attachment contents to store beside it, the dedupe key and the
// header for loop checks.
type Parsed struct {
	Msg *store.Message
	// Blobs holds kept attachment contents keyed by Attachment.Blob.
	Blobs map[string][]byte
	// Key is the Message-ID, or "sha256:<hex of the raw bytes>" when there is none.
	Key string
	// Header is the top-level header as far as it could be read.
	Header textproto.Header
	// Bounce is set when the mail is a delivery failure report (then
	// Msg.Auto is set too): what it says about the mail that bounced.
	Bounce *Bounce
	// ReplyOK tells whether automatic mail may go to Msg.From.Email: the
	// header it came from (From, or Sender without a From) is exactly one
	// well-formed address as net/mail reads it, and a Reply-To, if any, is
	// a well-formed address list. An address salvaged from a broken
	// header is kept on the ticket but never answered automatically.
	ReplyOK bool
	// ReplyProblem says why ReplyOK is false.
	ReplyProblem string
}

// Parse reads a raw mail. It never fails: what cannot be read is listed in
// Msg.Problems and the rest is kept. maxAttachment caps the bytes kept per
// attachment (0 or less: the default, 10 MiB); larger ones are recorded by
// name and size only.
func Parse(raw []byte, maxAttachment int64) (p *Parsed) {
	defer func() {
		// A panic in a decoder on hostile input must not take the poller
		// (and with it every operator's console) down, nor come back on
		// every restart: the mail is registered with what the header gave.
		if r := recover(); r != nil {
			p = salvageParse(raw, fmt.Sprintf("the mail could not be parsed (%v); kept as received", r), maxAttachment)
		}
	}()
	return parse(raw, maxAttachment, false)
}

// salvageParse is the least Parse returns: the raw text as the body, the
// sender and subject if the header can be read, and a content-hash key.
func salvageParse(raw []byte, problem string, maxAttachment int64) *Parsed {
	if maxAttachment <= 0 {
		maxAttachment = defaultMaxAttachment
	}
	p := &Parsed{Msg: &store.Message{}, Blobs: map[string][]byte{}}
	p.problem("%s", problem)
	p.keepRaw(raw, 0, maxAttachment)
	func() {
		defer func() { recover() }()
		hdr, _, _ := salvageHeader(raw)
		p.Header = hdr
		if a, err := mail.ParseAddress(hdr.Get("From")); err == nil {
			p.Msg.From = store.Person{Name: text8(p, a.Name), Email: text8(p, a.Address)}
		}
		h := mail.Header{Header: message.Header{Header: hdr}}
		p.ReplyOK, p.ReplyProblem = replyCheck(h, "From", p.Msg.From.Email)
		p.Msg.Subject = strings.TrimSpace(unfold(text8(p, decodeText(p, "subject", rawField(h, "Subject")))))
	}()
	if !p.ReplyOK && p.ReplyProblem == "" {
		p.ReplyProblem = "the header could not be read"
	}
	p.Key = mailKey("", raw)
	return p
}

// parse is Parse; slow reads every part through go-message, for tests that
// hold the fast base64 path to the same results.
func parse(raw []byte, maxAttachment int64, slow bool) *Parsed {
	if maxAttachment <= 0 {
		maxAttachment = defaultMaxAttachment
	}
	p := &Parsed{Msg: &store.Message{}, Blobs: map[string][]byte{}}
	m := p.Msg

	var ent *message.Entity
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	hdr, err := textproto.ReadHeader(br)
	bodyAt := len(raw) - rd.Len() - br.Buffered() // where the body starts in raw
	if err != nil {
		var body []byte
		var probs []string
		hdr, body, probs = salvageHeader(raw)
		bodyAt = len(raw) - len(body)
		p.problem("header: %v; read what could be read", err)
		for _, pr := range probs {
			p.problem("%s", pr)
		}
		ent, err = message.New(message.Header{Header: hdr}, bytes.NewReader(body))
	} else {
		ent, err = message.New(message.Header{Header: hdr}, br)
	}
	if err != nil {
		p.problem("body: %v; text kept as received", err)
	}
	p.Header = hdr
	p.readHeader()

	w := &walker{p: p, max: maxAttachment, slow: slow, size: len(raw)}
	if ent != nil {
		plain, htm := w.entity(ent, 0)
		switch {
		case strings.TrimSpace(plain) != "":
			m.Body = plain
		case strings.TrimSpace(htm) != "":
			m.Body = htmlText(htm)
		default:
			m.Body = plain
		}
		p.Bounce = w.bounce()
	}
	p.keepRaw(raw, bodyAt, maxAttachment)
	p.Key = mailKey(m.MessageID, raw)
	return p
}

// keepRaw lets the operator read a mail parsing had problems with as it
// was received: its body text as the message body when no text could be
// read (a missing or wrong boundary leaves none), and the whole mail as
// an original.eml attachment; both capped at maxRawCopy (the copy also at
// the attachment cap). The mail itself stays on the IMAP server.
func (p *Parsed) keepRaw(raw []byte, bodyAt int, maxAttachment int64) {
	m := p.Msg
	if len(m.Problems) == 0 {
		return
	}
	if strings.TrimSpace(m.Body) == "" && bodyAt >= 0 && bodyAt < len(raw) {
		b := raw[bodyAt:]
		if len(b) > maxRawCopy {
			n := maxRawCopy
			for n > 0 && !utf8.RuneStart(b[n]) {
				n--
			}
			b = b[:n]
		}
		if len(bytes.TrimSpace(b)) > 0 {
			m.Body = text8(p, string(b))
			p.problem("no text could be read from the parts: the body is the mail's text as received")
		}
	}
	n := min(int64(len(raw)), maxRawCopy, maxAttachment)
	if n <= 0 {
		return
	}
	b := raw[:n]
	if n < int64(len(raw)) {
		p.problem("original.eml keeps the first %d of the mail's %d bytes", n, len(raw))
	}
	sum := sha256.Sum256(b)
	a := store.Attachment{Name: "original.eml", ContentType: "message/rfc822", Size: n, Blob: "sha256:" + hex.EncodeToString(sum[:])}
	p.Blobs[a.Blob] = b
	m.Attachments = append(m.Attachments, a)
}

// mailKey is the dedupe key: the Message-ID when there is one (hashed when
// absurdly long), else a hash of the whole mail.
func mailKey(msgID string, raw []byte) string {
	if msgID != "" {
		if len(msgID) > 250 {
			sum := sha256.Sum256([]byte(msgID))
			return "midsha256:" + hex.EncodeToString(sum[:])
		}
		return msgID
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (p *Parsed) problem(format string, args ...any) {
	s := strings.ToValidUTF8(fmt.Sprintf(format, args...), "?")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	if len(p.Msg.Problems) < 50 && !slices.Contains(p.Msg.Problems, s) {
		p.Msg.Problems = append(p.Msg.Problems, s)
	}
}

func (p *Parsed) readHeader() {
	h := mail.Header{Header: message.Header{Header: p.Header}}
	m := p.Msg

	// decodeText rather than h.Subject: a word in a charset we cannot
	// convert is shown readable, not as "=?x-unknown?Q?...?=" (which the
	// acknowledgement would carry on).
	m.Subject = text8(p, decodeText(p, "subject", rawField(h, "Subject")))
	m.Subject = strings.TrimSpace(unfold(m.Subject))

	fromField := "From"
	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		if err != nil {
			p.problem("from: %v", err)
		}
		if v := rawField(h, "From"); v != "" {
			m.From = salvagePerson(text8(p, decodeText(p, "from", v)))
		}
		if m.From.Email == "" {
			if s, err := h.AddressList("Sender"); err == nil && len(s) > 0 {
				m.From = store.Person{Name: text8(p, decodeText(p, "sender", s[0].Name)), Email: text8(p, s[0].Address)}
				if rawField(h, "From") == "" {
					// Only a missing From is replaced by the Sender for
					// answers; a broken one makes the mail unanswerable.
					fromField = "Sender"
				}
			}
		}
		if m.From.Email == "" {
			p.problem("no sender address could be read")
		}
	} else {
		// go-message leaves a display name in an unknown charset encoded.
		m.From = store.Person{Name: text8(p, decodeText(p, "from", from[0].Name)), Email: text8(p, from[0].Address)}
	}
	p.ReplyOK, p.ReplyProblem = replyCheck(h, fromField, m.From.Email)
	m.To = p.addrList(h, "To")
	m.Cc = p.addrList(h, "Cc")

	if id, err := h.MessageID(); err != nil {
		// A Message-ID we cannot parse is still an identity worth deduping on.
		v := strings.Trim(strings.TrimSpace(rawField(h, "Message-Id")), "<>")
		if v != "" {
			p.problem("message-id: %v", err)
			m.MessageID = strings.ToValidUTF8(v, "?")
		}
	} else {
		m.MessageID = id
	}
	if l, err := h.MsgIDList("In-Reply-To"); err == nil && len(l) > 0 {
		m.InReplyTo = l[0]
	} else if err != nil {
		m.InReplyTo = looseIDs(rawField(h, "In-Reply-To")).first()
	}
	if l, err := h.MsgIDList("References"); err == nil {
		m.References = l
	} else {
		m.References = looseIDs(rawField(h, "References"))
	}
	if len(m.References) > 100 {
		// Only the newest references matter for threading; the rest is bloat.
		m.References = m.References[len(m.References)-100:]
	}
	if p.Header.Has("Date") {
		if d, ok := quickDate(h.Get("Date")); ok {
			m.Date = d
		} else if d, err := h.Date(); err != nil {
			p.problem("date: %v", err)
		} else {
			m.Date = d
		}
	}
}

// rfc5322Date is how nearly every mail writes its Date.
const rfc5322Date = "Mon, 02 Jan 2006 15:04:05 -0700"

// quickDate reads a Date written exactly as rfc5322Date writes it (the
// weekday right too), as net/mail.ParseDate would read it: that tries
// some 40 layouts in turn, and the ~27 that fail before this one made
// a good part of parsing's garbage. Anything else is left to it.
func quickDate(v string) (time.Time, bool) {
	if len(v) != len(rfc5322Date) {
		return time.Time{}, false
	}
	d, err := time.Parse(rfc5322Date, v)
	if err != nil || d.Format(rfc5322Date) != v {
		return time.Time{}, false
	}
	return d, true
}

func (p *Parsed) addrList(h mail.Header, key string) []string {
	l, err := h.AddressList(key)
	if err == nil {
		out := make([]string, 0, len(l))
		for _, a := range l {
			out = append(out, text8(p, a.Address))
		}
		return out
	}
	p.problem("%s: %v", strings.ToLower(key), err)
	var out []string
	for _, a := range addrRE.FindAllString(rawField(h, key), 50) {
		out = append(out, text8(p, a))
	}
	return out
}

// trustParser is net/mail's address grammar, with any charset accepted
// in encoded words: whether an address is well-formed does not depend on
// whether we can convert its display name.
var trustParser = &netmail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
		if cr, err := message.CharsetReader(charset, r); err == nil {
			return cr, nil
		}
		return r, nil
	},
}}

// replyCheck decides Parsed.ReplyOK for the address addr read from field.
func replyCheck(h mail.Header, field, addr string) (bool, string) {
	if addr == "" {
		return false, "no sender address"
	}
	if n := len(h.Values(field)); n > 1 {
		return false, fmt.Sprintf("the mail has %d %s headers", n, field)
	}
	raw := rawField(h, field)
	// Undeclared 8-bit bytes are read as windows-1252 first, as for the
	// ticket: letters in a name, they change nothing of the grammar.
	a, err := trustParser.Parse(text8(nil, unfold(raw)))
	if err != nil {
		return false, fmt.Sprintf("the %s header %q is not one well-formed address (%v)", field, headerSafe(clip(raw), 80), err)
	}
	if !strings.EqualFold(a.Address, addr) {
		return false, fmt.Sprintf("the %s header %q is not one well-formed address (it reads as %q, not %q)", field, headerSafe(clip(raw), 80), headerSafe(a.Address, 320), headerSafe(addr, 320))
	}
	if rt := rawField(h, "Reply-To"); h.Has("Reply-To") {
		if _, err := trustParser.ParseList(text8(nil, unfold(rt))); err != nil || strings.TrimSpace(rt) == "" {
			return false, fmt.Sprintf("the Reply-To header %q is not one well-formed address list (%v)", headerSafe(clip(rt), 80), err)
		}
	}
	return true, ""
}

type idList []string

func (l idList) first() string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

var idRE = regexp.MustCompile(`<([^<>\s]{1,250})>`)

// looseIDs pulls <...> tokens out of a malformed In-Reply-To/References.
func looseIDs(v string) idList {
	var out idList
	for _, m := range idRE.FindAllStringSubmatch(v, 200) {
		out = append(out, strings.ToValidUTF8(m[1], "?"))
	}
	return out
}

var addrRE = regexp.MustCompile(`[^\s<>"',;:()\[\]@]+@[^\s<>"',;:()\[\]@]+`)

// salvagePerson reads "Name <addr>" or anything holding an address.
func salvagePerson(v string) store.Person {
	a := addrRE.FindString(v)
	name := strings.TrimSpace(v)
	if i := strings.IndexByte(name, '<'); i >= 0 {
		name = strings.TrimSpace(name[:i])
	} else if a != "" {
		name = ""
	}
	return store.Person{Name: strings.Trim(name, `"' `), Email: a}
}

func rawField(h mail.Header, key string) string {
	v := h.Get(key)
	if len(v) > maxHeaderLen {
		v = v[:maxHeaderLen]
	}
	return v
}

var wordDecoder = &mime.WordDecoder{CharsetReader: message.CharsetReader}

func unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// text8 makes s valid UTF-8: undeclared 8-bit text is almost always
// windows-1252 (a superset of ISO-8859-1 for printable text).
func text8(p *Parsed, s string) string {
	if utf8.ValidString(s) {
		return s
	}
	if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil && utf8.ValidString(d) {
		if p != nil {
			p.problem("undeclared 8-bit text read as windows-1252")
		}
		return d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

type walker struct {
	p     *Parsed
	max   int64
	parts int
	text  int
	slow  bool // no fast base64 path (tests)
	size  int  // of the whole mail: no part is larger

	dsn      [][]byte // message/delivery-status parts, for bounce
	orig     []byte   // the first attached mail or mail header (a bounce's original)
	origSeen bool
}

// entity returns the plain and HTML text of e; attachments go to the message.
func (w *walker) entity(e *message.Entity, depth int) (plain, htm string) {
	w.parts++
	if w.parts > maxParts {
		if w.parts == maxParts+1 {
			w.p.problem("more than %d parts: the rest were not read", maxParts)
		}
		return "", ""
	}
	mt, params, err := e.Header.ContentType()
	if err != nil && e.Header.Get("Content-Type") != "" {
		w.p.problem("content-type %q: %v; read as text", clip(e.Header.Get("Content-Type")), err)
		mt = "text/plain"
	}
	if mt == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			w.p.problem("multipart nested deeper than %d: inner parts not read", maxDepth)
			return "", ""
		}
		if e.MultipartReader() == nil {
			w.p.problem("multipart without a boundary: body read as text")
			return w.readText(e, "text/plain"), ""
		}
		// The parts are read as go-message's MultipartReader reads them,
		// but a base64 attachment's raw part is at hand for the fast
		// decoder (attachmentPart).
		mr := textproto.NewMultipartReader(e.Body, params["boundary"])
		var plains, htmls []string
		alt := mt == "multipart/alternative"
		n := 0
		for {
			var part *message.Entity
			tp, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err == nil {
				h := message.Header{Header: tp.Header}
				var body io.Reader = tp
				if isAttachmentHeader(h) {
					read, done := w.fastAttachment(h, tp)
					if done {
						n++
						continue
					}
					body = io.MultiReader(bytes.NewReader(read), tp)
				}
				part, err = message.New(h, body)
			}
			if part == nil {
				w.p.problem("multipart: %v", err)
				if n == 0 {
					w.p.problem("no part could be read (broken boundary?)")
				}
				break
			}
			if err != nil {
				w.p.problem("part %d: %v", n+1, err)
			}
			n++
			if w.isAttachment(part) {
				w.attachment(part)
				continue
			}
			pl, ht := w.entity(part, depth+1)
			if alt {
				// Prefer the first usable plain and first usable HTML.
				if len(plains) == 0 && strings.TrimSpace(pl) != "" {
					plains = append(plains, pl)
				}
				if len(htmls) == 0 && strings.TrimSpace(ht) != "" {
					htmls = append(htmls, ht)
				}
				continue
			}
			if strings.TrimSpace(pl) != "" {
				plains = append(plains, pl)
			} else if strings.TrimSpace(ht) != "" {
				// A mixed part with HTML only still belongs in the text.
				plains = append(plains, htmlText(ht))
			}
			if strings.TrimSpace(ht) != "" {
				htmls = append(htmls, ht)
			}
		}
		return strings.Join(plains, "\n\n"), strings.Join(htmls, "\n")
	}
	if depth == 0 && w.isAttachment(e) {
		w.attachment(e)
		return "", ""
	}
	switch mt {
	case "text/html":
		return "", w.readText(e, mt)
	default:
		if strings.HasPrefix(mt, "text/") {
			return w.readText(e, mt), ""
		}
		w.attachment(e)
		return "", ""
	}
}

func (w *walker) isAttachment(e *message.Entity) bool { return isAttachmentHeader(e.Header) }

func isAttachmentHeader(h message.Header) bool {
	disp, params, _ := h.ContentDisposition()
	if disp == "attachment" || params["filename"] != "" {
		return true
	}
	mt, params, _ := h.ContentType()
	if params["name"] != "" {
		return true
	}
	if mt == "text/rfc822-headers" {
		// A bounce's copy of the original header: reference, not text.
		return true
	}
	return mt != "" && !strings.HasPrefix(mt, "text/") && !strings.HasPrefix(mt, "multipart/")
}

func (w *walker) readText(e *message.Entity, mt string) string {
	left := int64(maxTextBytes - w.text)
	if left <= 0 {
		w.p.problem("text over %d bytes: the rest was dropped", maxTextBytes)
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, left+1))
	if err != nil {
		w.p.problem("%s part: %v; kept what could be read", mt, err)
	}
	if int64(len(b)) > left {
		b = b[:left]
		w.p.problem("text over %d bytes: the rest was dropped", maxTextBytes)
	}
	w.text += len(b)
	_, params, _ := e.Header.ContentType()
	if !utf8.Valid(b) && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") && !strings.EqualFold(params["charset"], "us-ascii") {
		// The declared charset could not be converted (the entity kept raw bytes).
		w.p.problem("charset %q not understood", clip(params["charset"]))
	}
	return text8(w.p, string(b))
}

func (w *walker) attachment(e *message.Entity) {
	b, err := io.ReadAll(io.LimitReader(e.Body, w.max+1))
	w.keep(e.Header, b, err, e.Body)
}

// fastAttachment keeps an attachment part with a base64 body (the usual
// case), decoded in one call once its line breaks are stripped: several
// times faster than go-message's streaming decoder, which dominated
// intake's CPU profile. When it cannot (another encoding, a body that call
// refuses, too big to judge here) done is false and read is what it
// consumed of tp, for the ordinary path to read first.
func (w *walker) fastAttachment(h message.Header, tp io.Reader) (read []byte, done bool) {
	mt, _, _ := h.ContentType()
	if w.slow || strings.ToLower(h.Get("Content-Transfer-Encoding")) != "base64" || strings.HasPrefix(mt, "text/") {
		return nil, false // text attachments may need their charset converted
	}
	// The encoded size of a body at the cap, with a line break every 76
	// characters and some slack for other whitespace.
	limit := w.max/3*4 + w.max/19 + 4096
	var buf []byte
	if p, _ := encodedBufs.Get().(*[]byte); p != nil {
		buf = (*p)[:0]
	}
	raw, err := readUpTo(tp, limit+1, w.size, buf)
	if err != nil || int64(len(raw)) > limit {
		return raw, false
	}
	b, ok := decodeBase64(raw)
	if !ok {
		return raw, false
	}
	// Decoded into b of its own: the encoded text is done with.
	encodedBufs.Put(&raw)
	w.keep(h, b, nil, strings.NewReader(""))
	return nil, true
}

// encodedBufs holds buffers fastAttachment read encoded bodies into, once
// decoded: a new one per attachment was a good part of intake's garbage.
var encodedBufs sync.Pool

// decodeBase64 decodes a whole base64 body, ignoring the whitespace
// go-message's decoder ignores; ok is false for anything else it would
// have to judge.
func decodeBase64(raw []byte) ([]byte, bool) {
	if bytes.IndexByte(raw, ' ') < 0 && bytes.IndexByte(raw, '\t') < 0 {
		// The usual body: only line breaks, which Decode skips itself
		// (anywhere, padding included), so no stripped copy is needed.
		b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Decode(b, raw)
		if err != nil {
			return nil, false
		}
		return b[:n], true
	}
	src := make([]byte, 0, len(raw))
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if bytes.IndexByte(line, ' ') < 0 && bytes.IndexByte(line, '\t') < 0 && bytes.IndexByte(line, '\r') < 0 {
			src = append(src, line...)
			continue
		}
		for _, c := range line {
			if c != ' ' && c != '\t' && c != '\r' {
				src = append(src, c)
			}
		}
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(b, src)
	if err != nil {
		return nil, false
	}
	return b[:n], true
}

// readUpTo reads r to its end or to n bytes, into one buffer of at most
// hint bytes to start with (io.ReadAll's doubling from 512 bytes showed in
// the profile for attachments of a few hundred KB), or into buf when that
// is large enough.
func readUpTo(r io.Reader, n int64, hint int, buf []byte) ([]byte, error) {
	b := buf[:0]
	if want := max(512, min(int64(hint), n)); int64(cap(b)) < want {
		b = make([]byte, 0, want)
	}
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):min(int64(cap(b)), n)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// keep records an attachment whose (decoded) content b was read up to the
// cap; rest is what is left of a body over the cap, only to be counted.
func (w *walker) keep(h message.Header, b []byte, readErr error, rest io.Reader) {
	m := w.p.Msg
	ah := mail.AttachmentHeader{Header: h}
	name, nameErr := ah.Filename()
	if nameErr != nil {
		w.p.problem("attachment name: %v", nameErr)
	}
	name = strings.TrimSpace(text8(w.p, unfold(decodeText(w.p, "attachment name", name))))
	mt, _, _ := h.ContentType()
	if mt == "" {
		mt = "application/octet-stream"
	}
	if name == "" {
		name = fmt.Sprintf("part-%d", len(m.Attachments)+1)
		switch mt {
		case "message/rfc822", "message/global":
			name += ".eml"
		case "message/delivery-status", "message/global-delivery-status", "text/rfc822-headers", "message/global-headers":
			name += ".txt"
		}
	}
	w.notice(mt, b)
	a := store.Attachment{Name: name, ContentType: text8(nil, mt), Size: int64(len(b))}
	if readErr != nil {
		// A body that breaks off (bad base64, a cut quoted-printable) is
		// kept as far as it decoded; the operator is told it is partial.
		w.p.problem("attachment %q is damaged after %d bytes (%v): kept as far as it could be read", name, len(b), readErr)
	}
	if int64(len(b)) > w.max {
		more, _ := io.Copy(io.Discard, rest)
		a.Size += more
		w.p.problem("attachment %q is %d bytes, over the %d byte limit: content dropped", name, a.Size, w.max)
	} else {
		sum := sha256.Sum256(b)
		a.Blob = "sha256:" + hex.EncodeToString(sum[:])
		w.p.Blobs[a.Blob] = b
	}
	m.Attachments = append(m.Attachments, a)
}

func clip(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// salvageHeader reads a header textproto refused, line by line: a field
// continues on lines starting with space or tab; a line without a colon
// ends the header (it is body text that lost its blank line).
func salvageHeader(raw []byte) (textproto.Header, []byte, []string) {
	var h textproto.Header
	var probs []string
	rest := raw
	var cur []byte
	flush := func() {
		if cur == nil {
			return
		}
		if i := bytes.IndexByte(cur, ':'); i > 0 && isFieldName(cur[:i]) {
			h.Add(string(cur[:i]), strings.TrimSpace(string(cur[i+1:])))
		}
		cur = nil
	}
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			rest = next
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil {
				cur = append(append(cur, ' '), bytes.TrimSpace(line)...)
			}
			rest = next
			continue
		}
		flush()
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !isFieldName(line[:i]) {
			probs = append(probs, "header ends at an unreadable line; the rest is read as body")
			break
		}
		cur = append([]byte(nil), line...)
		rest = next
	}
	flush()
	return h, rest, probs
}

func isFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 200 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}
