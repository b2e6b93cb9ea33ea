package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pickerModel asks the operator to choose one of a few values (status,
// type, team, assignee). Keys: j/k or arrows, enter, esc; the first letter
// or digit of an option jumps to it, as in most TUIs.
type pickerModel struct {
	styles  *Styles
	title   string
	options []string
	hints   []string
	cursor  int
	purpose pickPurpose
	active  bool
}

type pickPurpose int

const (
	pickStatus pickPurpose = iota
	pickType
	pickTeam
	pickAssignee
	pickCommand
	pickService
	pickAttachment
)

type pickedMsg struct {
	purpose pickPurpose
	value   string
	ok      bool
}

func (p *pickerModel) Active() bool     { return p.active }
func (p *pickerModel) SetSize(_, _ int) {}

func (p *pickerModel) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		key.NewBinding(key.WithKeys("j", "k", "g", "G"), key.WithHelp("j/k g/G", "move")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

func (p *pickerModel) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *pickerModel) Open(purpose pickPurpose, title string, options, hints []string, current string) {
	p.purpose, p.title, p.options, p.hints, p.active = purpose, title, options, hints, true
	p.cursor = 0
	for i, o := range options {
		if o == current {
			p.cursor = i
		}
	}
}

func (p *pickerModel) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch km.String() {
	// No wrapping: a key held too long stops at the end instead of going
	// round to "new" and reopening a resolved ticket.
	case "j", "down", "tab":
		p.cursor = min(p.cursor+1, len(p.options)-1)
	case "k", "up", "shift+tab":
		p.cursor = max(p.cursor-1, 0)
	case "g", "home":
		p.cursor = 0
	case "G", "end":
		p.cursor = len(p.options) - 1
	case "enter":
		p.active = false
		v := p.options[p.cursor]
		purpose := p.purpose
		return func() tea.Msg { return pickedMsg{purpose: purpose, value: v, ok: true} }
	case "esc", "q", "ctrl+c":
		p.active = false
		purpose := p.purpose
		return func() tea.Msg { return pickedMsg{purpose: purpose} }
	default:
		s := km.String()
		if len(s) == 1 {
			for i := 1; i <= len(p.options); i++ {
				j := (p.cursor + i) % len(p.options)
				if strings.HasPrefix(strings.ToLower(p.options[j]), strings.ToLower(s)) {
					p.cursor = j
					break
				}
			}
		}
	}
	return nil
}

func (p *pickerModel) View() string {
	var b strings.Builder
	b.WriteString(p.styles.Title.Render(p.title))
	for i, o := range p.options {
		line := "  " + o
		if i < len(p.hints) && p.hints[i] != "" {
			line = fmt.Sprintf("  %-16s %s", o, p.styles.Dim.Render(p.hints[i]))
		}
		if i == p.cursor {
			line = p.styles.RowSelected.Render("› " + o)
			if i < len(p.hints) && p.hints[i] != "" {
				line = p.styles.RowSelected.Render(fmt.Sprintf("› %-16s %s", o, p.hints[i]))
			}
		}
		b.WriteString("\n" + line)
	}
	b.WriteString("\n" + p.styles.Dim.Render("enter choose · j/k g/G move · esc cancel"))
	return p.styles.Overlay.Render(b.String())
}
