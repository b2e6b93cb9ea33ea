package board

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/deskhq/desk/store"
)

func checkList(t *testing.T, l List, want []*Row, what string) {
	t.Helper()
	if l.Len() != len(want) {
		t.Fatalf("%s: Len %d, want %d", what, l.Len(), len(want))
	}
	got := l.Append(nil)
	for i := range want {
		if got[i] != want[i] || l.At(i) != want[i] {
			t.Fatalf("%s: row %d is %s (At %s), want %s", what, i, got[i].T.ID, l.At(i).T.ID, want[i].T.ID)
		}
	}
	if len(want) > 2 {
		i, j := len(want)/3, 2*len(want)/3
		sub := l.Slice(i, j)
		if sub.Len() != j-i || (j > i && sub.At(0) != want[i]) {
			t.Fatalf("%s: Slice(%d, %d) is wrong", what, i, j)
		}
		n := 0
		sub.Range(1, func(k int, r *Row) bool {
			if r != want[i+k] {
				t.Fatalf("%s: Slice(%d, %d).Range(1) gives %s at %d, want %s", what, i, j, r.T.ID, k, want[i+k].T.ID)
			}
			n++
			return true
		})
		if n != max(j-i-1, 0) {
			t.Fatalf("%s: Slice(%d, %d).Range(1) visited %d rows", what, i, j, n)
		}
	}
}

// TestListPersistent applies random inserts and removes in batches and
// checks every version against a sorted slice, including versions from
// earlier batches, which must not have changed: sessions still read them.
func TestListPersistent(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	mk := func(id int) *Row {
		return &Row{T: store.Ticket{ID: store.TicketID(id), Priority: store.Priority(1 + rng.Intn(4)), Status: store.StatusOpen}}
	}
	var want []*Row
	for i := range 5000 {
		want = append(want, mk(i+1))
	}
	slices.SortFunc(want, func(a, b *Row) int {
		if less(a, b) {
			return -1
		}
		return 1
	})
	l := buildList(append([]*Row(nil), want...))
	type version struct {
		l    List
		rows []*Row
	}
	var old []version
	next := 5001
	for batch := 1; batch <= 60; batch++ {
		old = append(old, version{l, append([]*Row(nil), want...)})
		e := editor{epoch: uint64(batch)}
		for n := rng.Intn(400); n > 0; n-- {
			if rng.Intn(2) == 0 && len(want) > 0 || batch > 40 { // later batches shrink the list to nothing
				if len(want) == 0 {
					break
				}
				i := rng.Intn(len(want))
				l = e.remove(l, want[i])
				want = slices.Delete(want, i, i+1)
			} else {
				r := mk(next)
				next++
				l = e.insert(l, r)
				i, _ := slices.BinarySearchFunc(want, r, func(a, b *Row) int {
					if less(a, b) {
						return -1
					}
					return 1
				})
				want = slices.Insert(want, i, r)
			}
		}
		checkList(t, l, want, "current")
	}
	for i, v := range old {
		checkList(t, v.l, v.rows, "an earlier version "+string(rune('A'+i%26)))
	}
	if l2 := (editor{epoch: 99}).remove(l, mk(1)); l2.Len() != l.Len() {
		t.Fatal("removing a row that is not there changed the list")
	}
}
