package statuspage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// clock is a settable clock; tests move it by hand, so nothing here
// depends on how fast the machine is.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a real store in a temporary directory behind the real
// handler on a loopback server.
type fixture struct {
	st  *store.Store
	clk *clock
	h   *handler
	srv *httptest.Server
}

var copenhagen = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	st, err := store.Open(t.TempDir(), store.Options{
		Policy: slaengine.DefaultPolicy(slaengine.AlwaysOpen()), Holder: "statuspage test",
		MailDomain: "desk.test", SupportAddress: "support@desk.test", Now: f.clk.Now,
		Roles: map[string]store.Role{"lena": store.RoleLead},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	var hh http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hh.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	st.SetDirectory(store.Directory{
		Services: []store.Service{
			{Name: "DSD", Description: "Data Service Directory"},
			{Name: "MitID", Description: "MitID login"},
		},
		StatusURL: f.srv.URL,
	})
	hh = New(st, Options{Title: "Desk status", URL: f.srv.URL, Location: copenhagen, Logf: t.Logf})
	f.h = hh.(*handler)
	return f
}

func (f *fixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return f.do(t, http.MethodGet, f.srv.URL+path, nil)
}

func (f *fixture) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return f.do(t, http.MethodPost, f.srv.URL+path, form)
}

func (f *fixture) do(t *testing.T, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func (f *fixture) snapshot(t *testing.T) *snapshot {
	t.Helper()
	s, err := f.h.load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) service(t *testing.T, name string) serviceView {
	t.Helper()
	for _, v := range f.snapshot(t).Services {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no service %s on the page", name)
	return serviceView{}
}

// probe records results of a probe of service; P3, so that an outage
// opens no major incident unless a test wants one.
func (f *fixture) probe(t *testing.T, service, name string, results ...store.ProbeResult) {
	t.Helper()
	for _, r := range results {
		if _, err := f.st.RecordProbe(store.ProbeRule{Service: service, Name: name, Priority: 3}, r); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	ok      = store.ProbeResult{OK: true, Latency: 20 * time.Millisecond, Detail: "HTTP 200"}
	refused = store.ProbeResult{Detail: "dial tcp 10.0.0.7:8089: connection refused"}
	slow    = store.ProbeResult{Slow: true, Latency: 4 * time.Second, Detail: "HTTP 200"}
)

// Planted are what people told the desk: none of it may reach the page.
const (
	plantedSubject   = "Borger 010190-1234 Karen Jensen cannot log in"
	plantedRequester = "Karen Hemmelig"
	plantedAddress   = "karen.hemmelig@gentofte.dk"
	plantedBody      = "Private mail body: my CPR number is 010190-1234"
	plantedProbe     = "http http://10.0.0.7:8089/internal-health"
)

// majorOutage opens a P1 incident about DSD the way a requester's mail
// does (declaring a major incident) and publishes an update on it.
func (f *fixture) majorOutage(t *testing.T, update string) store.Ticket {
	t.Helper()
	tk, err := f.st.Create("alice", store.NewTicket{
		Type: store.Incident, Priority: 1, Queue: "2nd-line", Service: "DSD", Subject: plantedSubject,
		Requester: store.Person{Name: plantedRequester, Email: plantedAddress},
		Message:   &store.Message{From: store.Person{Name: plantedRequester, Email: plantedAddress}, Subject: plantedSubject, Body: plantedBody},
		Inbound:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.Major.Open() {
		t.Fatalf("a P1 incident declared no major incident: %+v", tk.Major)
	}
	if update != "" {
		f.clk.Add(10 * time.Minute)
		if _, err := f.st.PostUpdate(tk.ID, "dan", update); err != nil {
			t.Fatal(err)
		}
	}
	return tk
}

// mailsTo are the outbox's mails to addr, newest first.
func (f *fixture) mailsTo(t *testing.T, addr string) []store.OutMail {
	t.Helper()
	all, err := f.st.OutboxAll(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutMail
	for _, m := range all {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}
