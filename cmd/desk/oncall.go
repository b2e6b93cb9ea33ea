package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// cmdOncall says who is on call at a time (now by default) and who is next.
func cmdOncall(fs *flag.FlagSet) runFunc {
	at := fs.String("at", "", "the time to ask about: 2026-12-07T19:30:00+01:00, or 2026-12-07T19:30 in the desk's zone (default: now)")
	asJSON := fs.Bool("json", false, "JSON output")
	return func(c *call) int {
		cfg := c.cfg
		if cfg == nil {
			var err error
			if cfg, err = c.env.loadConfig(); err != nil {
				return c.fail(err)
			}
		}
		// Times in the desk's zone (the SLA calendar's unless the config
		// says otherwise), as the roster is written.
		loc := cfg.displayZone()
		when := c.now.In(loc)
		if *at != "" {
			t, err := parseAt(*at, loc)
			if err != nil {
				return c.fail(usageError{err.Error()})
			}
			when = t
		}
		return c.done(writeOncall(c.stdout, cfg.Roster(), when, *asJSON))
	}
}

func parseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: write a time as 2026-12-07T19:30:00+01:00, or 2026-12-07T19:30 in the desk's zone (%s)", s, loc)
}

type oncallJSON struct {
	At       time.Time       `json:"at"`
	OnCall   bool            `json:"on_call"`
	Name     string          `json:"name"`
	Contact  string          `json:"contact"`
	Until    *time.Time      `json:"until,omitempty"`
	Override string          `json:"override,omitempty"`
	Next     *oncallNextJSON `json:"next,omitempty"`
}

type oncallNextJSON struct {
	Name     string     `json:"name"`
	Contact  string     `json:"contact"`
	From     time.Time  `json:"from"`
	Until    *time.Time `json:"until,omitempty"`
	Override string     `json:"override,omitempty"`
}

func writeOncall(w io.Writer, r slaengine.Roster, at time.Time, asJSON bool) error {
	cur, ok := r.At(at)
	next, from, nok := r.Next(at)
	if asJSON {
		j := oncallJSON{At: at, OnCall: ok, Name: cur.Name, Contact: cur.Contact, Override: cur.Override}
		if ok && !cur.Until.IsZero() {
			u := cur.Until.In(at.Location())
			j.Until = &u
		}
		if nok {
			j.Next = &oncallNextJSON{Name: next.Name, Contact: next.Contact, From: from.In(at.Location()), Override: next.Override}
			if !next.Until.IsZero() {
				u := next.Until.In(at.Location())
				j.Next.Until = &u
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	}
	_, err := io.WriteString(w, r.Describe(at))
	return err
}
