package tui

import (
	"time"

	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/store"
)

// Role decides what an operator may do; the store enforces it, the
// console only hides what would be refused.
type Role = store.Role

const (
	RoleOperator = store.RoleOperator // triage and reply
	RoleLead     = store.RoleLead     // also reports, config reload, approving incident reports
	RoleViewer   = store.RoleViewer   // read only
)

// Team is a 3rd-level team tickets can be escalated to.
type Team struct {
	Name        string
	Description string
}

// MailState is what the status line says about the mailbox.
type MailState struct {
	State    string // "off", "connecting", "idle", "polling", "error"
	Detail   string
	LastMail time.Time
	Outbox   int
}

// Options wire one console session.
type Options struct {
	Store *store.Store
	Board *Board
	// Dark is the session's background as far as it is known before the
	// terminal answers the console's query (see DarkFromColorFGBG). The
	// colour profile is the program's, not the model's.
	Dark     bool
	Operator string
	Role     Role
	// Operators are the names an operator can assign to.
	Operators []string
	Teams     []Team
	Queues    []string
	StoreName string // shown in the status line (data dir)
	// MailStatus is polled once a second; nil means no mailbox.
	MailStatus func() MailState
	// Reload reloads the config (lead only); nil hides the command.
	Reload func() (string, error)
	// Report renders the compliance report for a month (lead only).
	Report func(month string) (string, error)
	// ReleaseMail turns quarantined mail into a ticket (lead only): the
	// caller parses the held copy; nil hides :release.
	ReleaseMail func(id uint64, actor string) (store.Ticket, error)
	Now         func() time.Time
	// Drafts, when set, outlive the session (desk serve keeps one per
	// operator); nil gives the session its own.
	Drafts *Drafts
	// Bell rings the terminal bell on the operator's alerts (a new P1/P2,
	// an escalation step that names them, a breach on their ticket); nil
	// means on for operators and leads, off for viewers.
	Bell *bool
	// Location is the time zone times are shown in (the desk's business
	// calendar zone, not the server's); nil means the local zone.
	Location *time.Location
	// Search runs a full-text search (words, phrases, field terms) over
	// every ticket; nil: / only filters the list.
	Search func(query string, limit int) (search.Result, error)
	// Similar finds the tickets most like one (the detail pane lists them;
	// m offers the first open one as master); nil: none are shown.
	Similar func(t store.Ticket, h []store.Event, n int) ([]search.Hit, error)
	// Solutions finds the knowledge-base articles most like a ticket (the
	// detail pane lists them; K applies the first); asked with Similar.
	Solutions func(t store.Ticket, h []store.Event, n int) ([]search.Hit, error)
}
