package mailin

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// BenchmarkDovecotPush measures delivery → registered ticket against
// Dovecot's own IDLE push: for each mail delivered with doveadm, the time
// until a plain IDLE client hears EXISTS, the time until desk's intake has
// committed the ticket (the store's change feed fires), and what desk adds
// after the push reaches its own connection. Dovecot pushes to each IDLE
// session on its own timer (up to ~0.5 s apart), so the raw client and desk
// hear about the same mail at different moments; "after-push" is desk's
// own cost. The console adds its board batch (at most 30 ms) and one frame.
//
//	go test ./mailin -run XXX -bench DovecotPush -benchtime 20x
func BenchmarkDovecotPush(b *testing.B) {
	d := startDovecot(b)
	r := newRig(b, func(c *Config, _ *Options) { c.IMAP = d.config().IMAP })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := r.st.Watch(ctx)
	deskPush := make(chan time.Time, 16)
	r.svc.onPush = func() { deskPush <- time.Now() }
	go r.svc.Run(ctx)
	waitFor(b, "idle", func() bool { return r.svc.Status().State == "idle" })

	pushed := make(chan time.Time, 16)
	raw, err := imapclient.DialInsecure(d.addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					pushed <- time.Now()
				}
			},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Login("support", "secret").Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := raw.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	idle, err := raw.Idle()
	if err != nil {
		b.Fatal(err)
	}
	defer idle.Close()

	var rawLat, deskLat, after []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		d.save(b, mk(fmt.Sprintf("push%d@x.example", i), fmt.Sprintf("pushed %d", i), "x"))
		var tRaw, tDesk, tPush time.Time
		timeout := time.After(10 * time.Second)
		for tRaw.IsZero() || tDesk.IsZero() {
			select {
			case t := <-deskPush:
				if tPush.IsZero() {
					tPush = t
				}
			case t := <-pushed:
				if tRaw.IsZero() {
					tRaw = t
				}
			case <-changes:
				if tDesk.IsZero() {
					tDesk = time.Now()
				}
			case <-timeout:
				b.Fatalf("mail %d: raw push %v, desk %v", i, !tRaw.IsZero(), !tDesk.IsZero())
			}
		}
		rawLat = append(rawLat, tRaw.Sub(t0))
		deskLat = append(deskLat, tDesk.Sub(t0))
		if tPush.IsZero() {
			tPush = tRaw // not seen: count from the raw client's push, the pessimistic case
		}
		after = append(after, tDesk.Sub(tPush))
		// drain the ticket's other change (the ack bookkeeping) before the next mail
		time.Sleep(50 * time.Millisecond)
		for len(changes) > 0 {
			<-changes
		}
		for len(pushed) > 0 {
			<-pushed
		}
		for len(deskPush) > 0 {
			<-deskPush
		}
	}
	b.StopTimer()
	q := func(ds []time.Duration, p float64) float64 {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return float64(s[int(p*float64(len(s)-1))]) / 1e6
	}
	b.ReportMetric(q(rawLat, 0.5), "raw-push-p50-ms")
	b.ReportMetric(q(deskLat, 0.5), "desk-ticket-p50-ms")
	b.ReportMetric(q(deskLat, 0.95), "desk-ticket-p95-ms")
	b.ReportMetric(q(after, 0.5), "after-push-p50-ms")
	b.ReportMetric(q(after, 0.95), "after-push-p95-ms")
}
