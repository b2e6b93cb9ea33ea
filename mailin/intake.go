package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/deskhq/desk/store"
)

// intakeRun is one pass over the mail waiting in the mailbox. Mails are
// registered in groups, one store transaction per group (store.RegisterMails);
// a group is written at each commit point (commit) and sooner when a mail
// depends on one in it (a reply to it, a second mail under its key), so
// threading always reads what the mails before it did.
type intakeRun struct {
	s  *Service
	st *Stats
	cp store.Checkpoint // advanced in memory past every mail handled

	group []pendingMail
	keys  map[string]bool         // dedupe keys and Message-IDs in the group
	tix   map[store.TicketID]bool // tickets the group appends to
	news  int                     // tickets the group creates
	auto  map[string]int          // automatic mails per sender in 24 h, for this chunk
}

// pendingMail is a mail of the group, not yet written.
type pendingMail struct {
	uid  uint32
	prev store.Checkpoint // the checkpoint before it
	p    *Parsed
	raw  []byte
	in   store.Intake
	how  string // the threading decision, for the log
}

func newIntakeRun(s *Service, cp store.Checkpoint, st *Stats) *intakeRun {
	return &intakeRun{s: s, st: st, cp: cp, keys: map[string]bool{}, tix: map[store.TicketID]bool{}, auto: map[string]int{}}
}

// handle registers one mail (UID uid, parsed as p or nil) exactly once, or
// quarantines it, and advances r.cp in memory. A mail to register joins
// the group: nothing is written until flushGroup, and nothing is synced
// until the caller's commit, which comes before anything about the mail
// leaves the process (\Seen, MOVE, acknowledgements). An error means the
// store could not take the mail at all: r.cp is then at the last mail
// handled, and the caller stops and retries later from there.
func (r *intakeRun) handle(uid uint32, raw []byte, p *Parsed) error {
	s, st := r.s, r.st
	next := r.cp
	next.LastUID = max(next.LastUID, uid)
	if len(raw) == 0 {
		// Nothing to read (some servers answer so for mail they cannot
		// parse): keep a visible record keyed by position, not by the hash
		// of nothing, which every such mail would share. Like every
		// quarantine of a run it leaves the checkpoint to the commit point.
		q := store.Quarantined{Key: fmt.Sprintf("empty:%s/%d/%d", s.box, next.UIDValidity, uid), Mailbox: s.box, UID: uid,
			At: s.now(), Reason: "the server returned an empty mail"}
		dup, err := s.st.Quarantine(q, store.Checkpoint{})
		if err != nil {
			return fmt.Errorf("quarantine empty mail UID %d: %w", uid, err)
		}
		if !dup {
			st.Quarantined++
		}
		r.cp = next
		return nil
	}
	if p == nil {
		p = Parse(raw, s.cfg.MaxAttachment)
	}
	m := p.Msg
	if s.ownMail(uid, p) {
		// Our own mail (a copy, a bounce loop): never imported; the
		// checkpoint moves past it with the chunk.
		r.cp = next
		return nil
	}
	reason := s.me.autoReasonFor(p)
	m.Auto = reason != ""

	pl, err := r.decide(p)
	if err != nil {
		return fmt.Errorf("thread mail %s: %w", p.Key, err)
	}
	if pl.Hold != "" {
		return r.hold(uid, raw, p, next, pl.Hold, "bounce", "", 0, "")
	}
	if words, ok := subscribeRequest(m.Subject); ok && pl.New != nil && !m.Auto && r.subscribe(p, words) {
		// Like our own mail, it leaves the mailbox with the chunk: the
		// subscriber record is the mail's trace.
		r.cp = next
		return nil
	}
	if pl.Reject != 0 {
		return r.hold(uid, raw, p, next, fmt.Sprintf("reply to closed ticket %s (closed_reply = reject)", pl.Reject), reason, "reject", pl.Reject,
			"Thank you for your mail. Ticket "+pl.Reject.String()+" is closed, so your message was not added to it.\n"+
				"If the problem is back or something new came up, please write a new mail without the ticket number in the subject.\n")
	}
	if pl.New != nil && !pl.Known && s.cfg.UnknownSenders == "redirect" {
		return r.hold(uid, raw, p, next, "unknown sender (unknown_senders = redirect)", reason, "redirect", 0, s.cfg.RedirectText)
	}
	if r.keys[normID(p.Key)] {
		// A second mail under a key of the group: the store must see the
		// first before it can tell a copy from a reused Message-ID.
		if err := r.flushGroup(); err != nil {
			return err
		}
	}
	// Deferred: the group is synced, and the checkpoint saved, by the
	// caller's commit before anything about it leaves the process (see
	// store.Intake.NoSync for why the checkpoint waits for that).
	in := store.Intake{Key: p.Key, Ticket: pl.Ticket, New: pl.New, Events: pl.Events, Blobs: p.Blobs, NoSync: true}
	if pl.New != nil {
		if ok, why := r.mayAnswer(reason, m.From.Email); ok {
			in.Ack = s.ack(p, pl.New)
			r.auto[strings.ToLower(m.From.Email)]++
		} else {
			s.log.Printf("mail: no acknowledgement to %s for %q: %s", m.From.Email, m.Subject, why)
		}
	}
	r.group = append(r.group, pendingMail{uid: uid, prev: r.cp, p: p, raw: raw, in: in, how: pl.How})
	r.keys[normID(p.Key)] = true
	r.keys[normID(m.MessageID)] = true
	if pl.Ticket != 0 {
		r.tix[pl.Ticket] = true
	} else {
		r.news++
	}
	r.cp = next
	return nil
}

// decide threads m against the store and the group: when the answer could
// depend on a mail of the group (m refers to its Message-ID, or to a ticket
// it changes or may have created), the group is written first and m
// threaded again.
func (r *intakeRun) decide(p *Parsed) (plan, error) {
	th := func(look lookup) (plan, error) {
		if p.Bounce != nil {
			m := *p.Msg // decideBounce adds a problem: once, whatever reruns
			m.Problems = slices.Clone(m.Problems)
			pl, err := r.s.th.decideBounce(&m, p.Bounce, look)
			for i := range pl.Events {
				pl.Events[i].Message = &m
			}
			return pl, err
		}
		return r.s.th.decide(p.Msg, look)
	}
	if len(r.group) > 0 {
		l := &groupLookup{r: r}
		pl, err := th(l)
		if err != nil || !l.stale {
			return pl, err
		}
		if err := r.flushGroup(); err != nil {
			return plan{}, err
		}
	}
	return th(r.s.st)
}

// groupLookup is the store as threading reads it, noting every answer the
// group's unwritten mails could change.
type groupLookup struct {
	r     *intakeRun
	stale bool
}

func (l *groupLookup) Get(id store.TicketID) (store.Ticket, error) {
	if l.r.tix[id] {
		l.stale = true
	}
	t, err := l.r.s.st.Get(id)
	if errors.Is(err, store.ErrNotFound) && l.r.news > 0 {
		l.stale = true // perhaps a ticket of the group
	}
	return t, err
}

func (l *groupLookup) MessageTicket(key string) (store.TicketID, bool, error) {
	if l.r.keys[normID(key)] {
		l.stale = true
	}
	return l.r.s.st.MessageTicket(key)
}

// normID is how the store compares Message-IDs: no angle brackets or space.
func normID(k string) string {
	k = strings.TrimSpace(k)
	k = strings.TrimPrefix(k, "<")
	k = strings.TrimSuffix(k, ">")
	return strings.TrimSpace(k)
}

// flushGroup writes the group in one transaction (more only when it does
// not fit one) without waiting for the disk, and logs and counts each mail.
// A mail the store cannot take is quarantined and the rest still written.
func (r *intakeRun) flushGroup() error {
	defer func() {
		r.group = nil // the mails' bytes are not kept past their write
		clear(r.keys)
		clear(r.tix)
		r.news = 0
	}()
	for len(r.group) > 0 {
		ins := make([]store.Intake, len(r.group))
		for i := range r.group {
			ins[i] = r.group[i].in
		}
		res, err := r.s.st.RegisterMails("mail", ins)
		for i, rg := range res {
			if derr := r.registered(&r.group[i], rg.Ticket, rg.Dup); derr != nil {
				r.cp = r.group[i].prev
				return derr
			}
		}
		if err == nil {
			return nil
		}
		var be *store.BatchError
		if !errors.As(err, &be) || be.Index >= len(r.group) {
			r.cp = r.group[len(res)].prev
			return fmt.Errorf("register mail: %w", err)
		}
		pm := &r.group[be.Index]
		if qerr := r.quarantineUnstorable(pm, be.Err); qerr != nil {
			r.cp = pm.prev
			return qerr
		}
		r.group = r.group[be.Index+1:]
	}
	return nil
}

// registered counts and logs a written mail; a duplicate key that is in
// fact another mail under a reused Message-ID is registered under a key of
// its own.
func (r *intakeRun) registered(pm *pendingMail, t store.Ticket, dup bool) error {
	s, st, m := r.s, r.st, pm.p.Msg
	if dup && s.reusedMessageID(m, pm.p.Key) {
		// Printers, scripts and monitors often send every mail with the same
		// Message-ID: a different mail under a known Message-ID is
		// registered under a key of its own instead of dropped.
		in := pm.in
		in.Key = pm.p.Key + "#" + bodyKey(m)
		var err error
		t, dup, err = s.st.RegisterMail("mail", in)
		if err != nil {
			return r.quarantineUnstorable(pm, err)
		}
	}
	if dup {
		if pm.in.Ack != nil {
			r.auto[strings.ToLower(m.From.Email)]-- // no acknowledgement queued after all
		}
		st.Duplicates++
		s.log.Printf("mail: %s (UID %d) is already registered; skipped", pm.p.Key, pm.uid)
		return nil
	}
	st.Registered++
	s.mu.Lock()
	s.status.LastMail = s.now()
	s.mu.Unlock()
	s.log.Printf("mail: %s from %s registered on %s (%s)", pm.p.Key, m.From.Email, t.ID, pm.how)
	return nil
}

// quarantineUnstorable sets aside a mail the store could not register
// rather than block the inbox. The checkpoint is not moved here: the
// mails of the group after it are not written yet. If even that fails, the
// store itself is in trouble.
func (r *intakeRun) quarantineUnstorable(pm *pendingMail, err error) error {
	s, m := r.s, pm.p.Msg
	if errors.Is(err, store.ErrDiskFull) {
		// Not the mail's fault: stop here, flag nothing, and read it again
		// once there is room (the checkpoint has not moved past it).
		return fmt.Errorf("register mail %s: %w", pm.p.Key, err)
	}
	s.log.Printf("mail: register %s (UID %d) failed: %v; quarantining it", pm.p.Key, pm.uid, err)
	q := store.Quarantined{Key: pm.p.Key, Mailbox: s.box, UID: pm.uid, At: s.now(), From: m.From.Email, Subject: m.Subject,
		Reason: "could not be registered: " + err.Error(), Raw: quarantineCopy(pm.raw)}
	qdup, qerr := s.st.Quarantine(q, store.Checkpoint{})
	if qerr != nil {
		return fmt.Errorf("register mail %s: %v; quarantine failed too: %w", pm.p.Key, err, qerr)
	}
	if pm.in.Ack != nil {
		r.auto[strings.ToLower(m.From.Email)]--
	}
	if !qdup {
		r.st.Quarantined++
	}
	return nil
}

// endChunk is a commit point: the group is written and the per-sender
// counts, now all in the store, are read afresh for the next chunk.
func (r *intakeRun) endChunk() error {
	err := r.flushGroup()
	clear(r.auto)
	return err
}

// mayAnswer applies loop protection and the per-sender daily limit. The
// store's count is read once per sender and chunk; the automatic mails
// the chunk queues are counted here.
func (r *intakeRun) mayAnswer(reason, addr string) (bool, string) {
	if reason != "" {
		return false, reason
	}
	a := strings.ToLower(addr)
	n, ok := r.auto[a]
	if !ok {
		var err error
		if n, err = r.s.st.AutoMailsToday(a, r.s.now()); err != nil {
			return false, "could not count today's automatic mails: " + err.Error()
		}
		r.auto[a] = n
	}
	if n >= r.s.cfg.AutoPerDay {
		return false, fmt.Sprintf("already %d automatic mails to this sender in 24 hours (auto_per_day = %d)", n, r.s.cfg.AutoPerDay)
	}
	return true, ""
}

// hold quarantines a mail the policy does not register, and answers it
// (redirect or reject) when loop protection allows. The quarantine commit
// (synced, deduped by key; the checkpoint waits for the commit point) comes
// before the answer: a crash between the two loses at most the answer,
// never the mail, and a rescan finds it quarantined and answers no second
// time.
func (r *intakeRun) hold(uid uint32, raw []byte, p *Parsed, next store.Checkpoint, why, loop, kind string, ticket store.TicketID, text string) error {
	s, st := r.s, r.st
	m := p.Msg
	q := store.Quarantined{Key: p.Key, Mailbox: s.box, UID: uid, At: s.now(), From: m.From.Email, Subject: m.Subject, Reason: why, Raw: quarantineCopy(raw)}
	var answer *store.OutMail
	if kind != "" {
		if ok, whyNot := r.mayAnswer(loop, m.From.Email); ok {
			answer = &store.OutMail{Ticket: ticket, Kind: kind, To: []string{strings.ToLower(m.From.Email)}, Subject: replySubject(s.th.untag(m.Subject)),
				Body: text, InReplyTo: m.MessageID, References: appendRef(m.References, m.MessageID), Auto: true}
		} else {
			s.log.Printf("mail: no %s answer to %s: %s", kind, m.From.Email, whyNot)
		}
	}
	// Deferred like the group's registrations: the chunk's commit makes it
	// durable before the mail is flagged, and the outbox syncs before it
	// sends the answer.
	dup, err := s.st.HoldMail(q, answer)
	if err != nil {
		return fmt.Errorf("quarantine mail %s: %w", p.Key, err)
	}
	r.cp = next
	if dup {
		st.Duplicates++
		s.log.Printf("mail: %s (UID %d) is already registered; skipped", p.Key, uid)
		return nil
	}
	st.Quarantined++
	s.log.Printf("mail: %s from %s quarantined: %s", p.Key, m.From.Email, why)
	if answer != nil {
		r.auto[strings.ToLower(m.From.Email)]++
		s.wake()
	}
	return nil
}

func replySubject(subj string) string {
	subj = headerSafe(subj, 300)
	if subj == "" {
		return "Re: your mail"
	}
	return store.ReplySubject(subj)
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
	body := ackBody(name, nt.Subject, nt.Priority, expectedBy(s.st.Policy(), nt.Type, nt.Priority, s.now()), s.cfg.Name)
	return &store.OutMail{
		Kind:       "ack",
		To:         []string{strings.ToLower(m.From.Email)},
		Subject:    replySubject(nt.Subject),
		Body:       body,
		InReplyTo:  m.MessageID,
		References: appendRef(m.References, m.MessageID),
		Auto:       true,
	}
}

// ackBody is the acknowledgement's text from its template; ticket is the
// placeholder the store fills in.
func ackBody(name, subject string, prio store.Priority, due, desk string) string {
	data := struct {
		Name, Ticket, Subject, Priority, Due, Desk string
	}{name, store.TicketPlaceholder, headerSafe(subject, 200), prioNames[prio], due, desk}
	var b strings.Builder
	if err := ackTemplate.Execute(&b, data); err != nil {
		b.Reset()
		b.WriteString("Your mail is registered as ticket " + store.TicketPlaceholder + ".\n")
	}
	return b.String()
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
