package mailin

import (
	"os"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// A bounce of our acknowledgement lands on the ticket whose mail bounced,
// as a delivery failure: automatic (no acknowledgement, no status or clock
// change), with the failure named. A bounce of mail this desk does not
// know is quarantined, not opened as a P3 with a running clock.
func TestBounceLandsOnTheTicketWhoseMailBounced(t *testing.T) {
	r := newRig(t, nil)
	r.deliver(mk("Jens Hansen <jens.hansen@kommune.example>", "Printer on floor 3 jams", "It jams."))
	r.once()
	acks := r.sink.Sent()
	if len(acks) != 1 {
		t.Fatalf("%d acks", len(acks))
	}
	raw, err := os.ReadFile("testdata/mails/bounce-postfix.eml")
	if err != nil {
		t.Fatal(err)
	}
	ackID := strings.Trim(acks[0].MessageID, "<>")
	r.deliver(strings.ReplaceAll(string(raw), "sd-42.7.3f9a1c2b7d4e@desk.test", ackID))
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("bounce: %+v", st)
	}
	ts := r.tickets()
	if len(ts) != 1 || ts[0].Status != store.StatusNew {
		t.Fatalf("%d tickets, SD-1 %s: want the bounce on SD-1, status unchanged", len(ts), ts[0].Status)
	}
	h := r.history(1)
	last := h[len(h)-1]
	if last.Kind != store.EvMessageIn || last.Message == nil || !last.Message.Auto || len(last.Message.Problems) == 0 ||
		!strings.Contains(last.Message.Problems[0], "delivery failed to jens.hansen@kommune.example (5.1.1)") {
		t.Fatalf("last event %+v", last)
	}
	if n := len(r.sink.Sent()); n != 1 {
		t.Fatalf("%d mails sent: a bounce is never answered", n)
	}
	// The same bounce of a mail we never sent.
	r.deliver(strings.ReplaceAll(string(raw), "20260302081407.4Zx1Y26kQbz3wXy@mail.desk.test", "other-bounce@mail.desk.test"))
	if st := r.once(); st.Quarantined != 1 || len(r.tickets()) != 1 {
		t.Fatalf("unknown bounce: %+v, %d tickets; want it quarantined", st, len(r.tickets()))
	}
	if n := len(r.sink.Sent()); n != 1 {
		t.Fatalf("%d mails sent after an unknown bounce", n)
	}
}
