package search

import (
	"errors"
	"slices"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/deskhq/desk/store"
)

// similarWords is how many words of a ticket a similarity search asks for:
// the subject's and the first mail's, the rarest weighing most.
const similarWords = 40

// Similar is the tickets most like t (open and resolved), best first: any
// of its subject's and first mail's words, scored by how rare each word
// is, the subject's counted twice. The seeds' step 4, "search for similar
// tickets", and the master a new ticket may belong under.
func (x *Index) Similar(t store.Ticket, hist []store.Event, limit int) ([]Hit, error) {
	return x.like(t, hist, limit, "ticket")
}

// Solutions are the current knowledge-base articles most like t: the
// known solutions, workarounds and known errors for it.
func (x *Index) Solutions(t store.Ticket, hist []store.Event, limit int) ([]Hit, error) {
	return x.like(t, hist, limit, "kb")
}

func (x *Index) like(t store.Ticket, hist []store.Event, limit int, kind string) ([]Hit, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, errors.New("search: the index is closed")
	}
	var words []string
	var boosts []float64
	add := func(text string, boost float64) {
		for _, w := range x.queryWords(text) {
			if len(words) >= similarWords || len([]rune(w)) < 3 || !hasLetter(w) || slices.Contains(words, w) {
				continue
			}
			words, boosts = append(words, w), append(boosts, boost)
		}
	}
	add(t.Subject, 2)
	for _, e := range hist {
		// The first mail, or the notes of the phone call that opened it.
		if e.Kind == store.EvMessageIn && e.Message != nil {
			add(e.Message.Body, 1)
			break
		}
		if e.Kind == store.EvNote {
			text := e.Text
			if e.Message != nil {
				text = e.Message.Body
			}
			add(text, 1)
			break
		}
	}
	if len(words) == 0 {
		return nil, nil
	}
	var any []query.Query
	for i, w := range words {
		for _, s := range queryStems(w) {
			tq := bleve.NewTermQuery(s)
			tq.SetField(textField)
			tq.SetBoost(boosts[i])
			any = append(any, tq)
		}
	}
	b := bleve.NewBooleanQuery()
	kq := bleve.NewTermQuery(kind)
	kq.SetField("kind")
	b.AddMust(kq, bleve.NewDisjunctionQuery(any...))
	retired := bleve.NewTermQuery("retired")
	retired.SetField("status")
	b.AddMustNot(bleve.NewDocIDQuery([]string{docID(t.ID)}), retired)
	req := bleve.NewSearchRequestOptions(b, limit, 0, false)
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, err
	}
	var out []Hit
	for _, h := range res.Hits {
		if len(out) > 0 && h.Score < out[0].Score/4 {
			break // a word or two in common, no more: not similar
		}
		if aid, ok := articleOf(h.ID); ok {
			if a, err := x.st.Article(aid); err == nil {
				out = append(out, Hit{Article: &a, Score: h.Score})
			}
			continue
		}
		if id, ok := ticketOf(h.ID); ok {
			if st, err := x.st.Get(id); err == nil {
				out = append(out, Hit{Ticket: st, Score: h.Score})
			}
		}
	}
	return out, nil
}

func hasLetter(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
