package demomail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDemoShowsTheWholeLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := Start(ctx, Options{Every: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := store.Open(t.TempDir(), store.Options{Policy: slaengine.DefaultPolicy(slaengine.AlwaysOpen()),
		MailDomain: "desk.test", SupportAddress: "support@desk.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := mailin.New(d.Config(), st, mailin.Options{Organisations: d.Organisations(), MailDomain: "desk.test"})
	if err != nil {
		t.Fatal(err)
	}
	go svc.Run(ctx)

	// Wait for a reply to an acknowledgement and an out-of-office to land.
	var replied store.TicketID
	var ooo *store.Message
	waitFor(t, "a threaded reply and an out-of-office", func() bool {
		replied, ooo = 0, nil
		st.Tickets(func(tk store.Ticket) bool {
			h, _ := st.History(tk.ID)
			in := 0
			for _, e := range h {
				m := e.Message
				if m == nil || (e.Kind != store.EvMessageIn && e.Kind != store.EvCreated) {
					continue
				}
				in++
				if strings.HasPrefix(m.Subject, "Automatic reply") {
					ooo = m
				}
			}
			if in >= 2 {
				replied = tk.ID
			}
			return true
		})
		return replied != 0 && ooo != nil && len(d.Sent()) >= 10
	})
	if !ooo.Auto {
		t.Errorf("the out-of-office mail is not marked automatic: %+v", ooo)
	}
	for _, m := range d.Sent() {
		if m.InReplyTo == ooo.MessageID {
			t.Fatalf("the out-of-office mail was acknowledged: %+v", m)
		}
		if !m.Auto || !strings.HasPrefix(m.Subject, "[SD-") {
			t.Errorf("sent mail %q (auto %v) is not a tagged acknowledgement", m.Subject, m.Auto)
		}
	}
	// The Danish ISO-8859-1 mail, the HTML-only one and the attachment
	// arrive readable.
	var latin, latinSubject, html, att bool
	st.Tickets(func(tk store.Ticket) bool {
		latinSubject = latinSubject || strings.HasPrefix(tk.Subject, "Æblegrød på Ærø")
		h, _ := st.History(tk.ID)
		for _, e := range h {
			if m := e.Message; m != nil {
				latin = latin || strings.Contains(m.Body, "Fælles Medicinkort")
				html = html || (strings.Contains(m.Body, "- Affected: all regions") && !strings.Contains(m.Body, "<li>"))
				att = att || (len(m.Attachments) == 1 && m.Attachments[0].Name == "printer-log.txt")
			}
		}
		return true
	})
	if !latin || !latinSubject || !html || !att {
		t.Fatalf("latin1 body %v, latin1 subject %v, html %v, attachment %v", latin, latinSubject, html, att)
	}
}
