package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

// healthEndpoint is a service's health check that can be stopped and
// started again on the same address.
type healthEndpoint struct {
	addr string
	srv  *http.Server
}

func startHealthEndpoint(t *testing.T, addr string) *healthEndpoint {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h := &healthEndpoint{addr: ln.Addr().String(), srv: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})}}
	go h.srv.Serve(ln)
	t.Cleanup(func() { h.srv.Close() })
	return h
}

type summaryJSON struct {
	Components []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"components"`
	Incidents []struct {
		ID string `json:"id"`
	} `json:"incidents"`
}

func componentStatus(t *testing.T, statusAddr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + statusAddr + "/api/v2/summary.json")
	if err != nil {
		t.Fatalf("GET summary.json: %v", err)
	}
	defer resp.Body.Close()
	var s summaryJSON
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	for _, c := range s.Components {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

// The config of issue 11, item 5: with desk serve running on it, stopping
// the health endpoint turns component DSD in summary.json from operational
// and opens one incident for DSD; started again, the probe recovers and
// the incident is noted so (the operator resolves it: resolve is off).
func TestServeProbeOpensIncidentOnStatusPage(t *testing.T) {
	h := startHealthEndpoint(t, "127.0.0.1:0")
	lead := newTestOp(t, "lena", "lead")
	extra := `
[[services]]
name = "DSD"
description = "Data Service Directory"
[[services.probes]]
kind = "http"                    # http | tcp | tls
url = "http://` + h.addr + `/health"
interval = "1s"
fail_after = 2                   # consecutive failures before an incident opens
recover_after = 2
[status]
listen = "127.0.0.1:0"
`
	ts := startTestServer(t, []testOp{lead}, extra, serveOptions{})
	if ts.s.StatusAddr == "" {
		t.Fatal("desk serve did not start the status page ([status] listen is set)")
	}
	wait := func(what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > waitLimit {
				t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return time.Since(start)
	}
	wait("DSD operational", func() bool { return componentStatus(t, ts.s.StatusAddr, "DSD") == "operational" })

	h.srv.Close()
	took := wait("DSD not operational", func() bool {
		s := componentStatus(t, ts.s.StatusAddr, "DSD")
		return s != "operational" && s != ""
	})
	t.Logf("health endpoint stopped: summary.json shows DSD %s after %s", componentStatus(t, ts.s.StatusAddr, "DSD"), took.Round(100*time.Millisecond))

	openFor := func() []store.Ticket {
		var out []store.Ticket
		ts.s.st.Tickets(func(tk store.Ticket) bool {
			if tk.Service == "DSD" && tk.Status.Active() {
				out = append(out, tk)
			}
			return true
		})
		return out
	}
	if open := openFor(); len(open) != 1 || open[0].Type != store.Incident {
		t.Fatalf("open tickets for DSD: %+v, want one incident", open)
	}
	// Over SSH, desk monitor says the probe is down and names the incident.
	out, errOut, code := ts.runCmd(lead, "monitor --json")
	if code != 0 {
		t.Fatalf("monitor over SSH: %d %s", code, errOut)
	}
	var probes []probeJSON
	if err := json.Unmarshal([]byte(out), &probes); err != nil || len(probes) != 1 || probes[0].State != store.ProbeDown || probes[0].Incident == "" {
		t.Fatalf("desk monitor --json: %v %s", err, out)
	}
	time.Sleep(3 * time.Second) // three more failed checks
	if open := openFor(); len(open) != 1 {
		t.Fatalf("%d open tickets for DSD after more failures, want still 1", len(open))
	}

	startHealthEndpoint(t, h.addr)
	wait("the probe up again", func() bool {
		ps, _ := ts.s.st.Probes()
		return len(ps) == 1 && ps[0].State == store.ProbeUp
	})
	open := openFor()
	if len(open) != 1 {
		t.Fatalf("%d open tickets after recovery, want the one incident, left to the operator", len(open))
	}
	hist, err := ts.s.st.History(open[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	recovered := 0
	for _, e := range hist {
		if e.Kind == store.EvNote && strings.Contains(e.Text, "recovered") {
			recovered++
		}
	}
	if recovered != 1 {
		t.Fatalf("%d recovery notes on %s, want 1", recovered, open[0].ID)
	}
	// The P1 is a major incident: the page shows the outage until an
	// operator resolves it.
	if s := componentStatus(t, ts.s.StatusAddr, "DSD"); s == "operational" {
		t.Fatalf("DSD operational while its major incident %s is open", open[0].ID)
	}
	if _, _, err := ts.s.st.Resolve(open[0].ID, "lena", "The directory's database restarted; searches answer again."); err != nil {
		t.Fatal(err)
	}
	wait("DSD operational again", func() bool { return componentStatus(t, ts.s.StatusAddr, "DSD") == "operational" })
}
