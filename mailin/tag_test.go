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

// The whole loop with the install's key: the store tags the Message-ID of
// the acknowledgement, compose signs it, and a copy of it coming back into
// the mailbox (a Bcc to the support address, a forwarding loop) is
// recognised as our own and not imported; the same mail altered by a
// stranger is registered.
func TestOwnAcknowledgementComingBackIsSkipped(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	r := newRig(t, func(_ *Config, o *Options) { o.SelfKey = key })
	r.deliver(mk("Søren <soren@aarhus.dk>", "login", "MitID error"))
	r.once()
	acks := r.sink.Sent()
	if len(acks) != 1 || !ValidMessageID(key, strings.Trim(acks[0].MessageID, "<>"), "desk.test") {
		t.Fatalf("ack %+v: want one with a tagged Message-ID", acks)
	}
	r.deliver(string(acks[0].Raw))
	if st := r.once(); st.Registered != 0 || len(r.tickets()) != 1 {
		t.Fatalf("our own ack came back and was registered: %+v", st)
	}
	// A stranger's mail in our Message-ID form, with our loop header.
	forged := strings.Replace(string(acks[0].Raw), strings.Trim(acks[0].MessageID, "<>"), "sd-1.99.abcdef123456@desk.test", 1)
	r.deliver(forged)
	if st := r.once(); st.Registered != 1 {
		t.Fatalf("a mail that only looks like ours was not registered: %+v", st)
	}
}
