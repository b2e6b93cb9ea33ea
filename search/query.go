package search

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// Hit is one ticket a search found, best first.
type Hit struct {
	Ticket store.Ticket `json:"ticket"`
	Score  float64      `json:"score"`
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
	`from:ADDRESS-OR-DOMAIN status:open|active|resolved|... prio:P1 type: queue: service: assignee: team: ref:jira:NSP-123 id:SD-12`

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

func build(parts []part) query.Query {
	var must, not []query.Query
	for _, p := range parts {
		var q query.Query
		if p.field != "" {
			tq := bleve.NewTermQuery(fieldValue(p.field, p.text))
			tq.SetField(p.field)
			q = tq
		} else {
			var langs []query.Query
			for _, l := range languages {
				if p.phrase {
					mq := bleve.NewMatchPhraseQuery(p.text)
					mq.SetField(textField(l.name))
					langs = append(langs, mq)
				} else {
					mq := bleve.NewMatchQuery(p.text)
					mq.SetField(textField(l.name))
					mq.SetOperator(query.MatchQueryOperatorAnd) // "user@aarhus.dk" is three tokens, all wanted
					langs = append(langs, mq)
				}
			}
			q = bleve.NewDisjunctionQuery(langs...)
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
	req := bleve.NewSearchRequestOptions(build(parts), limit, 0, false)
	req.SortBy([]string{"-_score", "-updated"})
	res, err := x.idx.Search(req)
	if err != nil {
		return Result{}, fmt.Errorf("search %q: %w", q, err)
	}
	terms := x.queryTerms(parts)
	out := Result{Total: res.Total}
	for _, h := range res.Hits {
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
				hit.Line = x.bestLine(t, hist, terms)
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Took = time.Since(start)
	return out, nil
}

// queryTerms are the analysed words of the query's words and phrases, per
// language: what a line must hold to be shown as the match.
func (x *Index) queryTerms(parts []part) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, l := range languages {
		a := x.analyzer(l.name)
		if a == nil {
			continue
		}
		set := map[string]bool{}
		for _, p := range parts {
			if p.field != "" || p.not {
				continue
			}
			for _, tok := range a.Analyze([]byte(p.text)) {
				set[string(tok.Term)] = true
			}
		}
		if len(set) > 0 {
			out[l.name] = set
		}
	}
	return out
}

func (x *Index) analyzer(lang string) analysis.Analyzer {
	return x.idx.Mapping().AnalyzerNamed(analyzerName(lang))
}

// bestLine is the line of the ticket holding the most of the query's
// words (the earliest of equals), made safe and short for one screen line.
func (x *Index) bestLine(t store.Ticket, hist []store.Event, terms map[string]map[string]bool) string {
	best, bestN := "", 0
	try := func(line string) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ">") && bestN > 0 {
			return
		}
		n := 0
		for lang, set := range terms {
			a := x.analyzer(lang)
			seen := map[string]bool{}
			for _, tok := range a.Analyze([]byte(line)) {
				if s := string(tok.Term); set[s] && !seen[s] {
					seen[s] = true
				}
			}
			n = max(n, len(seen))
		}
		if n > bestN {
			best, bestN = line, n
		}
	}
	// What people wrote first: the subject is shown beside every hit
	// anyway, and a mail's subject repeats it.
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
	if bestN == 0 {
		try(t.Subject)
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
