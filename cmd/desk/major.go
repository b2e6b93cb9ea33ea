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

// recentMajors is how far back desk major lists ended major incidents:
// long enough to cover the post-incident report's 14 days (Borger.dk).
const recentMajors = 30 * 24 * time.Hour

type majorJSON struct {
	Ticket     string     `json:"ticket"`
	Subject    string     `json:"subject"`
	Service    string     `json:"service,omitempty"`
	Open       bool       `json:"open"`
	Declared   time.Time  `json:"declared"`
	By         string     `json:"by"`
	Owner      string     `json:"owner,omitempty"`
	Why        string     `json:"why,omitempty"`
	Updates    int        `json:"updates"`
	LastUpdate *time.Time `json:"last_update,omitempty"`
	NextUpdate *time.Time `json:"next_update,omitempty"`
	Ended      *time.Time `json:"ended,omitempty"`
	Status     string     `json:"status"`
	Priority   string     `json:"priority"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func cmdMajor(fs *flag.FlagSet) runFunc {
	all := fs.Bool("all", false, "every major incident, however long ago it ended")
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		return c.done(listMajors(c.st, c.stdout, *all, *asJSON, c.now))
	}
}

func listMajors(st *store.Store, w io.Writer, all, asJSON bool, now time.Time) error {
	var open, ended []store.Ticket
	err := st.Majors(func(t store.Ticket) bool {
		switch {
		case t.Major.Open():
			open = append(open, t)
		case all || now.Sub(t.Major.Ended) <= recentMajors:
			ended = append(ended, t)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("reading the major incidents: %w", err)
	}
	list := append(open, ended...)
	if asJSON {
		out := make([]majorJSON, 0, len(list))
		for _, t := range list {
			m := t.Major
			out = append(out, majorJSON{Ticket: t.ID.String(), Subject: t.Subject, Service: m.Service, Open: m.Open(),
				Declared: m.Declared.UTC(), By: m.By, Owner: m.Owner, Why: m.Why, Updates: m.Updates,
				LastUpdate: timePtr(m.LastUpdate), NextUpdate: timePtr(m.NextUpdate), Ended: timePtr(m.Ended),
				Status: string(t.Status), Priority: t.Priority.String()})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No major incident open, none in the last 30 days.")
		return err
	}
	loc := now.Location()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TICKET\tSERVICE\tSTATE\tDECLARED\tUPDATES\tNEXT UPDATE\tSUBJECT")
	for _, t := range list {
		m := t.Major
		state, next := "open", "-"
		switch {
		case !m.Open():
			state = "ended " + m.Ended.In(loc).Format("01-02 15:04")
		case !m.NextUpdate.IsZero() && m.NextUpdate.Before(now):
			next = m.NextUpdate.In(loc).Format("15:04") + " OVERDUE"
		case !m.NextUpdate.IsZero():
			next = m.NextUpdate.In(loc).Format("01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", t.ID, dash(tui.SafeLine(m.Service)), state,
			m.Declared.In(loc).Format("2006-01-02 15:04")+" "+tui.SafeLine(m.By), m.Updates, next, truncate(tui.SafeLine(t.Subject), 50))
	}
	return tw.Flush()
}

func cmdMajorDeclare(fs *flag.FlagSet) runFunc {
	service := fs.String("service", "", "the service it affects (default: the ticket's)")
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		return c.whyOp(*asJSON, func(id store.TicketID, why string) error {
			t, err := c.st.DeclareMajor(id, c.who, strings.TrimSpace(*service), why)
			if err == nil {
				c.toldSubscribers(t)
			}
			return err
		})
	}
}

func cmdMajorUpdate(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the ticket as show --json does")
	return func(c *call) int {
		return c.textOp(*asJSON, "the status update", func(id store.TicketID, text string) error {
			t, err := c.st.PostUpdate(id, c.who, text)
			if err == nil {
				c.toldSubscribers(t)
			}
			return err
		})
	}
}

// toldSubscribers says on stderr whom the mail went to, or that it went
// to nobody: a service without subscribers is worth knowing about.
func (c *call) toldSubscribers(t store.Ticket) {
	for _, sv := range c.st.Services() {
		if strings.EqualFold(sv.Name, t.Major.Service) && len(sv.Subscribers) > 0 {
			fmt.Fprintf(c.stderr, "desk: %s: %d subscriber(s) of %s mailed (one mail each, through the outbox)\n", t.ID, len(sv.Subscribers), sv.Name)
			return
		}
	}
	what := "it has no service"
	if t.Major.Service != "" {
		what = t.Major.Service + " has no subscribers"
	}
	fmt.Fprintf(c.stderr, "desk: %s: nobody was mailed: %s (subscribers = [...] in its [[services]] table)\n", t.ID, what)
}
