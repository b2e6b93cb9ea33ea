package mailin

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/statuspage"
	"github.com/deskhq/desk/store"
)

// A mail with the subject "subscribe DSD" is answered through SMTP with a
// confirmation link and made no ticket; following the link subscribes the
// sender; a mail that is not a request, or a reply on a ticket, is a
// ticket as always.
func TestSubscribeByMail(t *testing.T) {
	r := newRig(t, nil)
	r.st.SetDirectory(store.Directory{Services: []store.Service{{Name: "DSD"}, {Name: "Digital Post"}}, StatusURL: "http://status.desk.test"})
	r.deliver(mk("Ole <ole@aarhus.dk>", "Subscribe: Digital Post", "please"))
	r.deliver(mk("Kim <kim@kk.dk>", "subscribe", ""))
	r.deliver(mk("Ida <ida@kk.dk>", "Subscriber list broken", "The subscriber list in DSD is empty."))
	r.once()
	var subjects []string
	for _, tk := range r.tickets() {
		subjects = append(subjects, tk.Subject)
	}
	if !slices.Equal(subjects, []string{"Subscriber list broken"}) {
		t.Fatalf("tickets %q: want only the mail that is not a subscription request", subjects)
	}
	var confirm string
	link := regexp.MustCompile(`http://status\.desk\.test/confirm/([0-9a-f]+)`)
	for _, m := range r.sink.Sent() {
		if strings.Join(m.To, ",") == "ole@aarhus.dk" && strings.Contains(m.Subject, "Confirm your subscription to Digital Post") {
			if l := link.FindStringSubmatch(m.Body); l != nil {
				confirm = l[1]
			}
		}
	}
	if confirm == "" {
		t.Fatalf("no confirmation mail with a link reached ole@aarhus.dk through SMTP: %+v", r.sink.Sent())
	}
	sub, err := r.st.ConfirmSubscription(confirm)
	if err != nil || !slices.Equal(sub.Services, []string{"Digital Post"}) {
		t.Fatalf("confirm: %+v %v", sub, err)
	}
	subs, _ := r.st.Subscribers()
	for _, s := range subs {
		if s.Address == "kim@kk.dk" && (len(s.Pending) != 2 || len(s.Services) != 0) {
			t.Errorf("kim asked for every service and has not confirmed: %+v", s)
		}
	}
}

// The whole round trip with real parts: a subscription asked by mail, the
// confirmation through SMTP, its link followed on the status page over
// HTTP, a window notice through SMTP with the unsubscribe link (in the text
// and as List-Unsubscribe), the link's button posted, and no mail after.
func TestSubscriptionRoundTripThroughSMTP(t *testing.T) {
	r := newRig(t, nil)
	r.st.SetRoles(map[string]store.Role{"lena": store.RoleLead})
	var page http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) { page.ServeHTTP(w, q) }))
	defer srv.Close()
	page = statuspage.New(r.st, statuspage.Options{URL: srv.URL, Logf: t.Logf})
	r.st.SetDirectory(store.Directory{Services: []store.Service{{Name: "DSD"}}, StatusURL: srv.URL, Windows: store.WindowRules{}})
	const ole = "ole@aarhus.dk"
	mailsTo := func(kind string) []SentMail {
		var out []SentMail
		for _, m := range r.sink.Sent() {
			if strings.Join(m.To, ",") == ole && strings.Contains(m.Subject, kind) {
				out = append(out, m)
			}
		}
		return out
	}
	linkIn := func(m SentMail, kind string) string {
		t.Helper()
		l := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/` + kind + `/[0-9a-f]+`).FindString(m.Body)
		if l == "" {
			t.Fatalf("no %s link in %q:\n%s", kind, m.Subject, m.Body)
		}
		return l
	}
	plan := func() {
		t.Helper()
		r.clk.Add(time.Minute)
		if _, err := r.st.PlanWindow("lena", store.Window{Service: "DSD", Start: r.clk.Now().Add(72 * time.Hour), Duration: time.Hour, Description: "Index rebuild"}, false); err != nil {
			t.Fatal(err)
		}
		r.once() // the outbox goes out through SMTP
	}

	r.deliver(mk("Ole <"+ole+">", "subscribe DSD", ""))
	r.once()
	confirms := mailsTo("Confirm your subscription")
	if len(confirms) != 1 {
		t.Fatalf("%d confirmation mails through SMTP", len(confirms))
	}
	plan()
	if n := len(mailsTo("Planned maintenance")); n != 0 {
		t.Fatalf("%d notices before the link was followed", n)
	}
	res, err := http.Get(linkIn(confirms[0], "confirm"))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("confirm link: %v %v", res, err)
	}
	res.Body.Close()
	plan()
	notices := mailsTo("Planned maintenance")
	if len(notices) != 1 {
		t.Fatalf("%d notices after confirming, want 1", len(notices))
	}
	unsub := linkIn(notices[0], "unsubscribe")
	if h := Parse(notices[0].Raw, 0).Header.Get("List-Unsubscribe"); h != "<"+unsub+">" {
		t.Errorf("List-Unsubscribe %q, want <%s>", h, unsub)
	}
	res, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("unsubscribe: %v %v", res, err)
	}
	res.Body.Close()
	plan()
	if n := len(mailsTo("Planned maintenance")); n != 1 {
		t.Errorf("%d notices after unsubscribing, want still 1", n)
	}
}
