package search

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// Hit is one ticket a search found, best first.
type Hit struct {
	Ticket store.Ticket `json:"ticket,omitzero"`
	// Article is set, and Ticket zero, for a knowledge-base article.
	Article *store.Article `json:"article,omitempty"`
	Score   float64        `json:"score"`
	// Line is the line of the ticket that matched best, made safe for a
	// terminal; empty when only field terms matched.
	Line string `json:"line,omitempty"`
}

// Result of a search.
type Result struct {
	Hits  []Hit         `json:"hits"`
	Total uint64        `json:"total"` // all matches, of which Hits are the best
	Took  time.Duration `json:"took_ns"`
}

// part is one piece of a query: a word, a phrase or a field term.
type part struct {
	field  string // "" for words and phrases
	text   string
	phrase bool
	not    bool
}

// Help says what a query can hold, for error messages and the console.
const Help = `words (all must match; Danish, Dutch and English forms and accents fold: nøgle finds nøglen), "a phrase", -word to leave out, and field terms: ` +
	`from:ADDRESS-OR-DOMAIN status:open|active|resolved|... prio:P1 type: queue: service: assignee: team: ref:jira:NSP-123 id:SD-12 kind:ticket|kb`

// parse splits q into its parts. A word with a colon whose prefix is not
// a field (a URL, "cq:4711" in free text) stays a word.
func parse(q string) ([]part, error) {
	var out []part
	for i := 0; i < len(q); {
		c := q[i]
		if c == ' ' || c == '\t' || c == '\n' {
			i++
			continue
		}
		var p part
		if c == '-' && i+1 < len(q) && q[i+1] != ' ' {
			p.not = true
			i++
		}
		if q[i] == '"' {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("search: the phrase %s has no closing quote", q[i:])
			}
			p.text, p.phrase = q[i+1:i+1+end], true
			i += end + 2
		} else {
			j := i
			for j < len(q) && q[j] != ' ' && q[j] != '\t' && q[j] != '\n' {
				if q[j] == '"' && j > i && q[j-1] == ':' { // field:"two words"
					end := strings.IndexByte(q[j+1:], '"')
					if end < 0 {
						return nil, fmt.Errorf("search: the value %s has no closing quote", q[i:])
					}
					j += end + 2
					continue
				}
				j++
			}
			p.text = q[i:j]
			i = j
			if f, v, ok := strings.Cut(p.text, ":"); ok && v != "" {
				f = strings.ToLower(f)
				if a, ok := aliases[f]; ok {
					f = a
				}
				if isField(f) {
					p.field, p.text = f, strings.Trim(v, `"`)
				}
			}
		}
		if strings.TrimSpace(p.text) == "" {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("search: nothing to search for; " + Help)
	}
	return out, nil
}

func isField(f string) bool {
	for _, k := range keywordFields {
		if k == f {
			return true
		}
	}
	return false
}

// fieldValue is a field term as the index keeps it.
func fieldValue(field, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	switch field {
	case "prio":
		if len(v) == 1 && v[0] >= '1' && v[0] <= '4' {
			v = "p" + v
		}
	case "id":
		if v != "" && v[0] >= '0' && v[0] <= '9' {
			v = "sd-" + v
		}
	case "from":
		v = strings.TrimPrefix(v, "@")
	}
	return v
}

// build makes the bleve query. A word is the disjunction of its stems,
// every word wanted; a phrase is those words in that order, unstemmed.
func (x *Index) build(parts []part) query.Query {
	var must, not []query.Query
	for _, p := range parts {
		var q query.Query
		switch {
		case p.field != "":
			tq := bleve.NewTermQuery(fieldValue(p.field, p.text))
			tq.SetField(p.field)
			q = tq
		case p.phrase:
			mq := bleve.NewMatchPhraseQuery(p.text)
			mq.SetField(wordsField)
			q = mq
		default:
			// "user@aarhus.dk" or "NSP-123" is more than one token: all wanted.
			var all []query.Query
			for _, word := range x.queryWords(p.text) {
				var any []query.Query
				for _, term := range queryStems(word) {
					tq := bleve.NewTermQuery(term)
					tq.SetField(textField)
					any = append(any, tq)
				}
				all = append(all, bleve.NewDisjunctionQuery(any...))
			}
			if len(all) == 0 {
				continue // only punctuation
			}
			q = bleve.NewConjunctionQuery(all...)
		}
		if p.not {
			not = append(not, q)
		} else {
			must = append(must, q)
		}
	}
	b := bleve.NewBooleanQuery()
	if len(must) == 0 {
		must = append(must, bleve.NewMatchAllQuery())
	}
	b.AddMust(must...)
	if len(not) > 0 {
		b.AddMustNot(not...)
	}
	return b
}

// queryWords are the words of a query text as the index cuts them:
// folded, lower-cased, unstemmed.
func (x *Index) queryWords(text string) []string {
	var out []string
	for _, t := range x.idx.Mapping().AnalyzerNamed(wordsAnalyzer).Analyze([]byte(text)) {
		out = append(out, string(t.Term))
	}
	return out
}

// Search runs q and returns up to limit hits, best first, each with the
// ticket as the store has it now and the line that matched.
func (x *Index) Search(q string, limit int) (Result, error) {
	start := time.Now()
	parts, err := parse(q)
	if err != nil {
		return Result{}, err
	}
	if limit <= 0 {
		limit = 20
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return Result{}, errors.New("search: the index is closed")
	}
	req := bleve.NewSearchRequestOptions(x.build(parts), limit, 0, false)
	res, err := x.idx.Search(req)
	if err != nil {
		return Result{}, fmt.Errorf("search %q: %w", q, err)
	}
	terms := x.queryTerms(parts)
	out := Result{Total: res.Total}
	for _, h := range res.Hits {
		if aid, ok := articleOf(h.ID); ok {
			a, err := x.st.Article(aid)
			if err != nil {
				continue
			}
			hit := Hit{Article: &a, Score: h.Score}
			if len(terms) > 0 {
				hit.Line = x.bestLine(a.Title, []store.Event{{Kind: store.EvNote, Text: a.Body}}, terms)
			}
			out.Hits = append(out.Hits, hit)
			continue
		}
		id, ok := ticketOf(h.ID)
		if !ok {
			continue
		}
		t, err := x.st.Get(id)
		if errors.Is(err, store.ErrNotFound) {
			continue // gone since it was indexed
		}
		if err != nil {
			return Result{}, err
		}
		hit := Hit{Ticket: t, Score: h.Score}
		if len(terms) > 0 {
			if hist, err := x.st.History(id); err == nil {
				hit.Line = x.bestLine(t.Subject, hist, terms)
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Took = time.Since(start)
	return out, nil
}

// queryTerms are the stems of the query's words and phrases: what a line
// must hold to be shown as the match.
func (x *Index) queryTerms(parts []part) map[string]bool {
	set := map[string]bool{}
	for _, p := range parts {
		if p.field != "" || p.not {
			continue
		}
		for _, w := range x.queryWords(p.text) {
			for _, s := range queryStems(w) {
				set[s] = true
			}
		}
	}
	return set
}

func (x *Index) analyzer() analysis.Analyzer { return x.idx.Mapping().AnalyzerNamed(textAnalyzer) }

// bestLine is the line of the ticket holding the most of the query's
// words (the earliest of equals), made safe and short for one screen line.
func (x *Index) bestLine(subject string, hist []store.Event, terms map[string]bool) string {
	best, bestN := "", 0
	a := x.analyzer()
	// A line worth analysing holds a stem as text (stems are nearly always
	// a prefix of their word): most lines of a long ticket are skipped
	// without tokenising them.
	var roots []string
	for term := range terms {
		if _, r, ok := strings.Cut(term, ":"); ok && r != "" && !slices.Contains(roots, r) {
			roots = append(roots, r)
		}
	}

	folder := asciifolding.New()
	prefilter := true
	try := func(line string) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ">") && bestN > 0 {
			return
		}
		folded := string(folder.Filter([]byte(strings.ToLower(line))))
		if prefilter && !slices.ContainsFunc(roots, func(r string) bool { return strings.Contains(folded, r) }) {
			return
		}
		line = strings.ToValidUTF8(line, " ")
		seen := map[string]bool{}
		for _, tok := range a.Analyze([]byte(line)) {
			if s := string(tok.Term); terms[s] {
				seen[s] = true
			}
		}
		if len(seen) > bestN {
			best, bestN = line, len(seen)
		}
	}
	// What people wrote first: the subject is shown beside every hit
	// anyway, and a mail's subject repeats it.
	scan := func() {
		for _, e := range hist {
			for _, s := range eventText(e) {
				if e.Message != nil && s == e.Message.Subject {
					continue
				}
				for _, line := range strings.Split(s, "\n") {
					try(line)
				}
			}
		}
	}
	scan()
	if bestN == 0 {
		prefilter = false // a stem that is not its word's prefix ("happi")
		scan()
	}
	if bestN == 0 {
		try(subject)
	}
	return clip(termtext.Line(best), 200)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
