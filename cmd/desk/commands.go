package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// command is one subcommand. One table serves both `desk NAME ...` on the
// machine that holds the data and `ssh HOST NAME ...` against desk serve:
// the same flags, the same output, the same exit codes.
//
// Adding a command is one entry in commands (below) and one function like
// cmdList: it registers the flags on fs and returns the run function that
// reads them.
type command struct {
	name    string
	args    string // the synopsis after the name: "[--status S] [--json]"
	sshArgs string // the synopsis over SSH, when it differs from args
	// nargs is how many positional arguments it takes, checked before the
	// store is opened; -1 leaves the count to the run function.
	nargs int
	// sshNargs is nargs over SSH, for a command with sshArgs.
	sshNargs int
	summary  string
	// role is the least role that may run the command over SSH (viewer,
	// operator or lead); "" keeps it local: commands that run the desk
	// itself, or that need the data directory (restore).
	role tui.Role
	// writes: the command changes tickets; locally it may make a new
	// store (a first ticket by hand), and steps its change made due fire
	// before it exits.
	writes bool
	// noStore: the command is not given the store (c.st is nil); locally it
	// then needs no data directory and reads no config unless it does so
	// itself.
	noStore bool
	// flags registers the command's flags and returns its run function.
	flags func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command once its flags are parsed: 0 done, 1 refused or
// failed (the reason on stderr), 2 a usage mistake.
type runFunc func(c *call) int

// call is one run of a command: who runs it, where, on what.
type call struct {
	ctx    context.Context // ends when the SSH session does
	cmd    *command
	st     *store.Store // nil for noStore commands
	cfg    *Config      // the config in force; nil for noStore commands run locally
	who    string       // the caller: the local operator, or the owner of the SSH key
	role   tui.Role     // the caller's role (enforced over SSH before run)
	remote bool         // over SSH
	stdin  io.Reader    // the local stdin, or the SSH session's
	stdout io.Writer
	stderr io.Writer
	args   []string  // positional arguments (flags removed)
	now    time.Time // in the desk's zone
	env    *env      // local runs only: the data directory and config path
	// search is the index of the process holding the store (desk serve);
	// nil: a local command opens the index itself.
	search func(q string, limit int) (search.Result, error)
}

// commands is the table; its order is the order of `desk help`.
var commands []command

func init() {
	commands = []command{
		{name: "console", args: "", summary: "the console (also: desk with no command)", noStore: true, flags: cmdConsole},
		{name: "demo", args: "[--every 4s] [--no-mail]", summary: "the console on a demo mailbox (temporary data unless --data)", noStore: true, flags: cmdDemo},
		{name: "serve", args: "[--listen ADDR]", summary: "the console for many operators over SSH", noStore: true, flags: cmdServe},
		{name: "mail", args: "[--once]", summary: "mail intake without a console (--once: one pass, for cron)", noStore: true, flags: cmdMail},
		{name: "list", args: "[--status S] [--json]", summary: "tickets, most urgent first", role: tui.RoleViewer, flags: cmdList},
		{name: "show", args: "SD-n [--json]", nargs: 1, summary: "one ticket with its history", role: tui.RoleViewer, flags: cmdShow},
		{name: "kb", args: "[--all] [--json]", summary: "the knowledge base: solutions, workarounds, known errors", role: tui.RoleViewer, flags: cmdKBList},
		{name: "kb list", args: "[--all] [--json]", summary: "the same as kb", role: tui.RoleViewer, flags: cmdKBList},
		{name: "kb show", args: "KB-n [--json]", nargs: 1, summary: "one article with its history", role: tui.RoleViewer, flags: cmdKBShow},
		{name: "kb new", args: "--title T --body TEXT|- [--kind solution|workaround|known-error] [--service S] [--tags A,B] [--tickets SD-1,SD-2]", summary: "write an article", role: tui.RoleOperator, writes: true, flags: cmdKBNew},
		{name: "kb edit", args: "KB-n [--title T] [--body TEXT|-] [--kind K] [--service S] [--tags A,B] [--tickets ...] [--version N]", nargs: 1, summary: "change an article (a new version)", role: tui.RoleOperator, writes: true, flags: cmdKBEdit},
		{name: "kb retire", args: "KB-n WHY|-", nargs: -1, summary: "take an article out of use (kept, with its history)", role: tui.RoleOperator, writes: true, flags: cmdKBRetire},
		{name: "attachment", args: "SD-n [NAME|N] [--json]", nargs: -1, summary: "list a ticket's attachments, or write one to stdout (> FILE)", role: tui.RoleViewer, flags: cmdAttachment},
		{name: "search", args: "QUERY... [--limit N] [--json]", nargs: -1, summary: "full-text search: words, \"phrases\", -word, from:DOMAIN status: prio: service: ref: ...", role: tui.RoleViewer, flags: cmdSearch},
		// Writes: operators and leads; the store holds every one of them to
		// the lifecycle and to the caller's role as well.
		{name: "new", args: "--subject S --requester EMAIL [--name N] [--priority P1..P4] [--type incident|request|change] [--queue Q] [--service S] [--body TEXT|-] [--no-ack]", summary: "register a ticket by hand (a phone call); an address gets the acknowledgement", role: tui.RoleOperator, writes: true, flags: cmdNew},
		{name: "update", args: "SD-n [--priority P] [--type T] [--status S] [--assignee NAME|-] [--queue Q] [--team T] [--service S|-] [--note TEXT|-]", nargs: 1, summary: "change fields, status, or escalate (--team)", role: tui.RoleOperator, writes: true, flags: cmdUpdate},
		{name: "note", args: "SD-n TEXT|-", nargs: -1, summary: "an internal note (never mailed)", role: tui.RoleOperator, writes: true, flags: cmdNote},
		{name: "reply", args: "SD-n TEXT|-", nargs: -1, summary: "mail the requester", role: tui.RoleOperator, writes: true, flags: cmdReply},
		{name: "resolve", args: "SD-n TEXT|- [--kb KB-n]", nargs: -1, summary: "resolve; the text is mailed to the requester (and to those of linked tickets)", role: tui.RoleOperator, writes: true, flags: cmdResolve},
		{name: "close", args: "SD-n [--resolution TEXT|-]", nargs: 1, summary: "close a resolved ticket (or resolve and close)", role: tui.RoleOperator, writes: true, flags: cmdClose},
		{name: "reopen", args: "SD-n [WHY|-]", nargs: -1, summary: "open a resolved or closed ticket again", role: tui.RoleOperator, writes: true, flags: cmdReopen},
		{name: "link", args: "SD-n --master SD-m", nargs: 1, summary: "link under a master ticket (the same problem)", role: tui.RoleOperator, writes: true, flags: cmdLink},
		{name: "ref", args: "SD-n --add SYSTEM:ID", nargs: 1, summary: "record the ticket's id in another tracker", role: tui.RoleOperator, writes: true, flags: cmdRef},
		{name: "report-incident", args: "SD-n [--summary S --impact I --root-cause R --actions A --timeline T | --file F|-]", nargs: 1,
			sshArgs: "SD-n [--summary S --impact I --root-cause R --actions A --timeline T | --file -]", sshNargs: 1,
			summary: "write the incident report a P1/P2 needs to close", role: tui.RoleOperator, writes: true, flags: cmdReportIncident},
		{name: "incident-report", args: "SD-n [--format md|json] [--draft]", nargs: 1, summary: "print the incident report, for the journal", role: tui.RoleViewer, flags: cmdIncidentReport},
		{name: "incident-reports", args: "[--json]", summary: "P1/P2 tickets whose report is not approved, and which are overdue", role: tui.RoleViewer, flags: cmdIncidentReports},
		{name: "approve", args: "SD-n", nargs: 1, summary: "approve the incident report", role: tui.RoleLead, writes: true, flags: cmdApprove},
		{name: "major", args: "[--all] [--json]", summary: "major incidents: open ones and those of the last 30 days (--all: every one)", role: tui.RoleViewer, flags: cmdMajor},
		{name: "major declare", args: "SD-n [--service S] [WHY|-]", nargs: -1, summary: "declare a major incident: its service's subscribers are told", role: tui.RoleOperator, writes: true, flags: cmdMajorDeclare},
		{name: "major update", args: "SD-n TEXT|-", nargs: -1, summary: "a status update, mailed to the service's subscribers", role: tui.RoleOperator, writes: true, flags: cmdMajorUpdate},
		{name: "monitor", args: "[--json]", summary: "the probes: each one's state, last result, latency and 30-day uptime", role: tui.RoleViewer, flags: cmdMonitor},
		{name: "window", args: "[--json]", summary: "planned service windows (the same as window list)", role: tui.RoleViewer, flags: cmdWindowList},
		{name: "window list", args: "[--json]", summary: "planned service windows, upcoming and on now", role: tui.RoleViewer, flags: cmdWindowList},
		{name: "window plan", nargs: -1, args: "--service S --start TIME --duration 2h --description TEXT|- [--override] [--json]", summary: "plan a service window; its subscribers are told (rules: [windows])", role: tui.RoleOperator, writes: true, flags: cmdWindowPlan},
		{name: "window cancel", args: "ID [WHY|-]", nargs: -1, summary: "call a window off; its subscribers are told", role: tui.RoleOperator, writes: true, flags: cmdWindowCancel},
		{name: "subscribers", args: "[--json]", summary: "who hears of incidents and windows, and who is awaiting confirmation", role: tui.RoleLead, flags: cmdSubscribers},
		{name: "subscribe", args: "EMAIL [--services A,B]", nargs: 1, summary: "send EMAIL a link to confirm a subscription (as the status page does)", role: tui.RoleOperator, writes: true, flags: cmdSubscribe},
		{name: "handover", args: "[--since 8h|TIME] [--json]", summary: "the shift handover: registered, escalated, breached, resolved, major incidents, hot now", role: tui.RoleViewer, flags: cmdHandover},
		{name: "oncall", args: "[--at TIME] [--json]", summary: "who is on call now (or at TIME) and who is next", role: tui.RoleViewer, noStore: true, flags: cmdOncall},
		{name: "report", args: "[--from DATE --to DATE | --month YYYY-MM] [--format table|csv|json]", summary: "SLA compliance per priority and type, with the breaches (--to is included whole)", role: tui.RoleLead, flags: cmdReport},
		// Operators and leads: held mail is what they must not lose
		// sight of, and it carries the addresses of senders outside the
		// desk's organisations, which a read-only viewer has no need for.
		// What becomes of it is a lead's decision (the store holds them to
		// that too).
		{name: "quarantine", args: "[--json]", summary: "mail held back instead of registered, with the reason", role: tui.RoleOperator, flags: cmdQuarantine},
		{name: "quarantine release", args: "ID", nargs: 1, summary: "register held mail as a new ticket", role: tui.RoleLead, writes: true, flags: cmdQuarantineRelease},
		{name: "quarantine drop", args: "ID --reason TEXT|-", nargs: 1, summary: "set held mail aside for good, with the reason (the copy is kept)", role: tui.RoleLead, writes: true, flags: cmdQuarantineDrop},
		{name: "backup", args: "FILE", nargs: 1, sshArgs: "> FILE", sshNargs: 0, summary: "the whole store, for desk restore", role: tui.RoleLead, flags: cmdBackup},
		{name: "reindex", summary: "build the search index anew from the store", flags: cmdReindex},
		{name: "restore", args: "FILE", nargs: 1, summary: "load a backup into an empty data directory", noStore: true, flags: cmdRestore},
		{name: "version", summary: "the version of desk", role: tui.RoleViewer, noStore: true, flags: cmdVersion},
		{name: "help", nargs: -1, summary: "this list", role: tui.RoleViewer, noStore: true, flags: cmdHelp},
	}
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// findCommand is the command args name and the arguments after its name: a
// two-word name ("quarantine release") before a one-word one.
func findCommand(args []string) (*command, []string) {
	if len(args) == 0 {
		return nil, nil
	}
	if len(args) > 1 {
		if cmd := lookupCommand(args[0] + " " + args[1]); cmd != nil {
			return cmd, args[2:]
		}
	}
	return lookupCommand(args[0]), args[1:]
}

// synopsis is "NAME ARGS" as the caller types it.
func (cmd *command) synopsis(remote bool) string {
	a := cmd.args
	if remote && cmd.sshArgs != "" {
		a = cmd.sshArgs
	}
	return strings.TrimSpace(cmd.name + " " + a)
}

// roleRank orders roles: each may do what the ones below it may.
func roleRank(r tui.Role) int {
	switch r {
	case tui.RoleViewer:
		return 1
	case tui.RoleOperator:
		return 2
	case tui.RoleLead:
		return 3
	}
	return 0
}

// allows reports whether role may run the command over SSH.
func (cmd *command) allows(role tui.Role) bool {
	return cmd.role != "" && roleRank(role) >= roleRank(cmd.role)
}

// whoMay names who may run it, for refusals and help.
func (cmd *command) whoMay() string {
	switch cmd.role {
	case tui.RoleLead:
		return "leads"
	case tui.RoleOperator:
		return "operators and leads"
	}
	return "everyone"
}

// newFlagSet builds the command's flags; the usage it prints is the
// table's synopsis.
func (cmd *command) newFlagSet(stderr io.Writer, remote bool) (*flag.FlagSet, runFunc) {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := cmd.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n", cmd.usageLine(remote))
		fs.PrintDefaults()
	}
	return fs, run
}

// argsOK checks the number of positional arguments.
func (cmd *command) argsOK(remote bool, n int) bool {
	want := cmd.nargs
	if remote && cmd.sshArgs != "" {
		want = cmd.sshNargs
	}
	return want < 0 || n == want
}

func (cmd *command) usageLine(remote bool) string {
	if remote {
		return "ssh -p PORT HOST " + cmd.synopsis(true)
	}
	return "desk " + cmd.synopsis(false)
}

// runLocal runs cmd on this machine as the local operator.
func (e *env) runLocal(cmd *command, args []string) int {
	fs, run := cmd.newFlagSet(e.stderr, false)
	e.addGlobal(fs)
	pos, err := parseAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has said what is wrong, and the usage
	}
	c := &call{ctx: context.Background(), cmd: cmd, env: e, stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, args: pos, now: time.Now()}
	if !cmd.argsOK(false, len(pos)) {
		return c.usage()
	}
	if cmd.noStore {
		return run(c)
	}
	code := 0
	err = e.withStore("desk "+cmd.name, cmd.writes, func(st *store.Store, cfg *Config) error {
		c.st, c.cfg = st, cfg
		c.who, c.role = localOperator(cfg)
		c.now = time.Now().In(cfg.displayZone())
		code = run(c)
		if code == 0 && cmd.writes {
			// Nothing else may hold the store now: a step this write made
			// due (a new P1 tells whoever is on call) is recorded at once,
			// its mail sent by the next process that sends the outbox.
			if _, err := st.FireEscalations(st.Now()); err != nil {
				fmt.Fprintln(e.stderr, "desk: escalation:", err)
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(e.stderr, "desk:", err)
		return 1
	}
	return code
}

// command runs a command for an operator logged in over SSH; the table's
// role is enforced here, before flags are read.
func (s *server) command(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, who authEntry, args []string) int {
	name := args[0]
	cmd, rest := findCommand(args)
	if cmd == nil || cmd.role == "" {
		fmt.Fprintf(stderr, "desk: unknown command %q: use %s (help lists them)\n", tui.SafeLine(name), sshCommandNames())
		return 2
	}
	if !cmd.allows(who.role) {
		fmt.Fprintf(stderr, "desk: %s is for %s; %s is %s\n", cmd.name, cmd.whoMay(), who.name, who.role)
		return 1
	}
	fs, run := cmd.newFlagSet(stderr, true)
	pos, err := parseAnywhere(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := s.cfg.Load()
	c := &call{ctx: ctx, cmd: cmd, cfg: cfg, who: who.name, role: who.role, remote: true,
		stdin: stdin, stdout: stdout, stderr: stderr, args: pos, now: time.Now().In(cfg.displayZone())}
	if !cmd.argsOK(true, len(pos)) {
		return c.usage()
	}
	if !cmd.noStore {
		c.st = s.st
		c.search = s.index.search
	}
	return run(c)
}

func sshCommandNames() string {
	var names []string
	for _, cmd := range commands {
		if cmd.role != "" && cmd.name != "help" {
			names = append(names, cmd.name)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// localOperator is who sits at this machine: the config's operator (else
// $USER) with the role [[operators]] gives them, operator when it names
// none (as over SSH). Someone not listed there owns the data directory and
// is a lead.
func localOperator(cfg *Config) (string, tui.Role) {
	me := operatorName(cfg)
	for _, o := range cfg.Operators {
		if o.Name == me {
			if o.Role == "" {
				return me, tui.RoleOperator
			}
			return me, tui.Role(o.Role)
		}
	}
	return me, tui.RoleLead
}

// fail reports err and gives the exit status for it: 2 for a usage
// mistake, else 1.
func (c *call) fail(err error) int {
	fmt.Fprintln(c.stderr, "desk:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// done is the exit status for what a run function returns.
func (c *call) done(err error) int {
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// usage says how the command is called and gives exit status 2.
func (c *call) usage() int {
	fmt.Fprintf(c.stderr, "desk: usage: %s\n", c.cmd.usageLine(c.remote))
	return 2
}

// parseAnywhere parses flags before and after positional arguments
// (`show SD-1 --json`), for the local subcommands and the SSH ones alike.
// After "--" everything is positional (`note SD-1 -- -5 degrees in the
// server room`).
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// ---- the commands

func cmdList(fs *flag.FlagSet) runFunc {
	status := fs.String("status", "", "only tickets with this status (or \"active\")")
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		return c.done(listTickets(c.st, c.stdout, *status, *asJSON, c.now))
	}
}

func cmdShow(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "JSON with the history")
	return func(c *call) int {
		return c.done(showTicket(c.st, c.stdout, c.args[0], *asJSON, c.now))
	}
}

func cmdQuarantine(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		return c.done(listQuarantine(c.st, c.stdout, *asJSON, c.now.Location()))
	}
}

// cmdBackup writes the whole store: locally to FILE, over SSH to stdout
// (a 24x7 desk is backed up while it runs; desk restore reads either).
func cmdBackup(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		if c.remote {
			// Over SSH to stdout (a FILE would be on the server).
			if err := c.st.Backup(c.stdout); err != nil {
				return c.fail(fmt.Errorf("writing the backup: %w", err))
			}
			return 0
		}
		return c.done(backupToFile(c.st, c.args[0], c.stderr))
	}
}

func backupToFile(st *store.Store, path string, stderr io.Writer) error {
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating the backup file: %w", err)
	}
	if err := st.Backup(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Renamed only when complete, so FILE is never a half backup.
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backup written to %s\n", path)
	return nil
}

// cmdRestore opens the backup before the store, so a mistyped FILE leaves
// no new data directory behind.
func cmdRestore(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		e, file := c.env, c.args[0]
		f, err := os.Open(file)
		if err != nil {
			return c.fail(fmt.Errorf("opening the backup: %w", err))
		}
		defer f.Close()
		return c.done(e.withStore("desk restore", true, func(st *store.Store, _ *Config) error {
			got, err := st.RestoreFrom(f)
			if err != nil {
				return fmt.Errorf("restoring %s into %s: %w", file, e.dataDir, err)
			}
			if got.Verified {
				fmt.Fprintf(c.stderr, "restored %s into %s: %d tickets, %d records, every checksum verified (backup made %s)\n",
					file, e.dataDir, got.Tickets, got.Records, got.Made.In(c.now.Location()).Format("2006-01-02 15:04"))
			} else {
				fmt.Fprintf(c.stderr, "restored %s into %s: %d tickets. This backup is in the old format, without checksums: "+
					"damage in it could not be detected. Check the tickets, and make a new backup now with `desk backup FILE`\n",
					file, e.dataDir, got.Tickets)
			}
			if got.Kept != "" {
				fmt.Fprintf(c.stderr, "what %s held before (quarantined mail, checkpoints) is kept in %s\n", e.dataDir, got.Kept)
			}
			return nil
		}))
	}
}

func cmdVersion(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		fmt.Fprintln(c.stdout, "desk", buildVersion())
		return 0
	}
}

func cmdHelp(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		if c.remote {
			fmt.Fprint(c.stdout, sshHelp())
		} else {
			fmt.Fprint(c.stdout, localUsage())
		}
		return 0
	}
}

func cmdConsole(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		return c.done(c.env.console())
	}
}

func cmdDemo(fs *flag.FlagSet) runFunc {
	every := fs.Duration("every", 4*time.Second, "time between demo events")
	noMail := fs.Bool("no-mail", false, "no demo mailbox: the generator registers tickets directly")
	return func(c *call) int {
		return c.done(c.env.demo(*every, *noMail))
	}
}

func cmdServe(fs *flag.FlagSet) runFunc {
	listen := fs.String("listen", "", "address to listen on (default [serve] listen, else "+defaultListen+")")
	return func(c *call) int {
		return c.done(c.env.serve(*listen))
	}
}

func cmdMail(fs *flag.FlagSet) runFunc {
	once := fs.Bool("once", false, "register everything waiting, flush the outbox, exit")
	return func(c *call) int {
		return c.done(c.env.mail(*once))
	}
}

// localUsage is `desk help`: every command of the table.
func localUsage() string {
	var b strings.Builder
	b.WriteString("desk — a terminal service desk\n\nUsage:\n")
	for _, cmd := range commands {
		if cmd.name == "help" {
			continue
		}
		helpLine(&b, "desk "+cmd.synopsis(false), cmd.summary, 44)
	}
	fmt.Fprintf(&b, `
The commands that change a ticket print it afterwards as show does (--json:
as show --json); TEXT|- reads the text from stdin. Exit status: 0 done,
1 refused (the reason on stderr), 2 a usage mistake.

Flags for every command:
  --data DIR      data directory (env DESK_DATA; default %s)
  --config FILE   config file (env DESK_CONFIG; default %s, optional)

Over SSH (desk serve), the same commands: ssh -p PORT HOST help.
The config file format is documented in desk.example.toml.
`, defaultDataDir(), defaultConfigPath())
	return b.String()
}

// sshHelp is `ssh HOST help`: the commands desk serve runs, and who may.
func sshHelp() string {
	var b strings.Builder
	b.WriteString("desk serve commands (ssh -p PORT HOST COMMAND):\n")
	for _, cmd := range commands {
		if cmd.role == "" || cmd.name == "help" {
			continue
		}
		who := ""
		if cmd.role != tui.RoleViewer {
			who = " (" + cmd.whoMay() + ")"
		}
		helpLine(&b, cmd.synopsis(true), cmd.summary+who, 36)
	}
	b.WriteString("Commands that change a ticket print it as show does (--json too); TEXT|- reads\n" +
		"the text from stdin. Exit status: 0 done, 1 refused, 2 a usage mistake.\n")
	b.WriteString("Without a command (and with a terminal): the console.\n")
	return b.String()
}

// helpLine is one command in help: the synopsis padded to width, then the
// summary; a longer synopsis has the summary on the next line.
func helpLine(b *strings.Builder, syn, summary string, width int) {
	if len(syn) <= width {
		fmt.Fprintf(b, "  %-*s %s\n", width, syn, summary)
		return
	}
	fmt.Fprintf(b, "  %s\n  %-*s %s\n", syn, width, "", summary)
}
