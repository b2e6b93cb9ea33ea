package demomail

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Health is the demo's health endpoints, one per service, for the desk's
// probes to watch: /health/NAME answers 200 "ok", except for the service
// named Flaky, which is down for Down out of every Cycle (starting a
// little after the demo does), so a newcomer sees an outage open an
// incident on its own, the status page turn red, and the recovery.
type Health struct {
	srv   *http.Server
	addr  string
	start time.Time
	Flaky string
	Cycle time.Duration
	Down  time.Duration
	hits  atomic.Int64
}

// StartHealth listens on a free loopback port.
func StartHealth(flaky string, cycle, down time.Duration) (*Health, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo health endpoints: %w", err)
	}
	h := &Health{addr: ln.Addr().String(), start: time.Now(), Flaky: flaky, Cycle: cycle, Down: down}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		if r.PathValue("name") == h.Flaky && h.down(time.Now()) {
			http.Error(w, "upstream database unreachable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

// down: the flaky service is down from a third into each cycle, for Down.
func (h *Health) down(now time.Time) bool {
	if h.Cycle <= 0 || h.Down <= 0 {
		return false
	}
	at := now.Sub(h.start) % h.Cycle
	return at >= h.Cycle/3 && at < h.Cycle/3+h.Down
}

// URL is the health endpoint of a service.
func (h *Health) URL(name string) string { return "http://" + h.addr + "/health/" + name }

// Close stops the endpoints.
func (h *Health) Close() error { return h.srv.Close() }
