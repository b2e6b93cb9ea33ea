package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/deskhq/desk/store"
)

// Dir is where the index of a data directory lives.
func Dir(dataDir string) string { return filepath.Join(dataDir, "search") }

// Index is the search index of one store. It is safe for concurrent use:
// many consoles search while Run indexes.
type Index struct {
	st  *store.Store
	dir string
	log *log.Logger

	mu  sync.RWMutex // guards idx against Rebuild
	idx bleve.Index
}

// batchSize is how many tickets one index batch writes: large enough that
// a busy intake costs few batches, small enough to keep memory flat.
const batchSize = 2000

// Open opens the index in dir for st, making it when it is missing and
// making it anew when it is damaged or of another layout (it is derived:
// nothing is lost, the store has it all). Call CatchUp before relying on
// it, and Run to keep it current.
func Open(dir string, st *store.Store, logger *log.Logger) (*Index, error) {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	x := &Index{st: st, dir: dir, log: logger}
	idx, err := bleve.Open(dir)
	switch {
	case err == nil:
		if v, verr := idx.GetInternal([]byte("layout")); verr == nil && string(v) == layout {
			x.idx = idx
			break
		}
		idx.Close()
		logger.Printf("search: the index in %s has an older layout; building it anew", dir)
		err = x.remake()
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		err = x.remake()
	default:
		logger.Printf("search: the index in %s cannot be opened (%v); building it anew from the store", dir, err)
		err = x.remake()
	}
	if err != nil {
		return nil, fmt.Errorf("search index in %s: %w", dir, err)
	}
	return x, nil
}

// remake replaces whatever is in x.dir with an empty index.
func (x *Index) remake() error {
	if err := os.RemoveAll(x.dir); err != nil {
		return fmt.Errorf("remove the old index: %w", err)
	}
	m, err := indexMapping()
	if err != nil {
		return err
	}
	idx, err := bleve.New(x.dir, m)
	if err != nil {
		return err
	}
	if err := idx.SetInternal([]byte("layout"), []byte(layout)); err != nil {
		idx.Close()
		return err
	}
	x.idx = idx
	return nil
}

// Close closes the index.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	err := x.idx.Close()
	x.idx = nil
	return err
}

func docID(id store.TicketID) string { return "t" + strconv.FormatUint(uint64(id), 10) }

func articleDocID(id store.ArticleID) string { return "k" + strconv.FormatUint(uint64(id), 10) }

func articleOf(doc string) (store.ArticleID, bool) {
	if len(doc) < 2 || doc[0] != 'k' {
		return 0, false
	}
	n, err := strconv.ParseUint(doc[1:], 10, 64)
	return store.ArticleID(n), err == nil
}

func articleSeenKey(id store.ArticleID) []byte {
	return binary.BigEndian.AppendUint64([]byte("seen-kb/"), uint64(id))
}

// syncArticles indexes the articles changed since the index saw them
// (the knowledge base is small next to the tickets: a scan is cheap).
func (x *Index) syncArticles() (int, error) {
	list, err := x.st.Articles(true)
	if err != nil {
		return 0, fmt.Errorf("search: read the knowledge base: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, errors.New("search: the index is closed")
	}
	b := x.idx.NewBatch()
	n := 0
	for _, a := range list {
		mark := binary.AppendUvarint(nil, uint64(a.Updated.UnixNano()))
		if v, err := x.idx.GetInternal(articleSeenKey(a.ID)); err == nil && string(v) == string(mark) {
			continue
		}
		if err := b.Index(articleDocID(a.ID), articleDocument(a)); err != nil {
			return 0, fmt.Errorf("search: index %s: %w", a.ID, err)
		}
		b.SetInternal(articleSeenKey(a.ID), mark)
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := x.idx.Batch(b); err != nil {
		return 0, fmt.Errorf("search: write the index: %w", err)
	}
	return n, nil
}

func ticketOf(doc string) (store.TicketID, bool) {
	if len(doc) < 2 || doc[0] != 't' {
		return 0, false
	}
	n, err := strconv.ParseUint(doc[1:], 10, 64)
	return store.TicketID(n), err == nil
}

// seenKey holds, per ticket, the event count the index has: what CatchUp
// compares with the store.
func seenKey(id store.TicketID) []byte {
	return binary.BigEndian.AppendUint64([]byte("seen/"), uint64(id))
}

// CatchUp indexes every ticket the index is behind on (all of them in a
// new index) and reports how many it indexed.
func (x *Index) CatchUp(ctx context.Context) (int, error) {
	if _, err := x.syncArticles(); err != nil {
		return 0, err
	}
	behind, err := x.behind(ctx)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(behind); i += batchSize {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if err := x.Update(behind[i:min(i+batchSize, len(behind))]); err != nil {
			return i, err
		}
	}
	return len(behind), nil
}

// Behind is how many tickets the index is behind on.
func (x *Index) Behind(ctx context.Context) (int, error) {
	b, err := x.behind(ctx)
	return len(b), err
}

func (x *Index) behind(ctx context.Context) ([]store.TicketID, error) {
	x.mu.RLock()
	idx := x.idx
	x.mu.RUnlock()
	if idx == nil {
		return nil, errors.New("search: the index is closed")
	}
	var behind []store.TicketID
	var ierr error
	err := x.st.Tickets(func(t store.Ticket) bool {
		v, err := idx.GetInternal(seenKey(t.ID))
		if err != nil {
			ierr = err
			return false
		}
		if n, k := binary.Uvarint(v); k <= 0 || int(n) != t.Events {
			behind = append(behind, t.ID)
		}
		return ctx.Err() == nil
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		return nil, fmt.Errorf("search: compare the index with the store: %w", err)
	}
	return behind, nil
}

// Update indexes the tickets ids as the store has them now, in one batch.
func (x *Index) Update(ids []store.TicketID) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errors.New("search: the index is closed")
	}
	b := x.idx.NewBatch()
	for _, id := range ids {
		t, err := x.st.Get(id)
		if errors.Is(err, store.ErrNotFound) {
			b.Delete(docID(id))
			b.DeleteInternal(seenKey(id))
			continue
		}
		if err != nil {
			return fmt.Errorf("search: read %s: %w", id, err)
		}
		h, err := x.st.History(id)
		if err != nil {
			return fmt.Errorf("search: read the history of %s: %w", id, err)
		}
		if err := b.Index(docID(id), document(t, h)); err != nil {
			return fmt.Errorf("search: index %s: %w", id, err)
		}
		b.SetInternal(seenKey(id), binary.AppendUvarint(nil, uint64(t.Events)))
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("search: write the index: %w", err)
	}
	return nil
}

// Rebuild empties the index and indexes every ticket again.
func (x *Index) Rebuild(ctx context.Context) (int, error) {
	x.mu.Lock()
	if x.idx != nil {
		x.idx.Close()
		x.idx = nil
	}
	err := x.remake()
	x.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("search: rebuild the index in %s: %w", x.dir, err)
	}
	return x.CatchUp(ctx)
}

// flushEvery is how long a change waits at most before it is searchable.
const flushEvery = time.Second

// Follow keeps the index current until ctx ends: it watches the store's
// change feed from the moment it is called, catches up with what changed
// before (in the background: a large store takes a while), then indexes
// changes in batches. An error is logged and the tickets are tried again
// with the next batch; the index never stops the desk. The channel is
// closed when it has stopped.
func (x *Index) Follow(ctx context.Context) <-chan struct{} {
	ch := x.st.Watch(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		articles := x.st.ArticlesChanged() // before the catch-up: what it covers
		if n, err := x.CatchUp(ctx); err != nil && ctx.Err() == nil {
			x.log.Printf("%v", err)
		} else if n > 0 {
			x.log.Printf("search: indexed %d tickets new to the index or changed since it last ran", n)
		}
		x.follow(ctx, ch, articles)
	}()
	return done
}

func (x *Index) follow(ctx context.Context, ch <-chan store.Change, articles uint64) {
	pending := map[store.TicketID]bool{}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	failing := false
	flush := func() {
		if n := x.st.ArticlesChanged(); n != articles {
			if _, err := x.syncArticles(); err != nil {
				x.log.Printf("%v (tried again shortly)", err)
			} else {
				articles = n
			}
		}
		if len(pending) == 0 {
			return
		}
		ids := make([]store.TicketID, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		if err := x.Update(ids); err != nil {
			if !failing {
				x.log.Printf("%v (tried again shortly)", err)
			}
			failing = true
			return
		}
		failing = false
		clear(pending)
	}
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				flush()
				return
			}
			pending[c.Ticket] = true
			if len(pending) >= batchSize {
				flush()
			}
		case <-tick.C:
			flush()
		case <-ctx.Done():
			flush()
			return
		}
	}
}
