package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

func cmdReport(fs *flag.FlagSet) runFunc {
	var r reportRequest
	fs.StringVar(&r.Month, "month", "", "YYYY-MM, or \"this\" for the month so far (default: last month)")
	fs.StringVar(&r.From, "from", "", "the first day, `DATE` as YYYY-MM-DD in the desk's time zone (instead of --month)")
	fs.StringVar(&r.To, "to", "", "the last day, `DATE` as YYYY-MM-DD, included whole: the period ends at the midnight after it (default: today)")
	fs.StringVar(&r.Format, "format", "", "table, csv or json (default table)")
	asJSON := fs.Bool("json", false, "the same as --format json")
	return func(c *call) int {
		if *asJSON {
			if r.Format != "" && r.Format != "json" {
				return c.fail(usageError{fmt.Sprintf("--json and --format %s: choose one", r.Format)})
			}
			r.Format = "json"
		}
		return c.done(writeReport(c.st, c.stdout, r, c.now))
	}
}

// reportRequest is what `desk report` was asked for: a month, or a period
// of whole days from From through To, in one of the formats.
type reportRequest struct {
	Month    string
	From, To string // YYYY-MM-DD; To is included
	Format   string // table (""), csv or json
	bars     bool   // the table with bars of met against the goal first (the console)
}

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

// period is the report's [from, to) in now's zone: --from through --to as
// whole days (to is the midnight after --to), else the month.
func (r reportRequest) period(now time.Time) (time.Time, time.Time, error) {
	if r.From == "" && r.To == "" {
		return monthRange(r.Month, now)
	}
	if r.Month != "" {
		return time.Time{}, time.Time{}, usageError{"--month or --from/--to, not both"}
	}
	if r.From == "" {
		return time.Time{}, time.Time{}, usageError{"--to needs --from"}
	}
	day := func(flag, s string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", s, now.Location())
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("--%s %q: use YYYY-MM-DD, for example 2026-10-01", flag, s)}
		}
		return t, nil
	}
	from, err := day("from", r.From)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if r.To != "" {
		if last, err = day("to", r.To); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if last.Before(from) {
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("--to %s is before --from %s", last.Format("2006-01-02"), r.From)}
	}
	// The midnight after the last day (not 24h later: a day may have 23 or 25 hours).
	return from, time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, now.Location()), nil
}

// writeReport computes the compliance report for the period and writes it;
// shared by `desk report`, `ssh ... report` and the console's :report.
func writeReport(st *store.Store, w io.Writer, r reportRequest, now time.Time) error {
	switch r.Format {
	case "", "table", "csv", "json":
	default:
		return usageError{fmt.Sprintf("--format %q: use table, csv or json", r.Format)}
	}
	from, to, err := r.period(now)
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
	tickets := make([]slaengine.Reported, 0, len(ids))
	for _, id := range ids {
		h, err := st.History(id)
		if err != nil {
			return fmt.Errorf("reading the history of %s: %w", id, err)
		}
		tickets = append(tickets, slaengine.Reported{Ref: id.String(), Timeline: store.Timeline(h)})
	}
	pol := st.Policy()
	rep := slaengine.ComplianceReport(pol, tickets, from, to, now)
	switch r.Format {
	case "csv":
		return reportCSV(w, rep)
	case "json":
		return reportJSONOut(w, rep)
	}
	if r.bars {
		reportBars(w, rep)
	}
	return reportTable(w, rep, pol)
}

// ---- json

type reportJSON struct {
	From time.Time `json:"from"`
	// To is the end of the period, excluded: the midnight after its last day.
	To             time.Time            `json:"to"`
	At             time.Time            `json:"at"`
	ResponseGoal   float64              `json:"response_goal"`
	ResolutionGoal float64              `json:"resolution_goal"`
	Priorities     []reportPriorityJSON `json:"priorities"`
	Types          []reportTypeJSON     `json:"types"`
	All            reportStatsJSON      `json:"all"`
	Breaches       []reportBreachJSON   `json:"breaches"`
}

type reportPriorityJSON struct {
	Priority string `json:"priority"`
	reportStatsJSON
}

type reportTypeJSON struct {
	Type string `json:"type"` // "" for a ticket without one
	reportStatsJSON
}

// reportStatsJSON keeps the names the report had before medians (total is
// the decided clocks); times are business seconds.
type reportStatsJSON struct {
	Tickets                 int     `json:"tickets"`
	ResponseMet             int     `json:"response_met"`
	ResponseTotal           int     `json:"response_total"`
	ResponseShare           float64 `json:"response_share"`
	ResponseGoal            float64 `json:"response_goal"`
	ResponseOK              bool    `json:"response_ok"`
	ResponseTimed           int     `json:"response_timed"`
	ResponseMedianSeconds   float64 `json:"response_median_seconds"`
	ResponseP90Seconds      float64 `json:"response_p90_seconds"`
	ResolutionMet           int     `json:"resolution_met"`
	ResolutionTotal         int     `json:"resolution_total"`
	ResolutionShare         float64 `json:"resolution_share"`
	ResolutionGoal          float64 `json:"resolution_goal"`
	ResolutionOK            bool    `json:"resolution_ok"`
	ResolutionTimed         int     `json:"resolution_timed"`
	ResolutionMedianSeconds float64 `json:"resolution_median_seconds"`
	ResolutionP90Seconds    float64 `json:"resolution_p90_seconds"`
}

type reportBreachJSON struct {
	Ticket        string  `json:"ticket"`
	Priority      string  `json:"priority"` // the priority it was judged by
	Type          string  `json:"type"`
	Clock         string  `json:"clock"` // response or resolution
	TargetSeconds float64 `json:"target_seconds"`
	UsedSeconds   float64 `json:"used_seconds"`
	OverSeconds   float64 `json:"over_seconds"`
	// Stopped is null while the clock has not stopped (the ticket is open).
	Stopped *time.Time `json:"stopped"`
}

func statsJSON(s slaengine.Stats) reportStatsJSON {
	return reportStatsJSON{
		Tickets:     s.Tickets,
		ResponseMet: s.Response.Met, ResponseTotal: s.Response.Decided, ResponseShare: s.Response.Share, ResponseGoal: s.Response.Goal,
		ResponseOK: s.Response.OK, ResponseTimed: s.Response.Timed,
		ResponseMedianSeconds: s.Response.Median.Seconds(), ResponseP90Seconds: s.Response.P90.Seconds(),
		ResolutionMet: s.Resolution.Met, ResolutionTotal: s.Resolution.Decided, ResolutionShare: s.Resolution.Share, ResolutionGoal: s.Resolution.Goal,
		ResolutionOK: s.Resolution.OK, ResolutionTimed: s.Resolution.Timed,
		ResolutionMedianSeconds: s.Resolution.Median.Seconds(), ResolutionP90Seconds: s.Resolution.P90.Seconds(),
	}
}

func reportJSONOut(w io.Writer, rep slaengine.Compliance) error {
	out := reportJSON{
		From: rep.From, To: rep.To, At: rep.At, ResponseGoal: rep.Goals.Response, ResolutionGoal: rep.Goals.Resolution,
		Priorities: []reportPriorityJSON{}, Types: []reportTypeJSON{}, All: statsJSON(rep.All), Breaches: []reportBreachJSON{},
	}
	for _, r := range rep.ByPriority {
		out.Priorities = append(out.Priorities, reportPriorityJSON{Priority: store.Priority(r.Priority).String(), reportStatsJSON: statsJSON(r.Stats)})
	}
	for _, r := range rep.ByType {
		out.Types = append(out.Types, reportTypeJSON{Type: r.Type, reportStatsJSON: statsJSON(r.Stats)})
	}
	for _, b := range rep.Breaches {
		j := reportBreachJSON{Ticket: b.Ref, Priority: store.Priority(b.Priority).String(), Type: b.Type, Clock: b.Clock,
			TargetSeconds: b.Target.Seconds(), UsedSeconds: b.Used.Seconds(), OverSeconds: b.Over().Seconds()}
		if !b.Stopped.IsZero() {
			s := b.Stopped.In(rep.At.Location())
			j.Stopped = &s
		}
		out.Breaches = append(out.Breaches, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// ---- csv

// reportCSVHeader names the columns as the JSON does; group is priority,
// type or all, and times are business seconds.
var reportCSVHeader = []string{"group", "name", "tickets",
	"response_met", "response_total", "response_share", "response_goal", "response_ok", "response_timed", "response_median_seconds", "response_p90_seconds",
	"resolution_met", "resolution_total", "resolution_share", "resolution_goal", "resolution_ok", "resolution_timed", "resolution_median_seconds", "resolution_p90_seconds"}

func reportCSV(w io.Writer, rep slaengine.Compliance) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportCSVHeader); err != nil {
		return err
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	clock := func(c slaengine.ClockStats) []string {
		return []string{strconv.Itoa(c.Met), strconv.Itoa(c.Decided), num(c.Share), num(c.Goal), strconv.FormatBool(c.OK),
			strconv.Itoa(c.Timed), num(c.Median.Seconds()), num(c.P90.Seconds())}
	}
	row := func(group, name string, s slaengine.Stats) error {
		rec := append([]string{group, name, strconv.Itoa(s.Tickets)}, clock(s.Response)...)
		return cw.Write(append(rec, clock(s.Resolution)...))
	}
	for _, r := range rep.ByPriority {
		if err := row("priority", store.Priority(r.Priority).String(), r.Stats); err != nil {
			return err
		}
	}
	for _, r := range rep.ByType {
		if err := row("type", r.Type, r.Stats); err != nil {
			return err
		}
	}
	if err := row("all", "", rep.All); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// ---- table

// hours, as a day length for FormatLeftIn, writes every time in hours and
// minutes: for rows whose clocks run on calendars with different days.
const hours = time.Duration(math.MaxInt64)

// dayOf is the day length shared by the calendars of targets, for
// FormatLeftIn: 24h for a 24x7 calendar, 8h for Mon-Fri 08:30-16:30;
// hours when they differ (a "1d" would read as either).
func dayOf(targets []slaengine.Target) time.Duration {
	day := time.Duration(0)
	for _, t := range targets {
		if t.Response <= 0 && t.Resolution <= 0 {
			continue // no clock runs on it
		}
		d := 24 * time.Hour
		if t.Calendar != nil && t.Calendar.DayLength() > 0 {
			d = t.Calendar.DayLength()
		}
		if day != 0 && d != day {
			return hours
		}
		day = d
	}
	if day == 0 {
		return 24 * time.Hour
	}
	return day
}

// rowTargets are the targets a priority row (prio), a type row (ty) or all
// the tickets (neither) can be timed on.
func rowTargets(p slaengine.Policy, prio slaengine.Priority, ty *string) []slaengine.Target {
	var out []slaengine.Target
	for pr, t := range p.Targets {
		if prio != 0 && pr != prio {
			continue
		}
		if ty != nil {
			if _, over := p.ByType[*ty][pr]; over {
				continue // the loop below has it
			}
		}
		out = append(out, t)
	}
	for name, m := range p.ByType {
		for pr, t := range m {
			if (prio == 0 || pr == prio) && (ty == nil || *ty == name) {
				out = append(out, t)
			}
		}
	}
	return out
}

func reportTable(out io.Writer, rep slaengine.Compliance, pol slaengine.Policy) error {
	// Written whole at the end, without the spaces tabwriter leaves after
	// the last cell of the blank line between the sections.
	var w strings.Builder
	loc := rep.At.Location()
	fmt.Fprintf(&w, "SLA compliance for tickets registered %s to %s (both days whole, %s), as of %s\n\n",
		rep.From.Format("2006-01-02"), rep.To.AddDate(0, 0, -1).Format("2006-01-02"), loc, rep.At.Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
	head := func(first string) {
		fmt.Fprintf(tw, "%s\tTICKETS\tRESPONSE\tGOAL\tMEDIAN\tP90\tRESOLUTION\tGOAL\tMEDIAN\tP90\n", first)
	}
	clock := func(c slaengine.ClockStats, day time.Duration) string {
		met, verdict := "-", ""
		if c.Decided > 0 {
			met = fmt.Sprintf("%d/%d %s", c.Met, c.Decided, percent(c.Share))
			verdict = " MISSED"
			if c.OK {
				verdict = " ok"
			}
		}
		median, p90 := "-", "-"
		if c.Timed > 0 {
			median, p90 = slaengine.FormatLeftIn(c.Median, day), slaengine.FormatLeftIn(c.P90, day)
		}
		return met + "\t" + percent(c.Goal) + verdict + "\t" + median + "\t" + p90
	}
	row := func(name string, s slaengine.Stats, day time.Duration) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", name, s.Tickets, clock(s.Response, day), clock(s.Resolution, day))
	}
	head("PRIORITY")
	for _, r := range rep.ByPriority {
		row(store.Priority(r.Priority).String(), r.Stats, dayOf(rowTargets(pol, r.Priority, nil)))
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
	head("TYPE")
	for _, r := range rep.ByType {
		name := r.Type
		if name == "" {
			name = "(none)"
		}
		row(name, r.Stats, dayOf(rowTargets(pol, 0, &r.Type)))
	}
	row("all", rep.All, dayOf(rowTargets(pol, 0, nil)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Breaches) == 0 {
		fmt.Fprintln(&w, "\nNo breaches.")
	} else {
		fmt.Fprintf(&w, "\nBreaches (%d):\n", len(rep.Breaches))
		tw = tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TICKET\tPRIORITY\tTYPE\tCLOCK\tTARGET\tUSED\tOVER BY\tSTOPPED")
		for _, b := range rep.Breaches {
			day := dayOf([]slaengine.Target{pol.Target(b.Type, b.Priority)})
			stopped := "still open"
			if !b.Stopped.IsZero() {
				stopped = b.Stopped.In(loc).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Ref, store.Priority(b.Priority), b.Type, b.Clock,
				slaengine.FormatLeftIn(b.Target, day), slaengine.FormatLeftIn(b.Used, day), slaengine.FormatLeftIn(b.Over(), day), stopped)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprint(&w, "\nCounted: clocks that stopped, or breached while still open; clocks still within target are left out.\n"+
		"Median and P90 are business time (pauses left out) of the stopped clocks; a day is the calendar's\n"+
		"business day (24h on a 24x7 calendar), and rows mixing calendars give hours.\n")
	var trimmed strings.Builder
	for _, l := range strings.SplitAfter(w.String(), "\n") {
		body, nl := strings.CutSuffix(l, "\n")
		trimmed.WriteString(strings.TrimRight(body, " "))
		if nl {
			trimmed.WriteByte('\n')
		}
	}
	_, err := io.WriteString(out, trimmed.String())
	return err
}

// percent writes a share as a percentage, with a decimal unless it is
// whole, cut rather than rounded: 26 of 29 is "89.6%", never a "90%" that
// misses a 90% goal.
func percent(s float64) string {
	p := 100 * s
	if r := math.Round(p); math.Abs(p-r) < 1e-9 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(math.Floor(10*p)/10, 'f', 1, 64) + "%"
}

// reportText is the console's :report: the month as a table.
func reportText(st *store.Store, month string, loc *time.Location) (string, error) {
	var b strings.Builder
	err := writeReport(st, &b, reportRequest{Month: month, bars: true}, time.Now().In(loc))
	return b.String(), err
}

// reportBars draws each priority's met share against its goal, for the
// console: █ met, ░ missed, ┃ where the goal is.
func reportBars(w io.Writer, rep slaengine.Compliance) {
	const width = 20
	bar := func(c slaengine.ClockStats) string {
		if c.Decided == 0 {
			return strings.Repeat(" ", width) + "   no clock decided yet"
		}
		filled := int(c.Share*width + 0.5)
		goal := min(int(c.Goal*width+0.5), width-1)
		r := make([]rune, width)
		for i := range r {
			r[i] = '░'
			if i < filled {
				r[i] = '█'
			}
		}
		r[goal] = '┃'
		verdict := "ok"
		if !c.OK {
			verdict = "MISSED"
		}
		return fmt.Sprintf("%s %5.1f%% of %d, goal %.0f%% %s", string(r), float64(int(c.Share*1000))/10, c.Decided, c.Goal*100, verdict)
	}
	fmt.Fprintln(w, "Met against the goal (┃):")
	for _, p := range rep.ByPriority {
		fmt.Fprintf(w, "  P%d response   %s\n", p.Priority, bar(p.Response))
		fmt.Fprintf(w, "  P%d resolution %s\n", p.Priority, bar(p.Resolution))
	}
	fmt.Fprintln(w)
}
