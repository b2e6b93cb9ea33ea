package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/search"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// searchIndex is the search index of a process that holds the store (the
// console, desk serve, desk mail): opened (or built) beside the data and
// kept current until stop. A broken index never keeps the desk from
// running: without one, search says why.
type searchIndex struct {
	idx  *search.Index
	err  error
	stop func()
}

func startSearch(cfg *Config, dataDir string, st *store.Store, logger *log.Logger) *searchIndex {
	if !cfg.searchOn() {
		return &searchIndex{err: errors.New("it is off in the config ([search] index = false)"), stop: func() {}}
	}
	idx, err := search.Open(search.Dir(dataDir), st, logger)
	if err != nil {
		logger.Printf("%v: search is off until it can be opened (desk reindex builds it anew)", err)
		return &searchIndex{err: err, stop: func() {}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := idx.Follow(ctx)
	return &searchIndex{idx: idx, stop: func() {
		cancel()
		<-done
		idx.Close()
	}}
}

// search is what the console and the commands call.
func (s *searchIndex) search(q string, limit int) (search.Result, error) {
	if s == nil || s.idx == nil {
		err := fmt.Errorf("search is not available")
		if s != nil && s.err != nil {
			err = fmt.Errorf("search is not available: %w", s.err)
		}
		return search.Result{}, err
	}
	return s.idx.Search(q, limit)
}

func cmdSearch(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "one JSON object: hits (ticket, score, line), total")
	limit := fs.Int("limit", 20, "at most this many tickets, best first")
	return func(c *call) int {
		q := strings.Join(c.args, " ")
		if strings.TrimSpace(q) == "" {
			fmt.Fprintf(c.stderr, "desk: search: say what to look for: %s\n", search.Help)
			return 2
		}
		find := c.search
		if find == nil && !c.remote && !c.cfg.searchOn() {
			return c.fail(errors.New("search is off in the config ([search] index = false)"))
		}
		if find == nil {
			// Locally the index is this command's: caught up with the
			// store first, so it finds what was written a moment ago.
			idx, err := search.Open(search.Dir(c.env.dataDir), c.st, log.New(c.stderr, "desk: ", 0))
			if err != nil {
				return c.fail(err)
			}
			defer idx.Close()
			if _, err := idx.CatchUp(c.ctx); err != nil {
				return c.fail(err)
			}
			find = idx.Search
		}
		res, err := find(q, *limit)
		if err != nil {
			return c.fail(err)
		}
		return c.done(printHits(c.stdout, res, *asJSON, c.now))
	}
}

func printHits(w io.Writer, res search.Result, asJSON bool, now time.Time) error {
	if asJSON {
		if res.Hits == nil {
			res.Hits = []search.Hit{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if len(res.Hits) == 0 {
		_, err := fmt.Fprintln(w, "nothing matches (tickets or knowledge-base articles)")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, h := range res.Hits {
		if a := h.Article; a != nil {
			fmt.Fprintf(tw, "%s\t%s\t\t%s\n", a.ID, a.Kind, tui.SafeLine(clipRunes(a.Title, 50)))
		} else {
			t := h.Ticket
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Status, t.Priority, tui.SafeLine(clipRunes(t.Subject, 50)))
		}
		if h.Line != "" {
			fmt.Fprintf(tw, "\t\t\t  %s\n", h.Line)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d matches (%.1f ms)\n", len(res.Hits), res.Total, float64(res.Took.Microseconds())/1000)
	return err
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cmdReindex builds the index anew from the store (it is derived; the
// store has everything). Local only: it needs the data directory.
func cmdReindex(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		idx, err := search.Open(search.Dir(c.env.dataDir), c.st, log.New(c.stderr, "desk: ", 0))
		if err != nil {
			return c.fail(err)
		}
		defer idx.Close()
		start := time.Now()
		n, err := idx.Rebuild(c.ctx)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "indexed %d tickets in %s\n", n, time.Since(start).Round(time.Millisecond))
		return 0
	}
}

// similar is Options.Similar; without an index, nothing is similar.
func (s *searchIndex) similar(t store.Ticket, h []store.Event, n int) ([]search.Hit, error) {
	if s == nil || s.idx == nil {
		return nil, nil
	}
	return s.idx.Similar(t, h, n)
}

// solutions is Options.Solutions.
func (s *searchIndex) solutions(t store.Ticket, h []store.Event, n int) ([]search.Hit, error) {
	if s == nil || s.idx == nil {
		return nil, nil
	}
	return s.idx.Solutions(t, h, n)
}
