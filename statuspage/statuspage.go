// Package statuspage serves the desk's public status page: how each
// service is doing now (operational, degraded, outage, maintenance), the
// open major incidents with the status updates the desk published, the
// planned service windows, 90 days of uptime per service, and a form to
// subscribe to a service's notices. The same facts go out as an Atom feed
// and as JSON in the shape of Atlassian Statuspage's API v2, so that
// existing dashboards and status aggregators read it without an adapter.
//
// The page is public and has no login, so it shows only what the desk
// chose to say in public: store.Published (the declaration, each status
// update as it was mailed to the subscribers, the end) and the planned
// windows. Ticket subjects, mail text, requesters, probe names and their
// error details are what people and machines told the desk, often with
// names, addresses and internal host names in them; none of it is read
// here, so none of it can leak through a template change. Subscriber
// addresses are never shown either: the only page that names one is the
// answer to the person who just typed it.
//
// The handler only reads, except for the three subscription routes, which
// go through the store's own operations (double opt-in, one link leaves).
package statuspage

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/deskhq/desk/store"
)

// Source is what the page reads and the three subscription writes it
// makes; *store.Store satisfies it. Naming it keeps the handler honest
// about what it touches: nothing here can reach a ticket.
type Source interface {
	Services() []store.Service
	Probes() ([]store.ProbeState, error)
	Uptime(key string, from time.Time) ([]store.DayCount, error)
	Published(since time.Time) ([]store.PublishedIncident, error)
	Windows(since time.Time) ([]store.Window, error)
	Subscribe(address string, services []string, via string) (store.Subscriber, error)
	ConfirmSubscription(token string) (store.Subscriber, error)
	Unsubscribe(token string) (store.Subscriber, error)
	SubscriberByToken(token string) (store.Subscriber, error)
	Now() time.Time
}

var _ Source = (*store.Store)(nil)

// Options configure the page.
type Options struct {
	// Title heads the page and names the feed ("" : "Service status").
	Title string
	// URL is the page's public address ("https://status.example.org",
	// maybe with a path when a proxy serves it under one). Feed ids and
	// the API's links are built from it, so it should not change; links
	// on the page use its path. Empty: taken from each request's Host,
	// which is only good enough for trying the desk out.
	URL string
	// Location is where times are shown (nil: UTC). Uptime days stay UTC
	// days, as the store counts them.
	Location *time.Location
	// Logf receives errors the visitor is only told about in general
	// terms (nil: log.Printf).
	Logf func(format string, args ...any)
	// CacheFor is how long one reading of the store serves every
	// request (0: each request reads). During a big outage everybody
	// refreshes the page at once; desk serve sets a couple of seconds,
	// so that a storm of visitors costs the desk one read per interval.
	CacheFor time.Duration
}

// Days of uptime shown per service.
const uptimeDays = 90

// recentFor is how long a resolved incident stays on the page, so that
// someone who was hit by it can still read how it ended.
const recentFor = 7 * 24 * time.Hour

// feedFor is how far back the feed reaches.
const feedFor = 30 * 24 * time.Hour

//go:embed assets
var assets embed.FS

var (
	styleCSS     = mustRead("assets/style.css")
	styleVersion = func() string { h := sha256.Sum256(styleCSS); return hex.EncodeToString(h[:6]) }()
)

func mustRead(name string) []byte {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

type handler struct {
	src   Source
	opt   Options
	base  string // opt.URL without its trailing slash
	path  string // base's path: the prefix of links on the page
	pages *template.Template
	mux   *http.ServeMux

	// The reading of the store that serves requests for opt.CacheFor;
	// mu also makes concurrent requests wait for one reading, not each
	// make their own.
	mu     sync.Mutex
	snap   *snapshot
	snapAt time.Time // wall clock
}

// New is the status page's handler.
func New(src Source, opt Options) http.Handler {
	opt.Title = cmp.Or(strings.TrimSpace(opt.Title), "Service status")
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Logf == nil {
		opt.Logf = log.Printf
	}
	h := &handler{src: src, opt: opt, base: strings.TrimRight(opt.URL, "/")}
	if u, err := url.Parse(h.base); err == nil {
		h.path = strings.TrimRight(u.Path, "/")
	}
	h.pages = template.Must(template.New("").Funcs(template.FuncMap{
		"when":   h.when,
		"day":    func(t time.Time) string { return t.UTC().Format("Mon 02 Jan 2006") },
		"pct":    pct,
		"label":  stateLabel,
		"link":   func(p string) string { return h.path + p },
		"css":    func() string { return h.path + "/style.css?v=" + styleVersion },
		"zone":   func() string { return opt.Location.String() },
		"span":   h.span,
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"newest": newest,
		"status": updateLabel,
	}).ParseFS(assets, "assets/*.html"))

	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", h.index)
	m.HandleFunc("GET /style.css", h.style)
	m.HandleFunc("GET /feed.atom", h.feed)
	m.HandleFunc("GET /api/v2/summary.json", h.summary)
	m.HandleFunc("GET /api/v2/status.json", h.status)
	m.HandleFunc("GET /api/v2/components.json", h.components)
	m.HandleFunc("POST /subscribe", h.subscribe)
	m.HandleFunc("GET /confirm/{token}", h.confirm)
	// The link in a mail shows a button; the button, and mail clients'
	// one-click unsubscribe (RFC 8058), post to the same address. A GET
	// changes nothing: link scanners of mail systems open every link.
	m.HandleFunc("GET /unsubscribe/{token}", h.askUnsubscribe)
	m.HandleFunc("POST /unsubscribe/{token}", h.unsubscribe)
	m.HandleFunc("/", h.notFound)
	h.mux = m
	return h
}

// csp allows the page's own stylesheet and form and nothing else: the
// page needs no script, so an injected one cannot run even if escaping
// ever failed.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	// Confirmation and unsubscribe links carry a token: no Referer may
	// take it to another site.
	hd.Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// baseURL is the page's absolute address for feed ids and API links.
func (h *handler) baseURL(r *http.Request) string {
	if h.base != "" {
		return h.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *handler) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.opt.Location).Format("Mon 02 Jan 2006 15:04 MST")
}

// span says a window's time: the end without its date when it ends the
// day it starts, as people write it.
func (h *handler) span(from, to time.Time) string {
	a, b := from.In(h.opt.Location), to.In(h.opt.Location)
	if a.Format("20060102") == b.Format("20060102") {
		return a.Format("Mon 02 Jan 2006 15:04") + "–" + b.Format("15:04 MST")
	}
	return h.when(from) + " to " + h.when(to)
}

// shortCache lets a crowd that reloads the page during an outage be
// served by caches for a moment without hiding news for long.
func shortCache(w http.ResponseWriter) { w.Header().Set("Cache-Control", "public, max-age=30") }

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

func (h *handler) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") == styleVersion {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	} else {
		shortCache(w)
	}
	w.Write(styleCSS)
}

// pageData is what every template gets.
type pageData struct {
	Title string
	*snapshot
	Subscribable []store.Service // for the subscribe form
	// Message pages.
	Heading string
	Lines   []string
	List    []string
	Error   bool
	// Button, when set, is a form posting to Action (a path on the page).
	Button, Action string
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	snap, err := h.load()
	if err != nil {
		h.unavailable(w, err)
		return
	}
	shortCache(w)
	h.render(w, http.StatusOK, "page.html", pageData{Title: h.opt.Title, snapshot: snap, Subscribable: h.src.Services()})
}

func (h *handler) render(w http.ResponseWriter, code int, name string, d pageData) {
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, d); err != nil {
		h.opt.Logf("status page: render %s: %v", name, err)
		http.Error(w, "The status page could not be shown. Try again in a minute.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, b.String())
}

// message is a page of a few sentences: the answers to the subscription
// routes and the errors.
func (h *handler) message(w http.ResponseWriter, code int, heading string, lines, list []string) {
	noStore(w)
	h.render(w, code, "message.html", pageData{Title: h.opt.Title, Heading: heading, Lines: lines, List: list, Error: code >= 400})
}

func (h *handler) unavailable(w http.ResponseWriter, err error) {
	h.opt.Logf("status page: %v", err)
	w.Header().Set("Retry-After", "30")
	h.message(w, http.StatusServiceUnavailable, "Status not available",
		[]string{"The status could not be read just now. Try again in a minute."}, nil)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, http.StatusNotFound, "Not found", []string{"There is no such page here."}, nil)
}
