package monitor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{
		Policy: slaengine.DefaultPolicy(slaengine.AlwaysOpen()), Holder: "monitor test",
		MailDomain: "desk.test", SupportAddress: "support@desk.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	st.SetDirectory(store.Directory{
		Services: []store.Service{{Name: "DSD", Description: "Data Service Directory", Subscribers: []string{"spoc@aarhus.dk"}}},
	})
	return st
}

// healthServer is a health endpoint that can be stopped and started again
// on the same port, as a service going down and coming back.
type healthServer struct {
	t    *testing.T
	addr string
	srv  *http.Server
	hits atomic.Int64
}

func startHealth(t *testing.T, addr string) *healthServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h := &healthServer{t: t, addr: ln.Addr().String()}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		io.WriteString(w, `{"status":"ok"}`)
	})}
	go h.srv.Serve(ln)
	t.Cleanup(func() { h.srv.Close() })
	return h
}

func (h *healthServer) stop() { h.srv.Close() }

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tickets(t *testing.T, st *store.Store) []store.Ticket {
	t.Helper()
	var out []store.Ticket
	if err := st.Tickets(func(tk store.Ticket) bool { out = append(out, tk); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func probeState(t *testing.T, st *store.Store) store.ProbeState {
	t.Helper()
	ps, err := st.Probes()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		return store.ProbeState{}
	}
	return ps[0]
}

func run(st *store.Store, p Probe) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m := &Monitor{St: st, Probes: []Probe{p}, Log: log.New(io.Discard, "", 0)}
	go func() { m.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// A health endpoint stopped opens one incident, however long it stays
// down and across a restart of the desk; started again, the incident is
// noted recovered and resolved.
func TestOutageOpensOneIncidentAndRecovers(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	h := startHealth(t, "")
	p := Probe{Kind: HTTP, Target: "http://" + h.addr + "/health", Interval: 30 * time.Millisecond, Contains: `"ok"`,
		Rule: store.ProbeRule{Service: "DSD", Name: "health", FailAfter: 2, RecoverAfter: 2, Resolve: true}}
	stop := run(st, p)
	waitFor(t, "the probe up", func() bool { return probeState(t, st).State == store.ProbeUp })
	if n := len(tickets(t, st)); n != 0 {
		t.Fatalf("%d tickets while the service is up", n)
	}

	h.stop()
	waitFor(t, "the probe down", func() bool { return probeState(t, st).State == store.ProbeDown })
	checks := probeState(t, st).Checks
	waitFor(t, "five more failed checks", func() bool { return probeState(t, st).Checks >= checks+5 })
	// The desk restarts in the middle of the outage.
	stop()
	st.Close()
	st = openStore(t, dir)
	defer st.Close()
	stop = run(st, p)
	checks = probeState(t, st).Checks
	waitFor(t, "five checks after the restart", func() bool { return probeState(t, st).Checks >= checks+5 })

	ts := tickets(t, st)
	if len(ts) != 1 {
		t.Fatalf("%d tickets for one outage, want 1: %+v", len(ts), ts)
	}
	inc := ts[0]
	if inc.Service != "DSD" || inc.Priority != 1 || inc.Type != store.Incident || !inc.Status.Active() {
		t.Fatalf("the outage's ticket is %s %s P%d %s, want an active P1 incident of DSD", inc.ID, inc.Type, inc.Priority, inc.Status)
	}
	if !inc.Major.Open() {
		t.Errorf("a P1 outage is a major incident: its subscribers hear of it")
	}
	if ps := probeState(t, st); ps.Outage != inc.ID || ps.Last.Detail != "connection refused" {
		t.Errorf("probe state %+v: want outage %s, last 'connection refused'", ps, inc.ID)
	}

	startHealth(t, h.addr)
	waitFor(t, "the probe up again", func() bool { return probeState(t, st).State == store.ProbeUp })
	stop()
	inc, err := st.Get(inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != store.StatusResolved {
		t.Errorf("after recovery the incident is %s, want resolved (Resolve is set)", inc.Status)
	}
	hist, _ := st.History(inc.ID)
	var recovered, resolved int
	for _, e := range hist {
		if e.Kind == store.EvNote && strings.Contains(e.Text, "recovered") {
			recovered++
		}
		if e.Kind == store.EvStatus && e.To == string(store.StatusResolved) {
			resolved++
		}
	}
	if recovered != 1 || resolved != 1 {
		t.Errorf("history has %d recovery notes and %d resolutions, want 1 each", recovered, resolved)
	}
	if n := len(tickets(t, st)); n != 1 {
		t.Errorf("%d tickets after the recovery, want still 1", n)
	}
	days, err := st.Uptime(p.Rule.Key(), time.Now().Add(-24*time.Hour))
	if err != nil || len(days) == 0 || days[len(days)-1].OK == 0 || days[len(days)-1].Fail < 10 {
		t.Errorf("uptime counts %+v (%v): want today's successes and at least 10 failures", days, err)
	}
}

// A failure that does not reach fail_after opens nothing (no flapping), and
// recovery needs recover_after successes in a row.
func TestFlappingOpensNothing(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	rule := store.ProbeRule{Service: "DSD", Name: "flappy", FailAfter: 3, RecoverAfter: 2}
	at := time.Now().UTC()
	rec := func(ok bool) store.ProbeState {
		at = at.Add(time.Second)
		ps, err := st.RecordProbe(rule, store.ProbeResult{At: at, OK: ok, Detail: map[bool]string{true: "HTTP 200", false: "HTTP 503"}[ok]})
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	for range 5 {
		rec(false)
		rec(false)
		rec(true)
	}
	if n := len(tickets(t, st)); n != 0 {
		t.Fatalf("two failures in a row with fail_after 3 opened %d tickets", n)
	}
	rec(false)
	rec(false)
	if ps := rec(false); ps.State != store.ProbeDown || ps.Outage == 0 {
		t.Fatalf("three failures: state %s outage %v, want down with an incident", ps.State, ps.Outage)
	}
	if ps := rec(true); ps.State != store.ProbeDown {
		t.Fatalf("one success after an outage: %s, want still down (recover_after 2)", ps.State)
	}
	rec(false)
	rec(true)
	if ps := rec(true); ps.State != store.ProbeUp {
		t.Fatalf("two successes: %s, want up", ps.State)
	}
	ts := tickets(t, st)
	if len(ts) != 1 || !ts[0].Status.Active() {
		t.Fatalf("tickets %+v: want one, still active (Resolve is off: the operator resolves)", ts)
	}
}

// A TLS probe of a certificate with few days left opens one request,
// however often it is checked.
func TestCertificateNearExpiryOpensOneRequest(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	cert := selfSigned(t, time.Now().Add(5*24*time.Hour))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	p := Probe{Kind: TLS, Target: ln.Addr().String(), Insecure: true, Rule: store.ProbeRule{Service: "DSD", Name: "certificate", CertDays: 14}}
	for range 4 {
		r := p.Check(context.Background())
		if !r.OK || r.CertExpires.IsZero() {
			t.Fatalf("TLS check: %+v", r)
		}
		if _, err := st.RecordProbe(p.Rule, r); err != nil {
			t.Fatal(err)
		}
	}
	ts := tickets(t, st)
	if len(ts) != 1 || ts[0].Type != store.Request || !strings.Contains(ts[0].Subject, "expires in 4 days") && !strings.Contains(ts[0].Subject, "expires in 5 days") {
		t.Fatalf("tickets %+v: want one request about the certificate expiring in 5 days", ts)
	}
	// Checked as trusted, the self-signed certificate fails, and says why.
	p.Insecure = false
	if r := p.Check(context.Background()); r.OK || !strings.Contains(r.Detail, "not trusted") {
		t.Errorf("untrusted certificate: %+v", r)
	}
}

func TestProbeChecks(t *testing.T) {
	h := startHealth(t, "")
	for _, c := range []struct {
		name string
		p    Probe
		ok   bool
		says string
	}{
		{"http up", Probe{Kind: HTTP, Target: "http://" + h.addr + "/"}, true, "HTTP 200"},
		{"wrong status", Probe{Kind: HTTP, Target: "http://" + h.addr + "/", Status: 204}, false, "expected 204"},
		{"body lacks", Probe{Kind: HTTP, Target: "http://" + h.addr + "/", Contains: "healthy"}, false, `lacks "healthy"`},
		{"slow", Probe{Kind: HTTP, Target: "http://" + h.addr + "/", Slow: time.Nanosecond}, false, "slow"},
		{"tcp up", Probe{Kind: TCP, Target: h.addr}, true, "connected"},
		{"tcp refused", Probe{Kind: TCP, Target: closedPort(t)}, false, "connection refused"},
		{"http refused", Probe{Kind: HTTP, Target: "http://" + closedPort(t) + "/"}, false, "connection refused"},
	} {
		r := c.p.Check(context.Background())
		if r.OK != c.ok || !strings.Contains(r.Detail, c.says) {
			t.Errorf("%s: %+v, want ok=%v and %q", c.name, r, c.ok, c.says)
		}
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func selfSigned(t *testing.T, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
