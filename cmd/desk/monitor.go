package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/monitor"
	"github.com/deskhq/desk/statuspage"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// ProbeConfig is one [[services.probes]] table.
type ProbeConfig struct {
	Kind     string          `toml:"kind"`    // http | tcp | tls
	Name     string          `toml:"name"`    // default: kind and target
	URL      string          `toml:"url"`     // http
	Address  string          `toml:"address"` // tcp, tls: host:port
	Interval mailin.Duration `toml:"interval"`
	Timeout  mailin.Duration `toml:"timeout"`
	// HTTP: the status expected (default any 2xx/3xx), text the body must
	// contain or a regular expression it must match, and a latency over
	// which the service counts as degraded.
	Status   int             `toml:"status"`
	Contains string          `toml:"contains"`
	Match    string          `toml:"match"`
	Latency  mailin.Duration `toml:"latency"`
	Insecure bool            `toml:"insecure"` // https with a certificate nobody trusts
	// What a result means: failures in a row that open the incident and
	// successes in a row that end it; its priority; whether monitoring
	// resolves it on recovery (default: it notes the recovery and leaves
	// the resolution to an operator); days of certificate left that open
	// a renewal request.
	FailAfter    int    `toml:"fail_after"`
	RecoverAfter int    `toml:"recover_after"`
	Priority     string `toml:"priority"`
	Resolve      bool   `toml:"resolve"`
	CertDays     int    `toml:"cert_days"`
}

// StatusConfig is [status]: the public status page, served by desk serve
// (and the console) when listen is set.
type StatusConfig struct {
	Listen string `toml:"listen"` // "127.0.0.1:8088"
	// URL is the page's address as subscribers reach it, for the links in
	// mails (default: http:// and listen).
	URL   string `toml:"url"`
	Title string `toml:"title"`
}

// WindowsConfig is [windows]: how far ahead service windows are announced.
// Default: Borger.dk's rules, 2 h 3 days, 4 h 7 days, 7 h 21 days, all in
// 00:00-07:00 of the desk's time zone.
type WindowsConfig struct {
	Notice []NoticeConfig `toml:"notice"`
	Hours  string         `toml:"hours"` // "00:00-07:00"; "any" for no bound
	// PauseSLA stops the SLA clocks of a service's tickets during its
	// planned windows (off by default: many desks count them).
	PauseSLA bool `toml:"pause_sla"`
}

// NoticeConfig is one [[windows.notice]]: a window of up to Upto needs
// Days calendar days' notice.
type NoticeConfig struct {
	Upto mailin.Duration `toml:"upto"`
	Days int             `toml:"days"`
}

// checkMonitoring validates [[services.probes]], [status] and [windows].
func (c *Config) checkMonitoring() error {
	for i, sv := range c.Services {
		for j, p := range sv.Probes {
			at := func(k string) string { return fmt.Sprintf("services[%d].probes[%d].%s", i, j, k) }
			if _, err := c.probe(sv.Name, p); err != nil {
				var fe fieldError
				if errors.As(err, &fe) {
					return c.errAt(at(fe.key), "service %q, probe %d: %s", sv.Name, j+1, fe.msg)
				}
				return err
			}
		}
	}
	if l := c.Status.Listen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return c.errAt("status.listen", "%q is not host:port: write it like 127.0.0.1:8088 (or :8088 for every address)", l)
		}
	}
	if u := c.Status.URL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return c.errAt("status.url", "%q is not an http(s) URL: write it as https://status.example.org", u)
		}
	}
	if _, err := c.windowRules(); err != nil {
		var fe fieldError
		if errors.As(err, &fe) {
			return c.errAt("windows."+fe.key, "%s", fe.msg)
		}
		return err
	}
	return nil
}

type fieldError struct{ key, msg string }

func (e fieldError) Error() string { return e.key + ": " + e.msg }

// probe compiles one probe's config.
func (c *Config) probe(service string, pc ProbeConfig) (monitor.Probe, error) {
	p := monitor.Probe{Kind: strings.ToLower(strings.TrimSpace(pc.Kind)), Interval: pc.Interval.Duration, Timeout: pc.Timeout.Duration,
		Status: pc.Status, Contains: pc.Contains, Slow: pc.Latency.Duration, Insecure: pc.Insecure}
	switch p.Kind {
	case monitor.HTTP:
		u, err := url.Parse(pc.URL)
		if pc.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return p, fieldError{"url", fmt.Sprintf("%q is not an http(s) URL: an http probe needs url = \"https://host/health\"", pc.URL)}
		}
		p.Target = pc.URL
	case monitor.TCP, monitor.TLS:
		if _, port, err := net.SplitHostPort(pc.Address); err != nil || port == "" {
			return p, fieldError{"address", fmt.Sprintf("%q is not host:port: a %s probe needs address = \"host:443\"", pc.Address, p.Kind)}
		}
		p.Target = pc.Address
	default:
		return p, fieldError{"kind", fmt.Sprintf("%q is not a kind of probe: use http, tcp or tls", pc.Kind)}
	}
	if pc.Match != "" {
		re, err := regexp.Compile(pc.Match)
		if err != nil {
			return p, fieldError{"match", fmt.Sprintf("%q is not a regular expression: %v", pc.Match, err)}
		}
		p.Match = re
	}
	switch {
	case pc.Interval.Duration < 0 || pc.Interval.Duration > 0 && pc.Interval.Duration < 100*time.Millisecond:
		return p, fieldError{"interval", fmt.Sprintf("%s is too short: check at most ten times a second (e.g. \"30s\")", pc.Interval.Duration)}
	case pc.Timeout.Duration < 0:
		return p, fieldError{"timeout", "a timeout is a positive duration, like \"10s\""}
	case pc.FailAfter < 0 || pc.RecoverAfter < 0 || pc.CertDays < 0:
		return p, fieldError{"fail_after", "fail_after, recover_after and cert_days count: give a positive number (default 2, 2 and 14)"}
	case pc.Status != 0 && (pc.Status < 100 || pc.Status > 599):
		return p, fieldError{"status", fmt.Sprintf("%d is not an HTTP status", pc.Status)}
	}
	var prio store.Priority
	if pc.Priority != "" {
		if err := prio.UnmarshalText([]byte(pc.Priority)); err != nil {
			return p, fieldError{"priority", err.Error()}
		}
	}
	name := strings.TrimSpace(pc.Name)
	if name == "" {
		name = monitor.DefaultName(p.Kind, p.Target)
	}
	p.Rule = store.ProbeRule{Service: strings.TrimSpace(service), Name: name, Priority: prio, FailAfter: pc.FailAfter,
		RecoverAfter: pc.RecoverAfter, Resolve: pc.Resolve, CertDays: pc.CertDays}
	return p, nil
}

// probes are every configured probe, compiled.
func (c *Config) probes() []monitor.Probe {
	var out []monitor.Probe
	for _, sv := range c.Services {
		for _, pc := range sv.Probes {
			if p, err := c.probe(sv.Name, pc); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// windowRules compiles [windows].
func (c *Config) windowRules() (store.WindowRules, error) {
	r := store.DefaultWindowRules(c.displayZone())
	r.PauseSLA = c.Windows.PauseSLA
	if len(c.Windows.Notice) > 0 {
		r.Notice = nil
		for i, n := range c.Windows.Notice {
			if n.Upto.Duration <= 0 || n.Days < 0 {
				return r, fieldError{fmt.Sprintf("notice[%d]", i), "each rule gives upto = \"2h\" (the longest window it covers) and days = 3 (the notice in calendar days)"}
			}
			if len(r.Notice) > 0 && n.Upto.Duration <= r.Notice[len(r.Notice)-1].Upto {
				return r, fieldError{fmt.Sprintf("notice[%d]", i), "list the rules from the shortest window to the longest"}
			}
			r.Notice = append(r.Notice, store.NoticeRule{Upto: n.Upto.Duration, Notice: time.Duration(n.Days) * 24 * time.Hour})
		}
	}
	switch h := strings.TrimSpace(c.Windows.Hours); h {
	case "":
	case "any":
		r.From, r.To = 0, 0
	default:
		from, to, ok := strings.Cut(h, "-")
		f, err1 := hhmm(from)
		t, err2 := hhmm(to)
		if !ok || err1 != nil || err2 != nil || t <= f {
			return r, fieldError{"hours", fmt.Sprintf("%q is not a span of hours: write it like \"00:00-07:00\" (or \"any\")", h)}
		}
		r.From, r.To = f, t
	}
	return r, nil
}

func hhmm(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm > 0 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// statusURL is the page's address in mails.
func (c *Config) statusURL() string {
	if c.Status.URL != "" {
		return strings.TrimRight(c.Status.URL, "/")
	}
	if c.Status.Listen == "" {
		return ""
	}
	host, port, _ := net.SplitHostPort(c.Status.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// startMonitoring runs the probes and, when [status] listen is set, the
// status page, until the returned stop is called. A status page that
// cannot listen is logged, not fatal: the desk itself still works.
func startMonitoring(cfg *Config, st *store.Store, logger *log.Logger) (stop func(), statusAddr string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m := &monitor.Monitor{St: st, Probes: cfg.probes(), Log: logger}
	go func() { m.Run(ctx); close(done) }()
	var srv *http.Server
	if cfg.Status.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Status.Listen)
		if err != nil {
			logger.Printf("status page: cannot listen on %s (status.listen): %v; the page is off until desk restarts with the address free", cfg.Status.Listen, err)
		} else {
			statusAddr = ln.Addr().String()
			srv = &http.Server{Handler: statuspage.New(st, statuspage.Options{Title: cfg.Status.Title, URL: cfg.statusURL(), Location: cfg.displayZone(), Logf: logger.Printf, CacheFor: 2 * time.Second}),
				ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Printf("status page: %v", err)
				}
			}()
			logger.Printf("status page on http://%s", statusAddr)
		}
	}
	return func() {
		cancel()
		if srv != nil {
			sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
			srv.Shutdown(sctx)
			c()
		}
		<-done
	}, statusAddr
}

// ---- desk monitor ----

type probeJSON struct {
	Service   string     `json:"service"`
	Probe     string     `json:"probe"`
	State     string     `json:"state"`
	Since     time.Time  `json:"since"`
	LastCheck *time.Time `json:"last_check,omitempty"`
	OK        bool       `json:"ok"`
	Detail    string     `json:"detail"`
	LatencyMS float64    `json:"latency_ms"`
	Incident  string     `json:"incident,omitempty"`
	Uptime30d *float64   `json:"uptime_30d,omitempty"`
	Checks    int64      `json:"checks"`
}

func cmdMonitor(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		return c.done(listProbes(c.st, c.cfg, c.stdout, *asJSON, c.now))
	}
}

// uptimeSince is the share of successful checks of a probe since from.
func uptimeSince(st *store.Store, key string, from time.Time) (float64, bool) {
	days, err := st.Uptime(key, from)
	if err != nil {
		return 0, false
	}
	var ok, all int
	for _, d := range days {
		ok += d.OK
		all += d.OK + d.Fail
	}
	if all == 0 {
		return 0, false
	}
	return 100 * float64(ok) / float64(all), true
}

func listProbes(st *store.Store, cfg *Config, w io.Writer, asJSON bool, now time.Time) error {
	states, err := st.Probes()
	if err != nil {
		return fmt.Errorf("reading the probes: %w", err)
	}
	known := map[string]store.ProbeState{}
	for _, s := range states {
		known[s.Key] = s
	}
	// Configured probes first, in config order, then any the store still
	// has from an earlier config.
	var list []store.ProbeState
	if cfg != nil {
		for _, p := range cfg.probes() {
			s, ok := known[p.Rule.Key()]
			if !ok {
				s = store.ProbeState{Key: p.Rule.Key(), Service: p.Rule.Service, Name: p.Rule.Name, State: store.ProbeUnknown}
			}
			delete(known, p.Rule.Key())
			list = append(list, s)
		}
	}
	for _, s := range states {
		if _, ok := known[s.Key]; ok {
			list = append(list, s)
		}
	}
	out := make([]probeJSON, 0, len(list))
	for _, s := range list {
		j := probeJSON{Service: s.Service, Probe: s.Name, State: s.State, Since: s.Since.UTC(), LastCheck: timePtr(s.Last.At), OK: s.Last.OK,
			Detail: s.Last.Detail, LatencyMS: float64(s.Last.Latency.Microseconds()) / 1000, Checks: s.Checks}
		if s.Outage != 0 {
			j.Incident = s.Outage.String()
		}
		if u, ok := uptimeSince(st, s.Key, now.AddDate(0, 0, -30)); ok {
			j.Uptime30d = &u
		}
		out = append(out, j)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(w, "no probes: add [[services.probes]] to the config (see the README, Monitoring)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tPROBE\tSTATE\tSINCE\tLAST\tLATENCY\tUPTIME 30D\tINCIDENT")
	for _, j := range out {
		since, up, lat := "-", "-", "-"
		if !j.Since.IsZero() {
			since = j.Since.In(now.Location()).Format("02 Jan 15:04")
		}
		if j.Uptime30d != nil {
			up = fmt.Sprintf("%.2f%%", *j.Uptime30d)
		}
		if j.LastCheck != nil {
			lat = fmt.Sprintf("%.0f ms", j.LatencyMS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", truncate(termtext.Line(j.Service), 20), truncate(termtext.Line(j.Probe), 40), j.State, since,
			truncate(termtext.Line(j.Detail), 50), lat, up, j.Incident)
	}
	return tw.Flush()
}

// ---- desk window ----

type windowJSON struct {
	ID          uint64     `json:"id"`
	Service     string     `json:"service"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	Description string     `json:"description"`
	By          string     `json:"by"`
	Override    string     `json:"override,omitempty"`
	OverrideWhy string     `json:"override_why,omitempty"`
	Notified    int        `json:"notified"`
	Cancelled   *time.Time `json:"cancelled,omitempty"`
}

func cmdWindowList(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		ws, err := c.st.Windows(c.now)
		if err != nil {
			return c.fail(fmt.Errorf("reading the service windows: %w", err))
		}
		if *asJSON {
			out := make([]windowJSON, 0, len(ws))
			for _, w := range ws {
				out = append(out, windowOut(w))
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return c.done(enc.Encode(out))
		}
		if len(ws) == 0 {
			fmt.Fprintln(c.stdout, "no service windows planned: desk window plan --service S --start TIME --duration 2h --description TEXT")
			return 0
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSERVICE\tSTART\tEND\tBY\tSTATE\tDESCRIPTION")
		for _, w := range ws {
			state := "planned"
			switch {
			case !w.Cancelled.IsZero():
				state = "cancelled"
			case w.Active(c.now):
				state = "on now"
			}
			if w.Override != "" {
				state += " (override)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, truncate(termtext.Line(w.Service), 20), w.Start.In(c.now.Location()).Format("Mon 02 Jan 15:04"),
				w.End().In(c.now.Location()).Format("15:04"), w.By, state, truncate(termtext.Line(w.Description), 60))
		}
		return c.done(tw.Flush())
	}
}

func windowOut(w store.Window) windowJSON {
	return windowJSON{ID: w.ID, Service: w.Service, Start: w.Start.UTC(), End: w.End().UTC(), Description: w.Description, By: w.By,
		Override: w.Override, OverrideWhy: w.OverrideWhy, Notified: w.Notified, Cancelled: timePtr(w.Cancelled)}
}

func cmdWindowPlan(fs *flag.FlagSet) runFunc {
	service := fs.String("service", "", "the service")
	start := fs.String("start", "", "when it starts: 2026-12-20T01:00 (the desk's zone) or RFC 3339")
	duration := fs.Duration("duration", 0, "how long: 2h")
	desc := fs.String("description", "", "what is done and what users notice (TEXT or - for stdin)")
	override := fs.Bool("override", false, "plan it although it breaks the notice rules (leads)")
	asJSON := fs.Bool("json", false, "the window as JSON")
	return func(c *call) int {
		if len(c.args) > 0 || *service == "" || *start == "" || *duration == 0 || *desc == "" {
			return c.usage()
		}
		at, err := parseAt(*start, c.now.Location())
		if err != nil {
			return c.fail(usageError{fmt.Sprintf("--start %q: write it as 2026-12-20T01:00 or RFC 3339", *start)})
		}
		text, err := c.text(*desc, "the description")
		if err != nil {
			return c.fail(err)
		}
		w, err := c.st.PlanWindow(c.who, store.Window{Service: *service, Start: at, Duration: *duration, Description: text}, *override)
		if err != nil {
			return c.fail(err)
		}
		if *asJSON {
			return c.done(json.NewEncoder(c.stdout).Encode(windowOut(w)))
		}
		fmt.Fprintf(c.stdout, "window %d: %s %s-%s, announced to %d subscriber(s)\n", w.ID, w.Service,
			w.Start.In(c.now.Location()).Format("Mon 02 Jan 15:04"), w.End().In(c.now.Location()).Format("15:04 MST"), w.Notified)
		if w.Override != "" {
			fmt.Fprintf(c.stdout, "overridden by %s: %s\n", w.Override, w.OverrideWhy)
		}
		return 0
	}
}

func cmdWindowCancel(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		if len(c.args) == 0 {
			return c.usage()
		}
		id, err := strconv.ParseUint(strings.TrimPrefix(c.args[0], "#"), 10, 64)
		if err != nil {
			return c.fail(usageError{fmt.Sprintf("%q is not a window number (desk window list shows them)", c.args[0])})
		}
		why := strings.Join(c.args[1:], " ")
		if why == "-" {
			if why, err = c.text("-", "why"); err != nil {
				return c.fail(err)
			}
		}
		w, err := c.st.CancelWindow(id, c.who, why)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "window %d of %s cancelled; subscribers told\n", w.ID, w.Service)
		return 0
	}
}

// ---- desk subscribers ----

func cmdSubscribers(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		subs, err := c.st.Subscribers()
		if err != nil {
			return c.fail(fmt.Errorf("reading the subscribers: %w", err))
		}
		if *asJSON {
			if subs == nil {
				subs = []store.Subscriber{}
			}
			// Tokens are the subscribers' own links: not for listing.
			for i := range subs {
				subs[i].Token = ""
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return c.done(enc.Encode(subs))
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ADDRESS\tSERVICES\tSTATE\tVIA")
		for _, s := range subs {
			state := "confirmed"
			switch {
			case !s.Left.IsZero():
				state = "left " + s.Left.In(c.now.Location()).Format("02 Jan")
			case len(s.Services) == 0:
				state = "awaiting confirmation"
			case len(s.Pending) > 0:
				state = "confirmed; more awaiting confirmation"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", truncate(termtext.Line(s.Address), 60), strings.Join(s.Services, ","), state, s.Via)
		}
		return c.done(tw.Flush())
	}
}

func cmdSubscribe(fs *flag.FlagSet) runFunc {
	services := fs.String("services", "", "services, comma-separated (default: all)")
	return func(c *call) int {
		if len(c.args) != 1 {
			return c.usage()
		}
		var names []string
		for n := range strings.SplitSeq(*services, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		s, err := c.st.Subscribe(c.args[0], names, "cli")
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "a confirmation link went to %s (for %s); nothing else is sent until it is followed\n", s.Address, strings.Join(s.Pending, ", "))
		return 0
	}
}
