// Package search is the desk's full-text index: tickets (subject, every
// message in and out, notes, resolutions, requester, references in other
// trackers) in a bleve index in the data directory, searched with Danish,
// Dutch and English stemming, accent folding, phrases and field terms.
//
// The index is derived data. The store stays the system of record: the
// index follows the store's change feed, catches up on start with what
// changed while it was not running, and is rebuilt when it is missing,
// damaged or of an older layout. A crash loses nothing; at worst the next
// start indexes a few tickets again.
package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/deskhq/desk/store"
)

// layout names the mapping below; an index made with another is rebuilt.
const layout = "desk-search-6"

// textField holds the Danish, Dutch and English stems of every word of a
// ticket (stemsName), accents folded; wordsField the words themselves,
// folded, with their positions, for phrases. Positions of the stems would
// triple what the index keeps for phrases alone.
const (
	textField, textAnalyzer   = "text", "desk_text"
	wordsField, wordsAnalyzer = "words", "desk_words"
)

// keywordFields are the field terms a query can use (from:aarhus.dk,
// status:open), indexed whole and lower-cased.
var keywordFields = []string{"id", "status", "prio", "type", "queue", "service", "assignee", "team", "from", "ref", "kind"}

// aliases are other names people type for a field.
var aliases = map[string]string{
	"priority": "prio", "requester": "from", "to": "from", "reference": "ref", "external": "ref",
	"assigned": "assignee", "owner": "assignee", "state": "status", "is": "status",
}

func indexMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	doc := bleve.NewDocumentStaticMapping()
	// Folding before the stemmers, so that "nøglen" and "noglen" meet; no
	// stop words: folded, a Danish stop word can be another word ("nogle"
	// is also "nøgle" without its ø).
	err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"char_filters":  []string{asciifolding.Name},
		"tokenizer":     wordsName,
		"token_filters": []string{lowercase.Name, stemsName},
	})
	if err != nil {
		return nil, err
	}
	err = im.AddCustomAnalyzer(wordsAnalyzer, map[string]any{
		"type":          custom.Name,
		"char_filters":  []string{asciifolding.Name},
		"tokenizer":     wordsName,
		"token_filters": []string{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name, analyzer string
		positions      bool
	}{{textField, textAnalyzer, false}, {wordsField, wordsAnalyzer, true}} {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = f.analyzer
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = f.positions
		fm.DocValues = false
		doc.AddFieldMappingsAt(f.name, fm)
	}
	for _, f := range keywordFields {
		fm := bleve.NewKeywordFieldMapping()
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		doc.AddFieldMappingsAt(f, fm)
	}
	upd := bleve.NewNumericFieldMapping()
	upd.Store = false
	upd.IncludeInAll = false
	doc.AddFieldMappingsAt("updated", upd)
	im.DefaultMapping = doc
	im.DefaultAnalyzer = textAnalyzer
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}

// document is what the index keeps of a ticket: its words and its field
// terms, nothing that could be shown (results are read from the store).
func document(t store.Ticket, history []store.Event) map[string]any {
	var b strings.Builder
	line := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			b.WriteString(s)
			b.WriteString("\n")
		}
	}
	line(t.ID.String())
	line(t.Subject)
	line(t.Requester.Name)
	line(t.Requester.Email)
	line(t.Requester.Organisation)
	for _, x := range refTerms(t.External) {
		line(x) // "jira:nsp-123" is one word to the tokenizer; "nsp-123" is what people type
	}
	from := addrTerms(nil, t.Requester.Email)
	for _, e := range history {
		for _, s := range eventText(e) {
			line(s)
		}
		if m := e.Message; m != nil {
			from = addrTerms(from, m.From.Email)
		}
	}
	// The tokenizer stops at a byte that is not UTF-8.
	text := strings.ToValidUTF8(b.String(), " ")
	doc := map[string]any{
		"id":       strings.ToLower(t.ID.String()),
		"kind":     "ticket",
		"status":   string(t.Status),
		"prio":     strings.ToLower(t.Priority.String()),
		"type":     strings.ToLower(string(t.Type)),
		"queue":    strings.ToLower(t.Queue),
		"service":  strings.ToLower(t.Service),
		"assignee": strings.ToLower(t.Assignee),
		"team":     strings.ToLower(t.Team),
		"from":     from,
		"ref":      refTerms(t.External),
		"updated":  float64(t.Updated.Unix()),
	}
	if t.Status.Active() {
		doc["status"] = []string{string(t.Status), "active"}
	}
	doc[textField] = text
	doc[wordsField] = text
	return doc
}

// eventText is what an event says in words: the lines a search finds and
// shows.
func eventText(e store.Event) []string {
	var out []string
	if m := e.Message; m != nil {
		out = append(out, m.From.Name, m.Subject, m.Body)
		for _, a := range m.Attachments {
			out = append(out, a.Name)
		}
	}
	switch e.Kind {
	case store.EvNote, store.EvMajorNote:
		out = append(out, e.Text)
	case store.EvStatus:
		if e.To == string(store.StatusResolved) || e.To == string(store.StatusClosed) {
			out = append(out, e.Text)
		}
	case store.EvReport:
		if r := e.Report; r != nil {
			out = append(out, r.Summary, r.Impact, r.RootCause, r.Actions)
		}
	}
	return out
}

// addrTerms adds an address and its domain and parent domains, so that
// from:aarhus.dk finds mail from it.aarhus.dk.
func addrTerms(terms []string, addr string) []string {
	a := strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return terms
	}
	add := func(s string) {
		for _, x := range terms {
			if x == s {
				return
			}
		}
		terms = append(terms, s)
	}
	add(a)
	for d := a[at+1:]; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		add(d)
	}
	return terms
}

// refTerms: "jira:NSP-123" is found as ref:jira:nsp-123 and ref:nsp-123.
func refTerms(refs []string) []string {
	var out []string
	for _, r := range refs {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		out = append(out, r)
		if _, id, ok := strings.Cut(r, ":"); ok && id != "" {
			out = append(out, id)
		}
	}
	return out
}

// articleDocument is what the index keeps of a knowledge-base article.
func articleDocument(a store.Article) map[string]any {
	text := strings.ToValidUTF8(strings.Join(append([]string{a.ID.String(), a.Title, a.Body, a.Service}, a.Tags...), "\n"), " ")
	status := "current"
	if a.Retired {
		status = "retired"
	}
	return map[string]any{
		"id":       strings.ToLower(a.ID.String()),
		"kind":     "kb",
		"status":   status,
		"type":     string(a.Kind),
		"service":  strings.ToLower(a.Service),
		"assignee": strings.ToLower(a.Author),
		"updated":  float64(a.Updated.Unix()),
		textField:  text,
		wordsField: text,
	}
}
