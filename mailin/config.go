package mailin

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Config is the [mail] table of the TOML config file; desk.example.toml at
// the repository root documents every key (a test keeps the two in step).
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

	// password is set by the demo (never read from TOML): it has no file
	// or variable to point at.
	password string
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

// MarshalText writes the duration back as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

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
	// MailDomain is the store's Options.MailDomain, the right-hand side
	// of the Message-IDs it makes; empty means the domain of
	// Config.Address. Mail with such an id, tagged and signed with
	// SelfKey, is ours and never imported.
	MailDomain string
	// SelfKey is the install's mail key (LoadSelfKey on the data
	// directory), with which desk signs the mail it sends and recognises
	// copies of it coming back. Nil: a key for this process only, so
	// copies of mail sent before a restart are registered as ordinary
	// (never answered) mail.
	SelfKey []byte
	// TLSConfig for imaps/smtps/STARTTLS; nil means the system roots with
	// the server's host name. Tests set it to trust their own certificate.
	TLSConfig *tls.Config
}

const (
	defaultPoll          = 30 * time.Second
	defaultTagPrefix     = "SD"
	defaultAutoPerDay    = 10
	defaultMaxAttachment = 10 << 20
)

// withDefaults fills in what the config may leave out.
func (c Config) withDefaults() Config {
	if c.PollInterval.Duration <= 0 {
		c.PollInterval.Duration = defaultPoll
	}
	if c.TagPrefix == "" {
		c.TagPrefix = defaultTagPrefix
	}
	if c.AutoPerDay == 0 {
		c.AutoPerDay = defaultAutoPerDay
	}
	if c.MaxAttachment <= 0 {
		c.MaxAttachment = defaultMaxAttachment
	}
	if c.UnknownSenders == "" {
		c.UnknownSenders = "register"
	}
	if c.ClosedReply == "" {
		c.ClosedReply = "new"
	}
	if c.Name == "" {
		c.Name = "Service Desk"
	}
	if c.RedirectText == "" {
		c.RedirectText = "Thank you for your mail. This desk only takes requests from the organisations it serves.\n" +
			"Please contact your first-level support, who will raise the matter with us if needed.\n"
	}
	return c
}

// endpoint is a parsed imap:// or smtp:// URL.
type endpoint struct {
	TLS     bool // implicit TLS (imaps, smtps)
	User    string
	Host    string // host:port
	Mailbox string // IMAP only
	pass    string // from the URL's userinfo, discouraged but accepted
}

func (e endpoint) hostname() string {
	h, _, err := net.SplitHostPort(e.Host)
	if err != nil {
		return e.Host
	}
	return h
}

func (e endpoint) loopback() bool {
	h := e.hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func parseEndpoint(key, raw, plain, secure string, plainPort, securePort int) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, keyErr("mail."+key, "mail.%s = %q is not a URL: %v; write it as %s://user@host:port", key, raw, err, plain)
	}
	var e endpoint
	port := plainPort
	switch strings.ToLower(u.Scheme) {
	case plain:
	case secure:
		e.TLS, port = true, securePort
	default:
		return endpoint{}, keyErr("mail."+key, "mail.%s = %q: the scheme must be %s:// or %s://", key, raw, plain, secure)
	}
	if u.Hostname() == "" {
		return endpoint{}, keyErr("mail."+key, "mail.%s = %q names no host; write it as %s://user@host:port", key, raw, plain)
	}
	e.Host = u.Host
	if u.Port() == "" {
		e.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	}
	if u.User != nil {
		e.User = u.User.Username()
		e.pass, _ = u.User.Password()
	}
	e.Mailbox = strings.TrimPrefix(u.Path, "/")
	return e, nil
}

func (c Config) imapEndpoint() (endpoint, error) {
	e, err := parseEndpoint("imap", c.IMAP, "imap", "imaps", 143, 993)
	if err != nil {
		return e, err
	}
	if e.Mailbox == "" {
		e.Mailbox = "INBOX"
	}
	if e.User == "" {
		return e, keyErr("mail.imap", "mail.imap = %q names no user; write it as imap://user@host:port/INBOX", c.IMAP)
	}
	return e, nil
}

func (c Config) smtpEndpoint() (endpoint, error) {
	return parseEndpoint("smtp", c.SMTP, "smtp", "smtps", 25, 465)
}

// Validate checks cfg and names the key that is wrong.
func (c Config) Validate() error {
	if c.IMAP == "" {
		return keyErr("mail.imap", "mail.imap is missing: set it to the support mailbox, e.g. imaps://support@mail.example.org/INBOX")
	}
	im, err := c.imapEndpoint()
	if err != nil {
		return err
	}
	if !im.TLS && !c.StartTLS && !im.loopback() && !c.AllowPlain {
		return keyErr("mail.imap", "mail.imap = %q would send the password in plain text to %s: use imaps://, set starttls = true, or allow_plaintext = true if you must", c.IMAP, im.hostname())
	}
	if c.SMTP == "" {
		return keyErr("mail.smtp", "mail.smtp is missing: set it to the outgoing server, e.g. smtps://support@mail.example.org")
	}
	sm, err := c.smtpEndpoint()
	if err != nil {
		return err
	}
	if !sm.TLS && !c.StartTLS && !sm.loopback() && !c.AllowPlain {
		return keyErr("mail.smtp", "mail.smtp = %q would send mail and password in plain text to %s: use smtps://, set starttls = true, or allow_plaintext = true if you must", c.SMTP, sm.hostname())
	}
	if c.Address == "" {
		return keyErr("mail.address", "mail.address is missing: set it to the support address, e.g. support@example.org")
	}
	if _, dom, ok := splitAddr(c.Address); !ok || dom == "" || strings.ContainsAny(c.Address, " <>\r\n") {
		return keyErr("mail.address", "mail.address = %q is not a bare mail address like support@example.org", c.Address)
	}
	n := 0
	for _, s := range []string{c.PasswordFile, c.PasswordEnv, c.PasswordCmd} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return keyErr("mail", "mail: set only one of password_file, password_env and password_cmd")
	}
	if n == 0 && c.password == "" && im.pass == "" {
		return keyErr("mail", "mail: no password source: set password_file, password_env or password_cmd")
	}
	switch c.UnknownSenders {
	case "", "register", "redirect":
	default:
		return keyErr("mail.unknown_senders", "mail.unknown_senders = %q: use \"register\" or \"redirect\"", c.UnknownSenders)
	}
	switch c.StartFrom {
	case "", "all", "now":
	default:
		return keyErr("mail.start_from", "mail.start_from = %q: use \"all\" (import what the mailbox holds) or \"now\"", c.StartFrom)
	}
	switch c.ClosedReply {
	case "", "new", "reopen", "reject":
	default:
		return keyErr("mail.closed_reply", "mail.closed_reply = %q: use \"new\", \"reopen\" or \"reject\"", c.ClosedReply)
	}
	if c.PollInterval.Duration < 0 || (c.PollInterval.Duration > 0 && c.PollInterval.Duration < time.Second) {
		return keyErr("mail.poll_interval", "mail.poll_interval = %s: use at least 1s", c.PollInterval.Duration)
	}
	if c.AutoPerDay < 0 {
		return keyErr("mail.auto_per_day", "mail.auto_per_day = %d: use 0 for the default (10) or a positive number", c.AutoPerDay)
	}
	if c.MaxAttachment < 0 {
		return keyErr("mail.max_attachment", "mail.max_attachment = %d: use a size in bytes, 0 for the default (10 MiB)", c.MaxAttachment)
	}
	if strings.ContainsAny(c.TagPrefix, "[]- \t\r\n") {
		return keyErr("mail.tag_prefix", "mail.tag_prefix = %q: use letters and digits only, e.g. SD", c.TagPrefix)
	}
	return nil
}

// Password resolves the configured password source.
func (c Config) Password(ctx context.Context) (string, error) {
	switch {
	case c.password != "":
		return c.password, nil
	case c.PasswordFile != "":
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("mail.password_file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case c.PasswordEnv != "":
		v, ok := os.LookupEnv(c.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("mail.password_env: the variable %s is not set", c.PasswordEnv)
		}
		return v, nil
	case c.PasswordCmd != "":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.PasswordCmd)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("mail.password_cmd %q failed: %v: %s", c.PasswordCmd, err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimRight(string(out), "\r\n"), nil
	}
	if e, err := c.imapEndpoint(); err == nil && e.pass != "" {
		return e.pass, nil
	}
	return "", fmt.Errorf("mail: no password source: set password_file, password_env or password_cmd")
}

// splitAddr splits a bare address at its last @.
func splitAddr(a string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(a, '@')
	if i <= 0 || i == len(a)-1 {
		return "", "", false
	}
	return a[:i], strings.ToLower(a[i+1:]), true
}

// ConfigError is a mistake in the [mail] table. Key is the key it is about
// ("mail.imap", or "mail" for the table as a whole) and Msg the whole
// sentence, which starts with the key.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string { return e.Msg }

func keyErr(key, format string, args ...any) error {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// WithPassword gives c a password that is in no file, variable or command
// (the demo's in-process mailbox).
func (c Config) WithPassword(p string) Config {
	c.password = p
	return c
}
