package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// helpView lists every key (from the KeyMap itself), the commands and what
// the SLA markers mean.
func helpView(s *Styles, k *KeyMap, width int) string {
	var b strings.Builder
	b.WriteString(s.Title.Render("desk — every key") + "\n\n")
	groups := k.FullHelp()
	names := []string{"Move", "Views", "Triage", "Work", "Major incidents (P1/P2)"}
	col := 0
	for _, g := range groups {
		for _, kb := range g {
			col = max(col, len([]rune(kb.Help().Key)))
		}
	}
	for i, g := range groups {
		b.WriteString(s.Header.Render(names[i]) + "\n")
		for _, kb := range g {
			b.WriteString(helpLine(s, kb, col) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(s.Header.Render("Commands (:)") + "\n")
	for _, c := range commandHelp {
		b.WriteString("  " + s.HelpKey.Render(pad(c[0], 24)) + " " + s.HelpDesc.Render(c[1]) + "\n")
	}
	b.WriteString("\n" + s.Header.Render("SLA column") + "\n")
	for _, l := range []string{
		"  3h12m  business time left on the clock to watch: first response,",
		"         then resolution; 2d 0h = two working days of its calendar",
		"  *      warning: most of the target is used",
		"  !      breached",
		"  =      paused: waiting on the requester or on a release",
		"  met    first response met and the resolution clock stopped",
		"",
		"Status line: 1! 2* = one breached, two in warning.",
		"Composer: ctrl+s saves, esc closes and keeps the draft.",
		"A ticket that was P1/P2 while open closes only with an",
		"incident report (I) approved by a lead (A).",
	} {
		b.WriteString(l + "\n")
	}
	b.WriteString(s.Dim.Render("esc or ? closes this help"))
	return b.String()
}

func helpLine(s *Styles, kb key.Binding, col int) string {
	h := kb.Help()
	return "  " + s.HelpKey.Render(h.Key+strings.Repeat(" ", col-len([]rune(h.Key)))) + "  " + s.HelpDesc.Render(h.Desc)
}

var commandHelp = [][2]string{
	{":SD-12 (or :open SD-12)", "open a ticket by number"},
	{":queue NAME, :queue all", "one queue only, or all"},
	{":move NAME", "move the ticket to another queue"},
	{":ref SYSTEM:ID", "reference in another tracker (jira:NSP-123)"},
	{":reopen [why]", "reopen a resolved or closed ticket"},
	{":outbox", "outgoing mail: queued, sent, failed"},
	{":quarantine", "mail that was held back, with the reason"},
	{":release ID, :drop ID WHY", "held mail into a ticket, or dropped (lead)"},
	{":report [YYYY-MM]", "SLA compliance per priority (lead)"},
	{":reload", "reload the config (lead)"},
	{":q  :quit", "leave the console"},
}
