package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"text/template"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// handle registers one mail (UID uid, parsed as p or nil) exactly once, or
// quarantines it, and advances *cp in memory. Registrations are not synced
// here: the caller commits the batch (commitBatch) before it flags, moves or
// answers any of it. An error means the store could not take the mail at
// all: the caller stops and retries later from the saved checkpoint.
func (s *Service) handle(uid uint32, raw []byte, p *Parsed, cp *store.Checkpoint, st *Stats) error {
	next := *cp
	next.LastUID = uid
	if len(raw) == 0 {
		// Nothing to read (some servers answer so for mail they cannot
		// parse): keep a visible record keyed by position, not by the hash
		// of nothing, which every such mail would share.
		q := store.Quarantined{Key: fmt.Sprintf("empty:%s/%d/%d", s.box, next.UIDValidity, uid), Mailbox: s.box, UID: uid,
			At: s.now(), Reason: "the server returned an empty mail"}
		dup, err := s.st.Quarantine(q, next)
		if err != nil {
			return fmt.Errorf("quarantine empty mail UID %d: %w", uid, err)
		}
		if !dup {
			st.Quarantined++
		}
		*cp = next
		return nil
	}
	if p == nil {
		p = Parse(raw, s.cfg.MaxAttachment)
	}
	m := p.Msg
	if s.ownMail(uid, p) {
		// Our own mail (a copy, a bounce loop): never imported; the
		// checkpoint moves past it with the batch.
		*cp = next
		return nil
	}
	reason := s.me.autoReasonFor(p)
	m.Auto = reason != ""

	pl, err := s.th.decide(m, s.st)
	if err != nil {
		return fmt.Errorf("thread mail %s: %w", p.Key, err)
	}
	if pl.Reject != 0 {
		return s.hold(uid, raw, p, next, cp, st, fmt.Sprintf("reply to closed ticket %s (closed_reply = reject)", pl.Reject), reason, "reject", pl.Reject,
			"Thank you for your mail. Ticket "+pl.Reject.String()+" is closed, so your message was not added to it.\n"+
				"If the problem is back or something new came up, please write a new mail without the ticket number in the subject.\n")
	}
	if pl.New != nil && !pl.Known && s.cfg.UnknownSenders == "redirect" {
		return s.hold(uid, raw, p, next, cp, st, "unknown sender (unknown_senders = redirect)", reason, "redirect", 0, s.cfg.RedirectText)
	}
	// Deferred: the batch is synced, and the checkpoint saved, by the
	// caller before anything about it leaves the process (see
	// store.Intake.NoSync for why the checkpoint waits for the batch).
	in := store.Intake{Key: p.Key, Ticket: pl.Ticket, New: pl.New, Events: pl.Events, Blobs: p.Blobs, NoSync: true}
	if pl.New != nil {
		if ok, why := s.mayAnswer(reason, m.From.Email); ok {
			in.Ack = s.ack(p, pl.New)
		} else {
			s.log.Printf("mail: no acknowledgement to %s for %q: %s", m.From.Email, m.Subject, why)
		}
	}
	t, dup, err := s.st.RegisterMail("mail", in)
	if err == nil && dup && s.reusedMessageID(m, p.Key) {
		// Printers, scripts and monitors often send every mail with the same
		// Message-ID: a different mail under a known Message-ID is
		// registered under a key of its own instead of dropped.
		in.Key = p.Key + "#" + bodyKey(m)
		t, dup, err = s.st.RegisterMail("mail", in)
	}
	if err != nil {
		// This mail cannot be stored; set it aside rather than block the
		// inbox. If even that fails, the store itself is in trouble.
		s.log.Printf("mail: register %s (UID %d) failed: %v; quarantining it", p.Key, uid, err)
		q := store.Quarantined{Key: p.Key, Mailbox: s.box, UID: uid, At: s.now(), From: m.From.Email, Subject: m.Subject,
			Reason: "could not be registered: " + err.Error(), Raw: quarantineCopy(raw)}
		qdup, qerr := s.st.Quarantine(q, next)
		if qerr != nil {
			return fmt.Errorf("register mail %s: %v; quarantine failed too: %w", p.Key, err, qerr)
		}
		if !qdup {
			st.Quarantined++
		}
		*cp = next
		return nil
	}
	*cp = next
	if dup {
		st.Duplicates++
		s.log.Printf("mail: %s (UID %d) is already registered; skipped", p.Key, uid)
		return nil
	}
	st.Registered++
	s.mu.Lock()
	s.status.LastMail = s.now()
	s.mu.Unlock()
	s.log.Printf("mail: %s from %s registered on %s (%s)", p.Key, m.From.Email, t.ID, pl.How)
	return nil
}

// mayAnswer applies loop protection and the per-sender daily limit.
func (s *Service) mayAnswer(reason, addr string) (bool, string) {
	if reason != "" {
		return false, reason
	}
	n, err := s.st.AutoMailsToday(strings.ToLower(addr), s.now())
	if err != nil {
		return false, "could not count today's automatic mails: " + err.Error()
	}
	if n >= s.cfg.AutoPerDay {
		return false, fmt.Sprintf("already %d automatic mails to this sender in 24 hours (auto_per_day = %d)", n, s.cfg.AutoPerDay)
	}
	return true, ""
}

// hold quarantines a mail the policy does not register, and answers it
// (redirect or reject) when loop protection allows. The quarantine commit
// comes first: a crash between the two loses at most the answer, never the
// mail, and a rescan finds it quarantined and answers no second time.
func (s *Service) hold(uid uint32, raw []byte, p *Parsed, next store.Checkpoint, cp *store.Checkpoint, st *Stats, why, loop, kind string, ticket store.TicketID, text string) error {
	m := p.Msg
	q := store.Quarantined{Key: p.Key, Mailbox: s.box, UID: uid, At: s.now(), From: m.From.Email, Subject: m.Subject, Reason: why, Raw: quarantineCopy(raw)}
	dup, err := s.st.Quarantine(q, next)
	if err != nil {
		return fmt.Errorf("quarantine mail %s: %w", p.Key, err)
	}
	*cp = next
	if dup {
		st.Duplicates++
		s.log.Printf("mail: %s (UID %d) is already registered; skipped", p.Key, uid)
		return nil
	}
	st.Quarantined++
	s.log.Printf("mail: %s from %s quarantined: %s", p.Key, m.From.Email, why)
	if ok, whyNot := s.mayAnswer(loop, m.From.Email); !ok {
		s.log.Printf("mail: no %s answer to %s: %s", kind, m.From.Email, whyNot)
		return nil
	}
	out := store.OutMail{Ticket: ticket, Kind: kind, To: []string{strings.ToLower(m.From.Email)}, Subject: replySubject(s.th.untag(m.Subject)),
		Body: text, InReplyTo: m.MessageID, References: appendRef(m.References, m.MessageID), Auto: true}
	if _, err := s.st.Enqueue(out); err != nil {
		s.log.Printf("mail: queue %s answer to %s: %v", kind, m.From.Email, err)
		return nil
	}
	s.wake()
	return nil
}

func replySubject(subj string) string {
	subj = headerSafe(subj, 300)
	if len(subj) >= 3 && strings.EqualFold(subj[:3], "re:") {
		return subj
	}
	if subj == "" {
		return "Re: your mail"
	}
	return "Re: " + subj
}

func appendRef(refs []string, id string) []string {
	out := append([]string(nil), refs...)
	if id != "" {
		out = append(out, id)
	}
	return out
}

var ackTemplate = template.Must(template.New("ack").Parse(`Dear {{.Name}},

Thank you for your mail. It is registered as ticket {{.Ticket}}.

  Subject:   {{.Subject}}
  Priority:  {{.Priority}}
{{- if .Due}}
  Response:  you can expect a first response by {{.Due}}
{{- end}}

When you reply, keep [{{.Ticket}}] in the subject so your answer reaches the
same ticket.

Kind regards,
{{.Desk}}
`))

var prioNames = map[store.Priority]string{1: "P1 (critical)", 2: "P2 (high)", 3: "P3 (medium)", 4: "P4 (low)"}

// ack builds the acknowledgement; the store fills in the ticket number
// (store.TicketPlaceholder) when it registers the mail.
func (s *Service) ack(p *Parsed, nt *store.NewTicket) *store.OutMail {
	m := p.Msg
	name := headerSafe(m.From.Name, 80)
	if name == "" {
		name = "customer"
	}
	data := struct {
		Name, Ticket, Subject, Priority, Due, Desk string
	}{name, store.TicketPlaceholder, headerSafe(nt.Subject, 200), prioNames[nt.Priority], s.expected(nt.Type, nt.Priority), s.cfg.Name}
	var b strings.Builder
	if err := ackTemplate.Execute(&b, data); err != nil {
		b.WriteString("Your mail is registered as ticket " + store.TicketPlaceholder + ".\n")
	}
	return &store.OutMail{
		Kind:       "ack",
		To:         []string{strings.ToLower(m.From.Email)},
		Subject:    replySubject(nt.Subject),
		Body:       b.String(),
		InReplyTo:  m.MessageID,
		References: appendRef(m.References, m.MessageID),
		Auto:       true,
	}
}

// expected is when the first response is due for a ticket created now, from
// the SLA policy in force, in the policy calendar's time zone.
func (s *Service) expected(typ store.Type, prio store.Priority) (due string) {
	defer func() {
		// A policy the engine cannot evaluate must not stop intake; the
		// acknowledgement then simply has no promise in it.
		if recover() != nil {
			due = ""
		}
	}()
	pol := s.st.Policy()
	now := s.now()
	c := slaengine.Compute(pol, slaengine.Timeline{Created: now, Priority: slaengine.Priority(prio), Status: string(store.StatusNew), Type: string(typ)}, now)
	if c.Response.Due.IsZero() {
		return ""
	}
	d := c.Response.Due
	if t := pol.Target(string(typ), slaengine.Priority(prio)); t.Calendar != nil && t.Calendar.Location != nil {
		d = d.In(t.Calendar.Location)
	}
	return d.Format("Mon 2 Jan 2006 15:04 MST")
}

// maxQuarantineCopy bounds the copy a quarantine entry keeps. The mail
// itself stays on the server (intake never deletes); a copy too big for a
// store value would otherwise make the quarantine fail and block the inbox.
const maxQuarantineCopy = 16 << 20

func quarantineCopy(raw []byte) []byte {
	if len(raw) <= maxQuarantineCopy {
		return raw
	}
	sum := sha256.Sum256(raw)
	note := fmt.Sprintf("\r\n\r\n[desk: cut at %d of %d bytes; sha256 %x; the whole mail is still on the IMAP server]\r\n",
		maxQuarantineCopy, len(raw), sum)
	return append(append([]byte(nil), raw[:maxQuarantineCopy]...), note...)
}

// reusedMessageID tells whether a mail whose key is already registered is
// in fact another mail under the same Message-ID (different sender or
// text), rather than the same mail fetched again.
func (s *Service) reusedMessageID(m *store.Message, key string) bool {
	if m.MessageID == "" || key != m.MessageID {
		return false // keyed by content hash: the same key is the same mail
	}
	id, ok, err := s.st.MessageTicket(m.MessageID)
	if err != nil || !ok {
		return false
	}
	h, err := s.st.History(id)
	if err != nil {
		return false
	}
	for _, e := range h {
		if e.Message != nil && e.Message.MessageID == m.MessageID && e.Kind == store.EvMessageIn {
			return !strings.EqualFold(e.Message.From.Email, m.From.Email) || bodyKey(e.Message) != bodyKey(m)
		}
	}
	return false
}

// bodyKey identifies a mail's sender and text, for reused Message-IDs.
func bodyKey(m *store.Message) string {
	sum := sha256.Sum256([]byte(strings.ToLower(m.From.Email) + "\x00" + m.Subject + "\x00" + strings.TrimSpace(m.Body)))
	return hex.EncodeToString(sum[:8])
}
