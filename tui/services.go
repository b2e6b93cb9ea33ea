package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/deskhq/desk/store"
)

// Services and major incidents: S sets a ticket's service, :service
// narrows the list to one, :major declares a major incident and U writes
// its status update. What a service is, and who hears of its incidents,
// is the store's directory (the config's [[services]]).

func (m *Model) services() []store.Service {
	if m.o.Store == nil {
		return nil
	}
	return m.o.Store.Services()
}

func (m *Model) pickService(t store.Ticket, _ tea.KeyPressMsg) tea.Cmd {
	svcs := m.services()
	if len(svcs) == 0 {
		m.setFlash("no services configured: add [[services]] to the config", true)
		return nil
	}
	var opts, hints []string
	for _, sv := range svcs {
		opts, hints = append(opts, sv.Name), append(hints, sv.Description)
	}
	opts, hints = append(opts, "(none)"), append(hints, "not about one service")
	return m.openPicker(t, pickService, "Service of "+t.ID.String(), opts, hints, t.Service)
}

// subscribersOf says who a status update of the service reaches, for the
// compose title and its send key.
func (m *Model) subscribersOf(service string) string {
	for _, sv := range m.services() {
		if strings.EqualFold(sv.Name, service) {
			switch n := len(sv.Subscribers); n {
			case 0:
			case 1:
				return sv.Subscribers[0]
			default:
				return fmt.Sprintf("%d subscribers of %s", n, sv.Name)
			}
		}
	}
	return "" // nobody: the update is kept in the history only
}

// cmdService narrows the list to one service (:service all widens it).
func (m *Model) cmdService(arg string, _ []string) tea.Cmd {
	switch {
	case arg == "" || arg == "all":
		m.queues.service = ""
	default:
		var names []string
		found := ""
		for _, sv := range m.services() {
			names = append(names, sv.Name)
			if strings.EqualFold(sv.Name, arg) {
				found = sv.Name
			}
		}
		if found == "" {
			if len(names) == 0 {
				m.setFlash("no services configured: add [[services]] to the config", true)
			} else {
				m.setFlash(fmt.Sprintf("no service named %q (services: %s)", arg, strings.Join(names, ", ")), true)
			}
			return nil
		}
		m.queues.service = found
	}
	m.refresh(true)
	return m.followSelection()
}

// cmdMajor declares a major incident on the current ticket: ":major
// [SERVICE] [why]", the service when the first word names one.
func (m *Model) cmdMajor(arg string, fields []string) tea.Cmd {
	return m.onCurrent(func(t store.Ticket) tea.Cmd {
		service, why := "", arg
		if len(fields) > 1 {
			for _, sv := range m.services() {
				if strings.EqualFold(sv.Name, fields[1]) {
					service, why = sv.Name, strings.Join(fields[2:], " ")
				}
			}
		}
		return m.do(t.ID, "major incident declared; its subscribers are told", func(st *store.Store, actor string) (store.Ticket, error) {
			return st.DeclareMajor(t.ID, actor, service, why)
		})
	})
}
