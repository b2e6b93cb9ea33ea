// Package monitor runs the services' probes: HTTP(S) checks, TCP connects
// and TLS certificate checks, each on its own interval. It only checks;
// what a result means (an outage opens an incident, a recovery ends it) is
// decided by store.RecordProbe, so a probe restarted, reconfigured or run
// twice cannot open a second incident for the same outage.
package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deskhq/desk/store"
)

// Kinds of probe.
const (
	HTTP = "http" // an HTTP(S) GET with an expected status and body
	TCP  = "tcp"  // a TCP connect
	TLS  = "tls"  // a TLS handshake: the certificate's days left
)

// Probe is one configured check of a service.
type Probe struct {
	Rule store.ProbeRule
	Kind string
	// Target: the URL (http), or host:port (tcp, tls).
	Target   string
	Interval time.Duration // 0: 30 s
	Timeout  time.Duration // 0: 10 s, at most Interval
	// HTTP: the status expected (0: any 2xx or 3xx), text the body must
	// contain, or a pattern it must match; Slow: a latency over it counts
	// as a failure that leaves the service degraded rather than down.
	Status   int
	Contains string
	Match    *regexp.Regexp
	Slow     time.Duration
	// Insecure skips certificate checks of an HTTPS probe (a test server);
	// TLS probes read the certificate whatever its trust.
	Insecure bool
}

// Name is the probe's name in the desk when the config gives none.
func DefaultName(kind, target string) string { return kind + " " + target }

// Check runs the probe once.
func (p *Probe) Check(ctx context.Context) store.ProbeResult {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var r store.ProbeResult
	switch p.Kind {
	case HTTP:
		r = p.checkHTTP(ctx)
	case TCP:
		r = p.checkTCP(ctx)
	case TLS:
		r = p.checkTLS(ctx)
	default:
		r = store.ProbeResult{Detail: fmt.Sprintf("unknown probe kind %q", p.Kind)}
	}
	r.At = time.Now().UTC()
	r.Latency = time.Since(start)
	if r.OK && p.Slow > 0 && r.Latency > p.Slow {
		r.OK, r.Slow = false, true
		r.Detail = fmt.Sprintf("%s, slow: %s over the %s limit", r.Detail, r.Latency.Round(time.Millisecond), p.Slow)
	}
	return r
}

// client is shared by HTTP probes of one kind of trust: connections are
// not kept, each check dials afresh, as a user arriving would.
var clients = map[bool]*http.Client{}
var clientsMu sync.Mutex

func client(insecure bool) *http.Client {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c := clients[insecure]; c != nil {
		return c
	}
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}} // only when configured, for a test server
	c := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return nil
	}}
	clients[insecure] = c
	return c
}

const maxBody = 1 << 20

func (p *Probe) checkHTTP(ctx context.Context) store.ProbeResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Target, nil)
	if err != nil {
		return store.ProbeResult{Detail: "bad URL: " + err.Error()}
	}
	req.Header.Set("User-Agent", "desk-monitor")
	resp, err := client(p.Insecure).Do(req)
	if err != nil {
		return store.ProbeResult{Detail: netError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	detail := fmt.Sprintf("HTTP %d", resp.StatusCode)
	switch {
	case p.Status != 0 && resp.StatusCode != p.Status:
		return store.ProbeResult{Detail: fmt.Sprintf("%s, expected %d", detail, p.Status)}
	case p.Status == 0 && resp.StatusCode >= 400:
		return store.ProbeResult{Detail: detail}
	case err != nil:
		return store.ProbeResult{Detail: detail + ", body cut off: " + netError(err)}
	case p.Contains != "" && !strings.Contains(string(body), p.Contains):
		return store.ProbeResult{Detail: fmt.Sprintf("%s, body lacks %q", detail, p.Contains)}
	case p.Match != nil && !p.Match.Match(body):
		return store.ProbeResult{Detail: fmt.Sprintf("%s, body does not match %s", detail, p.Match)}
	}
	r := store.ProbeResult{OK: true, Detail: detail}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.CertExpires = resp.TLS.PeerCertificates[0].NotAfter.UTC()
	}
	return r
}

func (p *Probe) checkTCP(ctx context.Context) store.ProbeResult {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", p.Target)
	if err != nil {
		return store.ProbeResult{Detail: netError(err)}
	}
	c.Close()
	return store.ProbeResult{OK: true, Detail: "connected"}
}

func (p *Probe) checkTLS(ctx context.Context) store.ProbeResult {
	host, _, err := net.SplitHostPort(p.Target)
	if err != nil {
		return store.ProbeResult{Detail: "bad address: " + err.Error()}
	}
	d := tls.Dialer{Config: &tls.Config{ServerName: host, InsecureSkipVerify: true}} // verified below by hand, to say why it fails
	c, err := d.DialContext(ctx, "tcp", p.Target)
	if err != nil {
		return store.ProbeResult{Detail: netError(err)}
	}
	defer c.Close()
	certs := c.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return store.ProbeResult{Detail: "no certificate"}
	}
	leaf := certs[0]
	r := store.ProbeResult{CertExpires: leaf.NotAfter.UTC()}
	left := time.Until(leaf.NotAfter)
	if left <= 0 {
		r.Detail = "certificate expired " + leaf.NotAfter.UTC().Format("2006-01-02")
		return r
	}
	r.OK = true
	r.Detail = fmt.Sprintf("certificate valid %d more days", int(left.Hours()/24))
	if !p.Insecure {
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter}); err != nil {
			r.OK = false
			r.Detail = "certificate not trusted: " + err.Error()
		}
	}
	return r
}

// netError says a network failure in a few words.
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "name not found: " + dns.Name
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return "certificate not trusted: " + ce.Err.Error()
	}
	return err.Error()
}

// Monitor runs probes until its context ends.
type Monitor struct {
	St     *store.Store
	Probes []Probe
	Log    *log.Logger
}

// Run checks every probe on its interval and records each result; it
// returns when ctx ends. A probe that cannot be recorded (the disk is
// full) is logged and checked again next time.
func (m *Monitor) Run(ctx context.Context) {
	logger := m.Log
	if logger == nil {
		logger = log.Default()
	}
	var keep []string
	for _, p := range m.Probes {
		keep = append(keep, p.Rule.Key())
	}
	if gone, err := m.St.ForgetProbes(keep); err != nil {
		logger.Printf("monitor: forget removed probes: %v", err)
	} else if len(gone) > 0 {
		logger.Printf("monitor: %d probe(s) no longer configured, forgotten: %s", len(gone), strings.Join(gone, ", "))
	}
	var wg sync.WaitGroup
	for i := range m.Probes {
		p := &m.Probes[i]
		wg.Go(func() { m.run(ctx, p, logger) })
	}
	wg.Wait()
}

func (m *Monitor) run(ctx context.Context, p *Probe, logger *log.Logger) {
	every := p.Interval
	if every <= 0 {
		every = 30 * time.Second
	}
	if p.Timeout <= 0 || p.Timeout > every {
		p.Timeout = min(10*time.Second, every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := ""
	for {
		r := p.Check(ctx)
		if ctx.Err() != nil {
			return
		}
		r.At = m.St.Now() // the desk's clock, which the demo runs fast
		st, err := m.St.RecordProbe(p.Rule, r)
		switch {
		case err != nil:
			logger.Printf("monitor: %s: keep the result (%s): %v", p.Rule.Key(), r.Detail, err)
		case st.State != last:
			logger.Printf("monitor: %s is %s: %s", p.Rule.Key(), st.State, r.Detail)
			last = st.State
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
