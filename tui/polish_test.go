package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// The report line says "(was P1)" only when the priority has come down
// since: a P1 that is still P1 was not "was" anything.
func TestReportFieldSaysWasOnlyWhenPriorityChanged(t *testing.T) {
	d := newDesk(t, Options{}, ticket("borger.dk login down", "Søren Østergård", 1))
	d.keys("enter")
	d.wantScreen("report", "none yet")
	if s := d.screen(); strings.Contains(s, "(was") {
		t.Fatalf("a P1 that is still P1 says \"was\":\n%s", s)
	}
	d.keys("3")
	d.sync()
	d.wantScreen("priority P3", "report     (was P1) none yet")
}

// The help page names its own keys once (in the footer), and every key of
// the console once in its text.
func TestHelpNamesEachKeyOnce(t *testing.T) {
	d := newDesk(t, Options{})
	d.keys("?")
	s := d.screen()
	lines := strings.Split(s, "\n")
	footer := lines[len(lines)-1]
	for _, b := range d.m.page.ShortHelp() {
		h := b.Help()
		if !strings.Contains(footer, h.Key+" "+h.Desc) {
			t.Errorf("footer lacks %q %q: %q", h.Key, h.Desc, footer)
		}
		if n := strings.Count(s, h.Key+" "); n != 1 {
			t.Errorf("%q is on the help screen %d times, want once:\n%s", h.Key, n, s)
		}
	}
	for _, w := range []string{"to scroll", "to close", "closes this help"} {
		if strings.Contains(s, w) {
			t.Errorf("help still says %q besides the footer:\n%s", w, s)
		}
	}
	// Every binding of the KeyMap is one line of the help text, once.
	text := ansi.Strip(helpView(d.m.styles, &d.m.keys))
	for _, g := range d.m.keys.FullHelp() {
		for _, b := range g {
			h := b.Help()
			n := 0
			for _, l := range strings.Split(text, "\n") {
				f := strings.Fields(l)
				if len(f) >= 2 && f[0] == h.Key && strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), h.Key)), h.Desc) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("help lists %q (%s) %d times, want once", h.Key, h.Desc, n)
			}
		}
	}
	// ? and q close it as well as esc.
	for _, k := range []string{"esc", "q", "?"} {
		d.keys("?")
		d.keys(k)
		if strings.Contains(d.screen(), "every key") {
			t.Errorf("%s did not close help", k)
		}
	}
}
