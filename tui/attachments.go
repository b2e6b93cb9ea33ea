package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/termtext"
)

// attachmentsMsg is the list of a ticket's attachments, read for v.
type attachmentsMsg struct {
	t    store.Ticket
	list []store.TicketAttachment
	err  error
}

func init() {
	ticketActions = append(ticketActions, ticketAction{
		func(k *KeyMap) []key.Binding { return []key.Binding{k.Attachments} }, "",
		func(m *Model, t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
			st := m.o.Store
			return func() tea.Msg {
				list, err := st.Attachments(t.ID)
				return attachmentsMsg{t: t, list: list, err: err}
			}
		}})
}

// attachmentsLoaded: none is said, one is opened, several are offered.
func (m *Model) attachmentsLoaded(msg attachmentsMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		m.setFlash("reading the attachments: "+msg.err.Error(), true)
		return nil
	case len(msg.list) == 0:
		m.setFlash(msg.t.ID.String()+" has no attachments", false)
		return nil
	case len(msg.list) == 1:
		return m.viewAttachment(msg.t.ID, 1)
	}
	var opts, hints []string
	for _, a := range msg.list {
		opts = append(opts, fmt.Sprintf("%d %s", a.N, SafeLine(a.Name)))
		hint := SafeLine(a.ContentType) + ", " + humanBytes(a.Size)
		if a.Blob == "" {
			hint += ", not kept"
		}
		hints = append(hints, hint)
	}
	return m.openPicker(msg.t, pickAttachment, "attachments of "+msg.t.ID.String(), opts, hints, "")
}

// viewAttachment shows attachment n of ticket id as text in a page when
// it is text; anything else (images, PDFs, archives) is never put on the
// terminal: the footer says how to save it.
func (m *Model) viewAttachment(id store.TicketID, n int) tea.Cmd {
	req := m.nextReq()
	m.pageReq = req
	st := m.o.Store
	return func() tea.Msg {
		a, b, err := st.AttachmentContent(id, strconv.Itoa(n))
		msg := pageMsg{req: req, err: err}
		if err != nil {
			return msg
		}
		save := fmt.Sprintf("desk attachment %s %d > FILE", id, n) // the same over ssh
		if !termtext.Viewable(a.ContentType, b) {
			msg.flash = fmt.Sprintf("%s (%s, %s) is not shown: %s saves it", SafeLine(a.Name), SafeLine(a.ContentType), humanBytes(int64(len(b))), save)
			return msg
		}
		msg.title = fmt.Sprintf("%s — attachment %d of %s, %s · save: %s", SafeLine(a.Name), n, id, humanBytes(int64(len(b))), save)
		msg.content = termtext.Text(string(b))
		return msg
	}
}

// pickedAttachment is the number in front of the picked option.
func pickedAttachment(v string) int {
	n, _ := strconv.Atoi(strings.Fields(v + " x")[0])
	return n
}
