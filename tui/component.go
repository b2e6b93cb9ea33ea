package tui

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// pane is what every part of the console is to the root (the soft-serve
// shape): it updates itself, draws itself in the size it was given, and
// names its own keys for the footer and the help screen.
type pane interface {
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	help.KeyMap
}

// overlay is a pane that takes the keyboard while it is open: a composer,
// a picker, the new-ticket form, a read-only page. The root holds at most
// one, instead of a chain of "is this open" booleans.
type overlay interface {
	pane
	Active() bool
}
