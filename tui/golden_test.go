package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/")

// goldenNow is a Monday morning in Copenhagen, inside business hours.
var goldenNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// testClock is a clock the test sets; the board reads it from its own
// goroutine.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// goldenDesk is a desk with a fixed set of tickets, made at fixed times,
// seen at goldenNow in Copenhagen time.
func goldenDesk(t *testing.T) *desk {
	t.Helper()
	clock := &testClock{t: goldenNow}
	st := openStore(t, clock.Now)
	type made struct {
		ago time.Duration
		nt  store.NewTicket
		do  func(id store.TicketID) error
	}
	req := ticket("New account for an intern at Borgerservice", "Karen Holm", 3)
	req.Type = store.Request
	for _, m := range []made{
		{26 * time.Hour, ticket("Printer jam on floor 3", "Jens Hansen", 4), nil},
		{10 * time.Minute, ticket("borger.dk login down for all MitID users", "Søren Østergård", 1), func(id store.TicketID) error {
			_, err := st.AddNote(id, "pieter", "Operations confirm: the MitID broker answers 503 since 09:48.")
			return err
		}},
		{3 * time.Hour, ticket("VPN slow from the home office", "Anna Berg", 3), func(id store.TicketID) error {
			_, err := st.SetField(id, "mette", store.FieldAssignee, "", "mette")
			return err
		}},
		{5 * time.Hour, ticket("Digital Post delayed since Friday", "Mads Kjær", 2), nil},
		{50 * time.Hour, ticket("MitID app crashes on Android 15", "Lise Nørgaard", 3), func(id store.TicketID) error {
			_, err := st.SetField(id, "mette", store.FieldStatus, "new", "waiting")
			return err
		}},
		{30 * time.Minute, req, nil},
	} {
		clock.Set(goldenNow.Add(-m.ago))
		tk, err := st.Create("mail", m.nt)
		if err != nil {
			t.Fatal(err)
		}
		if m.do != nil {
			clock.Add(time.Minute)
			if err := m.do(tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.Set(goldenNow)
	return attachDesk(t, st, clock.Now, Options{Location: slaengine.DefaultBusinessCalendar().Location})
}

// checkScreen says what is wrong with a plain-text screen of w x h: every
// line within the width, the status line whole (operator and time at its
// right end), the footer there.
func checkScreen(s string, w, h int, operator, clock string) []string {
	var bad []string
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		bad = append(bad, fmt.Sprintf("%d lines, want %d", len(lines), h))
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			bad = append(bad, fmt.Sprintf("line %d is %d cells wide, over %d: %q", i, lw, w, l))
		}
	}
	if len(lines) == 0 {
		return append(bad, "empty screen")
	}
	status := strings.TrimRight(lines[0], " ")
	if !strings.HasPrefix(status, " desk · ") || !strings.HasSuffix(status, " "+clock) || !strings.Contains(status, " "+operator+" ") || !strings.Contains(status, " open") {
		bad = append(bad, fmt.Sprintf("status line not whole (want \" desk · N open … %s … %s\"): %q", operator, clock, lines[0]))
	}
	if strings.TrimSpace(lines[len(lines)-1]) == "" {
		bad = append(bad, "no footer on the last line")
	}
	return bad
}

// golden compares a screen with testdata/name.golden (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./tui -run Golden -update writes it)", err)
	}
	if d := firstDiff(string(want), got); d != "" {
		t.Errorf("%s differs from %s (-update rewrites it): %s\ngot:\n%s", name, path, d, got)
	}
}

// firstDiff names the first line where two screens differ, "" if none.
func firstDiff(want, got string) string {
	if want == got {
		return ""
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\n want %q\n  got %q", i+1, w, g)
		}
	}
	return "line endings"
}

func TestGoldenScreens(t *testing.T) {
	clock := goldenNow.In(slaengine.DefaultBusinessCalendar().Location).Format("15:04:05")
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		w, h := sz[0], sz[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			d := goldenDesk(t)
			d.resize(w, h)
			shot := func(name string) {
				t.Helper()
				s := d.screen()
				for _, p := range checkScreen(s, w, h, "mette", clock) {
					t.Errorf("%s: %s\n%s", name, p, s)
				}
				golden(t, fmt.Sprintf("%s-%dx%d", name, w, h), s)
			}
			shot("list")
			d.keys("j", "enter") // the P1, with a note in its history
			shot("detail")
			d.keys("esc", "?")
			shot("help")
			d.keys("esc", "/")
			d.typeText("mitid")
			d.keys("enter")
			shot("filtered")
		})
	}
	// Wide terminals show both panes at once.
	t.Run("150x40", func(t *testing.T) {
		d := goldenDesk(t)
		d.resize(150, 40)
		d.keys("j") // the detail follows the cursor
		s := d.screen()
		for _, p := range checkScreen(s, 150, 40, "mette", clock) {
			t.Errorf("list+detail: %s\n%s", p, s)
		}
		golden(t, "listdetail-150x40", s)
	})
}

// The checks catch what they are for: a screen cut short, a line too wide,
// a status line that lost its right end, a changed line.
func TestGoldenChecksCatchBrokenScreens(t *testing.T) {
	d := goldenDesk(t)
	good := d.screen()
	clock := "10:00:00"
	if bad := checkScreen(good, 80, 24, "mette", clock); len(bad) > 0 {
		t.Fatalf("a good screen fails: %v\n%s", bad, good)
	}
	lines := strings.Split(good, "\n")
	edit := func(f func(ls []string) []string) string {
		return strings.Join(f(append([]string(nil), lines...)), "\n")
	}
	for name, s := range map[string]string{
		"status line truncated": edit(func(ls []string) []string { ls[0] = ansi.Truncate(ls[0], 60, "…"); return ls }),
		"status line gone":      edit(func(ls []string) []string { return ls[1:] }),
		"line too wide":         edit(func(ls []string) []string { ls[5] += "overflow"; return ls }),
		"one line short":        edit(func(ls []string) []string { return ls[:len(ls)-1] }),
		"no footer":             edit(func(ls []string) []string { ls[len(ls)-1] = ""; return ls }),
	} {
		if bad := checkScreen(s, 80, 24, "mette", clock); len(bad) == 0 {
			t.Errorf("%s: not caught\n%s", name, s)
		}
	}
	row := func(ls []string) int { // a list row, wherever the chrome ends
		for i := len(ls) - 1; i > 0; i-- {
			if strings.Contains(ls[i], "SD-") {
				return i
			}
		}
		t.Fatal("no ticket on the screen")
		return 0
	}
	if firstDiff(good, edit(func(ls []string) []string { i := row(ls); ls[i] = strings.Replace(ls[i], "SD-", "SD_", 1); return ls })) == "" {
		t.Error("a changed line compares equal")
	}
}
