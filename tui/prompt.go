package tui

import (
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// promptModel is the one-line input at the bottom: the / filter, the :
// command line and short questions such as "master ticket id".
type promptModel struct {
	input  textinput.Model
	kind   promptKind
	active bool
}

type promptKind int

const (
	promptFilter promptKind = iota
	promptCommand
	promptMaster
	promptAssignee
)

// promptDoneMsg is sent when the operator presses enter (ok) or esc.
type promptDoneMsg struct {
	kind  promptKind
	value string
	ok    bool
}

func newPromptModel(s *Styles) promptModel {
	ti := s.textInput()
	ti.CharLimit = 200
	return promptModel{input: ti}
}

func (p *promptModel) Open(kind promptKind, label, value string) tea.Cmd {
	p.kind, p.active = kind, true
	p.input.Prompt = label
	p.input.SetValue(value)
	p.input.CursorEnd()
	return p.input.Focus()
}

func (p promptModel) Update(msg tea.Msg) (promptModel, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch km.String() {
		case "enter":
			p.active = false
			p.input.Blur()
			v := p.input.Value()
			return p, func() tea.Msg { return promptDoneMsg{kind: p.kind, value: v, ok: true} }
		case "esc", "ctrl+c":
			p.active = false
			p.input.Blur()
			return p, func() tea.Msg { return promptDoneMsg{kind: p.kind, ok: false} }
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

// Value is the text typed so far (the filter applies as you type).
func (p promptModel) Value() string { return p.input.Value() }

func (p promptModel) View() string { return p.input.View() }
