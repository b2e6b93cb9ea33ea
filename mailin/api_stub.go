package mailin

// The contract the binary and the console compile against. The mailin owner
// replaces the bodies (and may split them over files); signatures change only
// by agreement.

import (
	"context"
	"log"
	"time"

	"github.com/deskhq/desk/store"
)

// Config is the [mail] table of the TOML config file.
type Config struct {
	IMAP           string   `toml:"imap"`            // imap://user@host:port/INBOX or imaps://...
	SMTP           string   `toml:"smtp"`            // smtp://user@host:port or smtps://...
	Address        string   `toml:"address"`         // the support address (From of our mail)
	Name           string   `toml:"name"`            // display name for From, e.g. "Service Desk"
	PasswordFile   string   `toml:"password_file"`   // one of these three gives the password
	PasswordEnv    string   `toml:"password_env"`    //
	PasswordCmd    string   `toml:"password_cmd"`    //
	StartTLS       bool     `toml:"starttls"`        // for imap:// and smtp://
	AllowPlain     bool     `toml:"allow_plaintext"` // plaintext to a non-loopback host
	UnknownSenders string   `toml:"unknown_senders"` // "register" (default) or "redirect"
	RedirectText   string   `toml:"redirect_text"`   // body of the redirect answer
	StartFrom      string   `toml:"start_from"`      // "all" or "now"; required when the mailbox holds mail
	PollInterval   Duration `toml:"poll_interval"`   // when the server has no IDLE; default 30s
	TagPrefix      string   `toml:"tag_prefix"`      // ticket tag prefix, default "SD"
	DoneFolder     string   `toml:"done_folder"`     // move registered mail there; empty: flag \Seen
	AutoPerDay     int      `toml:"auto_per_day"`    // automatic mails per sender per day, default 10
	MaxAttachment  int64    `toml:"max_attachment"`  // bytes kept per attachment, default 10 MiB
	ClosedReply    string   `toml:"closed_reply"`    // reply to a closed ticket: "new" (default), "reopen", "reject"
	DefaultQueue   string   `toml:"default_queue"`
}

// Duration is a time.Duration that reads "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText reads "30s", "2m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Organisation from the [[organisations]] tables: who may send us mail.
type Organisation struct {
	Name      string   `toml:"name"`
	Domains   []string `toml:"domains"`
	Addresses []string `toml:"addresses"`
	Contact   string   `toml:"contact"` // single point of contact
}

// Options are the non-config inputs.
type Options struct {
	Organisations []Organisation
	Log           *log.Logger
	Now           func() time.Time
}

// Validate checks cfg and names the key that is wrong.
func (c Config) Validate() error { panic("mailin: not implemented") }

// Service runs intake and the outbox.
type Service struct{}

// New prepares a service; it does not connect yet.
func New(cfg Config, st *store.Store, o Options) (*Service, error) { panic("mailin: not implemented") }

// Run keeps intake (IDLE or polling, reconnecting with backoff) and the
// outbox sender going until ctx ends.
func (s *Service) Run(ctx context.Context) error { panic("mailin: not implemented") }

// Stats of one Once run.
type Stats struct {
	Registered, Duplicates, Quarantined, Sent, Failed int
}

// Once connects, registers everything waiting, flushes the outbox and returns.
func (s *Service) Once(ctx context.Context) (Stats, error) { panic("mailin: not implemented") }

// Status is what the console's status line shows.
type Status struct {
	State     string // "connecting", "idle", "polling", "error", "stopped"
	Detail    string // the reason for an error, the mailbox name otherwise
	LastMail  time.Time
	Outbox    int // unsent mails
	OutboxErr string
}

// Status is safe to call from any goroutine.
func (s *Service) Status() Status { panic("mailin: not implemented") }

// Demo is the built-in demo mailbox: an in-process IMAP server fed with
// realistic mail over time and an in-process SMTP sink.
type Demo struct{}

// DemoOptions tune the demo feed.
type DemoOptions struct {
	Every time.Duration // pause between mails, default a few seconds
	Log   *log.Logger
}

// StartDemo starts the servers and the feed; Config points a Service at them.
func StartDemo(ctx context.Context, o DemoOptions) (*Demo, error) { panic("mailin: not implemented") }

// Config returns a mail config for the demo servers.
func (d *Demo) Config() Config { panic("mailin: not implemented") }

// Close stops the servers.
func (d *Demo) Close() error { panic("mailin: not implemented") }
