package store

import (
	"encoding/json"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// ticketRec is the stored projection: the Ticket plus its SLA clocks and
// deadline, which Ticket itself does not marshal.
type ticketRec struct {
	Ticket
	SLA      slaengine.Clocks `json:"sla"`
	Deadline time.Time        `json:"deadline,omitzero"`
}

func encodeTicket(t *Ticket) ([]byte, error) {
	return json.Marshal(ticketRec{Ticket: *t, SLA: t.SLA, Deadline: t.Deadline})
}

func decodeTicket(b []byte, t *Ticket) error {
	var r ticketRec
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*t = r.Ticket
	t.SLA, t.Deadline = r.SLA, r.Deadline
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
