package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// IncidentReportsConfig is the [incident_reports] table.
type IncidentReportsConfig struct {
	// DueDays: a resolved P1/P2 without an approved report is overdue
	// this many days after its resolution (Borger.dk: within 14 days).
	DueDays int `toml:"due_days"`
}

const defaultReportDays = 14

// WebhookConfig is the [webhook] table.
type WebhookConfig struct {
	URL string `toml:"url"` // http(s); the JSON is store.HookPayload
}

func (c *Config) reportDays() int {
	if c == nil || c.IncidentReports.DueDays <= 0 {
		return defaultReportDays
	}
	return c.IncidentReports.DueDays
}

type incidentReportJSON struct {
	Ticket   string                `json:"ticket"`
	Subject  string                `json:"subject"`
	Priority string                `json:"priority"`
	Peak     string                `json:"peak"`
	Type     string                `json:"type"`
	Service  string                `json:"service,omitempty"`
	Status   string                `json:"status"`
	Created  time.Time             `json:"created"`
	Resolved *time.Time            `json:"resolved,omitempty"`
	Report   *store.IncidentReport `json:"report"`
	Approved bool                  `json:"approved"`
}

// cmdIncidentReport prints a ticket's incident report for the journal
// (NSP: written, reviewed, approved, then journalised).
func cmdIncidentReport(fs *flag.FlagSet) runFunc {
	format := fs.String("format", "md", "md (Markdown) or json")
	draft := fs.Bool("draft", false, "without a report yet: print the template drawn from the history")
	return func(c *call) int {
		id, err := ticketArg(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		if *format != "md" && *format != "json" {
			return c.fail(usageError{fmt.Sprintf("--format %q: use md or json", *format)})
		}
		t, err := c.st.Get(id)
		if err != nil {
			return c.fail(writeError(id, err))
		}
		r := t.Report
		if r == nil {
			if !*draft {
				return c.fail(fmt.Errorf("%s has no incident report yet: write one with I in the console or desk report-incident %s (--draft prints the template)", id, id))
			}
			h, err := c.st.History(id)
			if err != nil {
				return c.fail(err)
			}
			d := store.DraftReport(t, h, c.now.Location())
			r = &d
		}
		if *format == "json" {
			j := incidentReportJSON{Ticket: t.ID.String(), Subject: t.Subject, Priority: t.Priority.String(), Peak: t.Peak.String(),
				Type: string(t.Type), Service: t.Service, Status: string(t.Status), Created: t.Created.UTC(),
				Resolved: timePtr(t.Resolved), Report: r, Approved: !r.Approved.IsZero()}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return c.done(enc.Encode(j))
		}
		return c.done(writeReportMarkdown(c.stdout, t, r, c.now.Location()))
	}
}

func writeReportMarkdown(w io.Writer, t store.Ticket, r *store.IncidentReport, loc *time.Location) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident report %s: %s\n\n", t.ID, tui.SafeLine(t.Subject))
	fmt.Fprintf(&b, "- Priority: %s (most urgent while open: %s), %s\n", t.Priority, t.Peak, t.Type)
	if t.Service != "" {
		fmt.Fprintf(&b, "- Service: %s\n", tui.SafeLine(t.Service))
	}
	fmt.Fprintf(&b, "- Registered: %s\n", t.Created.In(loc).Format("2006-01-02 15:04 MST"))
	if !t.Resolved.IsZero() {
		fmt.Fprintf(&b, "- Resolved: %s\n", t.Resolved.In(loc).Format("2006-01-02 15:04 MST"))
	}
	switch {
	case r.Version == 0:
		b.WriteString("- Report: DRAFT drawn from the history, not saved\n")
	case r.Approved.IsZero():
		fmt.Fprintf(&b, "- Report: version %d by %s, %s; NOT APPROVED yet\n", r.Version, tui.SafeLine(r.Author), r.Written.In(loc).Format("2006-01-02 15:04"))
	default:
		fmt.Fprintf(&b, "- Report: version %d by %s, %s; approved by %s, %s\n", r.Version, tui.SafeLine(r.Author),
			r.Written.In(loc).Format("2006-01-02 15:04"), tui.SafeLine(r.Approver), r.Approved.In(loc).Format("2006-01-02 15:04"))
	}
	for _, f := range []struct{ head, text string }{
		{"Summary", r.Summary}, {"Impact", r.Impact}, {"Timeline", r.Timeline}, {"Root cause", r.RootCause}, {"Actions", r.Actions},
	} {
		text := strings.TrimSpace(tui.SafeText(f.text))
		if text == "" {
			text = "_(not written)_"
		} else if f.head == "Timeline" {
			text = "- " + strings.ReplaceAll(text, "\n", "\n- ")
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", f.head, text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cmdIncidentReports lists the P1/P2 tickets whose report is not
// approved: awaiting approval, due, or overdue some days after the
// resolution.
func cmdIncidentReports(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		return c.done(listReportsDue(c.st, c.stdout, c.cfg.reportDays(), *asJSON, c.now))
	}
}

type reportDueJSON struct {
	Ticket   string     `json:"ticket"`
	Subject  string     `json:"subject"`
	Peak     string     `json:"peak"`
	Status   string     `json:"status"`
	Resolved *time.Time `json:"resolved,omitempty"`
	Due      *time.Time `json:"due,omitempty"`
	Overdue  bool       `json:"overdue"`
	State    string     `json:"state"` // none, written, draft
}

func listReportsDue(st *store.Store, w io.Writer, days int, asJSON bool, now time.Time) error {
	var rows []reportDueJSON
	err := st.Tickets(func(t store.Ticket) bool {
		if t.Peak == 0 || t.Peak > 2 || t.Status == store.StatusClosed || (t.Report != nil && !t.Report.Approved.IsZero()) {
			return true
		}
		r := reportDueJSON{Ticket: t.ID.String(), Subject: t.Subject, Peak: t.Peak.String(), Status: string(t.Status), State: "none"}
		if t.Report != nil {
			r.State = "written"
		}
		if !t.Resolved.IsZero() && !t.Status.Active() {
			due := t.Resolved.AddDate(0, 0, days)
			r.Resolved, r.Due, r.Overdue = timePtr(t.Resolved), timePtr(due), now.After(due)
		}
		rows = append(rows, r)
		return true
	})
	if err != nil {
		return fmt.Errorf("reading the tickets: %w", err)
	}
	if asJSON {
		if rows == nil {
			rows = []reportDueJSON{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "Every P1/P2 has an approved incident report.")
		return err
	}
	loc := now.Location()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TICKET\tPEAK\tSTATUS\tREPORT\tDUE (%d days after resolution)\tSUBJECT\n", days)
	for _, r := range rows {
		due := "when resolved"
		if r.Due != nil {
			due = r.Due.In(loc).Format("2006-01-02")
			if r.Overdue {
				due += " OVERDUE " + fmt.Sprintf("%dd", int(now.Sub(*r.Due).Hours()/24))
			}
		}
		state := map[string]string{"none": "not written", "written": "awaiting approval"}[r.State]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Ticket, r.Peak, r.Status, state, due, truncate(tui.SafeLine(r.Subject), 50))
	}
	return tw.Flush()
}
