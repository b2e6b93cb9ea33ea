package store

import (
	"errors"
	"strings"
	"testing"
)

// TestKnowledgeBase: articles are created, edited against the version the
// writer saw, retired with a reason, each step in their history; viewers
// only read; a ticket resolved with an article says so and the article
// counts it.
func TestKnowledgeBase(t *testing.T) {
	s, _ := newTestStore(t)
	withLead(s)
	var re *RefusedError
	if _, err := s.CreateArticle("vic", ArticleDraft{Title: "x", Body: "y"}); !errors.As(err, &re) || !strings.Contains(err.Error(), "viewer") {
		t.Fatalf("a viewer wrote the knowledge base: %v", err)
	}
	for _, d := range []ArticleDraft{{Body: "y"}, {Title: "x"}, {Title: "x", Body: "y", Kind: "recipe"}} {
		if _, err := s.CreateArticle("kim", d); !errors.As(err, &re) {
			t.Errorf("%+v accepted: %v", d, err)
		}
	}
	a, err := s.CreateArticle("kim", ArticleDraft{Title: "MitID: login fails after an app update", Body: "1. Reinstall the app.\n2. Log in again.",
		Kind: KindWorkaround, Service: "borger.dk", Tags: []string{"MitID", " login", "mitid"}})
	if err != nil || a.ID != 1 || a.Version != 1 || !slicesEqual(a.Tags, []string{"mitid", "login"}) || a.Author != "kim" {
		t.Fatalf("CreateArticle: %+v, %v", a, err)
	}
	d := ArticleDraft{Title: a.Title, Body: a.Body + "\n3. If it still fails, escalate to the MitID supplier.", Kind: KindWorkaround, Service: a.Service, Tags: a.Tags}
	if a, err = s.EditArticle(a.ID, "pieter", 1, d); err != nil || a.Version != 2 {
		t.Fatalf("EditArticle: %+v, %v", a, err)
	}
	if _, err := s.EditArticle(a.ID, "kim", 1, d); !errors.As(err, &re) || !strings.Contains(err.Error(), "changed since you opened it") {
		t.Fatalf("an edit of version 1 after version 2 was saved: %v", err)
	}
	tk, err := s.Create("mail", NewTicket{Subject: "Kan ikke logge ind med MitID", Requester: Person{Email: "a@x.dk"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetField(tk.ID, "kim", FieldStatus, "new", "open"); err != nil {
		t.Fatal(err)
	}
	tk, _, err = s.ResolveWith(tk.ID, a.ID, "kim", a.Body)
	if err != nil || tk.Status != StatusResolved {
		t.Fatalf("ResolveWith: %+v, %v", tk, err)
	}
	h, _ := s.History(tk.ID)
	if last := h[len(h)-1]; last.Kind != EvNote || !strings.Contains(last.Text, "solved with KB-1 (workaround)") {
		t.Fatalf("the ticket does not say which article solved it: %+v", last)
	}
	if a, _ = s.Article(a.ID); a.Applied != 1 || !slicesEqual(a.Tickets, []TicketID{tk.ID}) {
		t.Fatalf("the article did not count the ticket: %+v", a)
	}
	if _, err := s.RetireArticle(a.ID, "kim", ""); !errors.As(err, &re) {
		t.Fatalf("retired without a reason: %v", err)
	}
	if _, err := s.RetireArticle(a.ID, "kim", "the app is fixed"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Articles(false); len(list) != 0 {
		t.Fatalf("a retired article is listed: %+v", list)
	}
	if list, _ := s.Articles(true); len(list) != 1 || !list[0].Retired {
		t.Fatalf("Articles(true): %+v", list)
	}
	hist, err := s.ArticleHistory(a.ID)
	var what []string
	for _, e := range hist {
		what = append(what, e.What)
	}
	if err != nil || strings.Join(what, ",") != "created,edited,applied,retired" || hist[1].Actor != "pieter" || !strings.Contains(hist[1].Text, "text") {
		t.Fatalf("history %v: %+v, %v", what, hist, err)
	}
	tk2, _ := s.Create("mail", NewTicket{Subject: "again", Requester: Person{Email: "b@x.dk"}})
	s.SetField(tk2.ID, "kim", FieldStatus, "new", "open")
	if _, _, err := s.ResolveWith(tk2.ID, a.ID, "kim", "x"); !errors.As(err, &re) || !strings.Contains(err.Error(), "retired") {
		t.Fatalf("resolved with a retired article: %v", err)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestArticleTextRoundTrip(t *testing.T) {
	d := ArticleDraft{Title: "VPN drops hourly", Kind: KindKnownError, Service: "VPN", Tags: []string{"vpn", "tunnel"}, Body: "Cause: rekeying.\n\nNo fix yet."}
	got := ParseArticleText(ArticleText(d))
	if got.Title != d.Title || got.Kind != d.Kind || got.Service != d.Service || !slicesEqual(got.Tags, d.Tags) || got.Body != d.Body {
		t.Fatalf("round trip: %+v", got)
	}
	if got := ParseArticleText("Just a text\nwith lines"); got.Title != "" || got.Body != "Just a text\nwith lines" {
		t.Fatalf("no header: %+v", got)
	}
}
