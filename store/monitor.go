package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Monitoring. A probe (package monitor) checks a service and hands each
// result to RecordProbe; what the result means for the desk is decided
// here, in the same transaction that keeps the probe's state: N failures
// in a row open one incident for the service (never a second while the
// outage lasts, across restarts too, since the state is stored), later
// changes are noted on it, M successes in a row end the outage, noted
// and, by the probe's rule, resolved. A day's counts per probe are kept
// for uptime figures instead of every sample.

// ProbeRule is what a probe's results mean for the desk.
type ProbeRule struct {
	Service string
	Name    string // unique within the service: "http http://127.0.0.1:8089/health"
	// Priority of the incident an outage opens (0: P1, the service is
	// unavailable).
	Priority     Priority
	FailAfter    int  // failures in a row that open an incident (0: 2)
	RecoverAfter int  // successes in a row that end it (0: 2)
	Resolve      bool // resolve the incident on recovery; else an operator does
	// CertDays: a TLS certificate with fewer days left opens a request,
	// once per certificate (0: 14).
	CertDays int
}

// MonitorRequester is the requester of the tickets monitoring opens.
const MonitorRequester = "desk monitor"

// ProbeKey names a probe's records: "DSD/http http://...".
func (r ProbeRule) Key() string { return r.Service + "/" + r.Name }

// ProbeResult is one check.
type ProbeResult struct {
	At      time.Time     `json:"at"`
	OK      bool          `json:"ok"`
	Slow    bool          `json:"slow,omitempty"` // answered, over its latency limit
	Latency time.Duration `json:"latency"`
	Detail  string        `json:"detail"` // "HTTP 200", "connection refused"
	// CertExpires is the TLS certificate's end (zero when not a TLS probe
	// or no certificate was seen).
	CertExpires time.Time `json:"cert_expires,omitzero"`
}

// Probe states.
const (
	ProbeUnknown = "unknown" // no result yet
	ProbeUp      = "up"
	ProbeFailing = "failing" // failed, not yet FailAfter times in a row
	ProbeDown    = "down"    // an outage: the incident is open
)

// ProbeState is a probe as the desk knows it.
type ProbeState struct {
	Key     string      `json:"key"`
	Service string      `json:"service"`
	Name    string      `json:"name"`
	State   string      `json:"state"`
	Since   time.Time   `json:"since"` // in this state since
	Fails   int         `json:"fails"` // in a row
	Oks     int         `json:"oks"`   // in a row
	Last    ProbeResult `json:"last"`
	// Outage is the incident of the current outage (0 while up); Down is
	// when it began.
	Outage TicketID  `json:"outage,omitempty"`
	Down   time.Time `json:"down,omitzero"`
	// CertTicket is the request opened for CertNoted, the certificate end
	// it was opened for.
	CertTicket TicketID  `json:"cert_ticket,omitempty"`
	CertNoted  time.Time `json:"cert_noted,omitzero"`
	Checks     int64     `json:"checks"`
}

// Degraded tells a probe whose service answers, but too slowly.
func (p ProbeState) Degraded() bool { return p.State != ProbeUp && p.Last.Slow }

// DayCount is one probe's checks on one UTC day.
type DayCount struct {
	Day  time.Time `json:"day"`
	OK   int       `json:"ok"`
	Fail int       `json:"fail"`
}

func probeKey(key string) []byte { return append([]byte{pProbe}, capKey(key)...) }

func uptimePrefix(key string) []byte {
	return append(append([]byte{pUptime}, capKey(key)...), 0)
}

func uptimeKey(key string, day time.Time) []byte {
	y, m, d := day.UTC().Date()
	return binary.BigEndian.AppendUint32(uptimePrefix(key), uint32(y*10000+int(m)*100+d))
}

// RecordProbe keeps a probe's result and does what it means: opens the
// service's incident, notes a change, ends an outage. It returns the
// probe's state after the write.
func (s *Store) RecordProbe(rule ProbeRule, r ProbeResult) (ProbeState, error) {
	if rule.FailAfter <= 0 {
		rule.FailAfter = 2
	}
	if rule.RecoverAfter <= 0 {
		rule.RecoverAfter = 2
	}
	if rule.Priority == 0 {
		rule.Priority = 1
	}
	if rule.CertDays <= 0 {
		rule.CertDays = 14
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	r.Detail = clip(r.Detail, 300)
	var before ProbeState
	_ = s.read(func(txn *badger.Txn) error { return getJSON(txn, probeKey(rule.Key()), &before) })
	var lock []TicketID
	if before.Outage != 0 {
		lock = s.withChildren(before.Outage)
	}
	defer s.lockTickets(lock...)()
	var out ProbeState
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		o := &op{s: s, txn: txn, w: w, actor: "monitor"}
		st := ProbeState{Key: rule.Key(), Service: rule.Service, Name: rule.Name, State: ProbeUnknown}
		if err := getJSON(txn, probeKey(rule.Key()), &st); err != nil && err != ErrNotFound {
			return err
		}
		if err := o.probeResult(rule, &st, r); err != nil {
			return err
		}
		if err := putJSON(txn, probeKey(st.Key), st); err != nil {
			return err
		}
		var c DayCount
		k := uptimeKey(st.Key, r.At)
		if err := getJSON(txn, k, &c); err != nil && err != ErrNotFound {
			return err
		}
		y, m, d := r.At.UTC().Date()
		c.Day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		if r.OK {
			c.OK++
		} else {
			c.Fail++
		}
		out = st
		return putJSON(txn, k, c)
	})
	return out, err
}

func (o *op) probeResult(rule ProbeRule, st *ProbeState, r ProbeResult) error {
	prev := st.Last
	st.Last = r
	st.Checks++
	if r.OK {
		st.Oks++
		st.Fails = 0
	} else {
		st.Fails++
		st.Oks = 0
	}
	if err := o.probeCert(rule, st, r); err != nil {
		return err
	}
	set := func(state string) {
		if st.State != state {
			st.State, st.Since = state, r.At
		}
	}
	switch {
	case st.State == ProbeDown && !r.OK:
		// The outage goes on; a change in how it fails is noted once.
		if st.Outage != 0 && what(prev) != what(r) {
			return o.probeNote(st, fmt.Sprintf("Monitoring: %s still failing, now: %s.", rule.Name, what(r)))
		}
	case st.State == ProbeDown && st.Oks >= rule.RecoverAfter:
		return o.probeRecovered(rule, st, r, set)
	case st.State == ProbeDown:
		// Recovering, not yet RecoverAfter times.
	case r.OK:
		set(ProbeUp)
	case st.Fails >= rule.FailAfter:
		set(ProbeDown)
		st.Down = r.At
		return o.probeOutage(rule, st, r)
	default:
		set(ProbeFailing)
	}
	return nil
}

// what a result says, for telling one failure from another.
func what(r ProbeResult) string {
	if r.Slow {
		return "slow"
	}
	return r.Detail
}

func (o *op) probeNote(st *ProbeState, text string) error {
	t, err := o.get(st.Outage)
	if err != nil {
		if err == ErrNotFound {
			st.Outage = 0
			return nil
		}
		return err
	}
	_, err = o.s.appendIn(o.txn, o.w, t, []Event{{Kind: EvNote, Text: text}}, o.actor)
	return err
}

// probeOutage opens the service's incident, or notes the outage on the
// one already open: the service's open major incident, or the outage of
// another of its probes.
func (o *op) probeOutage(rule ProbeRule, st *ProbeState, r ProbeResult) error {
	text := fmt.Sprintf("Monitoring: %s failed %d times in a row since %s: %s.",
		rule.Name, st.Fails, r.At.UTC().Format("Mon 02 Jan 15:04:05 UTC"), what(r))
	if r.Slow {
		text = fmt.Sprintf("Monitoring: %s answered too slowly %d times in a row (%s, %s).", rule.Name, st.Fails, r.Latency.Round(time.Millisecond), r.Detail)
	}
	open, err := o.openOutageOf(rule.Service, st.Key)
	if err != nil {
		return err
	}
	if open != 0 {
		st.Outage = open
		return o.probeNote(st, text)
	}
	state := "unavailable"
	if r.Slow {
		state = "slow"
	}
	t, err := o.s.createIn(o.txn, o.w, o.actor, NewTicket{
		Type: Incident, Priority: rule.Priority, Service: rule.Service,
		Subject:   fmt.Sprintf("%s %s (monitoring: %s)", rule.Service, state, rule.Name),
		Requester: Person{Name: MonitorRequester},
		Message:   &Message{Body: text},
	}, nil)
	if err != nil {
		return fmt.Errorf("monitor: open the incident for %s: %w", rule.Service, err)
	}
	st.Outage = t.ID
	return nil
}

// openOutageOf is an active ticket the service's outage is already on:
// its open major incident, or another probe's outage.
func (o *op) openOutageOf(service, except string) (TicketID, error) {
	if id, err := openMajorFor(o.txn, service); err != nil || id != 0 {
		return id, err
	}
	var found TicketID
	err := scanProbes(o.txn, func(p ProbeState) (bool, error) {
		if p.Key == except || !strings.EqualFold(p.Service, service) || p.State != ProbeDown || p.Outage == 0 {
			return true, nil
		}
		t, err := o.get(p.Outage)
		if err == nil && t.Status.Active() {
			found = t.ID
			return false, nil
		}
		return true, nil
	})
	return found, err
}

func (o *op) probeRecovered(rule ProbeRule, st *ProbeState, r ProbeResult, set func(string)) error {
	lasted := r.At.Sub(st.Down).Round(time.Second)
	id := st.Outage
	set(ProbeUp)
	st.Outage, st.Down = 0, time.Time{}
	if id == 0 {
		return nil
	}
	t, err := o.get(id)
	if err == ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	text := fmt.Sprintf("Monitoring: %s recovered at %s (%s, down %s).", rule.Name, r.At.UTC().Format("Mon 02 Jan 15:04:05 UTC"), r.Detail, lasted)
	if _, err := o.s.appendIn(o.txn, o.w, t, []Event{{Kind: EvNote, Text: text}}, o.actor); err != nil {
		return err
	}
	// Only an incident monitoring opened is resolved by it: one an
	// operator declared is theirs to end. Another probe of the service
	// still down keeps it open.
	if !rule.Resolve || !t.Status.Active() || t.Requester.Name != MonitorRequester {
		return nil
	}
	if down, err := o.othersDown(rule.Service, st.Key); err != nil || down {
		return err
	}
	if t, err = o.get(id); err != nil {
		return err
	}
	var cascaded []TicketID
	return o.resolve(t, fmt.Sprintf("%s is available again: %s answered normally from %s (the outage lasted %s). Resolved by monitoring.",
		rule.Service, rule.Name, r.At.UTC().Format("15:04:05 UTC"), lasted), &cascaded)
}

func (o *op) othersDown(service, except string) (bool, error) {
	down := false
	err := scanProbes(o.txn, func(p ProbeState) (bool, error) {
		if p.Key != except && strings.EqualFold(p.Service, service) && p.State == ProbeDown {
			down = true
			return false, nil
		}
		return true, nil
	})
	return down, err
}

// probeCert opens a request for a certificate nearing its end, once per
// certificate.
func (o *op) probeCert(rule ProbeRule, st *ProbeState, r ProbeResult) error {
	if r.CertExpires.IsZero() || r.CertExpires.Equal(st.CertNoted) {
		return nil
	}
	left := r.CertExpires.Sub(r.At)
	if left > time.Duration(rule.CertDays)*24*time.Hour {
		return nil
	}
	days := int(left.Hours() / 24)
	subject := fmt.Sprintf("TLS certificate of %s expires in %d days (%s)", rule.Service, days, r.CertExpires.UTC().Format("2006-01-02"))
	if left <= 0 {
		subject = fmt.Sprintf("TLS certificate of %s expired on %s", rule.Service, r.CertExpires.UTC().Format("2006-01-02"))
	}
	t, err := o.s.createIn(o.txn, o.w, o.actor, NewTicket{
		Type: Request, Priority: 3, Service: rule.Service, Subject: subject,
		Requester: Person{Name: MonitorRequester},
		Message: &Message{Body: fmt.Sprintf("Monitoring: %s sees a certificate valid until %s. Renew it before then.",
			rule.Name, r.CertExpires.UTC().Format("Mon 02 Jan 2006 15:04 UTC"))},
	}, nil)
	if err != nil {
		return fmt.Errorf("monitor: open the certificate request for %s: %w", rule.Service, err)
	}
	st.CertTicket, st.CertNoted = t.ID, r.CertExpires
	return nil
}

// Probes are the probes' states, by key.
func (s *Store) Probes() ([]ProbeState, error) {
	var out []ProbeState
	err := s.read(func(txn *badger.Txn) error {
		return scanProbes(txn, func(p ProbeState) (bool, error) {
			out = append(out, p)
			return true, nil
		})
	})
	return out, err
}

// scanProbes calls fn with each probe's state until it returns false.
func scanProbes(txn *badger.Txn, fn func(ProbeState) (bool, error)) error {
	return prefixScan(txn, []byte{pProbe}, false, func(item *badger.Item) (bool, error) {
		var p ProbeState
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &p) }); err != nil {
			return false, err
		}
		return fn(p)
	})
}

// Uptime is a probe's day counts from the day of from on, oldest first;
// days without checks are left out.
func (s *Store) Uptime(key string, from time.Time) ([]DayCount, error) {
	var out []DayCount
	start := uptimeKey(key, from)
	p := uptimePrefix(key)
	err := s.read(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
		defer it.Close()
		for it.Seek(start); it.ValidForPrefix(p); it.Next() {
			var c DayCount
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &c) }); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// ForgetProbes removes the states of probes no longer configured (keep
// lists the keys that are): a probe taken out of the config does not
// keep its service "down" on the status page. Their day counts stay.
func (s *Store) ForgetProbes(keep []string) ([]string, error) {
	ps, err := s.Probes()
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, p := range ps {
		if !slices.Contains(keep, p.Key) {
			gone = append(gone, p.Key)
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return gone, s.write(func(txn *badger.Txn, w *writeSet) error {
		for _, k := range gone {
			if err := txn.Delete(probeKey(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
