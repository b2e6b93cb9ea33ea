package board

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// Group is a row's band in the default order.
type Group uint8

const (
	// GroupRunning: active with a running clock (Deadline set), ordered by
	// what breaches next.
	GroupRunning Group = iota
	// GroupActive: active, but no clock runs (paused while waiting, or no
	// target), most urgent priority first.
	GroupActive
	// GroupDone: resolved or closed, most recently changed first.
	GroupDone
)

// Row is one ticket as the lists show it: the stored projection plus what
// they need precomputed, so that a frame does no work per ticket beyond the
// visible ones. Rows are immutable once published; a change makes a new Row.
type Row struct {
	T store.Ticket
	// Search is the lowercased, terminal-safe id, subject and requester
	// (name, address, organisation), NUL-separated, for the / filter.
	Search string
	// The band is worked out when asked (Group), not kept: without the
	// field a Row and its allocation header fit the 768-byte size class,
	// 128 bytes a ticket less than the next.
}

// Group is the row's band in the default order.
func (r *Row) Group() Group { return groupOf(&r.T) }

func newRow(t store.Ticket) *Row {
	return &Row{T: t, Search: searchText(&t)}
}

func groupOf(t *store.Ticket) Group {
	switch {
	case !t.Status.Active():
		return GroupDone
	case t.Deadline.IsZero():
		return GroupActive
	}
	return GroupRunning
}

// searchText is strings.ToLower of the id and the SafeLine'd fields joined
// by NUL, built in one allocation: at 10^6 tickets the five intermediate
// strings per row were a large share of the load's garbage.
func searchText(t *store.Ticket) string {
	var num [24]byte
	id := strconv.AppendUint(append(num[:0], "sd-"...), uint64(t.ID), 10)
	parts := [4]string{termtext.Line(t.Subject), termtext.Line(t.Requester.Name),
		termtext.Line(t.Requester.Email), termtext.Line(t.Requester.Organisation)}
	n := len(id) + len(parts)
	for _, p := range parts {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n)
	b.Write(id)
	for _, p := range parts {
		b.WriteByte(0)
		writeLower(&b, p)
	}
	return b.String()
}

// writeLower writes strings.ToLower(s) (s is valid UTF-8, as termtext
// makes it) without making it first.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(unicode.ToLower(r))
		i += n
	}
}

// less is the default order: what breaches next first; then active tickets
// whose clocks are paused or stopped, most urgent priority first; then the
// resolved and closed, most recently changed first.
func less(a, b *Row) bool {
	if a.Group() != b.Group() {
		return a.Group() < b.Group()
	}
	switch a.Group() {
	case GroupRunning:
		if !a.T.Deadline.Equal(b.T.Deadline) {
			return a.T.Deadline.Before(b.T.Deadline)
		}
	case GroupActive:
		if a.T.Priority != b.T.Priority {
			return a.T.Priority < b.T.Priority
		}
	case GroupDone:
		if !a.T.Updated.Equal(b.T.Updated) {
			return a.T.Updated.After(b.T.Updated)
		}
	}
	return a.T.ID < b.T.ID
}

// sortKey is less flattened into integers, so that sorting a million rows
// compares small structs in one array instead of chasing pointers to rows
// of 700 bytes.
type sortKey struct {
	k  int64
	id uint64
	r  *Row
	at int64 // the clock's next change (eval.at), carried through the sort
	g  Group
	// code is the clock's state at load (eval.code).
	code uint8
}

func keyOf(r *Row) sortKey {
	k := sortKey{id: uint64(r.T.ID), g: r.Group(), r: r}
	switch r.Group() {
	case GroupRunning:
		k.k = nanos(r.T.Deadline)
	case GroupActive:
		k.k = int64(r.T.Priority)
	case GroupDone:
		k.k = -nanos(r.T.Updated)
	}
	return k
}

func cmpKey(a, b sortKey) int {
	switch {
	case a.g != b.g:
		return int(a.g) - int(b.g)
	case a.k < b.k:
		return -1
	case a.k > b.k:
		return 1
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

var (
	minTime = time.Unix(0, -1<<63+1)
	maxTime = time.Unix(0, 1<<63-1)
)

// nanos is t in Unix nanoseconds, clamped to what int64 holds (years
// 1678-2262): monotone, which is all an order needs.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return -1<<63 + 1
	case t.After(maxTime):
		return 1<<63 - 1
	}
	return t.UnixNano()
}
