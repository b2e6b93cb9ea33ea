package search

import (
	"context"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

var quiet = log.New(io.Discard, "", 0)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(slaengine.AlwaysOpen()), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mail(t testing.TB, st *store.Store, from, name, subject, body string) store.Ticket {
	t.Helper()
	tk, err := st.Create("mail", store.NewTicket{Subject: subject, Requester: store.Person{Name: name, Email: from},
		Message: &store.Message{From: store.Person{Name: name, Email: from}, Subject: subject, Body: body}, Inbound: true})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func ids(r Result) []store.TicketID {
	var out []store.TicketID
	for _, h := range r.Hits {
		out = append(out, h.Ticket.ID)
	}
	return out
}

// TestSearchLanguagesPhrasesAndFields: Danish, Dutch and English forms
// and accents fold, phrases keep their order, field terms narrow, a word
// can be left out, and each hit shows the line that matched.
func TestSearchLanguagesPhrasesAndFields(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	dk := mail(t, st, "jens@it.aarhus.dk", "Jens Østergaard", "Kan ikke logge ind", "Hej,\n\nJeg har mistet nøglen til NemID og kan ikke logge ind.\nMvh Jens")
	nl := mail(t, st, "els@gemeente.nl", "Els de Vries", "Wachtwoord vergeten", "Goedemiddag,\n\nik ben mijn wachtwoord vergeten.\nGroet")
	en := mail(t, st, "ann@example.org", "Ann Lee", "Printers offline", "All the printers on floor 2 stopped printing this morning.")
	other := mail(t, st, "bo@aarhus.dk", "Bo", "Printer toner", "The printer needs toner, nothing urgent.")
	if _, err := st.AddNote(other.ID, "kim", "Ordered toner from the supplier"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReference(en.ID, "kim", "jira:NSP-123"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetField(en.ID, "kim", store.FieldPriority, "P3", "P1"); err != nil {
		t.Fatal(err)
	}
	x, err := Open(Dir(dir), st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n, err := x.CatchUp(context.Background()); err != nil || n != 4 {
		t.Fatalf("CatchUp of a new index: %d, %v; want 4", n, err)
	}
	for _, c := range []struct {
		q    string
		want []store.TicketID
		line string // a part of the first hit's line
	}{
		{"nøgle", []store.TicketID{dk.ID}, "mistet nøglen"},
		{"nogle", []store.TicketID{dk.ID}, "nøglen"}, // typed without the ø
		{"ostergaard", []store.TicketID{dk.ID}, ""},
		{"wachtwoord", []store.TicketID{nl.ID}, "mijn wachtwoord vergeten"},
		{"vergat", nil, ""}, // Dutch past tense is another stem: no false hit either
		{"printing", []store.TicketID{en.ID}, "stopped printing"},
		{`"printers on floor"`, []store.TicketID{en.ID}, "floor 2"},
		{`"floor printers"`, nil, ""},
		{"printer -toner", []store.TicketID{en.ID}, ""},
		{"toner supplier", []store.TicketID{other.ID}, "Ordered toner from the supplier"},
		{"from:aarhus.dk", []store.TicketID{dk.ID, other.ID}, ""},
		{"from:jens@it.aarhus.dk", []store.TicketID{dk.ID}, ""},
		{"from:gemeente.nl wachtwoord", []store.TicketID{nl.ID}, ""},
		{"prio:P1", []store.TicketID{en.ID}, ""},
		{"priority:1 printers", []store.TicketID{en.ID}, ""},
		{"status:new printer", []store.TicketID{en.ID, other.ID}, ""},
		{"ref:NSP-123", []store.TicketID{en.ID}, ""},
		{"ref:jira:nsp-123", []store.TicketID{en.ID}, ""},
		{"NSP-123", []store.TicketID{en.ID}, ""},
		{"id:" + nl.ID.String(), []store.TicketID{nl.ID}, ""},
	} {
		r, err := x.Search(c.q, 10)
		if err != nil {
			t.Errorf("%q: %v", c.q, err)
			continue
		}
		got := ids(r)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%q found %v, want %v", c.q, got, c.want)
			continue
		}
		if c.line != "" && !strings.Contains(r.Hits[0].Line, c.line) {
			t.Errorf("%q: line %q, want it to hold %q", c.q, r.Hits[0].Line, c.line)
		}
	}
	for _, q := range []string{"", "   ", `"open phrase`} {
		if _, err := x.Search(q, 10); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}

// TestSearchFollowsTheStore: Run indexes changes as they are made; a
// change made while no index ran is caught up on the next start; a damaged
// index is built anew from the store.
func TestSearchFollowsTheStore(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	a := mail(t, st, "ann@example.org", "Ann", "VPN drops", "The VPN drops every hour.")
	x, err := Open(Dir(dir), st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := x.Follow(ctx)
	if _, err := st.AddNote(a.ID, "kim", "Firmware of the concentrator updated"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, x, "concentrator", a.ID)
	cancel()
	<-done
	x.Close()

	// Written while nothing indexed.
	b := mail(t, st, "bo@example.org", "Bo", "Keyboard", "The keyboard is sticky.")
	if _, err := st.AddNote(a.ID, "kim", "Tunnel rekeying fixed"); err != nil {
		t.Fatal(err)
	}
	x, err = Open(Dir(dir), st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := x.CatchUp(context.Background()); err != nil || n != 2 {
		t.Fatalf("CatchUp after two changes: %d, %v; want 2", n, err)
	}
	if r, _ := x.Search("rekeying", 5); !slices.Equal(ids(r), []store.TicketID{a.ID}) {
		t.Errorf("rekeying: %v", ids(r))
	}
	if r, _ := x.Search("sticky", 5); !slices.Equal(ids(r), []store.TicketID{b.ID}) {
		t.Errorf("sticky: %v", ids(r))
	}
	x.Close()

	// Damage every file of the index.
	filepath.Walk(Dir(dir), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.WriteFile(p, []byte("not an index"), 0o600)
		}
		return nil
	})
	x, err = Open(Dir(dir), st, quiet)
	if err != nil {
		t.Fatalf("Open of a damaged index: %v", err)
	}
	defer x.Close()
	if n, err := x.CatchUp(context.Background()); err != nil || n != 2 {
		t.Fatalf("CatchUp of the rebuilt index: %d, %v; want 2", n, err)
	}
	if r, _ := x.Search("keyboard", 5); !slices.Equal(ids(r), []store.TicketID{b.ID}) {
		t.Errorf("keyboard after the rebuild: %v", ids(r))
	}
}

func waitFor(t *testing.T, x *Index, q string, want store.TicketID) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := x.Search(q, 5)
		if err == nil && slices.Equal(ids(r), []store.TicketID{want}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: %v, %v after 10 s; want %v", q, ids(r), err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSimilar: the tickets that share a ticket's rarer words come first,
// the ticket itself never.
func TestSimilar(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	a := mail(t, st, "a@x.dk", "A", "Telefonsystemet: ventende opkald forsvinder", "I hotline-køen forsvinder ventende opkald efter 2 minutter.")
	b := mail(t, st, "b@y.dk", "B", "Ventende opkald forsvinder igen", "Opkaldene i køen forsvinder efter to minutter.")
	mail(t, st, "c@z.dk", "C", "Printer", "The printer on floor 2 is out of toner.")
	mail(t, st, "d@z.dk", "D", "Kalender", "Kalenderen synkroniserer ikke efter opdateringen.")
	x, err := Open(Dir(dir), st, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := x.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, _ := st.History(a.ID)
	hits, err := x.Similar(a, h, 3)
	if err != nil || len(hits) == 0 || hits[0].Ticket.ID != b.ID {
		t.Fatalf("similar to %s: %+v, %v; want %s first", a.ID, hits, err, b.ID)
	}
	for _, hit := range hits {
		if hit.Ticket.ID == a.ID {
			t.Fatalf("the ticket is similar to itself: %+v", hits)
		}
	}
}
