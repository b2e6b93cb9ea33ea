package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// promptModel is the one-line input at the bottom: the / filter, the :
// command line and short questions such as "master ticket id".
type promptModel struct {
	styles *Styles
	input  textinput.Model
	kind   promptKind
	active bool
	width  int
	// describe, when set, says beside the input what the typed value
	// means (the ticket a master link goes to).
	describe func(value string) string
}

type promptKind int

const (
	promptFilter promptKind = iota
	promptCommand
	promptMaster
)

// promptDoneMsg is sent when the operator presses enter (ok) or esc.
type promptDoneMsg struct {
	kind  promptKind
	value string
	ok    bool
}

func newPromptModel(s *Styles) *promptModel {
	ti := s.textInput()
	ti.CharLimit = 200
	return &promptModel{styles: s, input: ti}
}

func (p *promptModel) Active() bool { return p.active }

func (p *promptModel) SetSize(w, _ int) {
	p.width = w
	p.input.SetWidth(max(w/2, 10))
}

func (p *promptModel) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

func (p *promptModel) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *promptModel) Open(kind promptKind, label, value string) tea.Cmd {
	p.kind, p.active = kind, true
	if kind != promptMaster {
		p.describe = nil
	}
	p.input.Prompt = label
	p.input.SetWidth(max(p.width/2, 10))
	if kind == promptMaster {
		p.input.SetWidth(8) // a ticket number: the rest of the line says which ticket it is
	}
	p.input.SetValue(value)
	p.input.CursorEnd()
	return p.input.Focus()
}

func (p *promptModel) Update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "enter":
			p.active = false
			p.input.Blur()
			kind, v := p.kind, p.input.Value()
			return func() tea.Msg { return promptDoneMsg{kind: kind, value: v, ok: true} }
		case "esc", "ctrl+c":
			p.active = false
			p.input.Blur()
			kind := p.kind
			return func() tea.Msg { return promptDoneMsg{kind: kind, ok: false} }
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// Value is the text typed so far (the filter applies as you type).
func (p *promptModel) Value() string { return p.input.Value() }

func (p *promptModel) View() string {
	line := p.input.View()
	if p.describe != nil {
		if d := p.describe(p.input.Value()); d != "" {
			line += "  " + p.styles.Dim.Render(d)
		}
	}
	return fitHeight(line, 1, p.width)
}
