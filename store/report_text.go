package store

import "strings"

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
