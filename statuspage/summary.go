package statuspage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deskhq/desk/store"
)

// The JSON API follows Atlassian Statuspage's public API v2
// (/api/v2/summary.json and friends) field for field, because status
// aggregators, chat bots and dashboards already read that shape; a
// component is a service, named exactly as in the config.

type apiPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type apiComponent struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	StartDate          *string `json:"start_date"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
}

type apiUpdate struct {
	ID                   string  `json:"id"`
	Status               string  `json:"status"`
	Body                 string  `json:"body"`
	IncidentID           string  `json:"incident_id"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
	DisplayAt            string  `json:"display_at"`
	AffectedComponents   any     `json:"affected_components"`
	DeliverNotifications bool    `json:"deliver_notifications"`
	CustomTweet          *string `json:"custom_tweet"`
	TweetID              *string `json:"tweet_id"`
}

type apiIncident struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	MonitoringAt    *string        `json:"monitoring_at"`
	ResolvedAt      *string        `json:"resolved_at"`
	Impact          string         `json:"impact"`
	Shortlink       string         `json:"shortlink"`
	StartedAt       string         `json:"started_at"`
	PageID          string         `json:"page_id"`
	IncidentUpdates []apiUpdate    `json:"incident_updates"`
	Components      []apiComponent `json:"components"`
}

type apiMaintenance struct {
	apiIncident
	ScheduledFor   string `json:"scheduled_for"`
	ScheduledUntil string `json:"scheduled_until"`
}

type apiStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type apiSummary struct {
	Page                  apiPage          `json:"page"`
	Components            []apiComponent   `json:"components"`
	Incidents             []apiIncident    `json:"incidents"`
	ScheduledMaintenances []apiMaintenance `json:"scheduled_maintenances"`
	Status                apiStatus        `json:"status"`
}

// apiID is an opaque id that stays the same while the name does, in the
// look of Statuspage's (12 lower-case letters and digits).
func apiID(kind, name string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + strings.ToLower(name)))
	return strings.ToLower(base32.StdEncoding.EncodeToString(h[:])[:12])
}

// componentStatus maps the page's states to Statuspage's: an outage
// with a declared major incident, or that no probe gets through, is a
// major outage; one some probes still get through is partial.
func componentStatus(v serviceView) string {
	switch v.State {
	case degraded:
		return "degraded_performance"
	case outage:
		if v.Partial {
			return "partial_outage"
		}
		return "major_outage"
	case maintenance:
		return "under_maintenance"
	}
	return "operational"
}

// build is the summary of a snapshot; the other routes are parts of it.
func (h *handler) build(r *http.Request, s *snapshot) apiSummary {
	base := h.baseURL(r)
	pageID := apiID("page", base)
	ts := func(t time.Time) string { return t.In(h.opt.Location).Format("2006-01-02T15:04:05.000Z07:00") }
	out := apiSummary{Components: []apiComponent{}, Incidents: []apiIncident{}, ScheduledMaintenances: []apiMaintenance{}}
	var updated time.Time
	byName := map[string]apiComponent{}
	for i, v := range s.Services {
		changed := v.Changed
		if changed.IsZero() {
			changed = s.Now
		}
		created := changed
		for _, d := range v.Days {
			if d.OK+d.Fail > 0 {
				if d.Day.Before(created) {
					created = d.Day
				}
				break
			}
		}
		c := apiComponent{
			ID: apiID("component", v.Name), Name: v.Name, Status: componentStatus(v),
			CreatedAt: ts(created), UpdatedAt: ts(changed), Position: i + 1,
			Showcase: true, PageID: pageID,
		}
		if v.Description != "" {
			c.Description = &v.Description
		}
		out.Components = append(out.Components, c)
		byName[strings.ToLower(v.Name)] = c
		updated = later(updated, v.Changed)
	}
	componentsOf := func(service string) []apiComponent {
		if c, ok := byName[strings.ToLower(service)]; ok {
			return []apiComponent{c}
		}
		return []apiComponent{}
	}
	for _, p := range s.Open {
		id := p.ID
		in := apiIncident{
			ID: id, Name: "Major incident: " + nameOr(p.Service, "our services"),
			Status: "investigating", Impact: "critical",
			CreatedAt: ts(p.Declared), StartedAt: ts(p.Declared), UpdatedAt: ts(p.Declared),
			Shortlink: base + "/#" + id, PageID: pageID,
			IncidentUpdates: []apiUpdate{}, Components: componentsOf(p.Service),
		}
		for i := len(p.Updates) - 1; i >= 0; i-- {
			u := p.Updates[i]
			// The desk does not say "identified" or "monitoring": an
			// update is news about an investigation still going on.
			in.IncidentUpdates = append(in.IncidentUpdates, apiUpdate{
				ID: updateID(p, i), Status: "investigating", Body: u.Text, IncidentID: id,
				CreatedAt: ts(u.At), UpdatedAt: ts(u.At), DisplayAt: ts(u.At),
				DeliverNotifications: true,
			})
			updated = later(updated, u.At)
		}
		if len(p.Updates) > 0 {
			in.UpdatedAt = ts(p.Updates[len(p.Updates)-1].At)
		}
		out.Incidents = append(out.Incidents, in)
	}
	for _, w := range s.Windows {
		id := fmt.Sprintf("window-%d", w.ID)
		st := "scheduled"
		if w.Active(s.Now) {
			st = "in_progress"
		}
		m := apiMaintenance{apiIncident: apiIncident{
			ID: id, Name: "Planned maintenance: " + w.Service, Status: st, Impact: "maintenance",
			CreatedAt: ts(w.Planned), UpdatedAt: ts(w.Planned), StartedAt: ts(w.Start),
			Shortlink: base + "/", PageID: pageID, Components: componentsOf(w.Service),
			IncidentUpdates: []apiUpdate{{
				ID: id + "-planned", Status: "scheduled", Body: w.Description, IncidentID: id,
				CreatedAt: ts(w.Planned), UpdatedAt: ts(w.Planned), DisplayAt: ts(w.Planned), DeliverNotifications: true,
			}},
		}, ScheduledFor: ts(w.Start), ScheduledUntil: ts(w.End())}
		out.ScheduledMaintenances = append(out.ScheduledMaintenances, m)
		updated = later(updated, w.Planned)
	}
	if updated.IsZero() {
		updated = s.Now
	}
	out.Page = apiPage{ID: pageID, Name: h.opt.Title, URL: base, TimeZone: h.opt.Location.String(), UpdatedAt: ts(updated)}
	out.Status = overall(s)
	return out
}

// overall is the page's indicator, worst first, with Statuspage's own
// descriptions so that clients that show them read as usual.
func overall(s *snapshot) apiStatus {
	worst := 0
	for _, v := range s.Services {
		switch componentStatus(v) {
		case "major_outage":
			worst = max(worst, 3)
		case "partial_outage", "degraded_performance":
			worst = max(worst, 2)
		case "under_maintenance":
			worst = max(worst, 1)
		}
	}
	switch {
	case len(s.Open) > 0:
		return apiStatus{"critical", "Major System Outage"}
	case worst == 3:
		return apiStatus{"major", "Partial System Outage"}
	case worst == 2:
		return apiStatus{"minor", "Minor Service Outage"}
	case worst == 1:
		return apiStatus{"maintenance", "Service Under Maintenance"}
	}
	return apiStatus{"none", "All Systems Operational"}
}

// updateID names one published update for good: the incident, which of
// its declarations (a reopened ticket may be declared again) and which
// update of it.
func updateID(p store.PublishedIncident, n int) string {
	return fmt.Sprintf("%s-%s-%d", p.ID, p.Declared.UTC().Format("20060102T150405Z"), n)
}

func (h *handler) api(w http.ResponseWriter, r *http.Request, pick func(apiSummary) any) {
	s, err := h.load()
	if err != nil {
		h.opt.Logf("status page: %v", err)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"the status could not be read just now"}` + "\n"))
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the text is data here, not markup; keep it readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(pick(h.build(r, s))); err != nil {
		h.opt.Logf("status page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// Public data: a dashboard on another origin may read it.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	shortCache(w)
	w.Write(b.Bytes())
}

func (h *handler) summary(w http.ResponseWriter, r *http.Request) {
	h.api(w, r, func(s apiSummary) any { return s })
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	h.api(w, r, func(s apiSummary) any {
		return struct {
			Page   apiPage   `json:"page"`
			Status apiStatus `json:"status"`
		}{s.Page, s.Status}
	})
}

func (h *handler) components(w http.ResponseWriter, r *http.Request) {
	h.api(w, r, func(s apiSummary) any {
		return struct {
			Page       apiPage        `json:"page"`
			Components []apiComponent `json:"components"`
		}{s.Page, s.Components}
	})
}
