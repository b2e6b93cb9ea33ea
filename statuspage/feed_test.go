package statuspage

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/store"
)

func readFeed(t *testing.T, f *fixture) (atomFeed, string) {
	t.Helper()
	res, body := f.get(t, "/feed.atom")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%s %q", res.Status, res.Header.Get("Content-Type"))
	}
	var feed atomFeed
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	return feed, body
}

// The feed parses as Atom, holds every published update and window
// newest first, and its ids stay put as news is added.
func TestAtomFeed(t *testing.T) {
	f := newFixture(t)
	feed, _ := readFeed(t, f)
	if feed.Title != "Desk status" || feed.ID != f.srv.URL+"/feed.atom" || len(feed.Entries) != 0 || feed.Author.Name == "" {
		t.Fatalf("empty feed %+v", feed)
	}

	tk := f.majorOutage(t, "Lookups fail; failing over.")
	f.clk.Add(time.Minute)
	w, err := f.st.PlanWindow("lena", store.Window{Service: "MitID", Start: f.clk.Now().Add(72 * time.Hour), Duration: time.Hour, Description: "Certificate rotation"}, false)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := readFeed(t, f)

	f.clk.Add(time.Minute)
	if _, _, err := f.st.Resolve(tk.ID, "dan", "Failed over to the standby."); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(time.Minute)
	if _, err := f.st.CancelWindow(w.ID, "lena", "not needed"); err != nil {
		t.Fatal(err)
	}
	feed, body := readFeed(t, f)
	for _, secret := range []string{plantedSubject, plantedRequester, plantedAddress, plantedBody} {
		if strings.Contains(body, secret) {
			t.Errorf("the feed shows %q", secret)
		}
	}
	var titles []string
	ids := map[string]bool{}
	var last time.Time
	for i, e := range feed.Entries {
		titles = append(titles, e.Title)
		if ids[e.ID] {
			t.Errorf("id %s twice", e.ID)
		}
		ids[e.ID] = true
		at, err := time.Parse(time.RFC3339, e.Updated)
		if err != nil {
			t.Fatalf("entry %d updated %q: %v", i, e.Updated, err)
		}
		if i > 0 && at.After(last) {
			t.Errorf("entry %d (%s) is newer than the one before it", i, e.Title)
		}
		last = at
		if e.Content.Type != "text" || e.Content.Body == "" || len(e.Links) == 0 {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{
		"Cancelled: Planned maintenance: MitID, Thu 05 Mar 2026 10:11 CET",
		"Resolved: major incident DSD",
		"Planned maintenance: MitID, Thu 05 Mar 2026 10:11 CET",
		"Update: major incident DSD",
		"Major incident: DSD",
	}
	if strings.Join(titles, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(titles, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(feed.Entries[3].Content.Body, "Lookups fail; failing over.") {
		t.Errorf("the update's text: %q", feed.Entries[3].Content.Body)
	}
	for _, e := range before.Entries {
		if !ids[e.ID] {
			t.Errorf("entry %q changed its id %s", e.Title, e.ID)
		}
	}
	if feed.Updated != feed.Entries[0].Updated {
		t.Errorf("feed updated %s, newest entry %s", feed.Updated, feed.Entries[0].Updated)
	}

	// A month later it has all left the feed.
	f.clk.Add(feedFor + 4*24*time.Hour)
	if feed, _ := readFeed(t, f); len(feed.Entries) != 0 {
		t.Errorf("%d entries a month on", len(feed.Entries))
	}
}
