package store

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/deskhq/desk/slaengine"
)

// testClock is a settable clock; tests move it by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testPolicy is the default policy on a 24x7 calendar, so due times are
// plain arithmetic.
func testPolicy() slaengine.Policy { return slaengine.DefaultPolicy(slaengine.AlwaysOpen()) }

func openTest(t testing.TB, dir string, clk *testClock, p slaengine.Policy) *Store {
	t.Helper()
	s, err := Open(dir, Options{
		Policy: p, Holder: "desk test", MailDomain: "desk.test",
		SupportAddress: "support@desk.test", Now: clk.Now,
	})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTestStore(t testing.TB) (*Store, *testClock) {
	clk := newClock()
	return openTest(t, t.TempDir(), clk, testPolicy()), clk
}

func mustCreate(t testing.TB, s *Store, nt NewTicket) Ticket {
	t.Helper()
	tk, err := s.Create("alice", nt)
	if err != nil {
		t.Fatalf("create %+v: %v", nt, err)
	}
	return tk
}

func events(evs ...Event) func(Ticket) ([]Event, error) {
	return func(Ticket) ([]Event, error) { return evs, nil }
}

func mustUpdate(t testing.TB, s *Store, id TicketID, evs ...Event) Ticket {
	t.Helper()
	tk, err := s.Update(id, "bob", events(evs...))
	if err != nil {
		t.Fatalf("update %s with %+v: %v", id, evs, err)
	}
	return tk
}

func setField(f Field, to string) Event { return Event{Kind: EvField, Field: f, To: to} }
func setStatus(st Status) Event {
	e := Event{Kind: EvStatus, To: string(st)}
	if st == StatusResolved {
		e.Text = "fixed" // the table wants a resolution
	}
	return e
}

// dump returns every key and value in the store, for whole-store comparison.
func dump(t testing.TB, s *Store) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			m[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkIndexes compares every index entry in the store with what the
// projections say it should hold: a missing or stale entry fails.
func checkIndexes(t testing.TB, s *Store) {
	t.Helper()
	want := map[string]bool{}
	err := s.Tickets(func(tk Ticket) bool {
		want[string(statusKey(tk.Status, tk.Queue, tk.ID))] = true
		if tk.Requester.Email != "" {
			want[string(requesterKey(tk.Requester.Email, tk.ID))] = true
		}
		if !tk.Deadline.IsZero() {
			if !tk.Status.Active() {
				t.Errorf("%s is %s but has deadline %s", tk.ID, tk.Status, tk.Deadline)
			}
			want[string(deadlineKey(tk.Deadline, tk.ID))] = true
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for k := range dump(t, s) {
		switch k[0] {
		case pStatus, pRequester, pDeadline:
			got[k] = true
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("index entry missing: %q", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("stale index entry: %q", k)
		}
	}
}

// replay folds a history from zero.
func replay(h []Event) Ticket {
	var t Ticket
	for _, e := range h {
		Apply(&t, e)
	}
	return t
}

// roundTrip drops what JSON does not keep (monotonic clock readings,
// unexported fields), so computed and stored values compare equal.
func roundTrip[T any](t testing.TB, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func idsOf(fn func(func(TicketID) bool) error) ([]TicketID, error) {
	var ids []TicketID
	err := fn(func(id TicketID) bool { ids = append(ids, id); return true })
	return ids, err
}

func sortedIDs(ids []TicketID) []TicketID {
	ids = slices.Clone(ids)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

type badgerTxn = badger.Txn

// mustResolve resolves id through the operation (the table wants the
// resolution mailed to a requester with an address).
func mustResolve(t testing.TB, s *Store, id TicketID) Ticket {
	t.Helper()
	tk, _, err := s.Resolve(id, "bob", "fixed")
	if err != nil {
		t.Fatalf("resolve %s: %v", id, err)
	}
	return tk
}
