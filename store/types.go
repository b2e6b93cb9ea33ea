package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// TicketID is the number n of ticket SD-n. Numbers are sequential and never
// reused, not even after a restore of an older backup into the same store.
type TicketID uint64

func (id TicketID) String() string { return "SD-" + strconv.FormatUint(uint64(id), 10) }

// ParseTicketID accepts "SD-12", "sd-12" and "12".
func ParseTicketID(s string) (TicketID, error) {
	t := strings.TrimSpace(s)
	if len(t) > 3 && strings.EqualFold(t[:3], "SD-") {
		t = t[3:]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a ticket id: use SD-<number>, for example SD-12", s)
	}
	return TicketID(n), nil
}

// Type of ticket, from the seeds' classification step.
type Type string

const (
	Incident  Type = "incident"
	Request   Type = "request"
	ChangeReq Type = "change" // request for change
)

// Types in the order the console cycles through them.
var Types = []Type{Incident, Request, ChangeReq}

// Priority is 1 (critical) to 4 (low). It marshals as "P1".."P4".
type Priority int

func (p Priority) String() string { return "P" + strconv.Itoa(int(p)) }

func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p *Priority) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.ToUpper(string(b)), "P")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 4 {
		return fmt.Errorf("priority %q: use P1, P2, P3 or P4", b)
	}
	*p = Priority(n)
	return nil
}

// Status of a ticket.
type Status string

const (
	StatusNew            Status = "new"
	StatusOpen           Status = "open"
	StatusWaiting        Status = "waiting" // on the requester; SLA clocks paused
	StatusEscalated      Status = "escalated"
	StatusPendingRelease Status = "pending-release"
	StatusResolved       Status = "resolved"
	StatusClosed         Status = "closed"
)

// Statuses in lifecycle order.
var Statuses = []Status{StatusNew, StatusOpen, StatusWaiting, StatusEscalated, StatusPendingRelease, StatusResolved, StatusClosed}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Active reports whether the ticket still needs work (not resolved or closed).
func (s Status) Active() bool { return s != StatusResolved && s != StatusClosed && s != "" }

// Person is a requester or correspondent.
type Person struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Organisation string `json:"organisation"`
}

// Ticket is the current state of a ticket. It is a projection of the ticket's
// history: Apply folds events into it, in the same transaction that appends
// them, so the two can never disagree.
type Ticket struct {
	ID           TicketID  `json:"id"`
	Type         Type      `json:"type"`
	Priority     Priority  `json:"priority"`
	Status       Status    `json:"status"`
	Queue        string    `json:"queue"`
	Assignee     string    `json:"assignee"`
	Team         string    `json:"team,omitempty"` // 3rd-level team after a functional escalation
	Category     string    `json:"category,omitempty"`
	Requester    Person    `json:"requester"`
	Subject      string    `json:"subject"`
	Master       TicketID  `json:"master,omitempty"` // master ticket this one is linked to
	Links        []Link    `json:"links,omitempty"`
	External     []string  `json:"external,omitempty"` // references in other systems (e.g. a supplier's Jira id)
	Participants []string  `json:"participants,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	Responded    time.Time `json:"responded,omitzero"` // first response
	Resolved     time.Time `json:"resolved,omitzero"`
	// Resolution is the text the ticket was last resolved with (mailed to
	// the requester); cleared on reopen.
	Resolution string `json:"resolution,omitempty"`
	// Peak is the most urgent priority the ticket had at any time while it
	// was open: P1/P2 tickets need an approved incident report to close,
	// and lowering the priority first must not get around that.
	Peak Priority `json:"peak,omitempty"`
	// Report is the latest version of the incident report, if any.
	Report *IncidentReport `json:"report,omitempty"`
	// Events is the number of events in the history; the next event's Seq.
	Events int `json:"events"`
	// SLA is both clocks evaluated at Updated; project them to now with
	// slaengine.Policy.Project.
	SLA slaengine.Clocks `json:"-"`
	// Deadline is the earliest due time of a running clock (zero when none
	// runs); the store keeps an index on it.
	Deadline time.Time `json:"-"`
	// Fired are the escalation steps fired, "P1/resolution/breached": each
	// fires once per ticket, priority and clock.
	Fired []string `json:"fired,omitempty"`
	// EscalateAt is when the next escalation step comes due (zero when none
	// can while the clocks stay as they are); the store keeps an index on it.
	EscalateAt time.Time `json:"-"`
	// Service is the service the ticket is about (config [[services]]).
	Service string `json:"service,omitempty"`
	// Major is the major incident this ticket declared, if any (kept after
	// it ended, for the record and for desk major's recent list).
	Major *MajorIncident `json:"major,omitempty"`
}

// Link is a typed relation to another ticket.
type Link struct {
	Kind LinkKind `json:"kind"`
	To   TicketID `json:"to"`
}

// LinkKind says how two tickets are related.
type LinkKind string

const (
	LinkMaster   LinkKind = "master"    // this ticket is linked under a master (the same problem)
	LinkChild    LinkKind = "child"     // the master's side of LinkMaster
	LinkRelated  LinkKind = "related"   // see also (e.g. a stranger's mail tagged with this ticket)
	LinkFollowUp LinkKind = "follow-up" // opened after this closed ticket
)

// Field names a ticket field that field events change.
type Field string

const (
	FieldType     Field = "type"
	FieldPriority Field = "priority"
	FieldQueue    Field = "queue"
	FieldAssignee Field = "assignee"
	FieldTeam     Field = "team"
	FieldCategory Field = "category"
	FieldSubject  Field = "subject"
	FieldService  Field = "service"
	FieldExternal Field = "external" // adds a reference in another tracker
	// FieldStatus is not a field event (status changes are EvStatus), but
	// SetField and FieldValue accept it so that the console can treat the
	// status picker like the other pickers.
	FieldStatus Field = "status"
)

// Fields that SetField changes, in the order the help lists them.
var Fields = []Field{FieldType, FieldPriority, FieldQueue, FieldAssignee, FieldTeam, FieldCategory, FieldSubject, FieldService, FieldStatus}

// IncidentReport is the post-incident report P1/P2 tickets need, approved
// by a lead, before they may be closed (the seeds: written, reviewed and
// approved before closure).
type IncidentReport struct {
	Summary   string    `json:"summary"`
	Impact    string    `json:"impact"`
	RootCause string    `json:"root_cause"`
	Actions   string    `json:"actions"`  // corrective and preventive actions
	Timeline  string    `json:"timeline"` // what happened when
	Author    string    `json:"author,omitempty"`
	Written   time.Time `json:"written,omitzero"`
	Version   int       `json:"version,omitempty"` // 1 for the first report, +1 for each rewrite
	// Approver and Approved are set by ApproveReport; a rewrite clears them.
	Approver string    `json:"approver,omitempty"`
	Approved time.Time `json:"approved,omitzero"`
}

// EventKind names what an event did.
type EventKind string

const (
	EvCreated    EventKind = "created"
	EvMessageIn  EventKind = "message-in"
	EvMessageOut EventKind = "message-out"
	EvNote       EventKind = "note"
	EvField      EventKind = "field"  // Field changed From -> To
	EvStatus     EventKind = "status" // status changed From -> To
	EvLinked     EventKind = "linked"
	EvResponded  EventKind = "responded"    // explicit "first response given"
	EvReport     EventKind = "report"       // an incident report (a new version)
	EvApproved   EventKind = "approved"     // a lead approved the incident report
	EvEscalation EventKind = "escalation"   // an escalation step fired (Escalation says which, whom it told)
	EvMajor      EventKind = "major"        // a major incident was declared (Major), its subscribers told
	EvMajorNote  EventKind = "major-update" // a status update for the subscribers (Text), mailed to them
	EvMajorEnd   EventKind = "major-end"    // the major incident ended (the ticket resolved), subscribers told
)

// Event is one entry of a ticket's append-only history.
type Event struct {
	Ticket TicketID  `json:"ticket"`
	Seq    int       `json:"seq"` // 0 for the created event, then 1, 2, ...
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"` // operator name, "mail", "system" or "demo"
	Kind   EventKind `json:"kind"`
	Field  Field     `json:"field,omitempty"` // for EvField
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Text   string    `json:"text,omitempty"` // note text
	Link   *Link     `json:"link,omitempty"`
	// Created carries the initial fields of an EvCreated event.
	Created *Ticket         `json:"created,omitempty"`
	Message *Message        `json:"message,omitempty"`
	Report  *IncidentReport `json:"report,omitempty"`
	// Escalation is the step an EvEscalation event fired.
	Escalation *Escalation `json:"escalation,omitempty"`
	// Major is the major incident as an EvMajor or EvMajorNote event left
	// it (service, owner, when the next update is due).
	Major *MajorIncident `json:"major,omitempty"`
}

// Message is a mail (or phone call transcript) in or out.
type Message struct {
	MessageID   string       `json:"message_id,omitempty"` // without angle brackets
	InReplyTo   string       `json:"in_reply_to,omitempty"`
	References  []string     `json:"references,omitempty"`
	From        Person       `json:"from"`
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Subject     string       `json:"subject"`
	Body        string       `json:"body"`
	Date        time.Time    `json:"date,omitzero"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Problems lists what could not be read (malformed headers, unknown
	// charset, oversize attachment dropped); empty for a clean mail.
	Problems []string `json:"problems,omitempty"`
	// Auto is set when the mail is automatic (auto-reply, bulk, bounce): it
	// is registered but never acknowledged.
	Auto bool `json:"auto,omitempty"`
	// Outbox is the outbox entry that sends an outbound message.
	Outbox uint64 `json:"outbox,omitempty"`
}

// Attachment metadata; the content, when kept, is a blob in the store.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Blob        string `json:"blob,omitempty"` // key of the stored content; empty when dropped
}

// Change is one entry of the change feed: a ticket whose state changed.
type Change struct {
	Ticket TicketID
	Seq    int // the event count after the change
}
