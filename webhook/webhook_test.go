package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// receiver is a real HTTP server on loopback that answers with the codes
// it is given, in turn, then 200.
type receiver struct {
	mu     sync.Mutex
	codes  []int
	bodies []store.HookPayload
	calls  []string // X-Desk-Call of each request
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, req.Header.Get("X-Desk-Call"))
	code := http.StatusOK
	if len(r.codes) > 0 {
		code, r.codes = r.codes[0], r.codes[1:]
	}
	if code == http.StatusOK {
		var p store.HookPayload
		if err := json.Unmarshal(b, &p); err != nil || req.Header.Get("Content-Type") != "application/json" {
			code = http.StatusBadRequest
		} else {
			r.bodies = append(r.bodies, p)
		}
	}
	w.WriteHeader(code)
}

func open(t *testing.T, url string, clock func() time.Time) *store.Store {
	t.Helper()
	p := slaengine.DefaultPolicy(slaengine.AlwaysOpen())
	p.Ladders = map[slaengine.Priority]slaengine.Ladder{
		1: {{Name: "registered", Clock: "resolution", Notify: []string{slaengine.NotifyOnCall}, Via: []string{slaengine.ViaWebhook, slaengine.ViaConsole}}},
	}
	st, err := store.Open(t.TempDir(), store.Options{Policy: p, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetDirectory(store.Directory{Webhook: url})
	return st
}

// A step that tells the webhook queues its call in the same write as its
// event; the call is retried while the receiver answers 503, delivered
// once it answers 200, and not made again.
func TestWebhookDeliveredOnceAfterRetries(t *testing.T) {
	rcv := &receiver{codes: []int{http.StatusServiceUnavailable, http.StatusServiceUnavailable}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 19, 30, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	st := open(t, srv.URL+"/hooks/desk", clock)
	tk, err := st.Create("mail", store.NewTicket{Type: store.Incident, Priority: 1, Queue: "q", Subject: "borger.dk login down", Requester: store.Person{Email: "r@x.dk"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.FireEscalations(clock()); n != 1 || err != nil {
		t.Fatalf("fired %d (%v)", n, err)
	}
	h, _ := st.Hooks(0)
	if len(h) != 1 || h[0].Ticket != tk.ID || h[0].URL != srv.URL+"/hooks/desk" {
		t.Fatalf("queued calls %+v", h)
	}
	s := &Sender{St: st, Now: clock}
	ctx := context.Background()
	if n, err := s.Flush(ctx); n != 0 || err == nil {
		t.Fatalf("first try against a 503: %d sent, %v", n, err)
	}
	// Not due again before its backoff.
	if n, _ := s.Flush(ctx); n != 0 || len(rcv.calls) != 1 {
		t.Fatalf("retried at once: %d calls", len(rcv.calls))
	}
	for i := 0; i < 2; i++ {
		now.Add(int64(time.Hour))
		s.Flush(ctx)
	}
	if len(rcv.bodies) != 1 || len(rcv.calls) != 3 {
		t.Fatalf("%d calls, %d delivered; want 3 calls, 1 delivered", len(rcv.calls), len(rcv.bodies))
	}
	p := rcv.bodies[0]
	if p.Ticket != "SD-1" || p.Priority != "P1" || p.Step != "registered" || p.Event != "escalation" || p.Text == "" ||
		rcv.calls[0] != rcv.calls[2] {
		t.Fatalf("payload %+v, call ids %v", p, rcv.calls)
	}
	now.Add(int64(24 * time.Hour))
	s.Flush(ctx)
	if len(rcv.calls) != 3 {
		t.Fatalf("delivered again: %d calls", len(rcv.calls))
	}
	h, _ = st.Hooks(0)
	if h[0].Sent.IsZero() || h[0].Attempts != 3 {
		t.Fatalf("recorded %+v", h[0])
	}
	x, _ := st.History(tk.ID)
	for _, e := range x {
		if e.Kind == store.EvEscalation && (len(e.Escalation.Told) == 0 || e.Escalation.Told[0].Address != srv.URL+"/hooks/desk") {
			t.Fatalf("the history does not name the webhook: %+v", e.Escalation.Told)
		}
	}
}

// A 4xx other than 408/429 is the URL's or the payload's fault: given up
// at once and recorded, never retried.
func TestWebhookRefusedIsGivenUp(t *testing.T) {
	rcv := &receiver{codes: []int{http.StatusNotFound}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	st := open(t, srv.URL+"/wrong", nil)
	if _, err := st.Create("mail", store.NewTicket{Type: store.Incident, Priority: 1, Queue: "q", Subject: "x", Requester: store.Person{Email: "r@x.dk"}}); err != nil {
		t.Fatal(err)
	}
	st.FireEscalations(time.Now())
	s := &Sender{St: st}
	if _, err := s.Flush(context.Background()); err == nil {
		t.Fatal("a 404 was no error")
	}
	h, _ := st.Hooks(0)
	if h[0].Failed.IsZero() || h[0].LastError == "" {
		t.Fatalf("not given up: %+v", h[0])
	}
	if due, _ := st.HooksDue(time.Now().Add(48 * time.Hour)); len(due) != 0 {
		t.Fatalf("still due: %+v", due)
	}
}

// Without [webhook] url the step records that it had nowhere to post.
func TestWebhookWithoutURL(t *testing.T) {
	st := open(t, "", nil)
	tk, _ := st.Create("mail", store.NewTicket{Type: store.Incident, Priority: 1, Queue: "q", Subject: "x", Requester: store.Person{Email: "r@x.dk"}})
	st.FireEscalations(time.Now())
	if h, _ := st.Hooks(0); len(h) != 0 {
		t.Fatalf("queued without a URL: %+v", h)
	}
	x, _ := st.History(tk.ID)
	found := false
	for _, e := range x {
		if e.Kind == store.EvEscalation {
			for _, w := range e.Escalation.Told {
				found = found || (w.Via == slaengine.ViaWebhook && w.Address == "")
			}
		}
	}
	if !found {
		t.Fatal("the step does not record the webhook it could not call")
	}
}
