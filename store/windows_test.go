package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func windowStore(t *testing.T) (*Store, *testClock) {
	s, clk := newTestStore(t)
	s.SetRoles(map[string]Role{"lena": RoleLead, "olga": RoleOperator, "vic": RoleViewer})
	s.SetDirectory(Directory{
		Services:  []Service{{Name: "DSD", Subscribers: []string{"spoc@aarhus.dk"}}},
		StatusURL: "https://status.desk.test",
		Windows:   DefaultWindowRules(time.UTC),
	})
	return s, clk
}

// Borger.dk's rules: a 2 h window 3 days ahead, 4 h 7 days, 7 h 21 days,
// within 00:00-07:00; a lead may override, and it is recorded.
func TestWindowNoticeRules(t *testing.T) {
	s, clk := windowStore(t)
	now := clk.Now() // Mon 2 Mar 2026 09:00 UTC
	day := func(d int, h int) time.Time { return time.Date(2026, 3, 2+d, h, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name  string
		start time.Time
		dur   time.Duration
		why   string // "" allowed
	}{
		{"2h 4 days ahead", day(4, 1), 2 * time.Hour, ""},
		{"2h 2 days ahead", day(2, 1), 2 * time.Hour, "announced 3 days ahead"},
		{"3h 4 days ahead", day(4, 1), 3 * time.Hour, "up to 4 h is announced 7 days ahead"},
		{"4h 8 days ahead", day(8, 0), 4 * time.Hour, ""},
		{"7h 22 days ahead", day(22, 0), 7 * time.Hour, ""},
		{"7h 20 days ahead", day(20, 0), 7 * time.Hour, "21 days ahead"},
		{"8h", day(30, 0), 8 * time.Hour, "at most 7 h"},
		{"outside hours", day(10, 6), 2 * time.Hour, "within 00:00-07:00"},
		{"daytime", day(10, 12), time.Hour, "within 00:00-07:00"},
	} {
		_, err := s.PlanWindow("olga", Window{Service: "DSD", Start: c.start, Duration: c.dur, Description: "database upgrade"}, false)
		switch {
		case c.why == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.why != "" && (err == nil || !strings.Contains(err.Error(), c.why)):
			t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.why)
		}
	}
	// The override: refused to an operator, allowed to a lead and recorded.
	late := Window{Service: "DSD", Start: now.Add(26 * time.Hour), Duration: 2 * time.Hour, Description: "urgent security patch"}
	if _, err := s.PlanWindow("olga", late, true); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "only a lead") {
		t.Errorf("an operator's override: %v, want refused (leads only)", err)
	}
	if _, err := s.PlanWindow("vic", late, false); !errors.Is(err, ErrRefused) {
		t.Errorf("a viewer planned a window: %v", err)
	}
	w, err := s.PlanWindow("lena", late, true)
	if err != nil || w.Override != "lena" || !strings.Contains(w.OverrideWhy, "3 days ahead") {
		t.Fatalf("a lead's override: %+v %v", w, err)
	}
	ws, err := s.Windows(now)
	if err != nil || len(ws) != 4 || !ws[0].Start.Equal(late.Start) {
		t.Fatalf("windows %+v %v: want the 4 planned, the override first", ws, err)
	}
}

// A window is announced to the service's subscribers in the same write,
// each with a link that unsubscribes; a cancelled one is announced too.
func TestWindowAnnouncedToSubscribers(t *testing.T) {
	s, clk := windowStore(t)
	sub, err := s.Subscribe("ops@kk.dk", []string{"dsd"}, "page")
	if err != nil || len(sub.Pending) != 1 || sub.Pending[0] != "DSD" {
		t.Fatalf("subscribe: %+v %v", sub, err)
	}
	if _, err := s.ConfirmSubscription(sub.Token); err != nil {
		t.Fatal(err)
	}
	w, err := s.PlanWindow("olga", Window{Service: "DSD", Start: clk.Now().Add(4 * 24 * time.Hour).Truncate(24 * time.Hour).Add(time.Hour),
		Duration: 2 * time.Hour, Description: "database upgrade; searches fail meanwhile"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if w.Notified != 2 {
		t.Errorf("announced to %d, want 2 (the configured contact and the confirmed subscriber)", w.Notified)
	}
	if _, err := s.CancelWindow(w.ID, "olga", "the upgrade moved to April"); err != nil {
		t.Fatal(err)
	}
	mails, err := s.OutboxAll(100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, m := range mails {
		if m.Kind == "window" {
			if !strings.Contains(m.Body, "https://status.desk.test/unsubscribe/") {
				t.Errorf("window mail to %v has no unsubscribe link:\n%s", m.To, m.Body)
			}
			got[m.To[0]] = append(got[m.To[0]], m.Subject)
		}
	}
	for _, a := range []string{"spoc@aarhus.dk", "ops@kk.dk"} {
		cancelled := 0
		for _, subj := range got[a] {
			if strings.HasPrefix(subj, "Cancelled: ") {
				cancelled++
			}
		}
		if len(got[a]) != 2 || cancelled != 1 {
			t.Errorf("%s got %v, want the announcement and the cancellation", a, got[a])
		}
	}
}

// Double opt-in: nothing but the confirmation reaches an address until its
// link is followed; the unsubscribe link in a notice ends it, also for a
// configured contact; a made-up token is refused.
func TestSubscriptionRoundTrip(t *testing.T) {
	s, _ := windowStore(t)
	if _, err := s.Subscribe("not an address", nil, "page"); err == nil {
		t.Error("a malformed address was accepted")
	}
	if _, err := s.Subscribe("a@b.dk", []string{"nope"}, "page"); err == nil || !strings.Contains(err.Error(), "DSD") {
		t.Errorf("an unknown service: %v, want a refusal naming the services", err)
	}
	sub, err := s.Subscribe("ops@kk.dk", nil, "page")
	if err != nil {
		t.Fatal(err)
	}
	tk := mustCreate(t, s, NewTicket{Priority: 1, Service: "DSD", Subject: "DSD down", Requester: Person{Email: "r@kk.dk"}})
	recipients := func(kind string) map[string]string {
		mails, err := s.OutboxAll(1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range mails {
			if m.Kind == kind {
				out[m.To[0]] = m.Body
			}
		}
		return out
	}
	if got := recipients("major"); got["ops@kk.dk"] != "" || got["spoc@aarhus.dk"] == "" {
		t.Fatalf("major-incident mail before confirmation went to %v: want the configured contact only", keys(got))
	}
	if !strings.Contains(recipients("subscribe")["ops@kk.dk"], "https://status.desk.test/confirm/"+sub.Token) {
		t.Fatal("the confirmation mail has no confirmation link")
	}
	if _, err := s.ConfirmSubscription("deadbeef"); !errors.Is(err, ErrUnknownLink) {
		t.Errorf("a made-up token: %v", err)
	}
	if _, err := s.ConfirmSubscription(sub.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PostUpdate(tk.ID, "olga", "Failover under way."); err != nil {
		t.Fatal(err)
	}
	body := recipients("major")["ops@kk.dk"]
	if !strings.Contains(body, "Failover under way.") || !strings.Contains(body, "/unsubscribe/"+sub.Token) {
		t.Fatalf("the update to the confirmed subscriber:\n%s", body)
	}
	// The configured contact leaves with the link in its mail.
	spoc := recipients("major")["spoc@aarhus.dk"]
	i := strings.Index(spoc, "/unsubscribe/")
	if i < 0 {
		t.Fatalf("the configured contact's mail has no unsubscribe link:\n%s", spoc)
	}
	token := strings.Fields(spoc[i+len("/unsubscribe/"):])[0]
	for _, tok := range []string{token, sub.Token} {
		if _, err := s.Unsubscribe(tok); err != nil {
			t.Fatal(err)
		}
	}
	before := len(mustOutbox(t, s))
	if _, err := s.PostUpdate(tk.ID, "olga", "Still on it."); err != nil {
		t.Fatal(err)
	}
	if after := len(mustOutbox(t, s)); after != before {
		t.Errorf("%d mails queued after both left, want none", after-before)
	}
}

func mustOutbox(t *testing.T, s *Store) []OutMail {
	t.Helper()
	m, err := s.OutboxAll(1000)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Confirmation mails to one address are capped whoever asks (page, mail,
// CLI) and however often the desk restarts: the count is in the store.
func TestSubscribeConfirmationCap(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	open := func() *Store {
		s := openTest(t, dir, clk, testPolicy())
		s.SetDirectory(Directory{Services: []Service{{Name: "DSD"}}, StatusURL: "https://status.desk.test"})
		return s
	}
	s := open()
	for i, via := range []string{"page", "mail", "cli"} {
		if _, err := s.Subscribe("victim@example.org", nil, via); err != nil {
			t.Fatalf("ask %d (%s): %v", i+1, via, err)
		}
	}
	s.Close()
	s = open()
	if _, err := s.Subscribe("Victim@example.org", nil, "page"); !errors.Is(err, ErrTooManyAsks) || !errors.Is(err, ErrRefused) {
		t.Fatalf("a fourth ask within the hour, after a restart: %v, want ErrTooManyAsks", err)
	}
	all, _ := s.OutboxAll(0)
	if len(all) != AskLimit {
		t.Errorf("%d confirmation mails queued, want %d", len(all), AskLimit)
	}
	clk.Add(AskPer)
	if _, err := s.Subscribe("victim@example.org", nil, "page"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}
