package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/deskhq/desk/slaengine"
)

// The ticket projection has its own compact binary encoding: the console
// loads every projection at start, and with encoding/json 100,000 of them
// took ~1.2 s (decoding dominated); this takes a fraction of that and keeps
// records about half the size. Events, timelines and everything else stay
// JSON. TestCodecCoversEveryField fails when Ticket or slaengine.Clock gain
// a field this encoding does not carry yet.
//
// Times decode in UTC. A record starting with '{' is read as JSON.

// V2 appends the resolution text, the peak priority and the incident
// report; V1 records (written before) decode with Peak = Priority.
// V3 appends the escalation steps fired and when the next one is due.
// V4 appends the service and the major incident.
// V5 ends each clock with its holds (service windows ahead).
const (
	ticketCodecV1 = 1
	ticketCodecV2 = 2
	ticketCodecV3 = 3
	ticketCodecV4 = 4
	ticketCodecV5 = 5
)

// ticketRec is the JSON form of the projection (read for records that start
// with '{').
type ticketRec struct {
	Ticket
	SLA        slaengine.Clocks `json:"sla"`
	Deadline   time.Time        `json:"deadline,omitzero"`
	EscalateAt time.Time        `json:"escalate_at,omitzero"`
}

func encodeTicket(t *Ticket) ([]byte, error) { return encodeTicketAs(t, ticketCodecV5) }

// encodeTicketAs encodes in format v; before V5 the clocks' holds are left
// out (the fields a format lacks at its end are cut by the caller).
func encodeTicketAs(t *Ticket, v byte) ([]byte, error) {
	b := make([]byte, 0, 256+len(t.Subject))
	b = append(b, v)
	b = binary.AppendUvarint(b, uint64(t.ID))
	b = putStr(b, string(t.Type))
	b = binary.AppendVarint(b, int64(t.Priority))
	b = putStr(b, string(t.Status))
	b = putStr(b, t.Queue)
	b = putStr(b, t.Assignee)
	b = putStr(b, t.Team)
	b = putStr(b, t.Category)
	b = putStr(b, t.Requester.Name)
	b = putStr(b, t.Requester.Email)
	b = putStr(b, t.Requester.Organisation)
	b = putStr(b, t.Subject)
	b = binary.AppendUvarint(b, uint64(t.Master))
	b = binary.AppendUvarint(b, uint64(len(t.Links)))
	for _, l := range t.Links {
		b = putStr(b, string(l.Kind))
		b = binary.AppendUvarint(b, uint64(l.To))
	}
	b = putStrs(b, t.External)
	b = putStrs(b, t.Participants)
	b = putTime(b, t.Created)
	b = putTime(b, t.Updated)
	b = putTime(b, t.Responded)
	b = putTime(b, t.Resolved)
	b = binary.AppendVarint(b, int64(t.Events))
	b = putClock(b, &t.SLA.Response, v)
	b = putClock(b, &t.SLA.Resolution, v)
	b = putTime(b, t.Deadline)
	b = putStr(b, t.Resolution)
	b = binary.AppendVarint(b, int64(t.Peak))
	if t.Report == nil {
		b = putStr(b, "")
	} else {
		rb, err := json.Marshal(t.Report)
		if err != nil {
			return nil, err
		}
		b = append(binary.AppendUvarint(b, uint64(len(rb))), rb...)
	}
	b = putStrs(b, t.Fired)
	b = putTime(b, t.EscalateAt)
	b = putStr(b, t.Service)
	if t.Major == nil {
		b = putStr(b, "")
	} else {
		mb, err := json.Marshal(t.Major)
		if err != nil {
			return nil, err
		}
		b = append(binary.AppendUvarint(b, uint64(len(mb))), mb...)
	}
	return b, nil
}

func putStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func putStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = putStr(b, s)
	}
	return b
}

// putTime writes 0 for the zero time, else 1 and the Unix nanoseconds
// (clamped to what int64 nanoseconds can hold, years 1678-2262).
func putTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	var ns int64
	switch {
	case t.Before(minNs):
		ns = math.MinInt64
	case t.After(maxNs):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	return binary.AppendVarint(append(b, 1), ns)
}

var (
	minNs = time.Unix(0, math.MinInt64)
	maxNs = time.Unix(0, math.MaxInt64)
)

func putClock(b []byte, c *slaengine.Clock, v byte) []byte {
	b = binary.AppendVarint(b, int64(c.Target))
	b = binary.AppendVarint(b, int64(c.Used))
	b = binary.AppendVarint(b, int64(c.Left))
	b = putTime(b, c.Due)
	b = putStr(b, string(c.State))
	b = putTime(b, c.Stopped)
	if c.Running {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = putTime(b, c.At)
	if v < ticketCodecV5 {
		return b
	}
	var holds []slaengine.Hold
	if c.Holds != nil {
		holds = *c.Holds
	}
	b = binary.AppendUvarint(b, uint64(len(holds)))
	for _, h := range holds {
		b = putTime(putTime(b, h.From), h.To)
	}
	return b
}

var errShort = errors.New("ticket record is truncated or damaged")

// reader decodes; the first error sticks and later reads return zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) raw() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) str() string { return string(r.raw()) }

// known returns the constant for common values, sparing one allocation per
// field per ticket in a full load.
func (r *reader) known(consts []string) string {
	b := r.raw()
	for _, c := range consts {
		if string(b) == c {
			return c
		}
	}
	return string(b)
}

var (
	typeNames   = []string{string(Incident), string(Request), string(ChangeReq)}
	statusNames = []string{"new", "open", "waiting", "escalated", "pending-release", "resolved", "closed"}
	stateNames  = []string{"", string(slaengine.StateOK), string(slaengine.StateWarning), string(slaengine.StateBreached),
		string(slaengine.StateMet), string(slaengine.StatePaused)}
)

func (r *reader) strs() []string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *reader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, r.varint()).UTC()
	default:
		if r.err == nil {
			r.err = errShort
		}
		return time.Time{}
	}
}

func (r *reader) clock(c *slaengine.Clock, version byte) {
	c.Target = time.Duration(r.varint())
	c.Used = time.Duration(r.varint())
	c.Left = time.Duration(r.varint())
	c.Due = r.time()
	c.State = slaengine.State(r.known(stateNames))
	c.Stopped = r.time()
	c.Running = r.byte() == 1
	c.At = r.time()
	if version >= ticketCodecV5 {
		if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
			holds := make([]slaengine.Hold, n)
			for i := range holds {
				holds[i].From = r.time()
				holds[i].To = r.time()
			}
			c.Holds = &holds
		} else if n > 0 {
			r.err = errShort
		}
	}
}

func decodeTicket(b []byte, t *Ticket) error {
	if len(b) > 0 && b[0] == '{' {
		var rec ticketRec
		if err := json.Unmarshal(b, &rec); err != nil {
			return err
		}
		*t = rec.Ticket
		t.SLA, t.Deadline, t.EscalateAt = rec.SLA, rec.Deadline, rec.EscalateAt
		return nil
	}
	if len(b) == 0 || b[0] < ticketCodecV1 || b[0] > ticketCodecV5 {
		return errors.New("ticket record has an unknown format (written by a newer desk?)")
	}
	r := &reader{b: b[1:]}
	*t = Ticket{}
	t.ID = TicketID(r.uvarint())
	t.Type = Type(r.known(typeNames))
	t.Priority = Priority(r.varint())
	t.Status = Status(r.known(statusNames))
	t.Queue = r.str()
	t.Assignee = r.str()
	t.Team = r.str()
	t.Category = r.str()
	t.Requester.Name = r.str()
	t.Requester.Email = r.str()
	t.Requester.Organisation = r.str()
	t.Subject = r.str()
	t.Master = TicketID(r.uvarint())
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		t.Links = make([]Link, n)
		for i := range t.Links {
			t.Links[i].Kind = LinkKind(r.str())
			t.Links[i].To = TicketID(r.uvarint())
		}
	} else if n > 0 {
		r.err = errShort
	}
	t.External = r.strs()
	t.Participants = r.strs()
	t.Created = r.time()
	t.Updated = r.time()
	t.Responded = r.time()
	t.Resolved = r.time()
	t.Events = int(r.varint())
	r.clock(&t.SLA.Response, b[0])
	r.clock(&t.SLA.Resolution, b[0])
	t.Deadline = r.time()
	if b[0] == ticketCodecV1 {
		return r.err // Peak 0: the store reads it from the history (peakFromHistory)
	}
	t.Resolution = r.str()
	t.Peak = Priority(r.varint())
	if rb := r.raw(); len(rb) > 0 && r.err == nil {
		t.Report = &IncidentReport{}
		if err := json.Unmarshal(rb, t.Report); err != nil {
			return err
		}
	}
	if b[0] >= ticketCodecV3 {
		t.Fired = r.strs()
		t.EscalateAt = r.time()
	}
	if b[0] >= ticketCodecV4 {
		t.Service = r.str()
		if mb := r.raw(); len(mb) > 0 && r.err == nil {
			t.Major = &MajorIncident{}
			if err := json.Unmarshal(mb, t.Major); err != nil {
				return err
			}
		}
	}
	return r.err
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
