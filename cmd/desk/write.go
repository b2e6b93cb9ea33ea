package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// The commands that change tickets (desk new, update, note, reply, resolve,
// close, reopen, link, ref, report-incident, approve, quarantine release and
// drop). Each is one or more store operations as the caller, so the store's
// lifecycle and roles hold as they do in the console; each prints the ticket
// afterwards as desk show does (--json: the show --json object). Refusals
// exit 1 with the store's sentence, usage mistakes 2.

// maxText bounds a text read from stdin (a reply, a report): a mail body,
// not a file dump.
const maxText = 1 << 20

// ticketArg is the SD-n argument.
func ticketArg(s string) (store.TicketID, error) {
	id, err := store.ParseTicketID(s)
	if err != nil {
		return 0, usageError{err.Error()}
	}
	return id, nil
}

// text is a text argument: "-" reads it from stdin (over SSH the session's).
// what names it for the message when it is empty.
func (c *call) text(s, what string) (string, error) {
	if s == "-" {
		if f, ok := c.stdin.(*os.File); ok && !c.remote {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprintf(c.stderr, "desk: reading %s from the terminal; end it with ctrl-D\n", what)
			}
		}
		if c.stdin == nil {
			return "", usageError{what + ": - reads it from stdin, and there is none"}
		}
		b, err := io.ReadAll(io.LimitReader(c.stdin, maxText+1))
		if err != nil {
			return "", fmt.Errorf("reading %s from stdin: %w", what, err)
		}
		if len(b) > maxText {
			return "", usageError{fmt.Sprintf("%s on stdin is longer than %d KiB", what, maxText>>10)}
		}
		s = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if strings.TrimSpace(s) == "" {
		return "", usageError{what + " is empty"}
	}
	return s, nil
}

// joinedText is the text after SD-n: the words joined with spaces (over SSH
// the shell splits a quoted text into words again), or stdin for "-".
func (c *call) joinedText(what string) (string, error) {
	if len(c.args) < 2 {
		return "", usageError{fmt.Sprintf("%s is missing: usage: %s", what, c.cmd.usageLine(c.remote))}
	}
	return c.text(strings.Join(c.args[1:], " "), what)
}

// wrote reports the outcome of a write on id: the ticket as desk show
// prints it, or the error with its exit status.
func (c *call) wrote(id store.TicketID, asJSON bool, err error) int {
	if err != nil {
		return c.fail(writeError(id, err))
	}
	return c.done(showTicket(c.st, c.stdout, id.String(), asJSON, c.now))
}

// writeError words a store error for the command line.
func writeError(id store.TicketID, err error) error {
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce):
		by := ce.By
		if by == "" {
			by = "someone else"
		}
		return fmt.Errorf("%s: %s set %s to %s meanwhile; %s was not changed (run the command again to override)",
			ce.Ticket, by, ce.Field, dash(ce.Now), ce.Field)
	case errors.Is(err, store.ErrNotFound) && id != 0:
		return fmt.Errorf("there is no ticket %s", id)
	}
	return err
}

// mailConfig is the [mail] table, or the defaults without one.
func (c *call) mailConfig() mailin.Config {
	if c.cfg != nil && c.cfg.Mail != nil {
		return *c.cfg.Mail
	}
	return mailin.Config{}
}

// defaultQueue is where tickets go that name none: as mail intake does.
func (c *call) defaultQueue() string {
	if q := c.mailConfig().DefaultQueue; q != "" {
		return q
	}
	return c.cfg.QueueList()[0]
}

func (c *call) checkQueue(q string) error {
	if qs := c.cfg.QueueList(); !slices.Contains(qs, q) && q != c.defaultQueue() {
		return usageError{fmt.Sprintf("--queue %q: no such queue; use one of %s", q, strings.Join(qs, ", "))}
	}
	return nil
}

func parsePriority(s string) (store.Priority, error) {
	var p store.Priority
	if err := p.UnmarshalText([]byte(s)); err != nil {
		return 0, usageError{"--" + err.Error()}
	}
	return p, nil
}

func parseType(s string) (store.Type, error) {
	if t := store.Type(strings.ToLower(s)); slices.Contains(store.Types, t) {
		return t, nil
	}
	return "", usageError{fmt.Sprintf("--type %q: use incident, request or change", s)}
}

// ---- desk new

func cmdNew(fs *flag.FlagSet) runFunc {
	subject := fs.String("subject", "", "what it is about, in a few words (required)")
	requester := fs.String("requester", "", "the requester's e-mail address (\"Name <addr>\" works too)")
	name := fs.String("name", "", "the requester's name")
	prio := fs.String("priority", "P3", "P1 (critical) to P4 (low)")
	typ := fs.String("type", "incident", "incident, request or change")
	queue := fs.String("queue", "", "the queue (default: where mail goes)")
	body := fs.String("body", "", "what the requester said (- reads it from stdin)")
	noAck := fs.Bool("no-ack", false, "do not mail the acknowledgement")
	service := fs.String("service", "", "the service it is about ([[services]]; default: the services' mail rules)")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		nt, err := c.newTicket(*subject, *requester, *name, *prio, *typ, *queue, *body)
		if err != nil {
			return c.fail(err)
		}
		nt.Service = strings.TrimSpace(*service)
		if nt.Requester.Email != "" && !*noAck {
			nt.Ack = mailin.Acknowledgement(c.mailConfig(), c.st.Policy(), &nt, c.now)
		}
		t, err := c.st.Create(c.who, nt)
		if err != nil {
			return c.fail(err)
		}
		if nt.Ack != nil && c.cfg.Mail == nil {
			fmt.Fprintf(c.stderr, "desk: the acknowledgement to %s waits in the outbox: no [mail] is configured to send it\n", nt.Requester.Email)
		}
		return c.wrote(t.ID, *asJSON, nil)
	}
}

func (c *call) newTicket(subject, requester, name, prio, typ, queue, body string) (store.NewTicket, error) {
	var nt store.NewTicket
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return nt, usageError{"--subject is missing: say in a few words what it is about"}
	}
	name, email := strings.TrimSpace(name), strings.TrimSpace(requester)
	if email != "" {
		a, err := mail.ParseAddress(email)
		if err != nil {
			return nt, usageError{fmt.Sprintf("--requester %q is not an e-mail address", email)}
		}
		email = strings.ToLower(a.Address)
		if name == "" {
			name = a.Name
		}
	}
	if name == "" && email == "" {
		return nt, usageError{"who is it for? give --requester EMAIL (or at least --name)"}
	}
	p, err := parsePriority(prio)
	if err != nil {
		return nt, err
	}
	ty, err := parseType(typ)
	if err != nil {
		return nt, err
	}
	if queue == "" {
		queue = c.defaultQueue()
	} else if err := c.checkQueue(queue); err != nil {
		return nt, err
	}
	nt = store.NewTicket{Type: ty, Priority: p, Queue: queue, Subject: subject, Requester: store.Person{Name: name, Email: email}}
	if body != "" {
		b, err := c.text(body, "--body")
		if err != nil {
			return nt, err
		}
		// As the console registers a phone call: the operator's account
		// of it, a note on the requester's behalf.
		nt.Message = &store.Message{From: nt.Requester, Subject: subject, Body: b}
	}
	return nt, nil
}

// ---- desk update

func cmdUpdate(fs *flag.FlagSet) runFunc {
	prio := fs.String("priority", "", "P1..P4")
	typ := fs.String("type", "", "incident, request or change")
	status := fs.String("status", "", "new, open, waiting, escalated, pending-release or closed")
	assignee := fs.String("assignee", "", "an operator, or - for nobody")
	queue := fs.String("queue", "", "another queue")
	team := fs.String("team", "", "escalate to this 3rd-level team")
	subject := fs.String("subject", "", "a better subject")
	category := fs.String("category", "", "the category (- for none)")
	service := fs.String("service", "", "the service it is about (- for none)")
	note := fs.String("note", "", "a note: for the team (--team), the findings (--status open on an escalated ticket), why (reopening); - reads stdin")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		u := update{c: c, id: id, set: set, prio: *prio, typ: *typ, status: *status, assignee: *assignee,
			queue: *queue, team: *team, subject: *subject, category: *category, service: *service, note: *note}
		if err := u.check(); err != nil {
			return c.fail(err)
		}
		if err := u.apply(); err != nil {
			if len(u.done) > 0 {
				fmt.Fprintf(c.stderr, "desk: %s: changed before the refusal: %s\n", id, strings.Join(u.done, ", "))
			}
			return c.fail(writeError(id, err))
		}
		return c.wrote(id, *asJSON, nil)
	}
}

// update is one desk update: the flags as given, then what they become.
type update struct {
	c   *call
	id  store.TicketID
	set map[string]bool // the flags given

	prio, typ, status, assignee, queue, team string
	subject, category, service, note         string

	fieldOrder []store.Field // SetField changes, in this order
	fieldValue map[store.Field]string
	noteUsed   bool     // an operation took --note
	done       []string // what was applied, for a refusal half-way
}

// check reads every flag before anything is written, so a mistake in one
// leaves the ticket as it was.
func (u *update) check() error {
	c := u.c
	u.fieldValue = map[store.Field]string{}
	add := func(f store.Field, v string) {
		u.fieldOrder = append(u.fieldOrder, f)
		u.fieldValue[f] = v
	}
	if u.set["type"] {
		t, err := parseType(u.typ)
		if err != nil {
			return err
		}
		add(store.FieldType, string(t))
	}
	if u.set["priority"] {
		p, err := parsePriority(u.prio)
		if err != nil {
			return err
		}
		add(store.FieldPriority, p.String())
	}
	if u.set["subject"] {
		s := strings.TrimSpace(u.subject)
		if s == "" {
			return usageError{"--subject is empty"}
		}
		add(store.FieldSubject, s)
	}
	if u.set["category"] {
		cat := strings.TrimSpace(u.category)
		if cat == "-" {
			cat = ""
		}
		add(store.FieldCategory, cat)
	}
	if u.set["service"] {
		sv := strings.TrimSpace(u.service)
		if sv == "-" {
			sv = ""
		}
		add(store.FieldService, sv) // the store knows the services, and names them when refusing
	}
	if u.set["queue"] {
		if err := c.checkQueue(u.queue); err != nil {
			return err
		}
		add(store.FieldQueue, u.queue)
	}
	if u.set["assignee"] {
		a := strings.TrimSpace(u.assignee)
		switch {
		case a == "":
			return usageError{"--assignee is empty: give an operator, or - to unassign"}
		case a == "-":
			a = ""
		default:
			if ops := c.cfg.OperatorNames(); len(ops) > 0 && !slices.Contains(ops, a) && a != c.who {
				return usageError{fmt.Sprintf("--assignee %q is not an operator here; use one of %s, or - for nobody", a, strings.Join(ops, ", "))}
			}
		}
		add(store.FieldAssignee, a)
	}
	if u.set["status"] {
		s := store.Status(strings.ToLower(strings.TrimSpace(u.status)))
		switch {
		case !s.Valid():
			return usageError{fmt.Sprintf("--status %q: use one of %s", u.status, statusNames())}
		case s == store.StatusResolved:
			return usageError{fmt.Sprintf("--status resolved needs the resolution text, which is mailed to the requester: use desk resolve %s TEXT", u.id)}
		case u.set["team"] && s != store.StatusEscalated:
			return usageError{"--team escalates the ticket: give it alone or with --status escalated, not with --status " + string(s)}
		}
		u.status = string(s)
	}
	if u.set["team"] {
		t := strings.TrimSpace(u.team)
		var names []string
		for _, tm := range c.cfg.TeamList() {
			names = append(names, tm.Name)
		}
		if !slices.Contains(names, t) {
			return usageError{fmt.Sprintf("--team %q: no such team; use one of %s", u.team, strings.Join(names, ", "))}
		}
		u.team = t
	}
	if u.set["note"] {
		n, err := c.text(u.note, "--note")
		if err != nil {
			return err
		}
		u.note = n
	}
	if len(u.set) == 0 || (len(u.set) == 1 && u.set["json"]) {
		return usageError{fmt.Sprintf("nothing to change: usage: %s", c.cmd.usageLine(c.remote))}
	}
	return nil
}

func (u *update) get() (store.Ticket, error) { return u.c.st.Get(u.id) }

// apply makes each change its own operation: a reopen first (the rest then
// applies to an open ticket), then the fields, then escalation, hand back,
// another status or closing, and the note last if nothing took it.
func (u *update) apply() error {
	st, who := u.c.st, u.c.who
	cur, err := u.get()
	if err != nil {
		return err
	}
	if u.status == string(store.StatusOpen) && !cur.Status.Active() {
		u.noteUsed = true
		if _, err := st.Reopen(u.id, who, u.note); err != nil {
			return err
		}
		u.done = append(u.done, "reopened")
		u.status = ""
	}
	for _, f := range u.fieldOrder {
		cur, err := u.get()
		if err != nil {
			return err
		}
		// The value just read is what the script saw: it never fails on a
		// change it could not have known of, but a change between this read
		// and the write is reported.
		if _, err := st.SetField(u.id, who, f, store.FieldValue(&cur, f), u.fieldValue[f]); err != nil {
			return err
		}
		u.done = append(u.done, fmt.Sprintf("%s %s", f, dash(u.fieldValue[f])))
	}
	cur, err = u.get()
	if err != nil {
		return err
	}
	switch {
	case u.team != "":
		u.noteUsed = true
		if _, err := st.Escalate(u.id, who, u.team, u.note); err != nil {
			return err
		}
		u.done = append(u.done, "escalated to "+u.team)
	case u.status == string(store.StatusOpen) && cur.Status == store.StatusEscalated:
		u.noteUsed = true
		if _, err := st.HandBack(u.id, who, u.note); err != nil {
			if strings.TrimSpace(u.note) == "" {
				return fmt.Errorf("%w (give them with --note TEXT)", err)
			}
			return err
		}
		u.done = append(u.done, "handed back to 2nd line")
	case u.status == string(store.StatusClosed):
		if _, err := st.CloseTicket(u.id, who, ""); err != nil {
			return err
		}
		u.done = append(u.done, "closed")
	case u.status != "":
		if _, err := st.SetField(u.id, who, store.FieldStatus, string(cur.Status), u.status); err != nil {
			return err
		}
		u.done = append(u.done, "status "+u.status)
	}
	if u.set["note"] && !u.noteUsed {
		if _, err := st.AddNote(u.id, who, u.note); err != nil {
			return err
		}
		u.done = append(u.done, "note")
	}
	return nil
}

// ---- note, reply, resolve, close, reopen

func cmdNote(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		return c.textOp(*asJSON, "the note", func(id store.TicketID, text string) error {
			_, err := c.st.AddNote(id, c.who, text)
			return err
		})
	}
}

func cmdReply(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		return c.textOp(*asJSON, "the reply", func(id store.TicketID, text string) error {
			_, err := c.st.Reply(id, c.who, text)
			return err
		})
	}
}

func cmdResolve(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	kb := fs.String("kb", "", "resolve with this knowledge-base article (KB-n): its text is the resolution unless one is given, and the ticket records it")
	return func(c *call) int {
		var article store.ArticleID
		if *kb != "" {
			var err error
			if article, err = store.ParseArticleID(*kb); err != nil {
				return c.fail(usageError{err.Error()})
			}
			if len(c.args) == 1 {
				a, err := c.st.Article(article)
				if err != nil {
					return c.fail(err)
				}
				c.args = append(c.args, a.Body)
			}
		}
		return c.textOp(*asJSON, "the resolution", func(id store.TicketID, text string) error {
			var linked []store.TicketID
			var err error
			if article != 0 {
				_, linked, err = c.st.ResolveWith(id, article, c.who, text)
			} else {
				_, linked, err = c.st.Resolve(id, c.who, text)
			}
			if err == nil && len(linked) > 0 {
				var ids []string
				for _, l := range linked {
					ids = append(ids, l.String())
				}
				fmt.Fprintf(c.stderr, "desk: resolved with %s the linked %s (each requester mailed the resolution)\n", id, strings.Join(ids, ", "))
			}
			return err
		})
	}
}

// textOp runs a command of the form NAME SD-n TEXT|-.
func (c *call) textOp(asJSON bool, what string, fn func(id store.TicketID, text string) error) int {
	if len(c.args) == 0 {
		return c.usage()
	}
	id, err := ticketArg(c.args[0])
	if err != nil {
		return c.fail(err)
	}
	text, err := c.joinedText(what)
	if err != nil {
		return c.fail(err)
	}
	return c.wrote(id, asJSON, fn(id, text))
}

func cmdClose(fs *flag.FlagSet) runFunc {
	resolution := fs.String("resolution", "", "resolve it with this text first (mailed to the requester); - reads stdin")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		text := ""
		if *resolution != "" {
			if text, err = c.text(*resolution, "--resolution"); err != nil {
				return c.fail(err)
			}
		}
		_, err = c.st.CloseTicket(id, c.who, text)
		return c.wrote(id, *asJSON, err)
	}
}

func cmdReopen(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		return c.whyOp(*asJSON, func(id store.TicketID, why string) error {
			_, err := c.st.Reopen(id, c.who, why)
			return err
		})
	}
}

// whyOp runs a command of the form NAME SD-n [WHY|-]: the why may be left
// out.
func (c *call) whyOp(asJSON bool, fn func(id store.TicketID, why string) error) int {
	if len(c.args) == 0 {
		return c.usage()
	}
	id, err := ticketArg(c.args[0])
	if err != nil {
		return c.fail(err)
	}
	why := ""
	if len(c.args) > 1 {
		if why, err = c.joinedText("why"); err != nil {
			return c.fail(err)
		}
	}
	return c.wrote(id, asJSON, fn(id, why))
}

// ---- link, ref

func cmdLink(fs *flag.FlagSet) runFunc {
	master := fs.String("master", "", "the master ticket SD-m (resolving it resolves this one)")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		if *master == "" {
			return c.fail(usageError{"--master SD-m is missing: the ticket to link " + id.String() + " under"})
		}
		m, err := ticketArg(*master)
		if err != nil {
			return c.fail(err)
		}
		_, err = c.st.Link(id, m, c.who)
		return c.wrote(id, *asJSON, err)
	}
}

func cmdRef(fs *flag.FlagSet) runFunc {
	add := fs.String("add", "", "the ticket's id in another tracker, SYSTEM:ID (jira:NSP-123)")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		if *add == "" {
			return c.fail(usageError{"--add SYSTEM:ID is missing, for example --add jira:NSP-123"})
		}
		if _, err := store.ParseReference(*add); err != nil {
			return c.fail(usageError{"--add: " + err.Error()})
		}
		_, err = c.st.AddReference(id, c.who, *add)
		return c.wrote(id, *asJSON, err)
	}
}

// ---- report-incident, approve

func cmdReportIncident(fs *flag.FlagSet) runFunc {
	fields := []struct{ flag, usage string }{
		{"summary", "what happened, in a sentence or two"},
		{"impact", "who and what was affected, for how long"},
		{"root-cause", "why it happened"},
		{"actions", "corrective and preventive actions"},
		{"timeline", "what happened when"},
	}
	vals := make([]*string, len(fields))
	for i, f := range fields {
		vals[i] = fs.String(f.flag, "", f.usage)
	}
	file := fs.String("file", "", "the whole report as text with the headings Summary:, Impact:, Root cause:, Actions:, Timeline: (- reads stdin)")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		anyField := false
		for _, f := range fields {
			anyField = anyField || set[f.flag]
		}
		var r store.IncidentReport
		switch {
		case set["file"] && anyField:
			return c.fail(usageError{"give the report either as --file or as --summary, --impact, ... flags, not both"})
		case set["file"]:
			text, err := c.reportFile(*file)
			if err != nil {
				return c.fail(err)
			}
			r = store.ParseReportText(text)
		case anyField:
			// A rewrite keeps what the flags do not change.
			t, err := c.st.Get(id)
			if err != nil {
				return c.fail(writeError(id, err))
			}
			if t.Report != nil {
				r = *t.Report
			}
			dst := []*string{&r.Summary, &r.Impact, &r.RootCause, &r.Actions, &r.Timeline}
			for i, f := range fields {
				if set[f.flag] {
					*dst[i] = *vals[i]
				}
			}
		default:
			return c.fail(usageError{fmt.Sprintf("no report given: usage: %s", c.cmd.usageLine(c.remote))})
		}
		_, err = c.st.ReportIncident(id, c.who, r)
		return c.wrote(id, *asJSON, err)
	}
}

// reportFile reads --file: stdin for "-", over SSH only that (a path would
// be on the server).
func (c *call) reportFile(path string) (string, error) {
	if path == "-" {
		return c.text("-", "the report")
	}
	if c.remote {
		return "", usageError{"over SSH the report comes from stdin: --file - < FILE"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the report: %w", err)
	}
	if len(b) > maxText {
		return "", usageError{fmt.Sprintf("%s is longer than %d KiB", path, maxText>>10)}
	}
	return c.text(strings.ToValidUTF8(string(b), "\uFFFD"), "the report in "+path)
}

func cmdApprove(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	version := fs.Int("version", 0, "the report version you read (desk show); refused if it was rewritten since")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		_, err = c.st.ApproveReport(id, c.who, *version)
		return c.wrote(id, *asJSON, err)
	}
}

// ---- quarantine release, drop

func quarantineArg(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n == 0 {
		return 0, usageError{fmt.Sprintf("%q is not a quarantine id: desk quarantine lists them (the ID column)", s)}
	}
	return n, nil
}

// releaseQuarantined registers quarantined mail qid as a ticket, parsed as
// the intake would have (desk quarantine release and the console's
// :release).
func releaseQuarantined(st *store.Store, cfg *Config, qid uint64, actor string) (store.Ticket, error) {
	q, err := st.QuarantinedMail(qid)
	if err != nil {
		return store.Ticket{}, err
	}
	if len(q.Raw) == 0 && !q.Released && !q.Dropped {
		return store.Ticket{}, fmt.Errorf("quarantined mail %d has no copy to make a ticket of (%s); register it by hand with desk new", qid, q.Reason)
	}
	var mc mailin.Config
	if cfg.Mail != nil {
		mc = *cfg.Mail
	}
	queue := mc.DefaultQueue
	if queue == "" {
		queue = cfg.QueueList()[0]
	}
	nt, blobs := mailin.ReleaseTicket(q.Raw, queue, mailin.ReleaseOptions{
		TagPrefix: cfg.tagPrefix(), Organisations: cfg.Organisations, MaxAttachment: mc.MaxAttachment})
	return st.ReleaseQuarantine(qid, actor, nt, blobs)
}

func cmdQuarantineRelease(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the new ticket as show --json does")
	return func(c *call) int {
		qid, err := quarantineArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		t, err := releaseQuarantined(c.st, c.cfg, qid, c.who)
		if err != nil {
			return c.fail(err)
		}
		return c.wrote(t.ID, *asJSON, nil)
	}
}

func cmdQuarantineDrop(fs *flag.FlagSet) runFunc {
	reason := fs.String("reason", "", "why it is dropped (spam, a duplicate of SD-12); - reads stdin")
	return func(c *call) int {
		qid, err := quarantineArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		if *reason == "" {
			return c.fail(usageError{"--reason is missing: say why it is dropped, e.g. --reason spam"})
		}
		why, err := c.text(*reason, "--reason")
		if err != nil {
			return c.fail(err)
		}
		why = strings.TrimSpace(why)
		if _, err := c.st.DropQuarantine(qid, c.who, why); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "quarantined mail %d dropped by %s: %s (the copy is kept)\n", qid, c.who, tui.SafeLine(why))
		return 0
	}
}
