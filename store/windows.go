package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Planned service windows. A window is announced to the service's
// subscribers when it is planned, in the same write; Borger.dk's rules
// say how far ahead (a 2 h window 3 calendar days, 4 h 7 days, 7 h 21
// days, all within 00:00-07:00). A window planned later than its rule, or
// outside the hours, needs a lead's override, recorded with the window.

// Window is a planned service window.
type Window struct {
	ID          uint64        `json:"id"`
	Service     string        `json:"service"`
	Start       time.Time     `json:"start"`
	Duration    time.Duration `json:"duration"`
	Description string        `json:"description"`
	By          string        `json:"by"`
	Planned     time.Time     `json:"planned"`
	// Override names the lead who let it through despite the rules, and
	// which rule it broke.
	Override    string    `json:"override,omitempty"`
	OverrideWhy string    `json:"override_why,omitempty"`
	Cancelled   time.Time `json:"cancelled,omitzero"`
	CancelledBy string    `json:"cancelled_by,omitempty"`
	// Notified counts the subscribers the announcement went to.
	Notified int `json:"notified"`
}

// End is when the window closes.
func (w Window) End() time.Time { return w.Start.Add(w.Duration) }

// Active tells whether the window is on at now.
func (w Window) Active(now time.Time) bool {
	return w.Cancelled.IsZero() && !now.Before(w.Start) && now.Before(w.End())
}

// NoticeRule: a window of up to Upto must be announced Notice ahead.
type NoticeRule struct {
	Upto   time.Duration
	Notice time.Duration
}

// WindowRules are how planned windows must be announced.
type WindowRules struct {
	Notice []NoticeRule // by Upto, shortest first
	// From and To bound the hours a window may take, as offsets from
	// midnight in Location (To zero: any hour).
	From, To time.Duration
	Location *time.Location
	// PauseSLA stops the SLA clocks of a service's tickets while a window
	// of that service is on (windowholds.go).
	PauseSLA bool
}

// DefaultWindowRules are Borger.dk's.
func DefaultWindowRules(loc *time.Location) WindowRules {
	if loc == nil {
		loc = time.UTC
	}
	return WindowRules{
		Notice: []NoticeRule{{2 * time.Hour, 3 * 24 * time.Hour}, {4 * time.Hour, 7 * 24 * time.Hour}, {7 * time.Hour, 21 * 24 * time.Hour}},
		To:     7 * time.Hour, Location: loc,
	}
}

// breaks says which rule w, planned at now, breaks ("" none).
func (r WindowRules) breaks(w Window, now time.Time) string {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	if len(r.Notice) > 0 {
		i := slices.IndexFunc(r.Notice, func(n NoticeRule) bool { return w.Duration <= n.Upto })
		if i < 0 {
			last := r.Notice[len(r.Notice)-1]
			return fmt.Sprintf("a window may last at most %s by the rules; this one lasts %s", fmtSpan(last.Upto), fmtSpan(w.Duration))
		}
		if ahead := w.Start.Sub(now); ahead < r.Notice[i].Notice {
			return fmt.Sprintf("a window of up to %s is announced %s ahead; this one starts in %s", fmtSpan(r.Notice[i].Upto), fmtSpan(r.Notice[i].Notice), fmtSpan(ahead))
		}
	}
	if r.To > 0 {
		s := w.Start.In(loc)
		midnight := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
		if w.Start.Before(midnight.Add(r.From)) || w.End().After(midnight.Add(r.To)) {
			return fmt.Sprintf("windows lie within %s-%s (%s); this one is %s-%s", hhmm(r.From), hhmm(r.To), loc, s.Format("15:04"), w.End().In(loc).Format("15:04"))
		}
	}
	return ""
}

func hhmm(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// fmtSpan says a duration as people plan: "3 days", "2 h", "1 day 4 h 30 min".
func fmtSpan(d time.Duration) string {
	if d < 0 {
		return "the past"
	}
	d = d.Round(time.Minute)
	var parts []string
	if days := int(d / (24 * time.Hour)); days > 0 {
		parts = append(parts, fmt.Sprintf("%d day%s", days, map[bool]string{true: "s"}[days != 1]))
		d -= time.Duration(days) * 24 * time.Hour
	}
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
		d -= time.Duration(h) * time.Hour
	}
	if m := int(d / time.Minute); m > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	return strings.Join(parts, " ")
}

func windowKey(id uint64) []byte { return u64([]byte{pWindow}, id) }

const ctrWindow = "window"

// PlanWindow plans a service window and announces it to the service's
// subscribers in the same write. A window the rules do not allow is
// refused, unless override is set by a lead; then it is recorded who
// overrode which rule.
func (s *Store) PlanWindow(actor string, w Window, override bool) (Window, error) {
	d := s.people()
	now := s.now()
	role := s.RoleOf(actor)
	if role == RoleViewer {
		return Window{}, refuse(0, actor+" is a viewer and cannot plan service windows", "a lead can give the operator role in the config ([[operators]] role)")
	}
	sv, ok := d.service(w.Service)
	if !ok {
		return Window{}, refuse(0, fmt.Sprintf("there is no service %q", w.Service), "use one of "+strings.Join(serviceNames(d), ", "))
	}
	w.Service = sv.Name
	w.Description = strings.TrimSpace(w.Description)
	switch {
	case w.Duration <= 0:
		return Window{}, refuse(0, "a service window needs a duration", "give it, like 2h")
	case !w.Start.After(now):
		return Window{}, refuse(0, "a service window is planned ahead: "+w.Start.UTC().Format("Mon 02 Jan 15:04 UTC")+" has passed", "give a start in the future")
	case w.Description == "":
		return Window{}, refuse(0, "a service window needs a description (it is mailed to the subscribers and shown on the status page)", "say what is done and what users will notice")
	}
	if why := d.Windows.breaks(w, now); why != "" {
		if !override {
			return Window{}, refuse(0, why, "plan it by the rules, or a lead overrides them (--override, or ! in the console)")
		}
		if role != RoleLead {
			return Window{}, refuse(0, why+"; only a lead may override the rules", "ask a lead to plan it")
		}
		w.Override, w.OverrideWhy = actor, why
	}
	w.By, w.Planned, w.Cancelled, w.CancelledBy = actor, now, time.Time{}, ""
	var out Window
	err := s.write(func(txn *badger.Txn, ws *writeSet) error {
		id, err := nextCounter(txn, ctrWindow)
		if err != nil {
			return err
		}
		w.ID = id
		n, err := s.windowMail(txn, ws, w, "")
		if err != nil {
			return err
		}
		w.Notified = n
		out = w
		return putJSON(txn, windowKey(id), w)
	})
	if err != nil {
		return out, err
	}
	return out, s.windowsChanged(out.Service)
}

// CancelWindow calls a planned window off and tells the subscribers.
func (s *Store) CancelWindow(id uint64, actor, why string) (Window, error) {
	if s.RoleOf(actor) == RoleViewer {
		return Window{}, refuse(0, actor+" is a viewer and cannot cancel service windows", "ask an operator")
	}
	var out Window
	err := s.write(func(txn *badger.Txn, ws *writeSet) error {
		var w Window
		if err := getJSON(txn, windowKey(id), &w); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("there is no service window %d: desk window list shows them", id)
			}
			return err
		}
		if !w.Cancelled.IsZero() {
			return refuse(0, fmt.Sprintf("window %d was cancelled already (by %s)", id, w.CancelledBy), "")
		}
		if !w.End().After(s.now()) {
			return refuse(0, fmt.Sprintf("window %d is over", id), "")
		}
		w.Cancelled, w.CancelledBy = s.now(), actor
		if _, err := s.windowMail(txn, ws, w, strings.TrimSpace(why)); err != nil {
			return err
		}
		out = w
		return putJSON(txn, windowKey(id), w)
	})
	if err != nil {
		return out, err
	}
	return out, s.windowsChanged(out.Service)
}

// windowMail tells the service's subscribers of a window (or, cancelled,
// that it is off), one mail each; it returns how many.
func (s *Store) windowMail(txn *badger.Txn, ws *writeSet, w Window, why string) (int, error) {
	d := s.people()
	subs, err := s.subscribersOf(txn, w.Service)
	if err != nil {
		return 0, err
	}
	loc := d.Windows.Location
	if loc == nil {
		loc = time.UTC
	}
	when := fmt.Sprintf("%s to %s (%s)", w.Start.In(loc).Format("Mon 02 Jan 2006 15:04"), w.End().In(loc).Format("15:04 MST"), fmtSpan(w.Duration))
	subject := fmt.Sprintf("Planned maintenance: %s, %s", w.Service, w.Start.In(loc).Format("Mon 02 Jan 15:04"))
	body := fmt.Sprintf("%s will be under planned maintenance %s.\n\n%s\n", w.Service, when, w.Description)
	if !w.Cancelled.IsZero() {
		subject = "Cancelled: " + subject
		body = fmt.Sprintf("The planned maintenance of %s %s is cancelled.\n", w.Service, when)
		if why != "" {
			body += "\n" + why + "\n"
		}
	}
	for _, r := range subs {
		om := OutMail{Kind: "window", To: []string{r.addr}, Subject: subject, Body: body + s.unsubscribeLine(r.token, w.Service), Unsubscribe: s.unsubscribeURL(r.token),
			MessageID: s.messageID(fmt.Sprintf("win-%d.%s", w.ID, randHex(6))), Auto: true}
		if err := s.putOutMail(txn, ws, &om); err != nil {
			return 0, err
		}
	}
	return len(subs), nil
}

// Windows are the planned windows that end after since (cancelled ones
// too), by start.
func (s *Store) Windows(since time.Time) ([]Window, error) {
	var out []Window
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pWindow}, false, func(item *badger.Item) (bool, error) {
			var w Window
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &w) }); err != nil {
				return false, err
			}
			if w.End().After(since) {
				out = append(out, w)
			}
			return true, nil
		})
	})
	slices.SortFunc(out, func(a, b Window) int { return a.Start.Compare(b.Start) })
	return out, err
}
