// Package webhook delivers the webhook calls the store queued for
// escalation steps: a JSON POST per call, retried with backoff while the
// receiver is down or answers 5xx/429, given up on another 4xx (the URL
// or the payload is wrong, and retrying will not fix that).
package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/deskhq/desk/store"
)

// Sender posts due calls.
type Sender struct {
	St     *store.Store
	Client *http.Client // nil: one with a 10 s timeout
	Log    *log.Logger  // nil: log.Default()
	Now    func() time.Time
}

// retryAfter is the wait before attempt n+1: a minute doubling to an hour,
// so a receiver down for a night gets its calls within an hour of coming back.
func retryAfter(attempts int) time.Duration {
	d := time.Minute << min(attempts-1, 6)
	return min(d, time.Hour)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Flush makes every call that is due; it returns how many were delivered
// and the last error, if any.
func (s *Sender) Flush(ctx context.Context) (int, error) {
	due, err := s.St.HooksDue(s.now())
	if err != nil {
		return 0, fmt.Errorf("reading the webhook calls: %w", err)
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	lg := s.Log
	if lg == nil {
		lg = log.Default()
	}
	sent := 0
	var last error
	for _, h := range due {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		perm, err := post(ctx, client, h)
		switch {
		case err == nil:
			sent++
			err = s.St.RecordHook(h.ID, s.now(), "", false, time.Time{})
		case perm:
			lg.Printf("webhook: call %d for %s to %s refused, not retried: %v", h.ID, h.Ticket, h.URL, err)
			last = err
			err = s.St.RecordHook(h.ID, time.Time{}, err.Error(), true, time.Time{})
		default:
			next := s.now().Add(retryAfter(h.Attempts + 1))
			lg.Printf("webhook: call %d for %s to %s failed, next try %s: %v", h.ID, h.Ticket, h.URL, next.Format("15:04:05"), err)
			last = err
			err = s.St.RecordHook(h.ID, time.Time{}, err.Error(), false, next)
		}
		if err != nil {
			return sent, fmt.Errorf("recording webhook call %d: %w", h.ID, err)
		}
	}
	return sent, last
}

// post makes one call; perm says a retry cannot help.
func post(ctx context.Context, c *http.Client, h store.Hook) (perm bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(h.Body))
	if err != nil {
		return true, fmt.Errorf("the URL %q: %w", h.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "desk-webhook")
	req.Header.Set("X-Desk-Call", fmt.Sprint(h.ID)) // the same on a retry: receivers drop duplicates by it
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, nil
	case code == http.StatusTooManyRequests || code >= 500 || code == http.StatusRequestTimeout:
		return false, fmt.Errorf("the receiver answered %s", resp.Status)
	default:
		return true, fmt.Errorf("the receiver answered %s", resp.Status)
	}
}

// Run flushes every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
