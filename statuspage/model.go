package statuspage

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deskhq/desk/store"
)

// state is how a service is doing, as the public is told.
type state string

const (
	operational state = "operational"
	degraded    state = "degraded" // answers, but too slowly
	outage      state = "outage"
	maintenance state = "maintenance" // in a planned window
)

func stateLabel(s state, partial bool) string {
	switch {
	case s == degraded:
		return "Degraded performance"
	case s == outage && partial:
		return "Partial outage"
	case s == outage:
		return "Outage"
	case s == maintenance:
		return "Under maintenance"
	}
	return "Operational"
}

// snapshot is everything the page, the feed and the API say, read once
// per request so that they cannot contradict themselves.
type snapshot struct {
	Now      time.Time
	Services []serviceView
	// Open are the open major incidents, newest first; Recent those that
	// ended within recentFor.
	Open   []store.PublishedIncident
	Recent []store.PublishedIncident
	// Windows are the planned windows that are on or still to come and
	// not cancelled, by start.
	Windows []store.Window
}

// serviceView is one service on the page.
type serviceView struct {
	Name, Description string
	State             state
	// Partial: an outage seen by some of the service's probes while
	// others still get answers, and no major incident declared.
	Partial bool
	// Changed is the last time something the state is made of changed.
	Changed  time.Time
	Incident string        // the open major incident, if any
	Window   *store.Window // the window it is in, if any
	Days     []dayBar      // oldest first, uptimeDays of them
	OK, Fail int           // over Days
}

// dayBar is a day of a service's uptime: its probes' checks summed.
type dayBar struct {
	Day      time.Time
	OK, Fail int
}

// Pct is the share of good checks, -1 without any.
func (d dayBar) Pct() float64 { return share(d.OK, d.Fail) }

func share(ok, fail int) float64 {
	if ok+fail == 0 {
		return -1
	}
	return 100 * float64(ok) / float64(ok+fail)
}

// Level names the colour of a bar; the thresholds are the usual ones of
// availability targets (three nines, two nines, 95%).
func (d dayBar) Level() string {
	p := d.Pct()
	switch {
	case p < 0:
		return "none"
	case p >= 99.9:
		return "full"
	case p >= 99:
		return "high"
	case p >= 95:
		return "mid"
	}
	return "low"
}

// Say is the bar's text for a hover and a screen reader.
func (d dayBar) Say() string {
	day := d.Day.Format("Mon 02 Jan 2006")
	if d.OK+d.Fail == 0 {
		return day + ": no data"
	}
	return fmt.Sprintf("%s: %s up (%d of %d checks answered)", day, pct(d.Pct()), d.OK, d.OK+d.Fail)
}

// Uptime is the share of good checks over the days shown, -1 without any.
func (v serviceView) Uptime() float64 { return share(v.OK, v.Fail) }

func pct(p float64) string {
	switch {
	case p < 0:
		return "no data"
	case p >= 100:
		return "100%"
	case p >= 99.99:
		return "99.99%" // never round a failure away to 100%
	}
	return fmt.Sprintf("%.2f%%", p)
}

// banner is the one line at the top of the page; Level names its colour.
type banner struct{ Level, Text string }

// Banner is the worst that is true now: a declared major incident before
// an outage the probes see, before slowness, before planned work.
func (s *snapshot) Banner() banner {
	names := func(want state) []string {
		var n []string
		for _, v := range s.Services {
			if v.State == want {
				n = append(n, v.Name)
			}
		}
		return n
	}
	if len(s.Open) > 0 {
		var svc []string
		for _, p := range s.Open {
			if n := nameOr(p.Service, "our services"); !slices.Contains(svc, n) {
				svc = append(svc, n)
			}
		}
		return banner{"outage", "Major incident: " + strings.Join(svc, ", ")}
	}
	if n := names(outage); len(n) > 0 {
		return banner{"outage", "Outage: " + strings.Join(n, ", ")}
	}
	if n := names(degraded); len(n) > 0 {
		return banner{"degraded", "Degraded performance: " + strings.Join(n, ", ")}
	}
	if n := names(maintenance); len(n) > 0 {
		return banner{"maintenance", "Under planned maintenance: " + strings.Join(n, ", ")}
	}
	return banner{"operational", "All systems operational"}
}

func nameOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// updateLabel says a published update's status in words.
func updateLabel(status string) string {
	switch status {
	case "investigating":
		return "Investigating"
	case "resolved":
		return "Resolved"
	}
	return "Update"
}

// newest are an incident's updates, newest first, as people read them.
func newest(p store.PublishedIncident) []store.PublishedUpdate {
	u := slices.Clone(p.Updates)
	slices.Reverse(u)
	return u
}

// load is the current snapshot: a fresh reading, or within opt.CacheFor
// of the last one, that.
func (h *handler) load() (*snapshot, error) {
	if h.opt.CacheFor <= 0 {
		return h.read()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.snap != nil && time.Since(h.snapAt) < h.opt.CacheFor {
		return h.snap, nil
	}
	s, err := h.read()
	if err != nil {
		return nil, err
	}
	h.snap, h.snapAt = s, time.Now()
	return s, nil
}

// read reads the snapshot from the store.
func (h *handler) read() (*snapshot, error) {
	now := h.src.Now()
	s := &snapshot{Now: now}
	probes, err := h.src.Probes()
	if err != nil {
		return nil, fmt.Errorf("read the probes: %w", err)
	}
	pub, err := h.src.Published(now.Add(-recentFor))
	if err != nil {
		return nil, fmt.Errorf("read the published incidents: %w", err)
	}
	for _, p := range pub {
		if p.Ended.IsZero() {
			s.Open = append(s.Open, p)
		} else {
			s.Recent = append(s.Recent, p)
		}
	}
	// Windows that ended lately matter too: the state changed when they
	// did (back from maintenance).
	past, err := h.src.Windows(now.Add(-recentFor))
	if err != nil {
		return nil, fmt.Errorf("read the service windows: %w", err)
	}
	for _, w := range past {
		if w.Cancelled.IsZero() && w.End().After(now) {
			s.Windows = append(s.Windows, w)
		}
	}
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(uptimeDays - 1))
	for _, sv := range h.src.Services() {
		v := judge(sv, now, probes, s.Open, past)
		if err := h.uptime(&v, probes, from); err != nil {
			return nil, err
		}
		s.Services = append(s.Services, v)
	}
	return s, nil
}

// judge is a service's state by the page's rule: a planned window that is
// on means maintenance, whatever the probes see (work is being done);
// else a probe that gets no answer, or an open major incident, means an
// outage; else a probe that gets slow answers means degraded performance.
// A probe still "failing" (not yet FailAfter failures) changes nothing:
// the desk did not call it an outage yet, so the page does not either.
func judge(sv store.Service, now time.Time, probes []store.ProbeState, open []store.PublishedIncident, wins []store.Window) serviceView {
	v := serviceView{Name: sv.Name, Description: sv.Description, State: operational}
	same := func(s string) bool { return strings.EqualFold(s, sv.Name) }
	var down, slow, up int
	for _, p := range probes {
		if !same(p.Service) {
			continue
		}
		v.Changed = later(v.Changed, p.Since)
		switch {
		case p.State != store.ProbeDown:
			up++
		case p.Degraded():
			slow++
		default:
			down++
		}
	}
	for _, p := range open {
		if same(p.Service) {
			if v.Incident == "" {
				v.Incident = p.ID
			}
			if n := len(p.Updates); n > 0 {
				v.Changed = later(v.Changed, p.Updates[n-1].At)
			}
		}
	}
	for i, w := range wins {
		if !same(w.Service) || !w.Cancelled.IsZero() || now.Before(w.Start) {
			continue
		}
		if w.Active(now) {
			v.Window = &wins[i]
			v.Changed = later(v.Changed, w.Start)
		} else {
			v.Changed = later(v.Changed, w.End())
		}
	}
	switch {
	case v.Window != nil:
		v.State = maintenance
	case down > 0 || v.Incident != "":
		v.State = outage
		v.Partial = v.Incident == "" && up+slow > 0
	case slow > 0:
		v.State = degraded
	}
	return v
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// uptime fills in the service's days from its probes' counts.
func (h *handler) uptime(v *serviceView, probes []store.ProbeState, from time.Time) error {
	v.Days = make([]dayBar, uptimeDays)
	for i := range v.Days {
		v.Days[i].Day = from.AddDate(0, 0, i)
	}
	for _, p := range probes {
		if !strings.EqualFold(p.Service, v.Name) {
			continue
		}
		counts, err := h.src.Uptime(p.Key, from)
		if err != nil {
			return fmt.Errorf("read the uptime of %s: %w", v.Name, err)
		}
		for _, c := range counts {
			i := int(c.Day.UTC().Sub(from) / (24 * time.Hour))
			if i < 0 || i >= len(v.Days) {
				continue
			}
			v.Days[i].OK += c.OK
			v.Days[i].Fail += c.Fail
			v.OK += c.OK
			v.Fail += c.Fail
		}
	}
	return nil
}
