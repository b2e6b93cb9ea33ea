package board

import (
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// Hot is an immutable set of the tickets whose watched clock is in warning
// or breached, with each one's state. It is a radix trie over ticket ids
// (they are dense and sequential), 64 ways per level, copied along the
// changed paths once per batch, so a tick that moves a few clocks costs a
// few small nodes even when half a million tickets are breached.
type Hot struct {
	root     *hotNode
	height   uint // levels above the leaves
	n        int
	breached int
}

const (
	hotBits = 6
	hotFan  = 1 << hotBits

	codeNone     uint8 = 0
	codeWarning  uint8 = 1
	codeBreached uint8 = 2
)

type hotNode struct {
	epoch uint64
	kids  []*hotNode // inner nodes
	codes []uint8    // leaves: one code per id
}

// Len is the number of hot tickets.
func (h Hot) Len() int { return h.n }

// Breached is how many of them are breached; the rest are in warning.
func (h Hot) Breached() int { return h.breached }

// State returns the ticket's state when it is hot, else "".
func (h Hot) State(id store.TicketID) slaengine.State {
	switch h.code(uint64(id)) {
	case codeWarning:
		return slaengine.StateWarning
	case codeBreached:
		return slaengine.StateBreached
	}
	return ""
}

func (h Hot) code(id uint64) uint8 {
	nd := h.root
	if nd == nil || id>>(hotBits*(h.height+1)) != 0 {
		return codeNone
	}
	for lv := h.height; lv > 0; lv-- {
		nd = nd.kids[(id>>(hotBits*lv))&(hotFan-1)]
		if nd == nil {
			return codeNone
		}
	}
	return nd.codes[id&(hotFan-1)]
}

func codeOf(s slaengine.State) uint8 {
	switch s {
	case slaengine.StateWarning:
		return codeWarning
	case slaengine.StateBreached:
		return codeBreached
	}
	return codeNone
}

func (e editor) ownHot(nd *hotNode, leaf bool) *hotNode {
	switch {
	case nd == nil && leaf:
		return &hotNode{epoch: e.epoch, codes: make([]uint8, hotFan)}
	case nd == nil:
		return &hotNode{epoch: e.epoch, kids: make([]*hotNode, hotFan)}
	case nd.epoch == e.epoch:
		return nd
	case leaf:
		return &hotNode{epoch: e.epoch, codes: append([]uint8(nil), nd.codes...)}
	}
	return &hotNode{epoch: e.epoch, kids: append([]*hotNode(nil), nd.kids...)}
}

// setHot returns h with the ticket's code set (codeNone removes it).
func (e editor) setHot(h Hot, id store.TicketID, code uint8) Hot {
	x := uint64(id)
	old := h.code(x)
	if old == code {
		return h
	}
	for x>>(hotBits*(h.height+1)) != 0 {
		if h.root != nil {
			up := e.ownHot(nil, false)
			up.kids[0] = h.root
			h.root = up
		}
		h.height++
	}
	nd := e.ownHot(h.root, h.height == 0)
	h.root = nd
	for lv := h.height; lv > 0; lv-- {
		i := (x >> (hotBits * lv)) & (hotFan - 1)
		k := e.ownHot(nd.kids[i], lv == 1)
		nd.kids[i] = k
		nd = k
	}
	nd.codes[x&(hotFan-1)] = code
	h.n += btoi(code != codeNone) - btoi(old != codeNone)
	h.breached += btoi(code == codeBreached) - btoi(old == codeBreached)
	return h
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
