package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// monthRange reads "2026-10" (empty: the previous month, what a team lead
// asks for at the start of a month), in now's zone: the desk's months.
func monthRange(s string, now time.Time) (time.Time, time.Time, error) {
	if s == "" {
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		return first.AddDate(0, -1, 0), first, nil
	}
	if s == "this" || s == "current" {
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		return first, first.AddDate(0, 1, 0), nil
	}
	t, err := time.ParseInLocation("2006-01", s, now.Location())
	if err != nil {
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("month %q: use YYYY-MM, for example 2026-10", s)}
	}
	return t, t.AddDate(0, 1, 0), nil
}

type reportJSON struct {
	From time.Time       `json:"from"`
	To   time.Time       `json:"to"`
	Rows []reportRowJSON `json:"priorities"`
}

type reportRowJSON struct {
	Priority        string  `json:"priority"`
	Tickets         int     `json:"tickets"`
	ResponseMet     int     `json:"response_met"`
	ResponseTotal   int     `json:"response_total"`
	ResponseShare   float64 `json:"response_share"`
	ResponseGoal    float64 `json:"response_goal"`
	ResponseOK      bool    `json:"response_ok"`
	ResolutionMet   int     `json:"resolution_met"`
	ResolutionTotal int     `json:"resolution_total"`
	ResolutionShare float64 `json:"resolution_share"`
	ResolutionGoal  float64 `json:"resolution_goal"`
	ResolutionOK    bool    `json:"resolution_ok"`
}

// writeReport computes the compliance report for the month and writes it;
// shared by `desk report`, `ssh ... report` and the console's :report.
func writeReport(st *store.Store, w io.Writer, month string, asJSON bool, now time.Time) error {
	from, to, err := monthRange(month, now)
	if err != nil {
		return err
	}
	var ids []store.TicketID
	err = st.Tickets(func(t store.Ticket) bool {
		if !t.Created.Before(from) && t.Created.Before(to) {
			ids = append(ids, t.ID)
		}
		return true
	})
	if err != nil {
		return err
	}
	tls := make([]slaengine.Timeline, 0, len(ids))
	for _, id := range ids {
		h, err := st.History(id)
		if err != nil {
			return fmt.Errorf("reading the history of %s: %w", id, err)
		}
		tls = append(tls, store.Timeline(h))
	}
	rows := slaengine.Report(st.Policy(), tls, from, to, now)
	if asJSON {
		out := reportJSON{From: from, To: to}
		for _, r := range rows {
			out.Rows = append(out.Rows, reportRowJSON{
				Priority: store.Priority(r.Priority).String(), Tickets: r.Tickets,
				ResponseMet: r.ResponseMet, ResponseTotal: r.ResponseTotal, ResponseShare: r.ResponseShare, ResponseGoal: r.ResponseGoal, ResponseOK: r.ResponseOK,
				ResolutionMet: r.ResolutionMet, ResolutionTotal: r.ResolutionTotal, ResolutionShare: r.ResolutionShare, ResolutionGoal: r.ResolutionGoal, ResolutionOK: r.ResolutionOK,
			})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "SLA compliance for tickets created %s to %s\n\n", from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tTICKETS\tRESPONSE MET\tGOAL\t\tRESOLUTION MET\tGOAL\t")
	verdict := func(ok bool, total int) string {
		switch {
		case total == 0:
			return "no decided tickets"
		case ok:
			return "ok"
		}
		return "MISSED"
	}
	share := func(met, total int, s float64) string {
		if total == 0 {
			return "-"
		}
		return fmt.Sprintf("%d/%d %.0f%%", met, total, 100*s)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f%%\t%s\t%s\t%.0f%%\t%s\n", store.Priority(r.Priority), r.Tickets,
			share(r.ResponseMet, r.ResponseTotal, r.ResponseShare), 100*r.ResponseGoal, verdict(r.ResponseOK, r.ResponseTotal),
			share(r.ResolutionMet, r.ResolutionTotal, r.ResolutionShare), 100*r.ResolutionGoal, verdict(r.ResolutionOK, r.ResolutionTotal))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCounted: tickets whose clock stopped, or breached while still open; clocks still within target are left out.")
	return nil
}

// reportText is the console's :report.
func reportText(st *store.Store, month string, loc *time.Location) (string, error) {
	var b strings.Builder
	err := writeReport(st, &b, month, false, time.Now().In(loc))
	return b.String(), err
}
