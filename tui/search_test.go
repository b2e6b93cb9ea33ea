package tui

import (
	"context"
	"io"
	"log"
	"strings"
	"testing"

	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/store"
)

// TestSlashSearchesEveryMessage: a filter that no row matches, or one
// with field terms, becomes a full-text search over every message (the
// real index on the session's store); results are ranked with the line
// that matched, enter opens one, esc goes back to the list untouched. Text
// from mail in a result never reaches the screen with its escapes.
func TestSlashSearchesEveryMessage(t *testing.T) {
	st := openStore(t, nil)
	mailed(t, st, "Telefoni", "Anders Bæk", "I hotline-køen forsvinder ventende opkald efter 2 minutter.")
	mailed(t, st, "Printer jam", "Jens Hansen", "Paper stuck in tray 2\x1b[31m since this morning")
	mailed(t, st, "VPN", "Anna Berg", "The tunnel drops every hour.")
	idx := openIndex(t, st)
	d := attachDesk(t, st, nil, Options{Search: idx.Search})

	d.keys("/")
	d.typeText("opkaldene") // no subject or requester holds it; a Danish form of "opkald"
	d.keys("enter")
	d.wantScreen(`search "opkaldene": 1 of 1`, "SD-1", "forsvinder ventende opkald")
	d.keys("enter")
	d.wantScreen("SD-1  Telefoni", "history")

	d.keys("esc", "/")
	d.typeText("from:example.dk tray")
	d.keys("enter")
	s := d.screen()
	if raw := d.m.View().Content; strings.Contains(raw, "\x1b[31m since") {
		t.Fatalf("the mail's escape sequence reached the terminal:\n%q", raw)
	}
	if !strings.Contains(s, "SD-2") || strings.Contains(s, "SD-3 ") {
		t.Fatalf("field-term search:\n%q", s)
	}
	d.wantScreen("Paper stuck in tray 2")
	d.keys("esc")
	d.wantScreen("Printer jam", "VPN", "Telefoni") // the list as it was, unfiltered

	// A plain filter that rows match stays a filter.
	d.keys("/")
	d.typeText("vpn")
	d.keys("enter")
	if s := d.screen(); strings.Contains(s, "search \"vpn\"") || strings.Contains(s, "Printer jam") {
		t.Fatalf("a filter that matches rows became a search:\n%s", s)
	}
	d.keys("esc", ":")
	d.typeText("s nothing-like-this")
	d.keys("enter")
	d.wantScreen("nothing matches")
}

// TestSimilarTicketsAndMaster: the detail pane lists the tickets most
// like the one open (from the real index); m offers the first open one of
// them as master, and enter links it.
func TestSimilarTicketsAndMaster(t *testing.T) {
	st := openStore(t, nil)
	mk := func(subject, name, body string) store.Ticket { return mailed(t, st, subject, name, body) }
	master := mk("Telefonsystemet: ventende opkald forsvinder", "Anders Bæk", "I hotline-køen forsvinder ventende opkald efter 2 minutter.")
	mk("Printer jam", "Jens Hansen", "Paper stuck in tray 2")
	child := mk("Ventende opkald forsvinder igen", "Karen Juhl", "Opkaldene i køen forsvinder efter to minutter.")
	idx := openIndex(t, st)
	d := attachDesk(t, st, nil, Options{Search: idx.Search, Similar: idx.Similar})
	d.keys(":")
	d.typeText(child.ID.String())
	d.keys("enter")
	d.wantScreen("similar", master.ID.String()+" new Telefonsystemet")
	d.keys("m")
	d.wantScreen("master ticket: SD-" + strings.TrimPrefix(master.ID.String(), "SD-"))
	d.keys("enter")
	d.sync()
	if got := d.get(child.ID).Master; got != master.ID {
		t.Fatalf("master of %s = %v, want %v", child.ID, got, master.ID)
	}
}

// mailed registers a ticket opened by a requester's mail.
func mailed(t *testing.T, st *store.Store, subject, name, body string) store.Ticket {
	t.Helper()
	nt := ticket(subject, name, 3)
	nt.Message = &store.Message{From: nt.Requester, Subject: subject, Body: body}
	nt.Inbound = true
	tk, err := st.Create("mail", nt)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// openIndex is a search index of st, caught up.
func openIndex(t *testing.T, st *store.Store) *search.Index {
	t.Helper()
	idx, err := search.Open(search.Dir(t.TempDir()), st, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if _, err := idx.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return idx
}
