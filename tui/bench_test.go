package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// syntheticTickets makes n tickets with real SLA clocks, without a store:
// a store of a million tickets takes minutes to build, and View never
// touches the store.
func syntheticTickets(n int, p slaengine.Policy, now time.Time) []store.Ticket {
	out := make([]store.Ticket, n)
	statuses := []store.Status{store.StatusNew, store.StatusOpen, store.StatusWaiting, store.StatusResolved, store.StatusOpen}
	for i := range out {
		created := now.Add(-time.Duration(i%5000) * time.Minute)
		st := statuses[i%len(statuses)]
		t := store.Ticket{
			ID: store.TicketID(i + 1), Type: store.Types[i%3], Priority: store.Priority(i%4 + 1), Status: st,
			Queue: "2nd-line", Subject: fmt.Sprintf("Ticket %d: borger.dk login fails with MitID error", i),
			Requester: store.Person{Name: "Søren Østergård", Email: "so@aarhus.dk", Organisation: "Aarhus Kommune"},
			Created:   created, Updated: created, Events: 1,
		}
		tl := slaengine.Timeline{Created: created, Priority: slaengine.Priority(t.Priority), Status: string(st), Type: string(t.Type)}
		t.SLA = slaengine.Compute(p, tl, now)
		t.Deadline = t.SLA.Deadline()
		out[i] = t
	}
	return out
}

func benchView(b *testing.B, n int) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p := slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())
	board := staticBoard(syntheticTickets(n, p, now), p, now)
	m := New(Options{Board: board, Operator: "mette", Now: func() time.Time { return now }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.View()
	// Move the cursor into the middle, where a real operator would be.
	for range 30 {
		m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A clock tick: every visible countdown is projected again.
		m.Update(tickMsg(now.Add(time.Duration(i) * time.Second)))
		_ = m.View()
	}
}

// BenchmarkView shows that a frame costs the same whatever the store holds.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(fmt.Sprintf("tickets=%d", n), func(b *testing.B) { benchView(b, n) })
	}
}

// BenchmarkBoardPublish is the once-a-second re-evaluation of every running
// clock that all sessions share (100,000 tickets, 60% of them active).
func BenchmarkBoardPublish(b *testing.B) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p := slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())
	board := staticBoard(syntheticTickets(100_000, p, now), p, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		board.publish()
	}
}

// BenchmarkBoardLoad100k is opening the console on a store of 100,000
// tickets: reading them all and ordering them.
func BenchmarkBoardLoad100k(b *testing.B) {
	dir := b.TempDir()
	p := slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())
	st, err := store.Open(dir, store.Options{Policy: p})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := w; i < 100_000; i += 4 {
				if _, err := st.Create("bench", store.NewTicket{Type: store.Incident, Priority: store.Priority(i%4 + 1),
					Subject: fmt.Sprintf("Ticket %d", i), Requester: store.Person{Name: "Anna", Email: "a@x.dk"}}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := NewBoard(ctx, st, nil); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
