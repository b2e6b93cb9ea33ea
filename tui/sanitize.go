package tui

import "github.com/deskhq/desk/termtext"

// SafeText is termtext.Text: untrusted text made fit for the terminal.
func SafeText(s string) string { return termtext.Text(s) }

// SafeLine is termtext.Line: SafeText on one line.
func SafeLine(s string) string { return termtext.Line(s) }
