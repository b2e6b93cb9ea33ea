package mailin

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

const releaseMail = "From: Jens Hansen <Jens.Hansen@Aarhus.dk>\r\n" +
	"To: support@desk.test\r\n" +
	"Subject: Re: [SD-9] Printer on floor 3 jams\r\n" +
	"Message-ID: <jam-1@aarhus.dk>\r\n" +
	"References: <older@aarhus.dk>\r\n" +
	"Date: not a date at all\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"It jams on every second page.\r\n" +
	"--b1\r\n" +
	"Content-Type: application/pdf\r\n" +
	"Content-Disposition: attachment; filename=\"jam.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n" +
	"--b1--\r\n"

// The acknowledgement without a Service is the one intake sends: same
// text, subject, recipients and threading for the same mail.
func TestAcknowledgementIsIntakes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st := openStore(t, t.TempDir(), clk)
	cfg := Config{Name: "Aarhus IT Service Desk"}.withDefaults()
	s := &Service{cfg: cfg, st: st, now: clk.Now, th: newThreader("", nil, "", "2nd-line")}
	p := Parse([]byte(releaseMail), 0)
	nt := s.th.newTicket(p.Msg, nil)
	nt.Priority = 2

	want := s.ack(p, nt)
	got := Acknowledgement(Config{Name: "Aarhus IT Service Desk"}, st.Policy(), nt, clk.Now())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Acknowledgement differs from intake's:\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(got.Body, "P2 (high)") || !strings.Contains(got.Body, "first response by Mon 2 Mar 2026 13:00") ||
		!strings.Contains(got.Body, "Dear Jens Hansen") || !strings.Contains(got.Body, store.TicketPlaceholder) {
		t.Fatalf("body:\n%s", got.Body)
	}
}

// A ticket registered by hand: no mail to thread under, so the subject is
// the ticket's; no address, no acknowledgement.
func TestAcknowledgementForAPhoneTicket(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st := openStore(t, t.TempDir(), clk)
	nt := store.NewTicket{Subject: "VPN \x1b[31mdown", Requester: store.Person{Name: "Anna", Email: "Anna@Example.org"},
		Message: &store.Message{Body: "called at 9", From: store.Person{Email: "Anna@Example.org"}}}
	a := Acknowledgement(Config{}, st.Policy(), &nt, clk.Now())
	if a == nil || a.Subject != "VPN [31mdown" || a.InReplyTo != "" || len(a.References) != 0 ||
		!reflect.DeepEqual(a.To, []string{"anna@example.org"}) || !a.Auto || a.Kind != "ack" {
		t.Fatalf("ack = %+v", a)
	}
	if !strings.Contains(a.Body, "P3 (medium)") || !strings.Contains(a.Body, "Service Desk") || strings.Contains(a.Body, "\x1b") {
		t.Fatalf("body:\n%q", a.Body)
	}
	nt.Ack = a
	tk, err := st.Create("mette", nt)
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.OutboxAll(0)
	if err != nil || len(out) != 1 {
		t.Fatalf("outbox: %v %+v", err, out)
	}
	if out[0].Ticket != tk.ID || !strings.Contains(out[0].Body, "ticket SD-1.") || !strings.HasPrefix(out[0].Subject, "[SD-1] VPN") {
		t.Fatalf("queued ack: %+v", out[0])
	}

	nt.Requester.Email = ""
	if a := Acknowledgement(Config{}, st.Policy(), &nt, clk.Now()); a != nil {
		t.Fatalf("no address, yet an acknowledgement: %+v", a)
	}
}

func TestReleaseTicket(t *testing.T) {
	orgs := []Organisation{{Name: "Aarhus Kommune", Domains: []string{"aarhus.dk"}}}
	nt, blobs := ReleaseTicket([]byte(releaseMail), "1st-line", ReleaseOptions{Organisations: orgs})
	if nt.Subject != "Re: Printer on floor 3 jams" || nt.Queue != "1st-line" || !nt.Inbound || nt.Priority != 3 || nt.Type != store.Incident {
		t.Fatalf("ticket: %+v", nt)
	}
	if nt.Requester != (store.Person{Name: "Jens Hansen", Email: "jens.hansen@aarhus.dk", Organisation: "Aarhus Kommune"}) {
		t.Fatalf("requester: %+v", nt.Requester)
	}
	m := nt.Message
	if m == nil || m.MessageID != "jam-1@aarhus.dk" || strings.TrimSpace(m.Body) != "It jams on every second page." {
		t.Fatalf("message: %+v", m)
	}
	if len(m.Problems) == 0 || !strings.Contains(strings.Join(m.Problems, "; "), "date") {
		t.Fatalf("the unreadable date is not among the problems: %q", m.Problems)
	}
	pdf, _ := base64.StdEncoding.DecodeString("JVBERi0xLjQKJcOkw7zDtsOfCg==")
	// A mail with problems also keeps its raw copy as original.eml.
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "jam.pdf" || !reflect.DeepEqual(blobs[m.Attachments[0].Blob], pdf) ||
		m.Attachments[1].Name != "original.eml" {
		t.Fatalf("attachment %+v, blobs %d", m.Attachments, len(blobs))
	}

	// Another tag prefix is removed too; a mail that cannot be read at all
	// still gives a ticket, with the problem named.
	nt, _ = ReleaseTicket([]byte("Subject: [HD-4] hello\r\n\r\nbody"), "q", ReleaseOptions{TagPrefix: "HD"})
	if nt.Subject != "hello" || nt.Requester.Email != "" || len(nt.Message.Problems) == 0 {
		t.Fatalf("tagged HD: %+v %q", nt, nt.Message.Problems)
	}
	nt, _ = ReleaseTicket([]byte("\x00\x01 not a mail"), "q", ReleaseOptions{})
	if nt.Subject != "(no subject)" || nt.Message == nil {
		t.Fatalf("garbage: %+v", nt)
	}
}
