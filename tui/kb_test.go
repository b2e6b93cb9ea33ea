package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// TestKnowledgeBaseInTheConsole: K on a resolved ticket drafts an article
// from its resolution; the article then shows as the known solution of a
// similar open ticket, where K makes it the draft resolution and the
// ticket records it; :kb lists and opens the articles.
func TestKnowledgeBaseInTheConsole(t *testing.T) {
	st := openStore(t, nil)
	mk := func(subject, name, body string) store.Ticket { return mailed(t, st, subject, name, body) }
	old := mk("MitID login fails after the app update", "Anders Bæk", "Since this morning MitID login fails in the app.")
	if _, err := st.SetField(old.ID, "mette", store.FieldStatus, "new", "open"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Resolve(old.ID, "mette", "Reinstall the **MitID app** and log in again."); err != nil {
		t.Fatal(err)
	}
	fresh := mk("MitID login fails", "Karen Juhl", "I cannot log in with MitID after updating the app.")
	idx := openIndex(t, st)
	d := attachDesk(t, st, nil, Options{Search: idx.Search, Similar: idx.Similar, Solutions: idx.Solutions})

	d.keys(":")
	d.typeText(old.ID.String())
	d.keys("enter", "K")
	d.wantScreen("New knowledge-base article from "+old.ID.String(), "Title: MitID login fails after the app update", "Reinstall the **MitID app**")
	d.keys("ctrl+s")
	d.wantScreen("article saved to the knowledge base")
	a, err := st.Article(1)
	if err != nil || a.Title != "MitID login fails after the app update" || a.Kind != store.KindSolution || len(a.Tickets) != 1 || a.Tickets[0] != old.ID {
		t.Fatalf("the article: %+v, %v", a, err)
	}
	if _, err := idx.CatchUp(context.Background()); err != nil { // Follow's job in the console
		t.Fatal(err)
	}

	d.keys("esc", ":")
	d.typeText(fresh.ID.String())
	d.keys("enter")
	d.wantScreen("known", "KB-1 solution MitID login fails after the app update", "K applies KB-1")
	d.keys("K")
	d.wantScreen("Resolve "+fresh.ID.String()+" with the known solution", "Reinstall the **MitID app**")
	d.keys("ctrl+s")
	d.sync()
	if got := d.get(fresh.ID); got.Status != store.StatusResolved {
		t.Fatalf("%s is %s, want resolved", fresh.ID, got.Status)
	}
	h, _ := st.History(fresh.ID)
	found := false
	for _, e := range h {
		found = found || e.Kind == store.EvNote && strings.Contains(e.Text, "solved with KB-1")
	}
	if a, _ := st.Article(1); !found || a.Applied != 1 {
		t.Fatalf("the ticket does not record the article (note %v), or the article did not count it (%d)", found, a.Applied)
	}

	d.keys("esc", ":")
	d.typeText("kb")
	d.keys("enter")
	d.wantScreen("Knowledge base: 1 articles", "KB-1   solution    solved 1   MitID login")
	d.keys("esc", ":")
	d.typeText("kb 1")
	d.keys("enter")
	d.wantScreen("KB-1  MitID login fails after the app update", "MitID app", "history")
	if s := d.screen(); strings.Contains(s, "**MitID app**") {
		t.Fatalf("the Markdown is not rendered:\n%s", s)
	}
}
