package board

import "sort"

// List is an immutable sequence of rows in default order, shared by every
// snapshot that did not change it. It is a B+ tree whose nodes know how
// many rows they hold, so At is a descent of a few nodes, and a batch of
// changes copies only the nodes on its paths: a new order of 10^6 rows
// costs kilobytes, not a new 8 MB slice.
type List struct {
	root   *node
	off, n int // the window [off, off+n) of root that this List shows
}

// A node holds at most maxNode rows or children. Nodes made during the
// current batch (epoch equal to the editor's) are changed in place; older
// ones belong to published snapshots and are copied first.
const maxNode = 64

type node struct {
	epoch uint64
	size  int
	last  *Row    // the greatest row below, to steer inserts and deletes
	rows  []*Row  // a leaf's rows
	kids  []*node // an inner node's children
}

// Len is the number of rows.
func (l List) Len() int { return l.n }

// At returns row i (0 ≤ i < Len).
func (l List) At(i int) *Row {
	if i < 0 || i >= l.n {
		panic("board: List index out of range")
	}
	i += l.off
	nd := l.root
	for nd.kids != nil {
		for _, k := range nd.kids {
			if i < k.size {
				nd = k
				break
			}
			i -= k.size
		}
	}
	return nd.rows[i]
}

// Slice returns rows [i, j) as a List, sharing the tree.
func (l List) Slice(i, j int) List {
	if i < 0 || j < i || j > l.n {
		panic("board: List slice out of range")
	}
	return List{root: l.root, off: l.off + i, n: j - i}
}

// Range calls fn for rows i, i+1, ... in order until fn returns false or
// the list ends. Walking whole leaves, it is the way to scan many rows.
func (l List) Range(i int, fn func(i int, r *Row) bool) {
	if l.root == nil || i >= l.n {
		return
	}
	i = max(i, 0)
	pos := i
	walk(l.root, l.off+i, l.off+l.n, func(r *Row) bool {
		ok := fn(pos, r)
		pos++
		return ok
	})
}

// Append appends the rows in order to dst.
func (l List) Append(dst []*Row) []*Row {
	l.Range(0, func(_ int, r *Row) bool { dst = append(dst, r); return true })
	return dst
}

// walk visits the rows [from, to) of nd; it reports false when fn stopped it.
func walk(nd *node, from, to int, fn func(*Row) bool) bool {
	if nd.kids == nil {
		for _, r := range nd.rows[from:min(to, len(nd.rows))] {
			if !fn(r) {
				return false
			}
		}
		return true
	}
	for _, k := range nd.kids {
		if to <= 0 {
			break
		}
		if from < k.size {
			if !walk(k, max(from, 0), to, fn) {
				return false
			}
		}
		from -= k.size
		to -= k.size
	}
	return true
}

// buildList makes a List of rows already in default order. Each leaf gets
// an array of its own: leaves slicing one shared array kept every row it
// ever held alive as long as one untouched leaf remained, so a ticket
// changed after the start left its first Row behind for good (at 100,000
// tickets with half of them changed, ~45 MB).
func buildList(rows []*Row) List {
	if len(rows) == 0 {
		return List{}
	}
	var level []*node
	for i := 0; i < len(rows); i += maxNode {
		j := min(i+maxNode, len(rows))
		level = append(level, &node{size: j - i, last: rows[j-1], rows: append(make([]*Row, 0, j-i), rows[i:j]...)})
	}
	for len(level) > 1 {
		var up []*node
		for i := 0; i < len(level); i += maxNode {
			j := min(i+maxNode, len(level))
			nd := &node{kids: level[i:j:j], last: level[j-1].last}
			for _, k := range nd.kids {
				nd.size += k.size
			}
			up = append(up, nd)
		}
		level = up
	}
	return List{root: level[0], n: level[0].size}
}

// editor changes Lists for one batch: nodes it made are its own to change.
type editor struct{ epoch uint64 }

func (e editor) own(nd *node) *node {
	if nd.epoch == e.epoch {
		return nd
	}
	c := &node{epoch: e.epoch, size: nd.size, last: nd.last}
	if nd.kids != nil {
		c.kids = append(make([]*node, 0, len(nd.kids)+1), nd.kids...)
	} else {
		c.rows = append(make([]*Row, 0, len(nd.rows)+1), nd.rows...)
	}
	return c
}

// insert returns l with r added in order. l must be a whole List, not a Slice.
func (e editor) insert(l List, r *Row) List {
	if l.root == nil {
		return List{root: &node{epoch: e.epoch, size: 1, last: r, rows: []*Row{r}}, n: 1}
	}
	root, split := e.ins(l.root, r)
	if split != nil {
		root = &node{epoch: e.epoch, size: root.size + split.size, last: split.last, kids: []*node{root, split}}
	}
	return List{root: root, n: root.size}
}

// ins adds r below nd and returns nd's copy and, when it overflowed, the
// right half split off it.
func (e editor) ins(nd *node, r *Row) (*node, *node) {
	nd = e.own(nd)
	nd.size++
	if nd.last == nil || less(nd.last, r) {
		nd.last = r
	}
	if nd.kids == nil {
		i := sort.Search(len(nd.rows), func(i int) bool { return less(r, nd.rows[i]) })
		nd.rows = append(nd.rows, nil)
		copy(nd.rows[i+1:], nd.rows[i:])
		nd.rows[i] = r
		if len(nd.rows) <= maxNode {
			return nd, nil
		}
		h := len(nd.rows) / 2
		right := &node{epoch: e.epoch, rows: append(make([]*Row, 0, maxNode+1), nd.rows[h:]...)}
		clear(nd.rows[h:])
		nd.rows = nd.rows[:h]
		right.size, right.last = len(right.rows), right.rows[len(right.rows)-1]
		nd.size, nd.last = len(nd.rows), nd.rows[h-1]
		return nd, right
	}
	i := e.child(nd, r)
	k, split := e.ins(nd.kids[i], r)
	nd.kids[i] = k
	if split == nil {
		return nd, nil
	}
	nd.kids = append(nd.kids, nil)
	copy(nd.kids[i+2:], nd.kids[i+1:])
	nd.kids[i+1] = split
	if len(nd.kids) <= maxNode {
		return nd, nil
	}
	h := len(nd.kids) / 2
	right := &node{epoch: e.epoch, kids: append(make([]*node, 0, maxNode+1), nd.kids[h:]...)}
	clear(nd.kids[h:])
	nd.kids = nd.kids[:h]
	resum(nd)
	resum(right)
	return nd, right
}

// child is the index of the child of nd where r belongs: the first whose
// greatest row is not before r.
func (e editor) child(nd *node, r *Row) int {
	i := sort.Search(len(nd.kids), func(i int) bool { return !less(nd.kids[i].last, r) })
	return min(i, len(nd.kids)-1)
}

func resum(nd *node) {
	nd.size = 0
	if nd.kids == nil {
		nd.size = len(nd.rows)
		if len(nd.rows) > 0 {
			nd.last = nd.rows[len(nd.rows)-1]
		}
		return
	}
	for _, k := range nd.kids {
		nd.size += k.size
	}
	nd.last = nd.kids[len(nd.kids)-1].last
}

// remove returns l without r (the very row, found by its order); l
// unchanged when r is not in it.
func (e editor) remove(l List, r *Row) List {
	if l.root == nil {
		return l
	}
	root, ok := e.del(l.root, r)
	if !ok {
		return l
	}
	for len(root.kids) == 1 {
		root = root.kids[0]
	}
	if root.size == 0 {
		return List{}
	}
	return List{root: root, n: root.size}
}

func (e editor) del(nd *node, r *Row) (*node, bool) {
	if nd.kids == nil {
		i := sort.Search(len(nd.rows), func(i int) bool { return !less(nd.rows[i], r) })
		if i == len(nd.rows) || nd.rows[i] != r {
			return nd, false
		}
		nd = e.own(nd)
		copy(nd.rows[i:], nd.rows[i+1:])
		nd.rows[len(nd.rows)-1] = nil
		nd.rows = nd.rows[:len(nd.rows)-1]
		resum(nd)
		return nd, true
	}
	i := e.child(nd, r)
	k, ok := e.del(nd.kids[i], r)
	if !ok {
		return nd, false
	}
	nd = e.own(nd)
	nd.kids[i] = k
	switch {
	case k.size == 0:
		copy(nd.kids[i:], nd.kids[i+1:])
		nd.kids[len(nd.kids)-1] = nil
		nd.kids = nd.kids[:len(nd.kids)-1]
	case width(k) < maxNode/4 && len(nd.kids) > 1:
		j := i + 1
		if j == len(nd.kids) {
			i, j = i-1, i
		}
		e.rebalance(nd, i, j)
	}
	resum(nd)
	return nd, true
}

func width(nd *node) int {
	if nd.kids == nil {
		return len(nd.rows)
	}
	return len(nd.kids)
}

// rebalance merges the neighbours nd.kids[i] and [j=i+1] into one node when
// they fit, else shares their entries evenly, so that deletes cannot leave
// a tree of near-empty nodes.
func (e editor) rebalance(nd *node, i, j int) {
	a, b := e.own(nd.kids[i]), e.own(nd.kids[j])
	if a.kids == nil {
		all := append(append(make([]*Row, 0, len(a.rows)+len(b.rows)), a.rows...), b.rows...)
		if len(all) <= maxNode {
			a.rows = append(make([]*Row, 0, maxNode+1), all...)
			b.rows = nil
		} else {
			h := len(all) / 2
			a.rows = append(make([]*Row, 0, maxNode+1), all[:h]...)
			b.rows = append(make([]*Row, 0, maxNode+1), all[h:]...)
		}
	} else {
		all := append(append(make([]*node, 0, len(a.kids)+len(b.kids)), a.kids...), b.kids...)
		if len(all) <= maxNode {
			a.kids = append(make([]*node, 0, maxNode+1), all...)
			b.kids = []*node{}
		} else {
			h := len(all) / 2
			a.kids = append(make([]*node, 0, maxNode+1), all[:h]...)
			b.kids = append(make([]*node, 0, maxNode+1), all[h:]...)
		}
	}
	resum(a)
	nd.kids[i] = a
	if width(b) == 0 {
		copy(nd.kids[j:], nd.kids[j+1:])
		nd.kids[len(nd.kids)-1] = nil
		nd.kids = nd.kids[:len(nd.kids)-1]
		return
	}
	resum(b)
	nd.kids[j] = b
}
