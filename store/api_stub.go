package store

// This file is the contract the console, the mail intake and the binary
// compile against. The store owner replaces the bodies with the real thing
// (and may split them over files); signatures change only by agreement.

import (
	"context"
	"errors"
	"io"
	"log"
	"time"

	"github.com/deskhq/desk/slaengine"
)

var (
	// ErrNotFound: no such ticket (or record).
	ErrNotFound = errors.New("not found")
	// ErrStale: the ticket changed since the caller read it (see Expect).
	ErrStale = errors.New("ticket changed since you read it")
)

// LockedError says the data directory is held by another process.
type LockedError struct {
	Dir    string
	Holder string // e.g. "desk serve (pid 4242) on host nightdesk since 2026-11-23 02:10"
}

func (e *LockedError) Error() string {
	return "the data directory " + e.Dir + " is in use by " + e.Holder
}

// Options for Open.
type Options struct {
	// Policy computes SLA clocks and the deadline index at write time.
	Policy slaengine.Policy
	// Log receives Badger's own messages; nil discards them (Badger's
	// default logger would write over the console).
	Log *log.Logger
	// Holder describes this process for the lock file ("desk console", "desk serve").
	Holder string
	// MailDomain is the right-hand side of Message-IDs the store generates
	// for outbound messages ("desk.example.org").
	MailDomain string
	// SupportAddress is the From of outbound mail.
	SupportAddress string
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Store is the system of record.
type Store struct{}

// Open opens or creates the store in dir. A dir held by another process gives
// a *LockedError.
func Open(dir string, o Options) (*Store, error) { panic("store: not implemented") }

// Close flushes and releases the directory.
func (s *Store) Close() error { panic("store: not implemented") }

// SetPolicy replaces the SLA policy (config reload) and recomputes the clocks
// and deadline index of every active ticket.
func (s *Store) SetPolicy(p slaengine.Policy) error { panic("store: not implemented") }

// Policy returns the policy in force.
func (s *Store) Policy() slaengine.Policy { panic("store: not implemented") }

// NewTicket is what a creator knows of a new ticket.
type NewTicket struct {
	Type      Type
	Priority  Priority
	Queue     string
	Subject   string
	Requester Person
	External  []string
	// Message is the first message (mail or phone-call notes), if any.
	Message *Message
	// Inbound tells whether Message came from the requester (message-in) or
	// was written by an operator for a phone call (a note).
	Inbound bool
	// Links to other tickets from the start (e.g. a follow-up of a closed one).
	Links []Link
}

// Create registers a new ticket with the next number, its created event (and
// first message event), indexes and change-feed entry in one transaction.
func (s *Store) Create(actor string, nt NewTicket) (Ticket, error) { panic("store: not implemented") }

// Update appends events to a ticket. fn receives the current state and
// returns the events to append (Ticket, Seq, At and Actor are filled in by
// the store); the projection, SLA clocks and indexes are written in the same
// transaction. fn may run more than once when writers conflict, so it must
// not have side effects. Returning no events writes nothing. Outbound
// message events with recipients also get an outbox entry in the same
// transaction.
func (s *Store) Update(id TicketID, actor string, fn func(t Ticket) ([]Event, error)) (Ticket, error) {
	panic("store: not implemented")
}

// Expect wraps fn so that it fails with ErrStale when the ticket has more
// than seen events, for "the second editor gets a clear message".
func Expect(seen int, fn func(t Ticket) ([]Event, error)) func(t Ticket) ([]Event, error) {
	return func(t Ticket) ([]Event, error) {
		if t.Events != seen {
			return nil, ErrStale
		}
		return fn(t)
	}
}

// Get returns one ticket.
func (s *Store) Get(id TicketID) (Ticket, error) { panic("store: not implemented") }

// History returns the ticket's events, oldest first.
func (s *Store) History(id TicketID) ([]Event, error) { panic("store: not implemented") }

// Tickets calls fn for every ticket in id order until fn returns false.
func (s *Store) Tickets(fn func(Ticket) bool) error { panic("store: not implemented") }

// ByDeadline calls fn for active tickets with a running clock, earliest
// deadline first (a key-only index scan).
func (s *Store) ByDeadline(fn func(id TicketID, due time.Time) bool) error {
	panic("store: not implemented")
}

// ByStatus calls fn for the ids of tickets with status st (queue "" = any queue).
func (s *Store) ByStatus(st Status, queue string, fn func(id TicketID) bool) error {
	panic("store: not implemented")
}

// ByRequester calls fn for the ids of tickets whose requester has this
// address (case-insensitive).
func (s *Store) ByRequester(email string, fn func(id TicketID) bool) error {
	panic("store: not implemented")
}

// Watch delivers every change made after it returns, in commit order, until
// ctx ends. It is registered before it returns, so no later write is missed.
func (s *Store) Watch(ctx context.Context) <-chan Change { panic("store: not implemented") }

// Backup writes the whole store to w.
func (s *Store) Backup(w io.Writer) error { panic("store: not implemented") }

// Restore loads a backup into an empty store; it refuses a store that
// already holds tickets.
func (s *Store) Restore(r io.Reader) error { panic("store: not implemented") }

// ---- mail intake support (used by mailin) ----

// Checkpoint is how far intake has read one mailbox.
type Checkpoint struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// Checkpoint returns the checkpoint for mailbox (zero value when none).
func (s *Store) Checkpoint(mailbox string) (Checkpoint, error) { panic("store: not implemented") }

// SaveCheckpoint records cp (used when nothing is registered, e.g. "start from now").
func (s *Store) SaveCheckpoint(cp Checkpoint) error { panic("store: not implemented") }

// MessageTicket returns the ticket that holds (or sent) the message with
// this Message-ID (or content-hash key).
func (s *Store) MessageTicket(key string) (TicketID, bool, error) { panic("store: not implemented") }

// Intake is one inbound mail to register atomically.
type Intake struct {
	// Key is the Message-ID, or a content hash when the mail has none; a
	// key already registered makes RegisterMail a no-op that reports dup.
	Key        string
	Checkpoint Checkpoint // advanced in the same transaction
	// Either append to Ticket, or create New.
	Ticket TicketID
	New    *NewTicket
	// Events to append (message-in, status changes such as a reopen). For
	// a new ticket they follow the created event.
	Events []Event
	// Blobs are attachment contents keyed by Attachment.Blob.
	Blobs map[string][]byte
	// Ack, when set, queues an acknowledgement to the requester in the same
	// transaction; the store fills in the ticket number.
	Ack *OutMail
}

// RegisterMail registers one mail exactly once: dedupe by Key, ticket
// create/append, message-id index, blobs, outbox entry and checkpoint in one
// durable (synced) transaction.
func (s *Store) RegisterMail(actor string, in Intake) (t Ticket, dup bool, err error) {
	panic("store: not implemented")
}

// Quarantined is a mail that could not be registered (or was held by the
// sender policy), kept whole so nothing is lost.
type Quarantined struct {
	ID       uint64    `json:"id"`
	Key      string    `json:"key"`
	Mailbox  string    `json:"mailbox"`
	UID      uint32    `json:"uid"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	Subject  string    `json:"subject"`
	Reason   string    `json:"reason"`
	Raw      []byte    `json:"raw"`
	Released bool      `json:"released"`
}

// Quarantine stores q (and advances cp) in one transaction; dedupe by q.Key.
func (s *Store) Quarantine(q Quarantined, cp Checkpoint) (dup bool, err error) {
	panic("store: not implemented")
}

// QuarantineList returns quarantined mails, newest first.
func (s *Store) QuarantineList() ([]Quarantined, error) { panic("store: not implemented") }

// Blob returns stored attachment content.
func (s *Store) Blob(key string) ([]byte, error) { panic("store: not implemented") }

// OutMail is one entry of the outbox.
type OutMail struct {
	ID         uint64    `json:"id"`
	Ticket     TicketID  `json:"ticket"`
	Kind       string    `json:"kind"` // "ack", "reply", "resolution", "redirect"
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	MessageID  string    `json:"message_id"`
	InReplyTo  string    `json:"in_reply_to,omitempty"`
	References []string  `json:"references,omitempty"`
	Auto       bool      `json:"auto"` // automatic mail: Auto-Submitted: auto-replied
	Queued     time.Time `json:"queued"`
	Attempts   int       `json:"attempts"`
	NextTry    time.Time `json:"next_try"`
	LastError  string    `json:"last_error,omitempty"`
	Sent       time.Time `json:"sent,omitzero"`
}

// Enqueue adds a mail that belongs to no ticket event (e.g. a redirect answer).
func (s *Store) Enqueue(m OutMail) (OutMail, error) { panic("store: not implemented") }

// Outbox returns unsent mail due at or before now, oldest first.
func (s *Store) Outbox(now time.Time) ([]OutMail, error) { panic("store: not implemented") }

// OutboxAll returns the whole outbox (sent and unsent), newest first, up to limit.
func (s *Store) OutboxAll(limit int) ([]OutMail, error) { panic("store: not implemented") }

// MarkSent records a successful send.
func (s *Store) MarkSent(id uint64, at time.Time) error { panic("store: not implemented") }

// MarkFailed records a failed attempt and when to try again.
func (s *Store) MarkFailed(id uint64, reason string, next time.Time) error {
	panic("store: not implemented")
}

// AutoMailsToday counts automatic mails queued to addr in the 24 hours before now.
func (s *Store) AutoMailsToday(addr string, now time.Time) (int, error) {
	panic("store: not implemented")
}
