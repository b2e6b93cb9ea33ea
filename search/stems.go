package search

import (
	"slices"
	"sync"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/character"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
)

// stemsName is the token filter that puts a word's Danish, Dutch and
// English stems at its position: a mail does not say its language, and one
// field with all three costs one tokenisation instead of three (the first
// layout's three fields spent most of indexing tokenising the same text
// again).
const stemsName = "desk_stems"

// stemmers, each with the tag its stems carry: a stem matches only one of
// the same language (the Dutch stem of "printer" is the English one of
// "printing"; neither is a match).
var stemmers = []struct {
	tag  string
	stem func(*snowballstem.Env) bool
}{{"da:", danish.Stem}, {"nl:", dutch.Stem}, {"en:", english.Stem}}

// stemCache remembers the stems of words seen: mail repeats its words,
// and stemming was the other half of indexing. Bounded: cleared when full.
var stemCache = struct {
	sync.RWMutex
	m map[string][]string
}{m: map[string][]string{}}

const stemCacheMax = 200_000

// stemsOf is word's stems, one per language, tagged with it; or, when the
// three agree, that one stem untagged (most words: a third of the terms to
// index, and indexing's cost is per term). queryStems is the other side.
func stemsOf(word string) []string {
	stemCache.RLock()
	s, ok := stemCache.m[word]
	stemCache.RUnlock()
	if ok {
		return s
	}
	var raw [3]string
	for i, l := range stemmers {
		env := snowballstem.NewEnv(word)
		l.stem(env)
		raw[i] = env.Current()
	}
	if raw[0] == raw[1] && raw[1] == raw[2] {
		s = []string{raw[0]}
	} else {
		for i, l := range stemmers {
			s = append(s, l.tag+raw[i])
		}
	}
	stemCache.Lock()
	if len(stemCache.m) >= stemCacheMax {
		clear(stemCache.m)
	}
	stemCache.m[word] = s
	stemCache.Unlock()
	return s
}

type stemsFilter struct{}

func (stemsFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(in)*3/2)
	for _, tok := range in {
		for i, s := range stemsOf(string(tok.Term)) {
			t := tok
			if i > 0 {
				c := *tok
				t = &c
			}
			t.Term = []byte(s)
			out = append(out, t)
		}
	}
	return out
}

// wordsName is the tokenizer: runs of letters and digits. Unicode word
// segmentation (UAX #29) cost a fifth of indexing and keeps "jira:nsp" as
// one word; an id like NSP-123 is found as its two parts in order either way.
const wordsName = "desk_alnum"

func init() {
	registry.RegisterTokenizer(wordsName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return character.NewCharacterTokenizer(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }), nil
	})
	registry.RegisterTokenFilter(stemsName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return stemsFilter{}, nil
	})
}

// queryStems is what a query word matches: its stem in each language,
// tagged, for words whose stems differ, and each of those stems untagged,
// for words whose stems agree (an untagged s was indexed for a word whose
// stem is s in every language, so it matches in whichever language q has
// that stem).
func queryStems(q string) []string {
	var out []string
	for _, l := range stemmers {
		env := snowballstem.NewEnv(q)
		l.stem(env)
		st := env.Current()
		out = append(out, l.tag+st)
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out
}
