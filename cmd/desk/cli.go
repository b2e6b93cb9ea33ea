package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// JSON shapes of `desk list --json` and `desk show --json`. Scripts rely on
// these names: change them only by adding.
type ticketJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Priority string `json:"priority"`
	Status   string `json:"status"`
	Queue    string `json:"queue"`
	Assignee string `json:"assignee"`
	Team     string `json:"team"`
	Service  string `json:"service,omitempty"`
	// Major is the ticket's major incident, open or ended.
	Major     *store.MajorIncident `json:"major,omitempty"`
	Requester store.Person         `json:"requester"`
	Subject   string               `json:"subject"`
	Master    string               `json:"master,omitempty"`
	External  []string             `json:"external,omitempty"`
	// Report is the latest incident report (approver and approved once a
	// lead has approved it).
	Report  *store.IncidentReport `json:"report,omitempty"`
	Created time.Time             `json:"created"`
	Updated time.Time             `json:"updated"`
	SLA     slaJSON               `json:"sla"`
	History []eventJSON           `json:"history,omitempty"`
}

type slaJSON struct {
	Response   clockJSON `json:"response"`
	Resolution clockJSON `json:"resolution"`
}

type clockJSON struct {
	Due         *time.Time `json:"due"`
	State       string     `json:"state"`
	LeftSeconds int64      `json:"left_seconds"`
	Target      int64      `json:"target_seconds"`
}

type eventJSON struct {
	Seq     int          `json:"seq"`
	At      time.Time    `json:"at"`
	Actor   string       `json:"actor"`
	Kind    string       `json:"kind"`
	Field   string       `json:"field,omitempty"`
	From    string       `json:"from,omitempty"`
	To      string       `json:"to,omitempty"`
	Text    string       `json:"text,omitempty"`
	Link    *linkJSON    `json:"link,omitempty"`
	Message *messageJSON `json:"message,omitempty"`
	// Report is the version of the incident report a report event wrote.
	Report *store.IncidentReport `json:"report,omitempty"`
	// Escalation is the step an escalation event fired and whom it told.
	Escalation *store.Escalation `json:"escalation,omitempty"`
}

type linkJSON struct {
	Kind string `json:"kind"`
	To   string `json:"to"`
}

type messageJSON struct {
	MessageID   string             `json:"message_id,omitempty"`
	From        store.Person       `json:"from"`
	To          []string           `json:"to,omitempty"`
	Subject     string             `json:"subject"`
	Body        string             `json:"body"`
	Attachments []store.Attachment `json:"attachments,omitempty"`
	Problems    []string           `json:"problems,omitempty"`
	Auto        bool               `json:"auto,omitempty"`
}

func clockOut(c slaengine.Clock) clockJSON {
	out := clockJSON{State: string(c.State), LeftSeconds: int64(c.Left / time.Second), Target: int64(c.Target / time.Second)}
	if !c.Due.IsZero() {
		d := c.Due.UTC()
		out.Due = &d
	}
	return out
}

func ticketOut(t store.Ticket, p slaengine.Policy, now time.Time) ticketJSON {
	c := p.ProjectFor(string(t.Type), slaengine.Priority(t.Priority), t.SLA, now)
	j := ticketJSON{
		ID: t.ID.String(), Type: string(t.Type), Priority: t.Priority.String(), Status: string(t.Status),
		Queue: t.Queue, Assignee: t.Assignee, Team: t.Team, Service: t.Service, Major: t.Major, Requester: t.Requester, Subject: t.Subject,
		External: t.External, Report: t.Report, Created: t.Created.UTC(), Updated: t.Updated.UTC(),
		SLA: slaJSON{Response: clockOut(c.Response), Resolution: clockOut(c.Resolution)},
	}
	if t.Master != 0 {
		j.Master = t.Master.String()
	}
	return j
}

func eventOut(e store.Event) eventJSON {
	j := eventJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Kind: string(e.Kind), Field: string(e.Field), From: e.From, To: e.To, Text: e.Text, Report: e.Report, Escalation: e.Escalation}
	if e.Link != nil {
		j.Link = &linkJSON{Kind: string(e.Link.Kind), To: e.Link.To.String()}
	}
	if m := e.Message; m != nil {
		j.Message = &messageJSON{MessageID: m.MessageID, From: m.From, To: m.To, Subject: m.Subject, Body: m.Body,
			Attachments: m.Attachments, Problems: m.Problems, Auto: m.Auto}
	}
	return j
}

// listTickets writes the list output; shared by `desk list` and `ssh ... list`.
func listTickets(st *store.Store, w io.Writer, status string, asJSON bool, now time.Time) error {
	if status != "" && status != "active" && !store.Status(status).Valid() {
		return usageError{fmt.Sprintf("--status %q: use one of %s, or active", status, statusNames())}
	}
	var ts []store.Ticket
	err := st.Tickets(func(t store.Ticket) bool {
		if status == "" || string(t.Status) == status || (status == "active" && t.Status.Active()) {
			ts = append(ts, t)
		}
		return true
	})
	if err != nil {
		return err
	}
	// Most urgent first: running deadlines, then the rest by id.
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i].Deadline, ts[j].Deadline
		if a.IsZero() != b.IsZero() {
			return !a.IsZero()
		}
		if !a.Equal(b) {
			return a.Before(b)
		}
		return ts[i].ID < ts[j].ID
	})
	p := st.Policy()
	if asJSON {
		out := make([]ticketJSON, 0, len(ts))
		for _, t := range ts {
			out = append(out, ticketOut(t, p, now))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tP\tTYPE\tSTATUS\tSLA\tASSIGNEE\tREQUESTER\tSUBJECT")
	for _, t := range ts {
		c, _ := p.ProjectFor(string(t.Type), slaengine.Priority(t.Priority), t.SLA, now).Next()
		sla := "-"
		if t.Status.Active() {
			sla = strings.TrimSpace(tui.FormatLeft(p, &t, c.Left)) + " " + string(c.State)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Priority, t.Type, t.Status, sla,
			dash(tui.SafeLine(t.Assignee)), tui.SafeLine(t.Requester.Name), truncate(tui.SafeLine(t.Subject), 60))
	}
	return tw.Flush()
}

func statusNames() string {
	var s []string
	for _, st := range store.Statuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// showTicket writes one ticket; shared by `desk show` and `ssh ... show`.
// Times are shown in now's zone (the desk's zone, not the server's).
func showTicket(st *store.Store, w io.Writer, idArg string, asJSON bool, now time.Time) error {
	id, err := store.ParseTicketID(idArg)
	if err != nil {
		return usageError{err.Error()}
	}
	t, err := st.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no ticket %s", id)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	h, err := st.History(id)
	if err != nil {
		return fmt.Errorf("reading the history of %s: %w", id, err)
	}
	j := ticketOut(t, st.Policy(), now)
	j.History = make([]eventJSON, 0, len(h))
	for _, e := range h {
		j.History = append(j.History, eventOut(e))
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	}
	fmt.Fprintf(w, "%s  %s\n", j.ID, tui.SafeLine(t.Subject))
	fmt.Fprintf(w, "status %s · %s · %s · queue %s · assignee %s\n", j.Status, j.Priority, j.Type, dash(j.Queue), dash(j.Assignee))
	fmt.Fprintf(w, "requester %s <%s> %s\n", tui.SafeLine(t.Requester.Name), tui.SafeLine(t.Requester.Email), tui.SafeLine(t.Requester.Organisation))
	if j.Service != "" {
		fmt.Fprintf(w, "service   %s\n", tui.SafeLine(j.Service))
	}
	if m := t.Major; m != nil && !m.Declared.IsZero() {
		state := "open"
		switch {
		case !m.Open():
			state = "ended " + m.Ended.In(now.Location()).Format("2006-01-02 15:04")
		case !m.NextUpdate.IsZero():
			state = "open, next status update due " + m.NextUpdate.In(now.Location()).Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(w, "major     %s; declared %s by %s, %d update(s) sent\n", state, m.Declared.In(now.Location()).Format("2006-01-02 15:04"), tui.SafeLine(m.By), m.Updates)
	}
	if j.Team != "" {
		fmt.Fprintf(w, "team      %s\n", tui.SafeLine(j.Team))
	}
	for _, l := range t.Links {
		fmt.Fprintf(w, "link      %s %s\n", l.Kind, l.To)
	}
	for _, x := range t.External {
		fmt.Fprintf(w, "reference %s\n", tui.SafeLine(x))
	}
	if r := t.Report; r != nil {
		state := "not approved yet"
		if !r.Approved.IsZero() {
			state = "approved by " + tui.SafeLine(r.Approver) + " " + r.Approved.In(now.Location()).Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "report    version %d by %s, %s\n", r.Version, tui.SafeLine(r.Author), state)
	}
	for _, c := range []struct {
		name string
		c    clockJSON
	}{{"response", j.SLA.Response}, {"resolution", j.SLA.Resolution}} {
		left := strings.TrimSpace(tui.FormatLeft(st.Policy(), &t, time.Duration(c.c.LeftSeconds)*time.Second))
		switch {
		case c.c.State == "met":
			fmt.Fprintf(w, "%-10s met\n", c.name)
		case c.c.Due == nil:
			fmt.Fprintf(w, "%-10s %s, %s left\n", c.name, c.c.State, left)
		default:
			fmt.Fprintf(w, "%-10s %-8s due %s, %s left\n", c.name, c.c.State, c.c.Due.In(now.Location()).Format("2006-01-02 15:04 MST"), left)
		}
	}
	fmt.Fprintln(w, "history:")
	for _, e := range h {
		line := fmt.Sprintf("  %s %-8s %-11s", e.At.In(now.Location()).Format("2006-01-02 15:04"), tui.SafeLine(e.Actor), e.Kind)
		switch {
		case e.Escalation != nil:
			line += " " + escalationLine(*e.Escalation)
		case e.Field != "" || e.Kind == store.EvStatus:
			line += strings.TrimRight(" "+string(e.Field), " ") + fmt.Sprintf(" %s → %s", dash(e.From), e.To)
		case e.Message != nil:
			line += " " + tui.SafeLine(e.Message.Subject)
		case e.Link != nil:
			line += " " + string(e.Link.Kind) + " " + e.Link.To.String()
		case e.Kind == store.EvApproved:
			line += " " + e.Text
		}
		line = strings.TrimRight(line, " ")
		fmt.Fprintln(w, line)
		body := e.Text
		switch {
		case e.Escalation != nil:
			body = "" // the line says whom it told; the mail is in the outbox
		case e.Message != nil:
			body = e.Message.Body
		case e.Report != nil:
			body = reportBody(e.Report)
		case e.Kind == store.EvApproved:
			body = ""
		}
		for _, l := range strings.Split(strings.TrimSpace(tui.SafeText(body)), "\n") {
			if l != "" {
				fmt.Fprintln(w, "      "+l)
			}
		}
	}
	return nil
}

// withStore opens the store for a short command and closes it after.
// Only writes (create) may make a new one.
func (e *env) withStore(holder string, create bool, fn func(st *store.Store, cfg *Config) error) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if !create {
		// Reading commands never create a store: a mistyped --data would
		// otherwise look like an empty desk.
		if _, err := os.Stat(e.dataDir); err != nil {
			return fmt.Errorf("no desk data in %s (%v): check --data or DESK_DATA", e.dataDir, errors.Unwrap(err))
		}
	}
	st, err := e.openStore(cfg, holder, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, cfg)
}

// quarantineJSON is one held mail in `desk quarantine --json`; scripts rely
// on these names.
type quarantineJSON struct {
	ID       uint64    `json:"id"`
	At       time.Time `json:"at"`
	From     string    `json:"from"`
	Subject  string    `json:"subject"`
	Reason   string    `json:"reason"`
	Mailbox  string    `json:"mailbox"`
	UID      uint32    `json:"uid"`
	Size     int       `json:"size"`
	Released bool      `json:"released"`
}

// listQuarantine writes the held mail, newest first (without the kept
// copies, however large). The text form is sanitised: every field came in
// a mail. JSON keeps the exact text, escaped by the encoder.
func listQuarantine(st *store.Store, w io.Writer, asJSON bool, loc *time.Location) error {
	qs, err := st.QuarantineHeaders(0)
	if err != nil {
		return fmt.Errorf("reading the quarantine: %w", err)
	}
	if asJSON {
		out := make([]quarantineJSON, 0, len(qs))
		for _, q := range qs {
			out = append(out, quarantineJSON{ID: q.ID, At: q.At.UTC(), From: q.From, Subject: q.Subject, Reason: q.Reason,
				Mailbox: q.Mailbox, UID: q.UID, Size: q.Size, Released: q.Released})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(qs) == 0 {
		_, err := fmt.Fprintln(w, "Nothing in quarantine.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATE\tFROM\tSUBJECT\tREASON")
	for _, q := range qs {
		reason := tui.SafeLine(q.Reason)
		if q.Released {
			reason += " (released)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.ID, q.At.In(loc).Format("2006-01-02 15:04"),
			dash(truncate(tui.SafeLine(q.From), 40)), dash(truncate(tui.SafeLine(q.Subject), 50)), dash(reason))
	}
	return tw.Flush()
}

// reportBody is an incident report in a history: the fields it has, each
// under its heading.
func reportBody(r *store.IncidentReport) string {
	var b strings.Builder
	for _, f := range []struct{ head, text string }{
		{"Summary", r.Summary}, {"Impact", r.Impact}, {"Root cause", r.RootCause}, {"Actions", r.Actions}, {"Timeline", r.Timeline},
	} {
		if t := strings.TrimSpace(f.text); t != "" {
			b.WriteString(f.head + ": " + t + "\n")
		}
	}
	return b.String()
}

// escalationLine is a fired step in a line: "P1 response/breached (late):
// lena by mail lena@desk.test, lena on the console".
func escalationLine(x store.Escalation) string {
	s := fmt.Sprintf("%s %s/%s", x.Priority, x.Clock, x.Step)
	if x.Late {
		s += " (late)"
	}
	var told []string
	for _, t := range x.Told {
		switch {
		case t.Via == "mail":
			told = append(told, tui.SafeLine(t.Who)+" by mail "+tui.SafeLine(t.Address))
		case t.Via == "console":
			told = append(told, tui.SafeLine(t.Who)+" on the console")
		case t.Via == "webhook" && t.Address == "":
			told = append(told, "webhook not called (no [webhook] url in the config)")
		case t.Via == "webhook":
			told = append(told, "webhook "+tui.SafeLine(t.Address))
		default:
			told = append(told, tui.SafeLine(t.Who)+" by "+t.Via)
		}
	}
	if len(told) == 0 {
		return s + ": nobody to tell (no address in the config)"
	}
	return s + ": " + strings.Join(told, ", ")
}
