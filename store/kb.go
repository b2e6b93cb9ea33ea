package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ArticleKind is what a knowledge-base article offers.
type ArticleKind string

const (
	KindSolution    ArticleKind = "solution"    // fixes the problem
	KindWorkaround  ArticleKind = "workaround"  // gets the user going until it is fixed
	KindKnownError  ArticleKind = "known-error" // the problem, its cause, no fix yet
	articleKindsMsg             = "solution, workaround or known-error"
)

// ArticleKinds are the kinds there are, in the order pickers offer them.
var ArticleKinds = []ArticleKind{KindSolution, KindWorkaround, KindKnownError}

// ArticleID numbers knowledge-base articles: KB-1, KB-2, ...
type ArticleID uint64

func (id ArticleID) String() string { return "KB-" + strconv.FormatUint(uint64(id), 10) }

// ParseArticleID reads "KB-12", "kb12" or "12".
func ParseArticleID(s string) (ArticleID, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimPrefix(strings.TrimPrefix(t, "KB"), "-")
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not an article number: write KB-12 (or 12)", s)
	}
	return ArticleID(n), nil
}

// Article is a knowledge-base article as it stands; its history is kept
// beside it, append-only.
type Article struct {
	ID      ArticleID   `json:"id"`
	Title   string      `json:"title"`
	Body    string      `json:"body"` // Markdown
	Kind    ArticleKind `json:"kind"`
	Service string      `json:"service,omitempty"`
	Tags    []string    `json:"tags,omitempty"`
	Tickets []TicketID  `json:"tickets,omitempty"` // the tickets it came from or solved
	Author  string      `json:"author"`
	Created time.Time   `json:"created"`
	Updated time.Time   `json:"updated"`
	Version int         `json:"version"` // 1, then +1 per edit
	Retired bool        `json:"retired,omitempty"`
	// Applied counts the tickets it solved (Resolve with the article).
	Applied int `json:"applied,omitempty"`
}

// ArticleDraft is what a writer gives for a new or edited article.
type ArticleDraft struct {
	Title   string
	Body    string
	Kind    ArticleKind
	Service string
	Tags    []string
	Tickets []TicketID
}

// ArticleEvent is one entry of an article's history.
type ArticleEvent struct {
	Article ArticleID `json:"article"`
	Seq     int       `json:"seq"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	What    string    `json:"what"` // created, edited, retired, applied
	Text    string    `json:"text,omitempty"`
	Version int       `json:"version"`
	Ticket  TicketID  `json:"ticket,omitempty"` // applied to
}

func articleKey(id ArticleID) []byte { return u64([]byte{pArticle}, uint64(id)) }
func articleEventKey(id ArticleID, seq int) []byte {
	return u64(u64([]byte{pArticleEvent}, uint64(id)), uint64(seq))
}

const ctrArticle = "article"

func (d *ArticleDraft) check() error {
	d.Title = strings.TrimSpace(d.Title)
	if d.Title == "" {
		return errors.New("an article needs a title")
	}
	if strings.TrimSpace(d.Body) == "" {
		return errors.New("an article needs a body: what to do, step by step")
	}
	if d.Kind == "" {
		d.Kind = KindSolution
	}
	if !slices.Contains(ArticleKinds, d.Kind) {
		return fmt.Errorf("kind %q is unknown: use %s", d.Kind, articleKindsMsg)
	}
	var tags []string
	for _, t := range d.Tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	d.Tags = tags
	return nil
}

// mayEditArticles: operators and leads write the knowledge base, viewers
// read it.
func (s *Store) mayEditArticles(actor string) error {
	if s.RoleOf(actor) == RoleViewer {
		return &RefusedError{Why: actor + " is a viewer and cannot change the knowledge base", Fix: "a lead can give the operator role in the config ([[operators]] role)"}
	}
	return nil
}

// CreateArticle adds an article (version 1) with its created event.
func (s *Store) CreateArticle(actor string, d ArticleDraft) (Article, error) {
	if err := s.mayEditArticles(actor); err != nil {
		return Article{}, err
	}
	if err := d.check(); err != nil {
		return Article{}, &RefusedError{Why: err.Error()}
	}
	var a Article
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync = true
		n, err := nextCounter(txn, ctrArticle)
		if err != nil {
			return err
		}
		now := s.now()
		a = Article{ID: ArticleID(n), Title: d.Title, Body: d.Body, Kind: d.Kind, Service: d.Service, Tags: d.Tags,
			Tickets: slices.Clone(d.Tickets), Author: actor, Created: now, Updated: now, Version: 1}
		if err := putJSON(txn, articleKey(a.ID), &a); err != nil {
			return err
		}
		return putJSON(txn, articleEventKey(a.ID, 0), &ArticleEvent{Article: a.ID, At: now, Actor: actor, What: "created",
			Text: string(a.Kind) + ": " + a.Title, Version: 1})
	})
	if err == nil {
		s.articleGen.Add(1)
	}
	return a, err
}

// ArticlesChanged counts the knowledge-base writes of this process: a
// reader that saw the same number has seen every article as it is (one
// process holds the store).
func (s *Store) ArticlesChanged() uint64 { return s.articleGen.Load() }

// EditArticle replaces an article's text and fields. seen is the version
// the writer edited: if someone saved another since, nothing is written
// and the error says who.
func (s *Store) EditArticle(id ArticleID, actor string, seen int, d ArticleDraft) (Article, error) {
	if err := s.mayEditArticles(actor); err != nil {
		return Article{}, err
	}
	if err := d.check(); err != nil {
		return Article{}, &RefusedError{Why: id.String() + ": " + err.Error()}
	}
	return s.changeArticle(id, actor, func(a *Article) (string, error) {
		if seen != 0 && a.Version != seen {
			return "", &RefusedError{Why: fmt.Sprintf("%s was changed since you opened it (you edited version %d, it is at version %d)", id, seen, a.Version),
				Fix: "open it again (desk kb show " + id.String() + ") and make your change on the new version"}
		}
		var what []string
		if a.Title != d.Title {
			what = append(what, "title")
		}
		if a.Body != d.Body {
			what = append(what, "text")
		}
		if a.Kind != d.Kind {
			what = append(what, "kind "+string(a.Kind)+" → "+string(d.Kind))
		}
		if a.Service != d.Service {
			what = append(what, "service")
		}
		if !slices.Equal(a.Tags, d.Tags) {
			what = append(what, "tags")
		}
		if !slices.Equal(a.Tickets, d.Tickets) && d.Tickets != nil {
			what = append(what, "tickets")
		}
		if len(what) == 0 {
			return "", &RefusedError{Why: id.String() + ": nothing changed"}
		}
		a.Title, a.Body, a.Kind, a.Service, a.Tags = d.Title, d.Body, d.Kind, d.Service, d.Tags
		if d.Tickets != nil {
			a.Tickets = slices.Clone(d.Tickets)
		}
		a.Version++
		return "edited: " + strings.Join(what, ", "), nil
	})
}

// RetireArticle takes an article out of use (kept, with its history); why
// is recorded.
func (s *Store) RetireArticle(id ArticleID, actor, why string) (Article, error) {
	if err := s.mayEditArticles(actor); err != nil {
		return Article{}, err
	}
	if strings.TrimSpace(why) == "" {
		return Article{}, &RefusedError{Why: "retiring " + id.String() + " needs a reason (it stays in its history)"}
	}
	return s.changeArticle(id, actor, func(a *Article) (string, error) {
		if a.Retired {
			return "", &RefusedError{Why: id.String() + " is retired already"}
		}
		a.Retired = true
		return "retired: " + why, nil
	})
}

func (s *Store) changeArticle(id ArticleID, actor string, change func(a *Article) (string, error)) (Article, error) {
	var out Article
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		w.sync = true
		var a Article
		if err := getJSON(txn, articleKey(id), &a); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%s: %w", id, ErrNotFound)
			}
			return err
		}
		text, err := change(&a)
		if err != nil {
			return err
		}
		what, _, _ := strings.Cut(text, ":")
		return s.appendArticle(txn, &a, ArticleEvent{Actor: actor, What: what, Text: text}, &out)
	})
	if err == nil {
		s.articleGen.Add(1)
	}
	return out, err
}

// appendArticle saves a and its next history entry in txn.
func (s *Store) appendArticle(txn *badger.Txn, a *Article, e ArticleEvent, out *Article) error {
	seq, err := s.articleEvents(txn, a.ID)
	if err != nil {
		return err
	}
	e.Article, e.Seq, e.At, e.Version = a.ID, seq, s.now(), a.Version
	a.Updated = e.At
	if err := putJSON(txn, articleKey(a.ID), a); err != nil {
		return err
	}
	*out = *a
	return putJSON(txn, articleEventKey(a.ID, seq), &e)
}

// articleEvents counts an article's history entries (the next Seq).
func (s *Store) articleEvents(txn *badger.Txn, id ArticleID) (int, error) {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = u64([]byte{pArticleEvent}, uint64(id))
	it := txn.NewIterator(o)
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n, nil
}

// Article reads one article.
func (s *Store) Article(id ArticleID) (Article, error) {
	var a Article
	err := s.read(func(txn *badger.Txn) error { return getJSON(txn, articleKey(id), &a) })
	if errors.Is(err, ErrNotFound) {
		return a, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return a, err
}

// Articles lists the articles, newest first; retired ones only when asked.
func (s *Store) Articles(retired bool) ([]Article, error) {
	var out []Article
	err := s.read(func(txn *badger.Txn) error {
		return reverseScan(txn, []byte{pArticle}, func(item *badger.Item) (bool, error) {
			var a Article
			if err := item.Value(func(b []byte) error { return jsonUnmarshal(b, &a) }); err != nil {
				return false, fmt.Errorf("store: read article %x: %w", item.Key(), err)
			}
			if retired || !a.Retired {
				out = append(out, a)
			}
			return true, nil
		})
	})
	return out, err
}

// ArticleHistory is an article's history, oldest first.
func (s *Store) ArticleHistory(id ArticleID) ([]ArticleEvent, error) {
	var out []ArticleEvent
	err := s.read(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = u64([]byte{pArticleEvent}, uint64(id))
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e ArticleEvent
			if err := it.Item().Value(func(b []byte) error { return jsonUnmarshal(b, &e) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// ResolveWith resolves the ticket with a known solution: Resolve with text
// (usually the article's, edited), and in the same write the ticket's
// history says which article solved it and the article counts it.
func (s *Store) ResolveWith(id TicketID, article ArticleID, actor, text string) (Ticket, []TicketID, error) {
	var cascaded []TicketID
	t, err := s.run(actor, s.withChildren(id), func(o *op) error {
		cascaded = nil
		var a Article
		if err := getJSON(o.txn, articleKey(article), &a); err != nil {
			if errors.Is(err, ErrNotFound) {
				return refuse(id, fmt.Sprintf("there is no article %s", article), "desk kb list shows the knowledge base")
			}
			return err
		}
		if a.Retired {
			return refuse(id, fmt.Sprintf("%s is retired", article), "resolve without it, or with another article")
		}
		cur, err := o.get(id)
		if err != nil {
			return err
		}
		if err := o.resolve(cur, text, &cascaded); err != nil {
			return err
		}
		if _, err := o.add(id, Event{Kind: EvNote, Text: fmt.Sprintf("solved with %s (%s): %s", a.ID, a.Kind, a.Title)}); err != nil {
			return err
		}
		a.Applied++
		if !slices.Contains(a.Tickets, id) {
			a.Tickets = append(a.Tickets, id)
		}
		var out Article
		return s.appendArticle(o.txn, &a, ArticleEvent{Actor: actor, What: "applied", Text: "solved " + id.String(), Ticket: id}, &out)
	})
	if err == nil {
		s.articleGen.Add(1)
	}
	return t, cascaded, err
}

// ArticleText is an article as one text to edit: header lines (Title,
// Kind, Service, Tags), a blank line, the Markdown body.
func ArticleText(d ArticleDraft) string {
	return fmt.Sprintf("Title: %s\nKind: %s\nService: %s\nTags: %s\n\n%s", d.Title, d.Kind, d.Service, strings.Join(d.Tags, ", "), d.Body)
}

// ParseArticleText reads ArticleText back; header lines it does not know
// are part of the body.
func ParseArticleText(s string) ArticleDraft {
	var d ArticleDraft
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	i := 0
	for ; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if strings.TrimSpace(lines[i]) == "" {
			i++
			break
		}
		if !ok {
			break
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "title":
			d.Title = v
		case "kind":
			d.Kind = ArticleKind(strings.ToLower(v))
		case "service":
			d.Service = v
		case "tags":
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					d.Tags = append(d.Tags, t)
				}
			}
		default:
			goto body
		}
	}
body:
	d.Body = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	return d
}
