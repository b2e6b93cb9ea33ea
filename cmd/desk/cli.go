package main

import (
	"encoding/json"
	"errors"
	"flag"
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
	ID        string       `json:"id"`
	Type      string       `json:"type"`
	Priority  string       `json:"priority"`
	Status    string       `json:"status"`
	Queue     string       `json:"queue"`
	Assignee  string       `json:"assignee"`
	Team      string       `json:"team"`
	Requester store.Person `json:"requester"`
	Subject   string       `json:"subject"`
	Master    string       `json:"master,omitempty"`
	External  []string     `json:"external,omitempty"`
	Created   time.Time    `json:"created"`
	Updated   time.Time    `json:"updated"`
	SLA       slaJSON      `json:"sla"`
	History   []eventJSON  `json:"history,omitempty"`
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
		Queue: t.Queue, Assignee: t.Assignee, Team: t.Team, Requester: t.Requester, Subject: t.Subject,
		External: t.External, Created: t.Created.UTC(), Updated: t.Updated.UTC(),
		SLA: slaJSON{Response: clockOut(c.Response), Resolution: clockOut(c.Resolution)},
	}
	if t.Master != 0 {
		j.Master = t.Master.String()
	}
	return j
}

func eventOut(e store.Event) eventJSON {
	j := eventJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Kind: string(e.Kind), Field: e.Field, From: e.From, To: e.To, Text: e.Text}
	if e.Link != nil {
		j.Link = &linkJSON{Kind: e.Link.Kind, To: e.Link.To.String()}
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
	for _, l := range t.Links {
		fmt.Fprintf(w, "link      %s %s\n", l.Kind, l.To)
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
		case e.Field != "" || e.Kind == store.EvStatus:
			line += fmt.Sprintf(" %s %s → %s", e.Field, dash(e.From), e.To)
		case e.Message != nil:
			line += " " + tui.SafeLine(e.Message.Subject)
		case e.Link != nil:
			line += " " + e.Link.Kind + " " + e.Link.To.String()
		}
		fmt.Fprintln(w, line)
		body := e.Text
		if e.Message != nil {
			body = e.Message.Body
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
func (e *env) withStore(holder string, fn func(st *store.Store) error) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	e.zone = cfg.displayZone()
	if holder != "desk restore" {
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
	return fn(st)
}

func (e *env) list(args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	status := fs.String("status", "", "only tickets with this status (or \"active\")")
	asJSON := fs.Bool("json", false, "one JSON array")
	if _, err := e.parse("list", fs, args); err != nil {
		return err
	}
	return e.withStore("desk list", func(st *store.Store) error {
		return listTickets(st, e.stdout, *status, *asJSON, time.Now().In(e.zone))
	})
}

func (e *env) show(args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "JSON with the history")
	pos, err := e.parse("show", fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: desk show SD-n [--json]"}
	}
	return e.withStore("desk show", func(st *store.Store) error {
		return showTicket(st, e.stdout, pos[0], *asJSON, time.Now().In(e.zone))
	})
}

func (e *env) backup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	pos, err := e.parse("backup", fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: desk backup FILE"}
	}
	return e.withStore("desk backup", func(st *store.Store) error {
		tmp := pos[0] + ".partial"
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
		if err := os.Rename(tmp, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "backup written to %s\n", pos[0])
		return nil
	})
}

func (e *env) restore(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	pos, err := e.parse("restore", fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: desk restore FILE (into an empty --data directory)"}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("opening the backup: %w", err)
	}
	defer f.Close()
	return e.withStore("desk restore", func(st *store.Store) error {
		got, err := st.RestoreFrom(f)
		if err != nil {
			return fmt.Errorf("restoring %s into %s: %w", pos[0], e.dataDir, err)
		}
		if got.Verified {
			fmt.Fprintf(e.stderr, "restored %s into %s: %d tickets, %d records, every checksum verified (backup made %s)\n",
				pos[0], e.dataDir, got.Tickets, got.Records, got.Made.In(e.zone).Format("2006-01-02 15:04"))
		} else {
			fmt.Fprintf(e.stderr, "restored %s into %s: %d tickets. This backup is in the old format, without checksums: "+
				"damage in it could not be detected. Check the tickets, and make a new backup now with `desk backup FILE`\n",
				pos[0], e.dataDir, got.Tickets)
		}
		if got.Kept != "" {
			fmt.Fprintf(e.stderr, "what %s held before (quarantined mail, checkpoints) is kept in %s\n", e.dataDir, got.Kept)
		}
		return nil
	})
}
