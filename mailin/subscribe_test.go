package mailin

import (
	"regexp"
	"slices"
	"strings"
	"testing"

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
