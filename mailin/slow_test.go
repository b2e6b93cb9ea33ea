package mailin

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// throttle is a loopback TCP proxy that passes what the server sends at
// most rate bytes a second (what the client sends goes at once): a slow
// mailbox on a real socket.
type throttle struct {
	addr string
	sent atomic.Int64 // server-to-client bytes passed so far
}

func startThrottle(t testing.TB, upstream string, rate int) *throttle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &throttle{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				const tick = 10 * time.Millisecond
				buf := make([]byte, rate/100)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
						p.sent.Add(int64(n))
						time.Sleep(tick)
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// TestSlowMailboxCommitsEverySecond: on a mailbox read at 300 KB/s, mail
// is committed (registered, synced, checkpoint saved) about every second,
// not only once a whole chunk of 100 mails has arrived: the checkpoint
// moves while the single FETCH of all 45 mails is still streaming in, so a
// process killed every second or so still makes progress.
func TestSlowMailboxCommitsEverySecond(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a mailbox at 300 KB/s for about 4 s; skipped with -short")
	}
	r := newRig(t, nil)
	total := 0
	for i := range 45 {
		m := mk(fmt.Sprintf("user%d@x.example", i), fmt.Sprintf("slow %d", i), strings.Repeat(fmt.Sprintf("line %d of a long mail\n", i), 1100))
		total += len(m)
		r.deliver(m)
	}
	slow := startThrottle(t, r.im.Addr, 300<<10)
	cfg := r.cfg
	cfg.IMAP = "imap://support@" + slow.addr + "/INBOX"
	svc, err := New(cfg, r.st, r.opt)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := svc.Once(context.Background())
		done <- err
	}()
	var firstAt int64 = -1
	var cpUID uint32
	for firstAt < 0 {
		select {
		case err := <-done:
			t.Fatalf("Once ended (%v) before any checkpoint was seen", err)
		case <-time.After(20 * time.Millisecond):
		}
		cp, err := r.st.Checkpoint(svc.box)
		if err != nil {
			t.Fatal(err)
		}
		if cp.LastUID > 0 {
			firstAt, cpUID = slow.sent.Load(), cp.LastUID
		}
	}
	if firstAt >= int64(total) {
		t.Fatalf("the first checkpoint (UID %d) came after the whole mailbox (%d of %d bytes) had arrived", cpUID, firstAt, total)
	}
	t.Logf("first commit covered %d mails, after %d of %d bytes", cpUID, firstAt, total)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := countTickets(r); n != 45 {
		t.Fatalf("%d tickets, want 45", n)
	}
	if cp, _ := r.st.Checkpoint(svc.box); cp.LastUID != 45 {
		t.Fatalf("final checkpoint %+v", cp)
	}
}
