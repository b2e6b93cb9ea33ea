package mailin

import (
	"strings"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// What other writers (desk new, desk quarantine release) need from the mail
// side without a running Service: the acknowledgement mail intake sends,
// and a quarantined mail read into a new ticket the way intake reads one.

// Acknowledgement is the acknowledgement mail intake sends for a new ticket,
// for a ticket registered another way (desk new, a phone call): the same
// template, the same promised response time from policy, the same sender
// name (cfg.Name, "Service Desk" by default). Set it as nt.Ack; the store
// fills in the ticket number when it registers the ticket. It is nil when
// the requester has no address.
//
// When nt.Message is the requester's own mail (Inbound), the
// acknowledgement threads under it and its subject is a reply; otherwise the
// subject is the ticket's.
func Acknowledgement(cfg Config, policy slaengine.Policy, nt *store.NewTicket, now time.Time) *store.OutMail {
	addr := strings.ToLower(strings.TrimSpace(nt.Requester.Email))
	if addr == "" {
		return nil
	}
	cfg = cfg.withDefaults()
	prio := nt.Priority
	if prio == 0 {
		prio = 3 // what the store makes of a zero priority
	}
	typ := nt.Type
	if typ == "" {
		typ = store.Incident
	}
	name := headerSafe(nt.Requester.Name, 80)
	if name == "" {
		name = "customer"
	}
	out := &store.OutMail{Kind: "ack", To: []string{addr}, Body: ackBody(name, nt.Subject, prio, expectedBy(policy, typ, prio, now), cfg.Name), Auto: true}
	if m := nt.Message; m != nil && nt.Inbound {
		out.Subject = replySubject(nt.Subject)
		out.InReplyTo = m.MessageID
		out.References = appendRef(m.References, m.MessageID)
	} else {
		out.Subject = headerSafe(nt.Subject, 300)
	}
	return out
}

// expectedBy is when the first response is due for a ticket created now,
// from the SLA policy, in the policy calendar's time zone (the promise in
// every acknowledgement).
func expectedBy(pol slaengine.Policy, typ store.Type, prio store.Priority, now time.Time) (due string) {
	defer func() {
		// A policy the engine cannot evaluate must not stop a registration;
		// the acknowledgement then simply has no promise in it.
		if recover() != nil {
			due = ""
		}
	}()
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

// ReleaseOptions are what ReleaseTicket reads a mail with; the zero value
// is the defaults (tag prefix SD, no organisations, 10 MiB per attachment).
type ReleaseOptions struct {
	TagPrefix     string         // the desk's ticket tag, removed from the subject
	Organisations []Organisation // the requester's organisation is looked up here
	MaxAttachment int64          // bytes kept per attachment
}

// ReleaseTicket reads a quarantined mail's raw copy into the ticket intake
// would have registered for it (for store.ReleaseQuarantine): the sender as
// requester, the subject without any ticket tag (replies must thread to the
// new ticket, not to the one the mail named), the mail as the inbound first
// message with what could not be read in its Problems, in queue. The map
// holds the attachment contents to store beside it. It never fails: what
// cannot be read is listed in the message's Problems.
func ReleaseTicket(raw []byte, queue string, o ReleaseOptions) (store.NewTicket, map[string][]byte) {
	p := Parse(raw, o.MaxAttachment)
	th := newThreader(o.TagPrefix, o.Organisations, "", queue)
	nt := th.newTicket(p.Msg, th.orgOf(p.Msg.From.Email))
	return *nt, p.Blobs
}
