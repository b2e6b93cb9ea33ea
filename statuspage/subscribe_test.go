package statuspage

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

// link finds the status page's link of kind in a mail.
func link(t *testing.T, f *fixture, m store.OutMail, kind string) string {
	t.Helper()
	u := regexp.MustCompile(regexp.QuoteMeta(f.srv.URL+"/"+kind+"/") + `[0-9a-f]+`).FindString(m.Body)
	if u == "" {
		t.Fatalf("no %s link in %q:\n%s", kind, m.Subject, m.Body)
	}
	return u
}

// The whole round trip over HTTP: the form, the confirmation mail and its
// link, a notice with its unsubscribe link, and silence after it.
func TestSubscriptionRoundTrip(t *testing.T) {
	f := newFixture(t)
	const ann = "ann@example.org"
	res, body := f.post(t, "/subscribe", url.Values{"email": {" " + ann + " "}, "services": {"dsd"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Check your mail to confirm") || !strings.Contains(body, "<li>DSD</li>") {
		t.Fatalf("subscribe: %s\n%s", res.Status, body)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the answer naming the address may be cached: %q", cc)
	}
	mails := f.mailsTo(t, ann)
	if len(mails) != 1 || mails[0].Kind != "subscribe" {
		t.Fatalf("mails to %s: %+v", ann, mails)
	}
	// Nothing goes to an address before it confirms.
	plan := func(service string) {
		t.Helper()
		f.clk.Add(time.Minute)
		if _, err := f.st.PlanWindow("lena", store.Window{Service: service, Start: f.clk.Now().Add(72 * time.Hour), Duration: time.Hour, Description: "Upgrade"}, false); err != nil {
			t.Fatal(err)
		}
	}
	plan("DSD")
	if n := len(f.mailsTo(t, ann)); n != 1 {
		t.Fatalf("%d mails before confirming", n)
	}

	res, body = f.get(t, strings.TrimPrefix(link(t, f, mails[0], "confirm"), f.srv.URL))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Subscription confirmed") || !strings.Contains(body, "<li>DSD</li>") {
		t.Fatalf("confirm: %s\n%s", res.Status, body)
	}
	if _, page := f.get(t, "/"); strings.Contains(page, ann) {
		t.Error("the page shows a subscriber's address")
	}

	// A notice about DSD reaches ann, one about MitID does not.
	plan("MitID")
	plan("DSD")
	mails = f.mailsTo(t, ann)
	if len(mails) != 2 || mails[0].Kind != "window" || !strings.Contains(mails[0].Subject, "DSD") {
		t.Fatalf("mails after confirming: %+v", mails)
	}
	unsub := strings.TrimPrefix(link(t, f, mails[0], "unsubscribe"), f.srv.URL)
	if mails[0].Unsubscribe != f.srv.URL+unsub {
		t.Errorf("the notice's List-Unsubscribe link is %q, want the one in its text %q", mails[0].Unsubscribe, f.srv.URL+unsub)
	}
	// Opening the link (what a mail system's link scanner does too)
	// only asks; the button posts.
	res, body = f.get(t, unsub)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Stop the notices?") || !strings.Contains(body, `<form method="post" action="`+unsub+`">`) {
		t.Fatalf("unsubscribe link: %s\n%s", res.Status, body)
	}
	plan("DSD")
	if n := len(f.mailsTo(t, ann)); n != 3 {
		t.Fatalf("%d mails after only opening the unsubscribe link, want 3", n)
	}
	res, body = f.post(t, unsub, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Unsubscribed") {
		t.Fatalf("unsubscribe: %s\n%s", res.Status, body)
	}
	plan("DSD")
	if n := len(f.mailsTo(t, ann)); n != 3 {
		t.Fatalf("%d mails after unsubscribing, want still 3", n)
	}
	// A major incident does not reach ann either.
	f.majorOutage(t, "Lookups fail.")
	if n := len(f.mailsTo(t, ann)); n != 3 {
		t.Fatalf("%d mails after unsubscribing, want still 3", n)
	}

	// One-click unsubscribe (RFC 8058) posts to the same link.
	res, _ = f.post(t, strings.TrimPrefix(link(t, f, mails[0], "unsubscribe"), f.srv.URL), url.Values{"List-Unsubscribe": {"One-Click"}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("one-click unsubscribe: %s", res.Status)
	}
}

// Mistakes are said back in words with 400; a bad link is a 404 with
// the store's own explanation.
func TestSubscriptionErrors(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"email": {"not an address"}}, 400, "is not an e-mail address"},
		{url.Values{"email": {"Ann <ann@example.org>"}}, 400, "write it bare"},
		{url.Values{}, 400, "is not an e-mail address"},
		{url.Values{"email": {"ann@example.org"}, "services": {"Nope<b>"}}, 400, "There is no service &#34;Nope&lt;b&gt;&#34; here"},
	} {
		res, body := f.post(t, "/subscribe", c.form)
		if res.StatusCode != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%v: %s, want %d with %q\n%s", c.form, res.Status, c.code, c.want, body)
		}
	}
	// Straight to the handler: over a connection, the server lingers
	// half a second before it closes one whose body it did not read.
	big := url.Values{"email": {"ann@example.org"}, "services": {strings.Repeat("x", 10000)}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/subscribe", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than a subscription can be") {
		t.Errorf("a large form: %d\n%s", rec.Code, rec.Body)
	}
	if all, _ := f.st.OutboxAll(0); len(all) != 0 {
		t.Errorf("refused forms queued %d mails", len(all))
	}
	for _, p := range []string{"/confirm/0123456789abcdef", "/unsubscribe/nope", "/confirm/" + strings.Repeat("a", 100)} {
		res, body := f.get(t, p)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not one the desk sent") {
			t.Errorf("%s: %s\n%s", p, res.Status, body)
		}
	}
	// A stranger's address is not mailed without end.
	for i := range store.AskLimit + 1 {
		res, body := f.post(t, "/subscribe", url.Values{"email": {"Victim@example.org"}})
		if want := map[bool]int{true: 429, false: 200}[i == store.AskLimit]; res.StatusCode != want {
			t.Fatalf("request %d: %s, want %d\n%s", i+1, res.Status, want, body)
		}
	}
	if n := len(f.mailsTo(t, "victim@example.org")); n != store.AskLimit {
		t.Errorf("%d confirmation mails, want %d", n, store.AskLimit)
	}
	f.clk.Add(store.AskPer)
	if res, _ := f.post(t, "/subscribe", url.Values{"email": {"victim@example.org"}}); res.StatusCode != 200 {
		t.Errorf("an hour later: %s", res.Status)
	}

	// No service ticked: every service.
	res, body := f.post(t, "/subscribe", url.Values{"email": {"bo@example.org"}})
	if res.StatusCode != 200 || !strings.Contains(body, "<li>DSD</li>") || !strings.Contains(body, "<li>MitID</li>") {
		t.Errorf("no service ticked: %s\n%s", res.Status, body)
	}
}
