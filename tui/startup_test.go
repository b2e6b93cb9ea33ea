package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/board"
)

// syncBuffer is the program's output, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A terminal's answers to the console's start-up queries arrive as bytes
// on the input, before and after the first screen, in bursts: the
// background colour (OSC 11), the cursor position (CPR, ESC[1;1R, whose
// "[", "1" and "R" are previous queue, priority P1 and "first response
// given" when read as keys), device attributes, mode reports. Through a
// real tea.Program none of it may change a ticket.
func TestTerminalRepliesAtStartUpAreNeverKeys(t *testing.T) {
	st := openStore(t, nil)
	tk, err := st.Create("test", ticket("VPN slow", "Anna Berg", 3))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := board.New(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Store: st, Board: b, Operator: "mette", Role: RoleOperator, Queues: []string{"2nd-line"}})
	defer m.Close()

	replies := []string{
		"\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\", // background colour, ST-terminated
		"\x1b]11;rgb:ffff/ffff/ffff\a",     // the same, BEL-terminated
		"\x1b[1;1R",                        // cursor position
		"\x1b[24;80R",
		"\x1b[?62;22c",            // primary device attributes
		"\x1b[?2026;2$y",          // synchronized output mode report
		"\x1b[?u",                 // kitty keyboard flags
		"\x1b[>0;276;0c",          // secondary device attributes
		"\x1bP>|xterm(390)\x1b\\", // XTVERSION
	}
	in, feed := io.Pipe()
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out),
		tea.WithWindowSize(80, 24), tea.WithoutSignalHandler(), tea.WithEnvironment([]string{"TERM=xterm-256color"}))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()

	// A burst before the first screen can be out, then more while it runs.
	go func() {
		for round := 0; round < 20; round++ {
			for _, r := range replies {
				if _, err := io.WriteString(feed, r); err != nil {
					return
				}
			}
			if round == 0 {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "VPN slow") {
		if time.Now().After(deadline) {
			t.Fatalf("no first screen within 10 s; output so far: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the rest of the replies are read
	p.Quit()
	feed.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the program did not quit")
	}
	h, err := st.History(tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 {
		var kinds []string
		for _, e := range h {
			kinds = append(kinds, string(e.Kind)+" "+string(e.Field)+" "+e.To)
		}
		t.Fatalf("terminal replies changed the ticket: %v", kinds)
	}
	if got, _ := st.Get(tk.ID); got.Priority != 3 || !got.Responded.IsZero() {
		t.Fatalf("ticket after start-up: priority %s, responded %v", got.Priority, got.Responded)
	}
}
