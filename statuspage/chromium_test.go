package statuspage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskhq/desk/store"
)

// chromium is the browser to load the page in. Without one the test is
// skipped on a workstation, but fails on CI, which installs it: a
// browser test that silently never runs proves nothing.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DESK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium to load the status page in: apt-get install chromium (or set DESK_CHROMIUM to a Chrome binary)"
	if os.Getenv("CI") != "" {
		t.Fatal(why + "; CI must have it, so this fails there")
	}
	t.Skip(why)
	return ""
}

// browser is a fresh headless Chromium tab, closed with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// Root (as in CI containers) cannot start Chromium's sandbox; the
		// browser loads nothing but the test's loopback page.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // start it now, to fail clearly
		t.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// screenshot keeps what the browser showed: `go test -artifacts` keeps
// the directory (under the output directory), plain `go test` drops it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := run(t, ctx, chromedp.FullScreenshot(100))
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// The page in a real browser, at phone width: what a visitor sees during
// an outage of DSD is the published update, and never what the requester
// wrote, who they are, or what the probe is called. Then the subscribe
// form is filled in and sent as a visitor would.
func TestPageInChromium(t *testing.T) {
	f := newFixture(t)
	const update = "Lookups in the Data Service Directory fail; we are switching to the standby database."
	f.majorOutage(t, update)
	for range 2 {
		if _, err := f.st.RecordProbe(store.ProbeRule{Service: "DSD", Name: plantedProbe}, refused); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.PlanWindow("lena", store.Window{Service: "MitID", Start: f.clk.Now().Add(72 * time.Hour), Duration: 2 * time.Hour, Description: "Certificate rotation"}, false); err != nil {
		t.Fatal(err)
	}
	sub, err := f.st.Subscribe("subscriber@example.org", []string{"DSD"}, "page")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ConfirmSubscription(sub.Token); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(f.srv.URL+"/"))
	text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"Major incident: DSD", update, "We are investigating a major incident affecting DSD.", "Planned maintenance", "Certificate rotation", "Subscribe"} {
		if !strings.Contains(text, want) {
			t.Errorf("the browser does not show %q; it shows:\n%s", want, text)
		}
	}
	for _, secret := range []string{plantedSubject, plantedRequester, plantedAddress, plantedBody, plantedProbe, "10.0.0.7", "subscriber@example.org"} {
		if strings.Contains(text, secret) {
			t.Errorf("the browser shows %q", secret)
		}
	}
	states := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.service')].map(s => s.querySelector('h3').innerText + ': ' + s.querySelector('.state').innerText)`))
	if strings.Join(states, "; ") != "DSD: Outage; MitID: Operational" {
		t.Errorf("services as shown: %q", states)
	}
	// The newest update is read first.
	if i, j := strings.Index(text, update), strings.Index(text, "We are investigating"); i < 0 || j < i {
		t.Errorf("the newest update is not on top (%d, %d)", i, j)
	}
	// The stylesheet got through the Content-Security-Policy.
	if bg := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.banner')).backgroundColor`)); bg != "rgb(201, 60, 60)" {
		t.Errorf("the outage banner's colour is %q: is the stylesheet blocked?", bg)
	}
	// A phone gets no sideways scrolling, and 30 days of bars.
	if fits := run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !fits {
		t.Error("the page is wider than a 390 px phone")
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelector('.bars').children].filter(b => b.offsetWidth > 0).length`)); n != 30 {
		t.Errorf("%d bars shown on a phone, want 30", n)
	}
	screenshot(t, ctx, "status-page-phone.png")

	do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Reload())
	if n := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelector('.bars').children].filter(b => b.offsetWidth > 0).length`)); n != uptimeDays {
		t.Errorf("%d bars shown on a wide screen, want %d", n, uptimeDays)
	}
	screenshot(t, ctx, "status-page-wide.png")

	// Subscribe as a visitor does: type, tick, send.
	const eve = "eve@example.org"
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), eve),
		chromedp.Click(chromedp.CSS(`input[name="services"][value="DSD"]`)),
		chromedp.Submit(chromedp.CSS("form.subscribe")),
		chromedp.WaitVisible(chromedp.CSS("section.message")),
	)
	text = run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(text, "Check your mail to confirm") || !strings.Contains(text, "DSD") || strings.Contains(text, "MitID") {
		t.Errorf("after subscribing the browser shows:\n%s", text)
	}
	mails := f.mailsTo(t, eve)
	if len(mails) != 1 || mails[0].Kind != "subscribe" || mails[0].Subject != "Confirm your subscription to DSD" {
		t.Fatalf("mails to %s: %+v", eve, mails)
	}
	screenshot(t, ctx, "subscribed.png")

	// The subscriber of before leaves with the link of a notice: opening
	// it asks, the button ends it.
	if _, err := f.st.PlanWindow("lena", store.Window{Service: "DSD", Start: f.clk.Now().Add(96 * time.Hour), Duration: time.Hour, Description: "Index rebuild"}, false); err != nil {
		t.Fatal(err)
	}
	var unsub string
	for _, m := range f.mailsTo(t, "subscriber@example.org") {
		if m.Kind == "window" {
			unsub = m.Unsubscribe
		}
	}
	if unsub == "" {
		t.Fatal("the window notice to the subscriber has no unsubscribe link")
	}
	do(t, ctx, chromedp.Navigate(unsub), chromedp.WaitVisible(chromedp.CSS("section.message button")))
	if text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(text, "Stop the notices?") {
		t.Errorf("the unsubscribe link shows:\n%s", text)
	}
	if subs, _ := f.st.Subscribers(); !subscribed(subs, "subscriber@example.org") {
		t.Fatal("opening the unsubscribe link unsubscribed without the button")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("section.message button")), chromedp.WaitNotPresent(chromedp.CSS("section.message button")))
	if text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(text, "Unsubscribed") {
		t.Errorf("after the button the browser shows:\n%s", text)
	}
	if subs, _ := f.st.Subscribers(); subscribed(subs, "subscriber@example.org") {
		t.Error("still subscribed after the button")
	}
	screenshot(t, ctx, "unsubscribed.png")
}

func subscribed(subs []store.Subscriber, addr string) bool {
	for _, s := range subs {
		if s.Address == addr && len(s.Services) > 0 {
			return true
		}
	}
	return false
}
