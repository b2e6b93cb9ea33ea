package store

import (
	"fmt"
	"strings"
	"time"
)

// The incident report's text form, for editors (the console's compose pane,
// $EDITOR in a script): one heading per field, the text under it.

var reportHeadings = []string{"Summary", "Impact", "Root cause", "Actions", "Timeline"}

func reportFields(r *IncidentReport) []*string {
	return []*string{&r.Summary, &r.Impact, &r.RootCause, &r.Actions, &r.Timeline}
}

// ReportText is r as text with its headings (empty fields too, so an
// editor shows what to fill in).
func ReportText(r IncidentReport) string {
	var b strings.Builder
	for i, f := range reportFields(&r) {
		b.WriteString(reportHeadings[i] + ":\n")
		if v := strings.TrimSpace(*f); v != "" {
			b.WriteString(v + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ParseReportText reads the text form back. A heading is a line that is
// one of the headings followed by a colon (any case); text before the
// first heading is the summary.
func ParseReportText(s string) IncidentReport {
	var r IncidentReport
	fields := reportFields(&r)
	cur := 0
	var parts [5][]string
	for _, line := range strings.Split(s, "\n") {
		head, rest, ok := strings.Cut(line, ":")
		if ok {
			found := -1
			for i, h := range reportHeadings {
				if strings.EqualFold(strings.TrimSpace(head), h) {
					found = i
				}
			}
			if found >= 0 {
				cur = found
				if v := strings.TrimSpace(rest); v != "" {
					parts[cur] = append(parts[cur], v)
				}
				continue
			}
		}
		parts[cur] = append(parts[cur], line)
	}
	for i, f := range fields {
		*f = strings.TrimSpace(strings.Join(parts[i], "\n"))
	}
	return r
}

// DraftReport is the template an incident report starts from: the
// summary is the subject, the impact names the service and the
// requester's organisation, and the timeline is drawn from the history
// (what the seeds' reports list: registration, priority and status
// changes, escalations, status updates, the first response and the
// resolution), in loc's time.
func DraftReport(t Ticket, history []Event, loc *time.Location) IncidentReport {
	r := IncidentReport{Summary: t.Subject}
	var impact []string
	if t.Service != "" {
		impact = append(impact, "Service: "+t.Service+".")
	}
	if o := t.Requester.Organisation; o != "" {
		impact = append(impact, "Reported by "+o+".")
	}
	r.Impact = strings.Join(impact, " ")
	var lines []string
	add := func(e Event, what string) {
		lines = append(lines, e.At.In(loc).Format("2006-01-02 15:04")+" "+what)
	}
	for _, e := range history {
		switch e.Kind {
		case EvCreated:
			what := "registered"
			if e.Created != nil {
				what += fmt.Sprintf(" as %s %s", e.Created.Priority, e.Created.Type)
			}
			add(e, what+" ("+e.Actor+")")
		case EvField:
			if e.Field == FieldPriority || e.Field == FieldAssignee || e.Field == FieldTeam {
				add(e, fmt.Sprintf("%s %s → %s (%s)", e.Field, orDash(e.From), orDash(e.To), e.Actor))
			}
		case EvStatus:
			add(e, fmt.Sprintf("status %s → %s (%s)", orDash(e.From), e.To, e.Actor))
		case EvMessageOut:
			if e.Message != nil && !e.Message.Auto {
				add(e, "reply to the requester ("+e.Actor+")")
			}
		case EvResponded:
			add(e, "first response ("+e.Actor+")")
		case EvEscalation:
			if x := e.Escalation; x != nil && x.Clock != ClockUpdate {
				add(e, "escalation "+x.Clock+" "+x.Step)
			}
		case EvMajor:
			add(e, "major incident declared ("+e.Actor+")")
		case EvMajorNote:
			add(e, "status update: "+firstLineOf(e.Text))
		case EvMajorEnd:
			add(e, "major incident ended")
		}
	}
	r.Timeline = strings.Join(lines, "\n")
	return r
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:99]) + "…"
	}
	return s
}
