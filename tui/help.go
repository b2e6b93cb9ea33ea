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
	names := []string{"Move", "Views", "Triage", "Work"}
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
		b.WriteString("  " + s.HelpKey.Render(pad(c[0], 22)) + " " + s.HelpDesc.Render(c[1]) + "\n")
	}
	b.WriteString("\n" + s.Header.Render("SLA column") + "\n")
	b.WriteString("  3h12m  time left on the clock to watch (first response, then resolution), in business time;\n")
	b.WriteString("         days are business days of the ticket's calendar (2d 0h = two working days)\n")
	b.WriteString("  *      warning: most of the target is used      !  breached\n")
	b.WriteString("  =      paused (waiting on requester or release)  met  response met, resolution stopped\n")
	b.WriteString("\n" + s.Dim.Render("In the composer: ctrl+s saves, esc closes and keeps the draft. Press esc or ? to close help."))
	return b.String()
}

func helpLine(s *Styles, kb key.Binding, col int) string {
	h := kb.Help()
	return "  " + s.HelpKey.Render(h.Key+strings.Repeat(" ", col-len([]rune(h.Key)))) + "  " + s.HelpDesc.Render(h.Desc)
}

var commandHelp = [][2]string{
	{":SD-12  or  :open SD-12", "open a ticket by number"},
	{":queue NAME / :queue all", "show only one queue (config [queues])"},
	{":outbox", "outgoing mail: queued, sent, failed"},
	{":quarantine", "mail that was held back, with the reason"},
	{":report [YYYY-MM]", "SLA compliance per priority (lead)"},
	{":reload", "reload the config (lead)"},
	{":q  :quit", "leave the console"},
}
