package mailin

import (
	"strings"
	"testing"
)

// With another tag_prefix the acknowledgement carries that tag, and a
// reply that keeps only the tag (no In-Reply-To) threads back by it.
func TestTagPrefixThreads(t *testing.T) {
	r := newRig(t, func(cfg *Config, _ *Options) { cfg.TagPrefix = "HD" })
	r.deliver(mk("Søren <soren@aarhus.dk>", "login", "MitID error"))
	r.once()
	acks := r.sink.Sent()
	if len(acks) != 1 {
		t.Fatalf("%d acks", len(acks))
	}
	if !strings.Contains(acks[0].Subject, "[HD-1]") || strings.Contains(acks[0].Subject, "SD-") {
		t.Fatalf("ack subject %q, want the [HD-1] tag only", acks[0].Subject)
	}
	if !strings.Contains(acks[0].Body, "HD-1") {
		t.Errorf("ack body names the ticket otherwise: %q", acks[0].Body)
	}
	r.deliver(mk("soren@aarhus.dk", "Re: [HD-1] login", "still broken"))
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("reply: %+v", st)
	}
	if n := len(r.tickets()); n != 1 || r.messagesIn(1) != 2 {
		t.Fatalf("%d tickets, %d messages on ticket 1: the reply did not thread by its tag", n, r.messagesIn(1))
	}
}
