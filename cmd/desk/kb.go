package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

func cmdKBList(fs *flag.FlagSet) runFunc {
	all := fs.Bool("all", false, "retired articles too")
	asJSON := fs.Bool("json", false, "one JSON array")
	return func(c *call) int {
		list, err := c.st.Articles(*all)
		if err != nil {
			return c.fail(err)
		}
		if *asJSON {
			if list == nil {
				list = []store.Article{}
			}
			return c.done(writeJSON(c.stdout, list))
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "the knowledge base is empty: desk kb new --title T --body TEXT|- (or K on a resolved ticket in the console)")
			return 0
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
		for _, a := range list {
			state := ""
			if a.Retired {
				state = " (retired)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\tsolved %d\n", a.ID, a.Kind, dash(a.Service), tui.SafeLine(a.Title), state, a.Applied)
		}
		return c.done(tw.Flush())
	}
}

func cmdKBShow(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "the article and its history")
	return func(c *call) int {
		id, err := store.ParseArticleID(c.args[0])
		if err != nil {
			return c.fail(usageError{err.Error()})
		}
		return c.done(showArticle(c.st, c.stdout, id, *asJSON, c.now.Location()))
	}
}

func showArticle(st *store.Store, w io.Writer, id store.ArticleID, asJSON bool, loc *time.Location) error {
	a, err := st.Article(id)
	if err != nil {
		return err
	}
	h, err := st.ArticleHistory(id)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, struct {
			store.Article
			History []store.ArticleEvent `json:"history"`
		}{a, h})
	}
	fmt.Fprintf(w, "%s  %s\n", a.ID, tui.SafeLine(a.Title))
	fmt.Fprintf(w, "kind %s  service %s  tags %s  version %d  solved %d tickets\n", a.Kind, dash(a.Service), dash(strings.Join(a.Tags, ", ")), a.Version, a.Applied)
	if len(a.Tickets) > 0 {
		var ids []string
		for _, t := range a.Tickets {
			ids = append(ids, t.String())
		}
		fmt.Fprintf(w, "tickets %s\n", strings.Join(ids, ", "))
	}
	if a.Retired {
		fmt.Fprintln(w, "RETIRED")
	}
	fmt.Fprintf(w, "\n%s\n\n── history\n", strings.TrimRight(tui.SafeText(a.Body), "\n"))
	for _, e := range h {
		fmt.Fprintf(w, "%s %s %s\n", e.At.In(loc).Format("02 Jan 2006 15:04"), e.Actor, tui.SafeLine(e.Text))
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// articleFlags are the fields of desk kb new and edit.
type articleFlags struct {
	title, kind, service, tags, tickets, body *string
}

func addArticleFlags(fs *flag.FlagSet) articleFlags {
	return articleFlags{
		title:   fs.String("title", "", "what the article solves, as people would search for it"),
		kind:    fs.String("kind", "", "solution, workaround or known-error (new: solution)"),
		service: fs.String("service", "", "the service it is about"),
		tags:    fs.String("tags", "", "comma-separated tags"),
		tickets: fs.String("tickets", "", "comma-separated tickets it came from (SD-12,SD-40)"),
		body:    fs.String("body", "", "the text, Markdown; - reads stdin"),
	}
}

// apply puts the flags that were given on d.
func (f articleFlags) apply(c *call, fs *flag.FlagSet, d *store.ArticleDraft) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["title"] {
		d.Title = *f.title
	}
	if set["kind"] {
		d.Kind = store.ArticleKind(*f.kind)
	}
	if set["service"] {
		d.Service = *f.service
	}
	if set["tags"] {
		d.Tags = splitList(*f.tags)
	}
	if set["tickets"] {
		d.Tickets = nil
		for _, s := range splitList(*f.tickets) {
			id, err := ticketArg(s)
			if err != nil {
				return err
			}
			d.Tickets = append(d.Tickets, id)
		}
	}
	if set["body"] {
		b, err := c.text(*f.body, "the article's text")
		if err != nil {
			return err
		}
		d.Body = b
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cmdKBNew(fs *flag.FlagSet) runFunc {
	f := addArticleFlags(fs)
	asJSON := fs.Bool("json", false, "print the article as kb show --json does")
	return func(c *call) int {
		var d store.ArticleDraft
		if err := f.apply(c, fs, &d); err != nil {
			return c.fail(err)
		}
		a, err := c.st.CreateArticle(c.who, d)
		if err != nil {
			return c.fail(err)
		}
		return c.done(showArticle(c.st, c.stdout, a.ID, *asJSON, c.now.Location()))
	}
}

func cmdKBEdit(fs *flag.FlagSet) runFunc {
	f := addArticleFlags(fs)
	version := fs.Int("version", 0, "the version you edited (refused if someone saved another since)")
	asJSON := fs.Bool("json", false, "print the article as kb show --json does")
	return func(c *call) int {
		id, err := store.ParseArticleID(c.args[0])
		if err != nil {
			return c.fail(usageError{err.Error()})
		}
		a, err := c.st.Article(id)
		if err != nil {
			return c.fail(err)
		}
		d := store.ArticleDraft{Title: a.Title, Body: a.Body, Kind: a.Kind, Service: a.Service, Tags: a.Tags, Tickets: a.Tickets}
		if err := f.apply(c, fs, &d); err != nil {
			return c.fail(err)
		}
		seen := *version
		if seen == 0 {
			seen = a.Version
		}
		if _, err := c.st.EditArticle(id, c.who, seen, d); err != nil {
			return c.fail(err)
		}
		return c.done(showArticle(c.st, c.stdout, id, *asJSON, c.now.Location()))
	}
}

func cmdKBRetire(fs *flag.FlagSet) runFunc {
	return func(c *call) int {
		if len(c.args) < 1 {
			return c.usage()
		}
		id, err := store.ParseArticleID(c.args[0])
		if err != nil {
			return c.fail(usageError{err.Error()})
		}
		why, err := c.joinedText("why it is retired")
		if err != nil {
			return c.fail(err)
		}
		if _, err := c.st.RetireArticle(id, c.who, why); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(c.stdout, "%s retired\n", id)
		return 0
	}
}
