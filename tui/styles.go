package tui

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// Styles are one session's: built for its background (dark or light), and
// downsampled to its terminal's colour profile by its own program when
// written, so no style is package-level and no session's terminal decides
// another's colours.
type Styles struct {
	Dark bool

	Status, StatusKey, StatusWarn, StatusErr lipgloss.Style
	Tab, TabActive                           lipgloss.Style
	Header, Row, RowSelected, Dim            lipgloss.Style
	Prio                                     [5]lipgloss.Style
	SLA                                      map[slaengine.State]lipgloss.Style
	Title, Label, Value, Event, EventMeta    lipgloss.Style
	Border, Overlay, Flash, FlashErr         lipgloss.Style
	HelpKey, HelpDesc                        lipgloss.Style
	// Probe colours a monitoring probe's state (store.ProbeUp, ...); the
	// state's word is always beside it.
	Probe map[string]lipgloss.Style
}

// NewStyles derives every style for a dark or light background. Colour is
// never the only signal: states keep their words and markers, the selection
// its reverse video and marker, so NO_COLOR (the program's Ascii profile
// strips the colours and keeps the attributes) stays readable.
func NewStyles(dark bool) *Styles {
	s := &Styles{Dark: dark}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkHex string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkHex)) }
	ns := lipgloss.NewStyle
	red := c("#B00020", "#FF5F5F")
	amber := c("#9A5B00", "#FFAF5F")
	s.Status = ns().Reverse(true)
	s.StatusKey = ns().Bold(true).Reverse(true)
	s.StatusWarn = ns().Reverse(true).Foreground(c("#9A5B00", "#FFB454"))
	s.StatusErr = ns().Bold(true).Reverse(true).Foreground(c("#B00020", "#FF6B6B"))
	s.Tab = ns()
	s.TabActive = ns().Bold(true).Foreground(c("#005F87", "#5FD7FF"))
	s.Header = ns().Bold(true).Faint(true)
	s.Row = ns()
	s.RowSelected = ns().Reverse(true)
	s.Dim = ns().Faint(true)
	s.Prio[1] = ns().Bold(true).Foreground(red)
	s.Prio[2] = ns().Foreground(amber)
	s.Prio[3] = ns()
	s.Prio[4] = ns().Faint(true)
	s.SLA = map[slaengine.State]lipgloss.Style{
		slaengine.StateOK:       ns().Foreground(c("#1B7F3B", "#87D787")),
		slaengine.StateWarning:  ns().Bold(true).Foreground(c("#9A5B00", "#FFD75F")),
		slaengine.StateBreached: ns().Bold(true).Foreground(red),
		slaengine.StatePaused:   ns().Faint(true),
		slaengine.StateMet:      ns().Faint(true),
	}
	s.Title = ns().Bold(true)
	s.Label = ns().Faint(true)
	s.Value = ns()
	s.Event = ns()
	s.EventMeta = ns().Faint(true)
	s.Border = ns().Border(lipgloss.NormalBorder()).BorderForeground(c("#888888", "#666666"))
	s.Overlay = ns().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	s.Flash = ns().Bold(true)
	s.FlashErr = ns().Bold(true).Foreground(red)
	s.HelpKey = ns().Bold(true)
	s.HelpDesc = ns().Faint(true)
	s.Probe = map[string]lipgloss.Style{
		store.ProbeUp:      ns().Foreground(c("#1B7F3B", "#87D787")),
		store.ProbeFailing: ns().Bold(true).Foreground(c("#9A5B00", "#FFD75F")),
		store.ProbeDown:    ns().Bold(true).Foreground(red),
		store.ProbeUnknown: ns().Faint(true),
	}
	return s
}

// DarkFromColorFGBG reads the background from COLORFGBG ("15;0" is light
// text on black); without it a terminal is taken to be dark, until it
// answers the background query the console sends at start.
func DarkFromColorFGBG(v string) bool {
	if v == "" {
		return true
	}
	parts := strings.Split(v, ";")
	switch parts[len(parts)-1] {
	case "7", "15":
		return false
	}
	return true
}

// help is the footer and help-screen renderer in this session's styles.
func (s *Styles) help() help.Model {
	h := help.New()
	h.Styles = help.Styles{
		ShortKey: s.HelpKey, ShortDesc: s.HelpDesc, ShortSeparator: s.Dim, Ellipsis: s.Dim,
		FullKey: s.HelpKey, FullDesc: s.HelpDesc, FullSeparator: s.Dim,
	}
	h.ShortSeparator = "  "
	return h
}

// textInput is a bubbles text input in this session's styles, with a
// steady cursor: a blinking one repaints twice a second, on every
// operator's SSH link, for as long as they type.
func (s *Styles) textInput() textinput.Model {
	ti := textinput.New()
	ns := lipgloss.NewStyle
	st := textinput.StyleState{Text: ns(), Placeholder: ns().Faint(true), Suggestion: ns().Faint(true), Prompt: ns()}
	ti.SetStyles(textinput.Styles{Focused: st, Blurred: st, Cursor: textinput.CursorStyle{Blink: false}})
	return ti
}

// textArea is textInput's multi-line sibling.
func (s *Styles) textArea() textarea.Model {
	ta := textarea.New()
	ns := lipgloss.NewStyle
	st := textarea.StyleState{Base: ns(), CursorLine: ns(), CursorLineNumber: ns(), EndOfBuffer: ns().Faint(true),
		LineNumber: ns().Faint(true), Placeholder: ns().Faint(true), Prompt: ns(), Text: ns()}
	ta.SetStyles(textarea.Styles{Focused: st, Blurred: st, Cursor: textarea.CursorStyle{Blink: false}})
	return ta
}
