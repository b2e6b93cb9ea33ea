package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key of the console, as data: the help screen and the footer
// are rendered from it, so they cannot drift from what the keys do. One per
// session (never package-level), so a future per-operator rebinding stays
// with its operator.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Focus, Back, Quit                 key.Binding
	PrevTab, NextTab                        key.Binding
	P1, P2, P3, P4                          key.Binding
	Type, Assign, Status, Escalate, Master  key.Binding
	Note, Reply, New, Responded             key.Binding
	Report, Approve, HandBack, Undo         key.Binding
	Service, MajorUpdate, Attachments       key.Binding
	Knowledge                               key.Binding
	Filter, Command, Help                   key.Binding
}

func newKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:          b([]string{"k", "up"}, "k/↑", "up"),
		Down:        b([]string{"j", "down"}, "j/↓", "down"),
		PageUp:      b([]string{"pgup", "ctrl+u"}, "pgup/^u", "page up"),
		PageDown:    b([]string{"pgdown", "ctrl+d"}, "pgdn/^d", "page down"),
		Top:         b([]string{"g", "home"}, "g", "first"),
		Bottom:      b([]string{"G", "end"}, "G", "last"),
		Open:        b([]string{"enter"}, "enter", "open ticket"),
		Focus:       b([]string{"tab"}, "tab", "list ⇄ detail"),
		Back:        b([]string{"esc"}, "esc", "back"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "back/quit"),
		PrevTab:     b([]string{"[", "shift+tab", "h", "left"}, "[/h", "previous queue"),
		NextTab:     b([]string{"]", "l", "right"}, "]/l", "next queue"),
		P1:          b([]string{"1"}, "1", "priority P1"),
		P2:          b([]string{"2"}, "2", "priority P2"),
		P3:          b([]string{"3"}, "3", "priority P3"),
		P4:          b([]string{"4"}, "4", "priority P4"),
		Type:        b([]string{"t"}, "t", "type"),
		Assign:      b([]string{"a"}, "a", "assign"),
		Status:      b([]string{"s"}, "s", "status"),
		Escalate:    b([]string{"e"}, "e", "escalate to team"),
		Master:      b([]string{"m"}, "m", "link to master"),
		Note:        b([]string{"n"}, "n", "internal note"),
		Reply:       b([]string{"r"}, "r", "reply to requester"),
		New:         b([]string{"c"}, "c", "new ticket (call)"),
		Responded:   b([]string{"R"}, "R", "mark responded"),
		Report:      b([]string{"I"}, "I", "incident report"),
		Approve:     b([]string{"A"}, "A", "approve report (lead)"),
		HandBack:    b([]string{"H"}, "H", "hand back to 2nd line"),
		Undo:        b([]string{"u"}, "u", "undo the change just made"),
		Service:     b([]string{"S"}, "S", "service"),
		MajorUpdate: b([]string{"U"}, "U", "status update (major incident)"),
		Attachments: b([]string{"v"}, "v", "view attachments"),
		Knowledge:   b([]string{"K"}, "K", "known solution (open) / new article (resolved)"),
		Filter:      b([]string{"/"}, "/", "filter"),
		Command:     b([]string{":"}, ":", "command"),
		Help:        b([]string{"?"}, "?", "help"),
	}
}

// ShortHelp is the footer: the keys an operator needs most (the footer
// adds help and quit in front, so they are never the ones cut off).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Assign, k.Status, k.Note, k.Reply, k.Filter, k.Command}
}

// FullHelp is the ? screen: every key, in groups.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.PrevTab, k.NextTab},
		{k.Open, k.Focus, k.Back, k.Quit, k.Filter, k.Command, k.Help},
		{k.P1, k.P2, k.P3, k.P4, k.Type, k.Assign, k.Status, k.Undo},
		{k.Escalate, k.HandBack, k.Master, k.Note, k.Reply, k.Responded, k.New},
		{k.Service, k.MajorUpdate, k.Report, k.Approve, k.Attachments, k.Knowledge},
	}
}

// moveCursor is where j/k and g/G take the cursor of a list of n rows;
// it stops at the ends rather than wrapping.
func moveCursor(key string, cursor, n int) int {
	switch key {
	case "j", "down":
		return min(cursor+1, max(n-1, 0))
	case "k", "up":
		return max(cursor-1, 0)
	case "g", "home":
		return 0
	case "G", "end":
		return max(n-1, 0)
	}
	return cursor
}
