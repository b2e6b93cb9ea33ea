package mailin

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/deskhq/desk/store"
)

// lookup is what threading reads from the store.
type lookup interface {
	Get(id store.TicketID) (store.Ticket, error)
	MessageTicket(key string) (store.TicketID, bool, error)
}

// plan is the threading decision for one mail.
type plan struct {
	Ticket store.TicketID   // append to this ticket, or
	New    *store.NewTicket // create this one
	Events []store.Event    // events to append (after the created event for New)
	Reject store.TicketID   // closed ticket and closed_reply = "reject"
	Hold   string           // quarantine the mail, for this reason
	How    string           // why, for the log: "tag SD-3", "references", "new"
	Known  bool             // sender belongs to a configured organisation or the ticket
	Target store.TicketID   // the ticket the mail referred to, if any
	Org    *Organisation    // the sender's organisation
	prev   store.Status     // status of Target before the mail
}

type threader struct {
	tagRE       *regexp.Regexp
	orgs        []Organisation
	closedReply string
	queue       string
}

func newThreader(prefix string, orgs []Organisation, closedReply, queue string) *threader {
	return &threader{
		tagRE:       store.TagPattern(prefix),
		orgs:        orgs,
		closedReply: closedReply,
		queue:       queue,
	}
}

// tags returns the ticket numbers tagged in a subject, in order.
func (th *threader) tags(subject string) []store.TicketID {
	var out []store.TicketID
	for _, m := range th.tagRE.FindAllStringSubmatch(subject, 10) {
		if id, err := store.ParseTicketID(m[1]); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// untag removes ticket tags from a subject (a new ticket must not carry
// another ticket's tag, or replies would thread there).
func (th *threader) untag(subject string) string {
	s := strings.Join(strings.Fields(th.tagRE.ReplaceAllString(subject, "")), " ")
	return s
}

// orgOf finds the organisation an address belongs to: an exact address
// first, then its domain or a parent domain.
func (th *threader) orgOf(addr string) *Organisation {
	a := strings.ToLower(strings.TrimSpace(addr))
	_, dom, ok := splitAddr(a)
	if !ok {
		return nil
	}
	for i := range th.orgs {
		for _, x := range th.orgs[i].Addresses {
			if strings.EqualFold(strings.TrimSpace(x), a) {
				return &th.orgs[i]
			}
		}
	}
	for i := range th.orgs {
		for _, d := range th.orgs[i].Domains {
			d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
			if d != "" && (dom == d || strings.HasSuffix(dom, "."+d)) {
				return &th.orgs[i]
			}
		}
	}
	return nil
}

// participant: the requester, someone of the requester's organisation, or
// a previous correspondent on the ticket.
func (th *threader) participant(t store.Ticket, addr string) bool {
	a := strings.ToLower(strings.TrimSpace(addr))
	if a == "" {
		return false
	}
	if strings.EqualFold(t.Requester.Email, a) || slices.Contains(t.Participants, a) {
		return true
	}
	if o := th.orgOf(a); o != nil {
		if t.Requester.Organisation != "" && o.Name == t.Requester.Organisation {
			return true
		}
		if ro := th.orgOf(t.Requester.Email); ro != nil && ro.Name == o.Name {
			return true
		}
	}
	return false
}

// decide threads one mail: tag (trusted only from a participant), then
// References (newest first), then In-Reply-To; otherwise a new ticket.
func (th *threader) decide(m *store.Message, look lookup) (plan, error) {
	var p plan
	p.Org = th.orgOf(m.From.Email)
	p.Known = p.Org != nil
	var target *store.Ticket
	for _, id := range th.tags(m.Subject) {
		t, err := look.Get(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return p, err
		}
		if !th.participant(t, m.From.Email) {
			// Never put one customer's mail on another's ticket: a new
			// ticket, linked so the operator sees the connection.
			p.How = "tag " + id.String() + " from a non-participant: new linked ticket"
			p.Target = id
			p.New = th.newTicket(m, p.Org, store.Link{Kind: "related", To: id})
			return p, nil
		}
		target, p.How = &t, "tag "+id.String()
		break
	}
	if target == nil {
		refs := slices.Clone(m.References)
		slices.Reverse(refs)
		if m.InReplyTo != "" {
			refs = append(refs, m.InReplyTo)
		}
		for i, ref := range refs {
			id, ok, err := look.MessageTicket(ref)
			if err != nil {
				return p, err
			}
			if !ok {
				continue
			}
			t, err := look.Get(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return p, err
			}
			target = &t
			if i == len(refs)-1 && m.InReplyTo != "" && !slices.Contains(m.References, m.InReplyTo) {
				p.How = "in-reply-to " + id.String()
			} else {
				p.How = "references " + id.String()
			}
			break
		}
	}
	if target == nil {
		p.How = "new"
		p.New = th.newTicket(m, p.Org)
		return p, nil
	}
	t := *target
	p.Target, p.prev = t.ID, t.Status
	p.Known = p.Known || th.participant(t, m.From.Email)
	in := store.Event{Kind: store.EvMessageIn, Message: m}
	if m.Auto {
		// An out-of-office or bounce answering our resolution is kept on
		// the ticket, but changes nothing: it must not reopen, resume a
		// paused clock or start a follow-up ticket.
		p.Ticket = t.ID
		p.Events = []store.Event{in}
		p.How += ", automatic: status unchanged"
		return p, nil
	}
	switch t.Status {
	case store.StatusClosed:
		switch th.closedReply {
		case "reopen":
			p.Ticket = t.ID
			p.Events = []store.Event{in} // the store reopens it
			p.How += ", reopened"
		case "reject":
			p.Reject = t.ID
			p.How += ", closed: rejected"
		default:
			p.New = th.newTicket(m, p.Org, store.Link{Kind: "follow-up", To: t.ID})
			p.How += ", closed: new follow-up ticket"
		}
	case store.StatusResolved, store.StatusWaiting:
		p.Ticket = t.ID
		p.Events = []store.Event{in} // the store puts it back to open
		p.How += ", " + string(t.Status) + " → open"
	default:
		p.Ticket = t.ID
		p.Events = []store.Event{in}
	}
	return p, nil
}

// decideBounce puts a bounce of our mail on the ticket whose mail bounced,
// as a delivery failure the operator sees: automatic, so it is not
// acknowledged and changes no status or clock. A bounce of mail this desk
// does not know is held in quarantine rather than opened as a ticket with
// a running clock.
func (th *threader) decideBounce(m *store.Message, b *Bounce, look lookup) (plan, error) {
	m.Auto = true
	failure := "delivery failed"
	if !b.Permanent() {
		failure = "delivery delayed"
	}
	if len(b.Recipients) > 0 {
		failure += " to " + strings.Join(b.Recipients, ", ")
	}
	if b.Status != "" {
		failure += " (" + b.Status + ")"
	}
	if b.Diagnostic != "" {
		failure += ": " + b.Diagnostic
	}
	m.Problems = append([]string{failure}, m.Problems...)
	for _, ref := range b.OriginalIDs {
		id, ok, err := look.MessageTicket(ref)
		if err != nil {
			return plan{}, err
		}
		if !ok {
			continue
		}
		if _, err := look.Get(id); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return plan{}, err
		}
		return plan{Ticket: id, Target: id, Events: []store.Event{{Kind: store.EvMessageIn, Message: m}},
			How: "bounce of our mail on " + id.String() + ": " + failure}, nil
	}
	return plan{Hold: "a bounce of mail this desk does not know (" + failure + ")", How: "unknown bounce"}, nil
}

func (th *threader) newTicket(m *store.Message, org *Organisation, links ...store.Link) *store.NewTicket {
	subj := th.untag(m.Subject)
	if subj == "" {
		subj = "(no subject)"
	}
	req := store.Person{Name: m.From.Name, Email: strings.ToLower(m.From.Email)}
	if org != nil {
		req.Organisation = org.Name
	}
	return &store.NewTicket{
		Type:      guessType(subj),
		Priority:  3,
		Queue:     th.queue,
		Subject:   subj,
		Requester: req,
		Message:   m,
		Inbound:   true,
		Links:     links,
	}
}

// guessType is a first guess an operator corrects at triage: most mail to
// a desk reports something broken.
func guessType(subject string) store.Type {
	s := strings.ToLower(subject)
	for _, w := range []string{"change request", "request for change", "rfc:", "ændring", "wijziging", "changement"} {
		if strings.Contains(s, w) {
			return store.ChangeReq
		}
	}
	for _, w := range []string{"request", "access", "new user", "anmodning", "bestilling", "adgang", "aanvraag", "toegang", "demande", "accès"} {
		if strings.Contains(s, w) {
			return store.Request
		}
	}
	return store.Incident
}
