package statuspage

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

func getJSON(t *testing.T, f *fixture, path string) map[string]any {
	t.Helper()
	res, body := f.get(t, path)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s: %s %q\n%s", path, res.Status, res.Header.Get("Content-Type"), body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, body)
	}
	return m
}

// hasKeys fails for every key Statuspage's objects have that obj lacks.
func hasKeys(t *testing.T, what string, obj any, keys ...string) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q", what, k)
		}
	}
	return m
}

func list(t *testing.T, what string, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, not an array", what, v)
	}
	return l
}

var (
	pageKeys      = []string{"id", "name", "url", "time_zone", "updated_at"}
	componentKeys = []string{"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
	incidentKeys  = []string{"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink", "started_at", "page_id", "incident_updates", "components"}
	updateKeys    = []string{"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components"}
)

// summary.json in Statuspage's shape, during a DSD outage with a window
// planned for MitID.
func TestSummaryJSON(t *testing.T) {
	f := newFixture(t)
	m := getJSON(t, f, "/api/v2/summary.json")
	if st := hasKeys(t, "status", m["status"], "indicator", "description"); st["indicator"] != "none" || st["description"] != "All Systems Operational" {
		t.Fatalf("quiet status %v", st)
	}

	update := "Lookups fail; we are switching to the standby database."
	tk := f.majorOutage(t, update)
	w, err := f.st.PlanWindow("lena", store.Window{Service: "MitID", Start: f.clk.Now().Add(48 * time.Hour), Duration: 2 * time.Hour, Description: "Certificate rotation"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, body := f.get(t, "/api/v2/summary.json")
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("the public API cannot be read from a dashboard on another origin")
	}
	for _, secret := range []string{plantedSubject, plantedRequester, plantedAddress, plantedBody} {
		if strings.Contains(body, secret) {
			t.Errorf("summary.json shows %q", secret)
		}
	}
	m = getJSON(t, f, "/api/v2/summary.json")
	hasKeys(t, "summary", m, "page", "components", "incidents", "scheduled_maintenances", "status")
	page := hasKeys(t, "page", m["page"], pageKeys...)
	if page["name"] != "Desk status" || page["url"] != f.srv.URL || page["time_zone"] != "Europe/Copenhagen" {
		t.Errorf("page %v", page)
	}
	if _, err := time.Parse(time.RFC3339, page["updated_at"].(string)); err != nil {
		t.Errorf("page.updated_at: %v", err)
	}

	comps := list(t, "components", m["components"])
	if len(comps) != 2 {
		t.Fatalf("%d components", len(comps))
	}
	status := map[string]string{}
	for i, c := range comps {
		c := hasKeys(t, "component", c, componentKeys...)
		status[c["name"].(string)] = c["status"].(string)
		if c["position"] != float64(i+1) || c["page_id"] != page["id"] || c["group"] != false {
			t.Errorf("component %v", c)
		}
		if !slices.Contains([]string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}, c["status"].(string)) {
			t.Errorf("component status %q is not one of Statuspage's", c["status"])
		}
	}
	if status["DSD"] != "major_outage" || status["MitID"] != "operational" {
		t.Fatalf("component statuses %v", status)
	}

	incs := list(t, "incidents", m["incidents"])
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	in := hasKeys(t, "incident", incs[0], incidentKeys...)
	if in["id"] != tk.ID.String() || in["status"] != "investigating" || in["impact"] != "critical" || in["resolved_at"] != nil {
		t.Errorf("incident %v", in)
	}
	ups := list(t, "incident_updates", in["incident_updates"])
	if len(ups) != 2 {
		t.Fatalf("%d updates", len(ups))
	}
	first := hasKeys(t, "update", ups[0], updateKeys...)
	if first["body"] != update || first["incident_id"] != tk.ID.String() {
		t.Errorf("the newest update is not first: %v", first)
	}
	if ups[0].(map[string]any)["id"] == ups[1].(map[string]any)["id"] {
		t.Error("two updates share an id")
	}
	ic := list(t, "incident components", in["components"])
	if len(ic) != 1 || hasKeys(t, "incident component", ic[0], componentKeys...)["name"] != "DSD" {
		t.Errorf("incident components %v", ic)
	}

	sms := list(t, "scheduled_maintenances", m["scheduled_maintenances"])
	if len(sms) != 1 {
		t.Fatalf("%d maintenances", len(sms))
	}
	sm := hasKeys(t, "maintenance", sms[0], append(incidentKeys, "scheduled_for", "scheduled_until")...)
	if sm["status"] != "scheduled" || sm["impact"] != "maintenance" {
		t.Errorf("maintenance %v", sm)
	}
	if at, err := time.Parse(time.RFC3339, sm["scheduled_for"].(string)); err != nil || !at.Equal(w.Start) {
		t.Errorf("scheduled_for %v (%v), want %s", sm["scheduled_for"], err, w.Start)
	}
	if st := hasKeys(t, "status", m["status"], "indicator", "description"); st["indicator"] != "critical" {
		t.Errorf("status %v during a major incident", st)
	}

	// The smaller documents are parts of the same.
	st := getJSON(t, f, "/api/v2/status.json")
	hasKeys(t, "status.json", st, "page", "status")
	cs := getJSON(t, f, "/api/v2/components.json")
	if len(list(t, "components.json", hasKeys(t, "components.json", cs, "page", "components")["components"])) != 2 {
		t.Error("components.json lacks components")
	}

	// The window starts: MitID is under maintenance, in progress.
	f.clk.Add(48*time.Hour + time.Minute)
	m = getJSON(t, f, "/api/v2/summary.json")
	for _, c := range list(t, "components", m["components"]) {
		if c := c.(map[string]any); c["name"] == "MitID" && c["status"] != "under_maintenance" {
			t.Errorf("MitID in its window: %v", c["status"])
		}
	}
	if sm := list(t, "scheduled_maintenances", m["scheduled_maintenances"]); len(sm) != 1 || sm[0].(map[string]any)["status"] != "in_progress" {
		t.Errorf("maintenance in its window: %v", sm)
	}
}

func TestComponentStatusAndIndicator(t *testing.T) {
	for _, c := range []struct {
		v    serviceView
		want string
	}{
		{serviceView{State: operational}, "operational"},
		{serviceView{State: degraded}, "degraded_performance"},
		{serviceView{State: outage}, "major_outage"},
		{serviceView{State: outage, Partial: true}, "partial_outage"},
		{serviceView{State: maintenance}, "under_maintenance"},
	} {
		if got := componentStatus(c.v); got != c.want {
			t.Errorf("%+v: %s, want %s", c.v, got, c.want)
		}
		want := map[string]string{"operational": "none", "degraded_performance": "minor", "partial_outage": "minor", "major_outage": "major", "under_maintenance": "maintenance"}[c.want]
		if got := overall(&snapshot{Services: []serviceView{{State: operational}, c.v}}).Indicator; got != want {
			t.Errorf("indicator with %s: %s, want %s", c.want, got, want)
		}
	}
}

// The headers every answer carries, and what the page does with text
// that looks like markup.
func TestHeadersAndEscaping(t *testing.T) {
	f := newFixture(t)
	f.majorOutage(t, `<script>alert("x")</script> & <b>bold</b>`)
	res, body := f.get(t, "/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%s %q", res.Status, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", res.Header)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=30") {
		t.Errorf("Cache-Control %q", cc)
	}
	if strings.Contains(body, "<script") || !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;`) {
		t.Errorf("the update is not escaped:\n%s", body)
	}
	for _, secret := range []string{plantedSubject, plantedRequester, plantedAddress, plantedBody} {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows %q", secret)
		}
	}
	// The stylesheet the page links to is served, and for long when
	// asked for by its version.
	i := strings.Index(body, `href="/style.css?v=`)
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	href := body[i+len(`href="`):]
	href = href[:strings.IndexByte(href, '"')]
	res, css := f.get(t, href)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css, ".banner") || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("%s: %s %v", href, res.Status, res.Header)
	}

	res, body = f.get(t, "/no/such/page")
	if res.StatusCode != 404 || !strings.Contains(body, "There is no such page here.") {
		t.Errorf("unknown path: %s", res.Status)
	}
	res, _ = f.do(t, http.MethodDelete, f.srv.URL+"/subscribe", nil)
	if res.StatusCode < 400 {
		t.Errorf("DELETE /subscribe: %s", res.Status)
	}
}
