package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/deskhq/desk/slaengine"
	"github.com/muesli/termenv"
)

// Styles are built from one renderer per session: on `desk serve` every
// operator has their own terminal, colour profile and background, so no
// style may be package-level.
type Styles struct {
	r *lipgloss.Renderer

	Status, StatusKey, StatusWarn, StatusErr lipgloss.Style
	Tab, TabActive                           lipgloss.Style
	Header, Row, RowSelected, Dim            lipgloss.Style
	Prio                                     [5]lipgloss.Style
	SLA                                      map[slaengine.State]lipgloss.Style
	Title, Label, Value, Event, EventMeta    lipgloss.Style
	Border, Overlay, Flash, FlashErr         lipgloss.Style
	HelpKey, HelpDesc                        lipgloss.Style
}

// NewStyles derives every style from r. With NO_COLOR (or a profile without
// colour) r renders plain text and states stay readable through their words
// and markers, never through colour alone.
func NewStyles(r *lipgloss.Renderer, colour bool) *Styles {
	s := &Styles{r: r}
	ns := r.NewStyle
	// c drops colours when the session has none: attributes stay, so the
	// selection, warnings and the status line remain visible.
	c := func(col lipgloss.AdaptiveColor) lipgloss.TerminalColor {
		if !colour {
			return lipgloss.NoColor{}
		}
		return col
	}
	s.Status = ns().Reverse(true)
	s.StatusKey = ns().Bold(true).Reverse(true)
	s.StatusWarn = ns().Reverse(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#9A5B00", Dark: "#FFB454"}))
	s.StatusErr = ns().Bold(true).Reverse(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF6B6B"}))
	s.Tab = ns()
	s.TabActive = ns().Bold(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#005F87", Dark: "#5FD7FF"}))
	s.Header = ns().Bold(true).Faint(true)
	s.Row = ns()
	s.RowSelected = ns().Reverse(true)
	s.Dim = ns().Faint(true)
	s.Prio[1] = ns().Bold(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF5F5F"}))
	s.Prio[2] = ns().Foreground(c(lipgloss.AdaptiveColor{Light: "#9A5B00", Dark: "#FFAF5F"}))
	s.Prio[3] = ns()
	s.Prio[4] = ns().Faint(true)
	s.SLA = map[slaengine.State]lipgloss.Style{
		slaengine.StateOK:       ns().Foreground(c(lipgloss.AdaptiveColor{Light: "#1B7F3B", Dark: "#87D787"})),
		slaengine.StateWarning:  ns().Bold(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#9A5B00", Dark: "#FFD75F"})),
		slaengine.StateBreached: ns().Bold(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF5F5F"})),
		slaengine.StatePaused:   ns().Faint(true),
		slaengine.StateMet:      ns().Faint(true),
	}
	s.Title = ns().Bold(true)
	s.Label = ns().Faint(true)
	s.Value = ns()
	s.Event = ns()
	s.EventMeta = ns().Faint(true)
	s.Border = ns().Border(lipgloss.NormalBorder()).BorderForeground(c(lipgloss.AdaptiveColor{Light: "#888888", Dark: "#666666"}))
	s.Overlay = ns().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	s.Flash = ns().Bold(true)
	s.FlashErr = ns().Bold(true).Foreground(c(lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF5F5F"}))
	s.HelpKey = ns().Bold(true)
	s.HelpDesc = ns().Faint(true)
	return s
}

// Renderer is the session's renderer.
func (s *Styles) Renderer() *lipgloss.Renderer { return s.r }

// PrepareRenderer sets a session's renderer up and says whether to use
// colour. NO_COLOR and terminals without colour (vt100) get no colour but
// keep bold, reverse and underline: without them nobody could see which row
// is selected. Only TERM=dumb gets plain text.
func PrepareRenderer(r *lipgloss.Renderer, term string, noColor bool) (colour bool) {
	if term == "dumb" {
		r.SetColorProfile(termenv.Ascii)
		return false
	}
	colour = !noColor && r.ColorProfile() != termenv.Ascii
	if r.ColorProfile() == termenv.Ascii {
		r.SetColorProfile(termenv.ANSI)
	}
	return colour
}

// textInput is a bubbles text input whose styles come from this session's
// renderer: the bubbles defaults use the process-wide renderer, which on
// `desk serve` follows the server's terminal, not the operator's.
func (s *Styles) textInput() textinput.Model {
	ti := textinput.New()
	ns := s.r.NewStyle
	ti.PromptStyle, ti.TextStyle = ns(), ns()
	ti.PlaceholderStyle, ti.CompletionStyle = ns().Faint(true), ns().Faint(true)
	ti.Cursor.Style, ti.Cursor.TextStyle = ns(), ns()
	// A steady cursor: a blinking one repaints twice a second, on every
	// operator's SSH link, for as long as they type.
	ti.Cursor.SetMode(cursor.CursorStatic)
	return ti
}

// textArea is textInput's multi-line sibling.
func (s *Styles) textArea() textarea.Model {
	ta := textarea.New()
	ns := s.r.NewStyle
	st := textarea.Style{Base: ns(), CursorLine: ns(), CursorLineNumber: ns(), EndOfBuffer: ns().Faint(true),
		LineNumber: ns().Faint(true), Placeholder: ns().Faint(true), Prompt: ns(), Text: ns()}
	ta.FocusedStyle, ta.BlurredStyle = st, st
	ta.Cursor.Style, ta.Cursor.TextStyle = ns(), ns()
	ta.Cursor.SetMode(cursor.CursorStatic)
	return ta
}
