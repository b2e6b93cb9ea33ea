package statuspage

import (
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

// countingSource counts the readings of the store.
type countingSource struct {
	Source
	reads atomic.Int64
}

func (c *countingSource) Probes() ([]store.ProbeState, error) {
	c.reads.Add(1)
	return c.Source.Probes()
}

// With CacheFor, a storm of visitors is served from one reading per
// interval, concurrent requests included; without it every request reads.
func TestSnapshotCache(t *testing.T) {
	f := newFixture(t)
	src := &countingSource{Source: f.st}
	h := New(src, Options{Title: "Desk status", URL: f.srv.URL, CacheFor: time.Hour, Logf: t.Logf})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range []string{"/", "/api/v2/summary.json", "/feed.atom"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
				if rec.Code != 200 {
					t.Errorf("%s: %d", p, rec.Code)
				}
			}
		}()
	}
	wg.Wait()
	if n := src.reads.Load(); n != 1 {
		t.Errorf("150 requests read the store %d times, want once", n)
	}
	// What changed is not shown until the interval is over.
	f.majorOutage(t, "Lookups fail.")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(rec.Body.String(), "Lookups fail.") {
		t.Error("a cached page shows what happened after it was read")
	}

	uncached := &countingSource{Source: f.st}
	h = New(uncached, Options{Title: "Desk status", URL: f.srv.URL, Logf: t.Logf})
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if n := uncached.reads.Load(); n != 3 {
		t.Errorf("without a cache, 3 requests read the store %d times", n)
	}
}
