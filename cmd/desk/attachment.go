package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
	"github.com/deskhq/desk/tui"
)

// cmdAttachment lists a ticket's attachments, or writes one's bytes to
// stdout (`> FILE`; over SSH to the caller's side). Binary content is not
// written to a terminal: it would be raw bytes and escape sequences.
func cmdAttachment(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "the list as one JSON array")
	return func(c *call) int {
		if len(c.args) < 1 || len(c.args) > 2 {
			return c.usage()
		}
		id, err := store.ParseTicketID(c.args[0])
		if err != nil {
			return c.fail(err)
		}
		if len(c.args) == 1 {
			list, err := c.st.Attachments(id)
			if err != nil {
				return c.fail(err)
			}
			if *asJSON {
				if list == nil {
					list = []store.TicketAttachment{}
				}
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				return c.done(enc.Encode(list))
			}
			if len(list) == 0 {
				fmt.Fprintf(c.stdout, "%s has no attachments\n", id)
				return 0
			}
			tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
			for _, a := range list {
				kept := ""
				if a.Blob == "" {
					kept = "  (content not kept: over the size limit)"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d bytes\tfrom %s%s\n", a.N, tui.SafeLine(a.Name), tui.SafeLine(a.ContentType), a.Size, tui.SafeLine(a.From), kept)
			}
			tw.Flush()
			fmt.Fprintf(c.stdout, "save one: desk attachment %s NAME-OR-NUMBER > FILE\n", id)
			return 0
		}
		a, b, err := c.st.AttachmentContent(id, c.args[1])
		if err != nil {
			return c.fail(err)
		}
		if !c.remote && isTerminal(os.Stdout) && c.stdout == os.Stdout {
			if !termtext.Viewable(a.ContentType, b) {
				return c.fail(fmt.Errorf("%s is %s, %d bytes: not for a terminal; save it with desk attachment %s %q > FILE",
					tui.SafeLine(a.Name), tui.SafeLine(a.ContentType), len(b), id, a.Name))
			}
			_, err := fmt.Fprint(c.stdout, termtext.Text(string(b)))
			return c.done(err)
		}
		_, err = c.stdout.Write(b)
		return c.done(err)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
