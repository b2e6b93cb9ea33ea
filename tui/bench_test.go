package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/board"
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
	board := board.FromTickets(syntheticTickets(n, p, now), p, func() time.Time { return now })
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
	for _, n := range []int{100, 1_000_000} {
		b.Run(fmt.Sprintf("tickets=%d", n), func(b *testing.B) { benchView(b, n) })
	}
}

// BenchmarkKeyJ is one cursor move and the frame after it, in process:
// what a key costs the console itself, without SSH or the renderer.
func BenchmarkKeyJ(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("tickets=%d", n), func(b *testing.B) {
			now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
			p := slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())
			bd := board.FromTickets(syntheticTickets(n, p, now), p, func() time.Time { return now })
			m := New(Options{Board: bd, Operator: "mette", Now: func() time.Time { return now }})
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			m.View()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := tea.KeyPressMsg{Code: 'j', Text: "j"}
				if i%20 == 19 {
					k = tea.KeyPressMsg{Code: 'g', Text: "g"}
				}
				m.Update(k)
				_ = m.View()
			}
		})
	}
}
