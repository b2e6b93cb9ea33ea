// Command desk is a terminal service desk: mail becomes tickets, operators
// triage them in a full-screen console, locally or over SSH.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
)

// version is set by the Makefile (-ldflags "-X main.version=...").
var version = "dev"

// buildVersion adds what the Go toolchain recorded when the Makefile did
// not set a version (go install, go build).
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
		if v != "" && v != "(devel)" {
			return "dev " + v
		}
	}
	return version
}

// env is what every command gets: where the store and the config are.
type env struct {
	dataDir    string
	configPath string
	configSet  bool // --config or DESK_CONFIG given: the file must exist
	dataSet    bool // --data or DESK_DATA given
	now        func() time.Time
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "desk")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "desk")
	}
	return ".desk-data"
}

func defaultConfigPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "desk", "config.toml")
	}
	return ""
}

// addGlobal registers --data and --config on fs, so they work before or after
// the command name.
func (e *env) addGlobal(fs *flag.FlagSet) {
	fs.Func("data", "data directory", func(s string) error { e.dataDir, e.dataSet = s, true; return nil })
	fs.Func("config", "config file", func(s string) error { e.configPath, e.configSet = s, true; return nil })
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, os.Stdin, stdout, stderr)
}

// runWith is run with stdin given (the text of `desk note SD-1 -`).
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{dataDir: os.Getenv("DESK_DATA"), configPath: os.Getenv("DESK_CONFIG"), stdin: stdin, stdout: stdout, stderr: stderr}
	e.configSet = e.configPath != ""
	e.dataSet = e.dataDir != ""
	if e.dataDir == "" {
		e.dataDir = defaultDataDir()
	}
	if e.configPath == "" {
		e.configPath = defaultConfigPath()
	}
	top := flag.NewFlagSet("desk", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(stderr, localUsage()) }
	e.addGlobal(top)
	showVersion := top.Bool("version", false, "print the version")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := top.Args()
	name := "console"
	var cmd *command
	if len(rest) > 0 {
		name = rest[0]
		cmd, rest = findCommand(rest)
	} else {
		cmd = lookupCommand(name)
	}
	if *showVersion {
		name, cmd = "version", lookupCommand("version")
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "desk: unknown command %q\n\n", name)
		top.Usage()
		return 2
	}
	return e.runLocal(cmd, rest)
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func (e *env) loadConfig() (*Config, error) {
	return LoadConfig(e.configPath, !e.configSet)
}

// openStore opens the store with the config's policy. A store held by
// another desk gets an answer that says what to do instead.
func (e *env) openStore(cfg *Config, holder string, logger *log.Logger) (*store.Store, error) {
	policy, err := cfg.Policy()
	if err != nil {
		return nil, err
	}
	if logger != nil {
		now := time.Now()
		if e.now != nil {
			now = e.now()
		}
		for _, w := range policy.HolidayWarnings(now) {
			logger.Printf("config: %s", w)
		}
	}
	if err := os.MkdirAll(e.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	addr := ""
	if cfg.Mail != nil {
		addr = cfg.Mail.Address
	}
	// The install's mail key tags our Message-IDs. Without it (a full
	// disk, a read-only directory) reading still works; the mail intake
	// loads it again and refuses to run without it.
	var idTag func(string) string
	if key, err := mailin.LoadSelfKey(e.dataDir); err == nil {
		idTag = func(local string) string { return mailin.MessageIDTag(key, local) }
	} else if logger != nil {
		logger.Printf("mail key in %s: %v (outbound Message-IDs are not tagged)", e.dataDir, err)
	}
	st, err := store.Open(e.dataDir, store.Options{Policy: policy, Log: logger, Holder: holder, MailDomain: cfg.mailDomain(), SupportAddress: addr, Now: e.now,
		TagPrefix: cfg.tagPrefix(), Roles: cfg.storeRoles(operatorName(cfg)),
		MessageIDTag: idTag})
	if err == nil {
		st.SetDirectory(cfg.directory())
	}
	if err != nil {
		var le *store.LockedError
		if errors.As(err, &le) {
			hint := "stop it first, or give this command another --data directory"
			if strings.Contains(le.Holder, "serve") {
				host, port := "HOST", "PORT"
				if m := serveAddrRe.FindStringSubmatch(le.Holder); m != nil {
					host, port = m[1], m[2]
				}
				hint = fmt.Sprintf("the SSH server owns the store: use `ssh -p %s %s list --json` instead (`ssh -p %s %s help` lists the other commands)", port, host, port, host)
			}
			return nil, fmt.Errorf("%w\n  %s", err, hint)
		}
		return nil, fmt.Errorf("opening the store in %s: %w", e.dataDir, err)
	}
	return st, nil
}

var serveAddrRe = regexp.MustCompile(`serve on \[?([^\s\]]+?)\]?:(\d+)`)

// operatorName is who sits at the local console.
func operatorName(cfg *Config) string {
	if cfg.Operator != "" {
		return cfg.Operator
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "operator"
}

// mailDomain is the right-hand side of our Message-IDs: the store makes
// them and the intake recognises them, so both must use the same one.
func (c *Config) mailDomain() string {
	if c.MailDomain != "" {
		return c.MailDomain
	}
	if c.Mail != nil {
		if _, d, ok := strings.Cut(c.Mail.Address, "@"); ok && d != "" {
			return d
		}
	}
	return "desk.invalid"
}
