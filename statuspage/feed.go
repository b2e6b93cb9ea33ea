package statuspage

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The Atom feed is for people and tools that would rather poll than be
// mailed: every published incident update and every planned (or called
// off) window of the last feedFor, newest first. Entry ids are built
// from what never changes about an entry (the incident and when it was
// declared, the update's place in it; the window's number), so a reader
// never shows the same news twice.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string         `xml:"title"`
	ID        string         `xml:"id"`
	Updated   string         `xml:"updated"`
	Published string         `xml:"published,omitempty"`
	Links     []atomLink     `xml:"link"`
	Category  []atomCategory `xml:"category"`
	Content   atomText       `xml:"content"`
	at        time.Time
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// maxEntries keeps the feed small however busy the month was.
const maxEntries = 100

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *handler) feed(w http.ResponseWriter, r *http.Request) {
	now := h.src.Now()
	since := now.Add(-feedFor)
	pub, err := h.src.Published(since)
	if err != nil {
		h.unavailable(w, fmt.Errorf("read the published incidents: %w", err))
		return
	}
	wins, err := h.src.Windows(since)
	if err != nil {
		h.unavailable(w, fmt.Errorf("read the service windows: %w", err))
		return
	}
	base := h.baseURL(r)
	page := []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/"}}
	var entries []atomEntry
	for _, p := range pub {
		svc := nameOr(p.Service, "our services")
		for i, u := range p.Updates {
			title := "Update: major incident " + svc
			switch u.Status {
			case "investigating":
				title = "Major incident: " + svc
			case "resolved":
				title = "Resolved: major incident " + svc
			}
			entries = append(entries, atomEntry{
				Title: title, ID: base + "/incidents/" + updateID(p, i),
				Updated: atomTime(u.At), Published: atomTime(u.At), at: u.At,
				Links:    []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/#" + p.ID}},
				Category: []atomCategory{{Term: svc}},
				Content:  atomText{Type: "text", Body: u.Text + "\n\nReference: " + p.ID + "."},
			})
		}
	}
	for _, win := range wins {
		when := fmt.Sprintf("%s to %s", h.when(win.Start), h.when(win.End()))
		e := atomEntry{
			Title: "Planned maintenance: " + win.Service + ", " + h.when(win.Start),
			ID:    fmt.Sprintf("%s/windows/%d", base, win.ID), Updated: atomTime(win.Planned), Published: atomTime(win.Planned), at: win.Planned,
			Links: page, Category: []atomCategory{{Term: win.Service}},
			Content: atomText{Type: "text", Body: fmt.Sprintf("%s will be under planned maintenance %s.\n\n%s", win.Service, when, win.Description)},
		}
		entries = append(entries, e)
		if !win.Cancelled.IsZero() {
			c := e
			c.Title = "Cancelled: " + e.Title
			c.ID += "/cancelled"
			c.Updated, c.Published, c.at = atomTime(win.Cancelled), atomTime(win.Cancelled), win.Cancelled
			c.Content.Body = fmt.Sprintf("The planned maintenance of %s %s is cancelled.", win.Service, when)
			entries = append(entries, c)
		}
	}
	slices.SortStableFunc(entries, func(a, b atomEntry) int {
		return cmp.Or(b.at.Compare(a.at), cmp.Compare(b.ID, a.ID))
	})
	if len(entries) > maxEntries {
		entries = entries[:maxEntries]
	}
	updated := now // an empty feed: nothing older to point at
	if len(entries) > 0 {
		updated = entries[0].at
	}
	f := atomFeed{
		Title: h.opt.Title, ID: base + "/feed.atom", Updated: atomTime(updated),
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/feed.atom"}, page[0]},
		Author: atomPerson{Name: h.opt.Title}, Entries: entries,
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		h.unavailable(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	shortCache(w)
	w.Write([]byte(xml.Header))
	w.Write(b)
	w.Write([]byte("\n"))
}
