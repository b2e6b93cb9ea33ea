package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskhq/desk/board"
	"github.com/deskhq/desk/slaengine"
)

// The banner is the line under the status line while something concerns
// every operator at once: an open major incident (until it is resolved,
// with its update countdown) and this operator's newest alert. It takes a
// line from the list only while it has something to say.

// bannerHeight is asked for by every layout and frame: it says how many
// lines the banner takes without formatting them.
func (m *Model) bannerHeight() int {
	if m.width <= 0 || m.height < 8 || m.queues.snap == nil {
		return 0
	}
	n := 0
	if m.alertShown() {
		n++
	}
	if len(m.queues.snap.Majors) > 0 {
		n++
	}
	if n > 1 && m.height < 20 {
		n = 1
	}
	return n
}

// bannerLines are the alert (what just rang) and the open major
// incidents, a line each; one line of both on a short screen, none on a
// tiny one, which keeps its lines for the list.
func (m *Model) bannerLines() []string {
	if m.bannerHeight() == 0 {
		return nil
	}
	var parts []string
	if s := m.alertText(m.width < 110); s != "" {
		parts = append(parts, s)
	}
	if s := m.majorText(); s != "" {
		parts = append(parts, s)
	}
	if len(parts) > 1 && m.height < 20 {
		parts = []string{strings.Join(parts, " · ")}
	}
	return parts
}

func (m *Model) banner() string {
	lines := m.bannerLines()
	for i, l := range lines {
		lines[i] = m.styles.StatusErr.Render(pad(ansiTruncate(" "+l, m.width), m.width))
	}
	return strings.Join(lines, "\n")
}

// majorText names the open major incidents: one in full (service, ticket,
// subject, when its next status update is due), several by id and due.
func (m *Model) majorText() string {
	majors := m.queues.snap.Majors
	switch len(majors) {
	case 0:
		return ""
	case 1:
		r := majors[0]
		// The countdown before the subject: it is what a narrow screen must keep.
		return fmt.Sprintf("MAJOR INCIDENT %s%s · %s · %s", serviceOf(r), r.T.ID, m.updateDue(r), SafeLine(r.T.Subject))
	}
	// Only what fits a line is formatted: a desk with thousands open (a
	// load test, a storm) must not pay for each on every frame.
	var each []string
	room := m.width
	for _, r := range majors {
		s := fmt.Sprintf("%s%s (%s)", serviceOf(r), r.T.ID, m.updateDue(r))
		if room -= len(s) + 2; room < 0 {
			break
		}
		each = append(each, s)
	}
	return fmt.Sprintf("%d MAJOR INCIDENTS: %s", len(majors), strings.Join(each, ", "))
}

func serviceOf(r *board.Row) string {
	if s := r.T.Major.Service; s != "" {
		return SafeLine(s) + " "
	}
	return ""
}

// updateDue says when the subscribers' next status update is due, and
// how to write it.
func (m *Model) updateDue(r *board.Row) string {
	next := r.T.Major.NextUpdate
	if next.IsZero() {
		return "U posts an update"
	}
	left := next.Sub(m.now)
	if left < 0 {
		return "update OVERDUE " + slaengine.FormatLeft(-left.Truncate(time.Minute)) + " (U)"
	}
	return "update due " + next.In(m.loc).Format("15:04") + ", in " + strings.TrimSpace(slaengine.FormatLeft(left)) + " (U)"
}
