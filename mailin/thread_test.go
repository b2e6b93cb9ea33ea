package mailin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

func setStatus(t *testing.T, r *rig, id store.TicketID, to store.Status) {
	t.Helper()
	var err error
	if to == store.StatusResolved {
		// Mailed to the requester, as the table wants: the tests count
		// only automatic mail (acknowledgements) in the sink.
		_, _, err = r.st.Resolve(id, "op", "resolved in the test")
	} else {
		_, err = r.st.Update(id, "op", func(tk store.Ticket) ([]store.Event, error) {
			return []store.Event{{Kind: store.EvStatus, From: string(tk.Status), To: string(to)}}, nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestThreading(t *testing.T) {
	orgs := []Organisation{{Name: "Aarhus Kommune", Domains: []string{"aarhus.dk"}}}
	cases := []struct {
		name   string
		status store.Status // status of SD-1 before the reply
		closed string       // closed_reply
		reply  func(ack SentMail) string
		// want: ticket that gets the reply (0: a new ticket), its status,
		// and the link a new ticket must carry.
		onto    store.TicketID
		status2 store.Status
		link    store.LinkKind
	}{
		{"tag from requester", store.StatusOpen, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: [SD-1] login", "more")
		}, 1, store.StatusOpen, ""},
		{"tag from a colleague in the same organisation", store.StatusOpen, "", func(a SentMail) string {
			return mk("mette@aarhus.dk", "Re: [sd-1] login", "me too")
		}, 1, store.StatusOpen, ""},
		{"tag from a stranger is a new linked ticket", store.StatusOpen, "", func(a SentMail) string {
			return mk("mallory@evil.example", "Re: [SD-1] login", "let me in")
		}, 0, "", "related"},
		{"references", store.StatusOpen, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: login", "x", "References: <other@x> <"+a.MessageID+">")
		}, 1, store.StatusOpen, ""},
		{"in-reply-to the original mail", store.StatusOpen, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "again", "x", "In-Reply-To: <orig@aarhus.dk>")
		}, 1, store.StatusOpen, ""},
		{"waiting resumes", store.StatusWaiting, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: [SD-1] login", "answer")
		}, 1, store.StatusOpen, ""},
		{"resolved reopens", store.StatusResolved, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: [SD-1] login", "not fixed")
		}, 1, store.StatusOpen, ""},
		{"out-of-office on a resolved ticket changes nothing", store.StatusResolved, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Autosvar: [SD-1] login", "I am away", "Auto-Submitted: auto-replied")
		}, 1, store.StatusResolved, ""},
		{"auto-reply to a waiting ticket keeps it waiting", store.StatusWaiting, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Out of office: [SD-1] login", "away", "Auto-Submitted: auto-replied")
		}, 1, store.StatusWaiting, ""},
		{"auto-reply on a closed ticket starts nothing", store.StatusClosed, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Auto: [SD-1] login", "away", "Precedence: auto_reply", "X-Autoreply: yes", "Auto-Submitted: auto-replied")
		}, 1, store.StatusClosed, ""},
		{"closed opens a follow-up", store.StatusClosed, "", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: [SD-1] login", "again broken")
		}, 0, "", "follow-up"},
		{"closed reopens when configured", store.StatusClosed, "reopen", func(a SentMail) string {
			return mk("soren@aarhus.dk", "Re: [SD-1] login", "again broken")
		}, 1, store.StatusOpen, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, func(cfg *Config, o *Options) { cfg.ClosedReply = c.closed; o.Organisations = orgs })
			r.deliver(mk("Søren <soren@aarhus.dk>", "login", "MitID error", "Message-ID: <orig@aarhus.dk>"))
			r.once()
			if c.status != store.StatusOpen {
				if c.status == store.StatusClosed {
					setStatus(t, r, 1, store.StatusResolved)
				}
				setStatus(t, r, 1, c.status)
			} else {
				setStatus(t, r, 1, store.StatusOpen)
			}
			acks := r.sink.Sent()
			if len(acks) != 1 {
				t.Fatalf("%d acks", len(acks))
			}
			r.deliver(c.reply(acks[0]))
			if st := r.once(); st.Registered != 1 {
				t.Fatalf("reply: %+v", st)
			}
			ts := r.tickets()
			if c.onto != 0 {
				if len(ts) != 1 || r.messagesIn(1) != 2 {
					t.Fatalf("%d tickets, %d messages on SD-1; want the reply on SD-1", len(ts), r.messagesIn(1))
				}
				if ts[0].Status != c.status2 {
					t.Fatalf("SD-1 status %s, want %s", ts[0].Status, c.status2)
				}
				if n := len(autoSent(r)); n != 1 {
					t.Fatalf("%d automatic mails sent: a threaded reply is not acknowledged again", n)
				}
				return
			}
			if len(ts) != 2 || r.messagesIn(1) != 1 {
				t.Fatalf("%d tickets, %d messages on SD-1; want a new ticket", len(ts), r.messagesIn(1))
			}
			if !slices.Contains(ts[1].Links, store.Link{Kind: c.link, To: 1}) {
				t.Fatalf("new ticket links %+v, want %s → SD-1", ts[1].Links, c.link)
			}
			if strings.Contains(ts[1].Subject, "SD-1") {
				t.Fatalf("new ticket subject %q carries the other ticket's tag", ts[1].Subject)
			}
		})
	}
}

func TestClosedReject(t *testing.T) {
	r := newRig(t, func(cfg *Config, _ *Options) { cfg.ClosedReply = "reject" })
	r.deliver(mk("soren@aarhus.dk", "login", "x"))
	r.once()
	setStatus(t, r, 1, store.StatusResolved)
	setStatus(t, r, 1, store.StatusClosed)
	r.deliver(mk("soren@aarhus.dk", "Re: [SD-1] login", "again"))
	st := r.once()
	if st.Quarantined != 1 || len(r.tickets()) != 1 || r.messagesIn(1) != 1 {
		t.Fatalf("%+v: want the mail quarantined, SD-1 untouched", st)
	}
	sent := autoSent(r)
	if len(sent) != 2 || !strings.Contains(sent[1].Body, "closed") {
		t.Fatalf("want an ack and a rejection, got %d automatic mails", len(sent))
	}
}

func TestUnknownSenderRedirect(t *testing.T) {
	r := newRig(t, func(cfg *Config, o *Options) {
		cfg.UnknownSenders = "redirect"
		cfg.RedirectText = "Please contact your first-level support."
		o.Organisations = []Organisation{{Name: "Gent", Domains: []string{"stad.gent"}, Addresses: []string{"partner@gmail.example"}}}
	})
	r.deliver(mk("stranger@else.example", "hello", "x"))
	r.deliver(mk("pieter@stad.gent", "known domain", "x"))
	r.deliver(mk("partner@gmail.example", "known address", "x"))
	r.deliver(mk("mailer-daemon@else.example", "bounce from unknown", "x"))
	st := r.once()
	if st.Registered != 2 || st.Quarantined != 2 {
		t.Fatalf("%+v, want 2 registered and 2 held", st)
	}
	q, _ := r.st.QuarantineList()
	if len(q) != 2 {
		t.Fatalf("quarantine %d", len(q))
	}
	var redirects int
	for _, m := range r.sink.Sent() {
		if strings.Contains(m.Body, "first-level support") {
			redirects++
			if m.To[0] != "stranger@else.example" {
				t.Errorf("redirect to %v", m.To)
			}
		}
	}
	if redirects != 1 {
		t.Fatalf("%d redirect answers, want 1 (none to the bounce)", redirects)
	}
	if ts := r.tickets(); ts[0].Requester.Organisation != "Gent" {
		t.Errorf("requester organisation %q", ts[0].Requester.Organisation)
	}
}

func TestLoopProtection(t *testing.T) {
	cases := []struct {
		name, from string
		headers    []string
	}{
		{"auto-submitted auto-replied", "a@x.example", []string{"Auto-Submitted: auto-replied"}},
		{"auto-submitted auto-generated", "a@x.example", []string{"Auto-Submitted: auto-generated; type=x"}},
		{"precedence bulk", "a@x.example", []string{"Precedence: bulk"}},
		{"precedence junk", "a@x.example", []string{"Precedence: junk"}},
		{"precedence list", "a@x.example", []string{"Precedence: list"}},
		{"list-id", "a@x.example", []string{"List-Id: <users.lists.example>"}},
		{"list-unsubscribe", "a@x.example", []string{"List-Unsubscribe: <mailto:leave@lists.example>"}},
		{"x-loop", "a@x.example", []string{"X-Loop: helpdesk@other.example"}},
		{"other desk's loop header", "a@x.example", []string{"X-Desk-Loop: support@other.example"}},
		{"x-auto-response-suppress all", "a@x.example", []string{"X-Auto-Response-Suppress: All"}},
		{"x-auto-response-suppress autoreply", "a@x.example", []string{"X-Auto-Response-Suppress: DR, AutoReply"}},
		{"empty return path", "a@x.example", []string{"Return-Path: <>"}},
		{"mailer-daemon", "MAILER-DAEMON@x.example", nil},
		{"postmaster", "postmaster@x.example", nil},
		{"noreply", "no-reply@x.example", nil},
		{"our own address", "support@desk.test", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.deliver(mk(c.from, "hello "+c.name, "x", c.headers...))
			st := r.once()
			if st.Registered != 1 {
				t.Fatalf("%+v: an automatic mail is still registered", st)
			}
			if n := len(r.sink.Sent()); n != 0 {
				t.Fatalf("%d mails sent in answer to %s", n, c.name)
			}
			h := r.history(1)
			if h[0].Created == nil && (len(h) < 2 || h[1].Message == nil) {
				t.Fatalf("no message on the ticket")
			}
		})
	}
	// The control: the same mail without those headers is answered, and
	// "Auto-Submitted: no" is a person.
	for _, hs := range [][]string{nil, {"Auto-Submitted: no"}} {
		r := newRig(t, nil)
		r.deliver(mk("a@x.example", "hello", "x", hs...))
		r.once()
		if n := len(r.sink.Sent()); n != 1 {
			t.Fatalf("headers %v: %d acks, want 1", hs, n)
		}
	}
}

func TestAutoMailsPerDayLimit(t *testing.T) {
	r := newRig(t, func(cfg *Config, _ *Options) { cfg.AutoPerDay = 3 })
	for i := range 5 {
		r.deliver(mk("busy@x.example", fmt.Sprintf("problem %d", i), "x"))
	}
	r.deliver(mk("calm@x.example", "one problem", "x"))
	if st := r.once(); st.Registered != 6 {
		t.Fatalf("%+v", st)
	}
	per := map[string]int{}
	for _, m := range r.sink.Sent() {
		per[m.To[0]]++
	}
	if per["busy@x.example"] != 3 || per["calm@x.example"] != 1 {
		t.Fatalf("acks per sender %v, want busy 3 (the limit), calm 1", per)
	}
	// A day later the sender gets acknowledgements again.
	r.clk.Add(25 * 60 * 60 * 1e9)
	r.deliver(mk("busy@x.example", "next day", "x"))
	r.once()
	if n := len(r.sink.Sent()); n != 5 {
		t.Fatalf("%d mails after a day, want 5", n)
	}
}

// autoSent is the automatic mail the sink received (acknowledgements,
// rejections), without the resolutions operators sent.
func autoSent(r *rig) []SentMail {
	var out []SentMail
	for _, m := range r.sink.Sent() {
		if m.Auto {
			out = append(out, m)
		}
	}
	return out
}
