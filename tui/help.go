package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// helpView lists every key (from the KeyMap itself), the commands and what
// the SLA markers mean.
func helpView(s *Styles, k *KeyMap) string {
	var b strings.Builder
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
	for _, c := range commands {
		b.WriteString("  " + s.HelpKey.Render(pad(c.usage, 24)) + " " + s.HelpDesc.Render(c.help) + "\n")
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
		"After the id: ◆ an open major incident (U: status update),",
		"▲ escalated by the ladder (someone was told it is late).",
		"Status line: 1! 2* = one breached, two in warning.",
		"Composer: ctrl+s sends a reply or resolution (saves a note),",
		"esc closes and keeps the draft. u undoes a field change",
		"while its message is shown.",
		"A ticket that was P1/P2 while open closes only with an",
		"incident report (I) approved by a lead (A).",
	} {
		b.WriteString(l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func helpLine(s *Styles, kb key.Binding, col int) string {
	h := kb.Help()
	return "  " + s.HelpKey.Render(h.Key+strings.Repeat(" ", col-len([]rune(h.Key)))) + "  " + s.HelpDesc.Render(h.Desc)
}
