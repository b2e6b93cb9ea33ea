package mailin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// firstMessage is the first inbound message on a ticket.
func (r *rig) firstMessage(id store.TicketID) *store.Message {
	r.t.Helper()
	for _, e := range r.history(id) {
		if e.Message != nil {
			return e.Message
		}
	}
	r.t.Fatalf("ticket %s has no message", id)
	return nil
}

// TestBrokenBoundaryMailIsReadable: a mail whose boundary is wrong is
// registered with its text as received and the raw mail as original.eml
// in the store, not with an empty body.
func TestBrokenBoundaryMailIsReadable(t *testing.T) {
	r := newRig(t, nil)
	raw := string(readMail(t, "broken-boundary.eml"))
	r.deliver(raw)
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("stats %+v", st)
	}
	m := r.firstMessage(1)
	if !strings.Contains(m.Body, "text in the wrong boundary") {
		t.Fatalf("body %q, want the text as received", m.Body)
	}
	var blob string
	for _, a := range m.Attachments {
		if a.Name == "original.eml" {
			blob = a.Blob
		}
	}
	if blob == "" {
		t.Fatalf("attachments %+v: no original.eml", m.Attachments)
	}
	b, err := r.st.Blob(blob)
	if err != nil || !bytes.Equal(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll([]byte(raw), []byte("\r\n"), []byte("\n"))) {
		t.Fatalf("original.eml in the store: %q, %v", b, err)
	}
}
