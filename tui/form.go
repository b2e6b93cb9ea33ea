package tui

import (
	"fmt"
	"net/mail"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// formModel registers a ticket by hand (a phone call, a walk-in, a monitor
// alert): requester, subject, type, priority and what was said.
type formModel struct {
	styles *Styles
	inputs []textinput.Model // name, email, organisation, subject
	typ    int
	prio   store.Priority
	queue  int
	queues []string
	body   *textarea.Model // made when the form opens (see composeModel.area)
	focus  int             // 0..3 inputs, 4 type, 5 priority, 6 queue, 7 body
	err    string
	active bool
}

const (
	fName = iota
	fEmail
	fOrg
	fSubject
	fType
	fPrio
	fQueue
	fBody
	fCount
)

type formDoneMsg struct{ nt store.NewTicket }

func newFormModel(s *Styles) *formModel {
	f := &formModel{styles: s}
	for _, ph := range []string{"e.g. Jens Hansen", "e.g. jens@aarhus.dk (empty if none)", "e.g. Aarhus Kommune", "e.g. MitID login fails for all citizens"} {
		ti := s.textInput()
		ti.Placeholder = ph
		ti.CharLimit = 200
		ti.Prompt = ""
		f.inputs = append(f.inputs, ti)
	}
	return f
}

func (f *formModel) makeBody() {
	if f.body != nil {
		return
	}
	ta := f.styles.textArea()
	ta.ShowLineNumbers = false
	ta.Placeholder = "e.g. what the caller reported, in their words"
	ta.Prompt = "│ "
	f.body = &ta
}

// Open shows the form; what was typed before an esc is still there.
func (f *formModel) Open(queues []string, w, h int) tea.Cmd {
	if !f.hasDraft() {
		*f = *newFormModel(f.styles)
		f.prio = 3
	}
	f.active, f.queues, f.err = true, queues, ""
	f.makeBody()
	f.SetSize(w, h)
	return f.setFocus(f.focus)
}

// Reset clears the form after a ticket was registered.
func (f *formModel) Reset() { *f = *newFormModel(f.styles) }

func (f *formModel) Active() bool { return f.active }

func (f *formModel) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "register")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close (kept)")),
	}
}

func (f *formModel) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

func (f *formModel) hasDraft() bool {
	for _, in := range f.inputs {
		if strings.TrimSpace(in.Value()) != "" {
			return true
		}
	}
	return f.body != nil && strings.TrimSpace(f.body.Value()) != ""
}

func (f *formModel) SetSize(w, h int) {
	for i := range f.inputs {
		f.inputs[i].SetWidth(max(w-18, 10))
	}
	if f.body != nil {
		f.body.SetWidth(max(w-4, 20))
		f.body.SetHeight(max(h-14, 3))
	}
}

func (f *formModel) setFocus(i int) tea.Cmd {
	f.focus = (i + fCount) % fCount
	if f.focus == fQueue && len(f.queues) == 0 {
		// no queues to choose from: skip the field in the direction of travel
		if i > fQueue {
			f.focus = fBody
		} else {
			f.focus = fPrio
		}
	}
	for j := range f.inputs {
		f.inputs[j].Blur()
	}
	if f.body != nil {
		f.body.Blur()
	}
	switch {
	case f.focus < len(f.inputs):
		return f.inputs[f.focus].Focus()
	case f.focus == fBody && f.body != nil:
		return f.body.Focus()
	}
	return nil
}

func (f *formModel) Update(msg tea.Msg) tea.Cmd {
	km, isKey := msg.(tea.KeyPressMsg)
	if isKey {
		switch km.String() {
		case "esc":
			f.active = false
			return nil
		case "ctrl+s":
			nt, err := f.ticket()
			if err != nil {
				f.err = err.Error()
				return nil
			}
			f.active = false
			return func() tea.Msg { return formDoneMsg{nt} }
		case "tab", "down":
			if f.focus != fBody || km.String() == "tab" {
				return f.setFocus(f.focus + 1)
			}
		case "shift+tab", "up":
			if f.focus != fBody || km.String() == "shift+tab" {
				return f.setFocus(f.focus - 1)
			}
		case "enter":
			if f.focus < fBody {
				return f.setFocus(f.focus + 1)
			}
		case "left", "right", "space", "h", "l":
			d := 1
			if s := km.String(); s == "left" || s == "h" {
				d = -1
			}
			switch f.focus {
			case fType:
				f.typ = (f.typ + d + len(store.Types)) % len(store.Types)
				return nil
			case fPrio:
				f.prio = store.Priority((int(f.prio)-1+d+4)%4 + 1)
				return nil
			case fQueue:
				if len(f.queues) > 0 {
					f.queue = (f.queue + d + len(f.queues)) % len(f.queues)
				}
				return nil
			}
		case "1", "2", "3", "4":
			if f.focus == fPrio {
				f.prio = store.Priority(km.String()[0] - '0')
				return nil
			}
		}
	}
	var cmd tea.Cmd
	switch {
	case f.focus < len(f.inputs):
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	case f.focus == fBody && f.body != nil:
		*f.body, cmd = f.body.Update(msg)
	}
	return cmd
}

func (f *formModel) ticket() (store.NewTicket, error) {
	name := strings.TrimSpace(f.inputs[fName].Value())
	email := strings.TrimSpace(f.inputs[fEmail].Value())
	subject := strings.TrimSpace(f.inputs[fSubject].Value())
	if name == "" && email == "" {
		return store.NewTicket{}, fmt.Errorf("who called? give a name or an email address")
	}
	if email != "" {
		a, err := mail.ParseAddress(email)
		if err != nil {
			return store.NewTicket{}, fmt.Errorf("%q is not an email address (leave it empty if the caller has none)", email)
		}
		// "Jens <jens@x.dk>" keeps the address only: replies are matched on it.
		email = a.Address
		if name == "" {
			name = a.Name
		}
	}
	if subject == "" {
		return store.NewTicket{}, fmt.Errorf("the subject is empty: say in a few words what is wrong")
	}
	nt := store.NewTicket{
		Type:      store.Types[f.typ],
		Priority:  f.prio,
		Subject:   subject,
		Requester: store.Person{Name: name, Email: email, Organisation: strings.TrimSpace(f.inputs[fOrg].Value())},
	}
	if len(f.queues) > 0 {
		nt.Queue = f.queues[f.queue]
	}
	if f.body == nil {
		return nt, nil
	}
	if body := strings.TrimSpace(f.body.Value()); body != "" {
		nt.Message = &store.Message{From: nt.Requester, Subject: subject, Body: body}
	}
	return nt, nil
}

func (f *formModel) View() string {
	label := func(i int, s string) string {
		l := fmt.Sprintf("%-13s", s)
		if f.focus == i {
			return f.styles.Title.Render("› " + l)
		}
		return f.styles.Label.Render("  " + l)
	}
	choice := func(i int, opts []string, cur int) string {
		var parts []string
		for j, o := range opts {
			if j == cur {
				// brackets, not only reverse video: visible with NO_COLOR
				parts = append(parts, f.styles.RowSelected.Render("["+o+"]"))
			} else {
				parts = append(parts, " "+o+" ")
			}
		}
		return label(i, map[int]string{fType: "type", fPrio: "priority", fQueue: "queue"}[i]) + strings.Join(parts, "")
	}
	var types []string
	for _, t := range store.Types {
		types = append(types, string(t))
	}
	var b strings.Builder
	b.WriteString(f.styles.Title.Render("New ticket (phone call or walk-in)") + "\n")
	for i, name := range []string{"name", "email", "organisation", "subject"} {
		b.WriteString(label(i, name) + f.inputs[i].View() + "\n")
	}
	b.WriteString(choice(fType, types, f.typ) + "\n")
	b.WriteString(choice(fPrio, []string{"P1", "P2", "P3", "P4"}, int(f.prio)-1) + "\n")
	if len(f.queues) > 0 {
		b.WriteString(choice(fQueue, f.queues, f.queue) + "\n")
	}
	body := ""
	if f.body != nil {
		body = f.body.View()
	}
	b.WriteString(label(fBody, "description") + "\n" + body + "\n")
	if f.err != "" {
		b.WriteString(f.styles.FlashErr.Render(f.err) + "\n")
	}
	b.WriteString(f.styles.Dim.Render("tab next field · ←/→ change · ctrl+s register · esc close (kept)"))
	return b.String()
}
