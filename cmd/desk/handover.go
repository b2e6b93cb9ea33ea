package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/deskhq/desk/handover"
	"github.com/deskhq/desk/store"
)

// defaultShift is how far back desk handover looks without --since: one
// shift of a desk that runs three.
const defaultShift = 8 * time.Hour

func cmdHandover(fs *flag.FlagSet) runFunc {
	since := fs.String("since", "", "when the shift began: 8h (ago), 2026-12-07T22:00, or an RFC 3339 time (default 8h)")
	asJSON := fs.Bool("json", false, "JSON output")
	return func(c *call) int {
		from, err := shiftStart(*since, c.now)
		if err != nil {
			return c.fail(usageError{err.Error()})
		}
		return c.done(writeHandover(c.st, c.stdout, from, c.now, *asJSON))
	}
}

// shiftStart reads --since: a duration back from now, or a time.
func shiftStart(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.Add(-defaultShift), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := parseAt(s, now.Location())
	if err != nil {
		return t, fmt.Errorf("--since %q: write how long ago (8h) or when, as 2026-12-07T22:00 in the desk's zone", s)
	}
	if t.After(now) {
		return t, fmt.Errorf("--since %s is in the future", t.Format("2006-01-02 15:04"))
	}
	return t, nil
}

func writeHandover(st *store.Store, w io.Writer, since, now time.Time, asJSON bool) error {
	h, err := handover.Build(st, since, now)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	}
	_, err = io.WriteString(w, h.Text(now.Location()))
	return err
}
