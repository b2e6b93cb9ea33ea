package demomail

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/deskhq/desk/store"
)

// What became of a backlog ticket by the time the demo starts.
type fate int

const (
	fUnassigned  fate = iota // new mail nobody has taken yet
	fUnresponded             // taken, not answered
	fOpen                    // answered, being worked on
	fWaiting                 // a question to the requester (clocks paused)
	fEscalated               // with a 3rd-level team
	fPending                 // fixed in a coming release
	fResolved                // resolved earlier today
	fClosed                  // resolved and closed (P1/P2 with an approved incident report)
	fMine                    // answered by a colleague, then handed to Me
	fMineNew                 // dispatched to Me by a lead, not answered yet
)

// layout is the backlog, oldest ticket first: about ten days of a desk,
// most of it closed; 34 active tickets (9 of them unassigned mail from the
// last hour, 3 assigned to Me), 9 resolved today. The newest tickets are
// SD-100 and up, as on a desk that has been running a while.
//
// SD-3 is a P3 request a colleague handed to Me: nobody else touches it
// (the console's end-to-end test raises it to P1 and adds a note).
func (d *Desk) layout(n int) []fate {
	fates := make([]fate, n)
	long := map[int]fate{9: fWaiting, 17: fEscalated, 26: fPending, 34: fOpen, 43: fWaiting, 51: fEscalated}
	mid := n - 48 // 60 of 108: the last day and a half
	newest := n - 9
	for i := range fates {
		switch f, ok := long[i]; {
		case i == 2:
			fates[i] = fMine
		case ok:
			fates[i] = f
		case i < mid:
			fates[i] = fClosed
		case i >= newest:
			fates[i] = fUnassigned
		}
	}
	// The last day and a half: the oldest twelve are closed, the rest mixed.
	var rest []int
	for i := mid; i < newest; i++ {
		rest = append(rest, i)
	}
	mine := map[int]fate{rest[15]: fMine, rest[35]: fMineNew}
	var free []int
	for k, i := range rest {
		if f, ok := mine[i]; ok {
			fates[i] = f
		} else if k < 12 {
			fates[i] = fClosed
		} else {
			free = append(free, i)
		}
	}
	deck := []fate{fOpen, fOpen, fOpen, fOpen, fOpen, fOpen, fOpen, fWaiting, fWaiting, fWaiting,
		fEscalated, fEscalated, fPending, fUnresponded, fUnresponded, fUnresponded}
	for len(deck) < len(free) {
		deck = append(deck, fResolved)
	}
	d.Rand.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	for k, i := range free {
		fates[i] = deck[k]
	}
	return fates
}

// age is how long ago backlog ticket i of n came in: denser towards now.
func age(i, n int) time.Duration {
	f := float64(n-1-i) / float64(n-1)
	return time.Duration(math.Pow(f, 2)*float64(9*24*time.Hour)) + 3*time.Minute
}

// Seed registers the backlog when the store is empty, through the store's
// operations as a desk would have: mail registered by the intake with its
// acknowledgement, colleagues taking, answering, escalating, resolving and
// closing, each at its time in the past. The mail of that past is recorded
// as sent when it was queued.
func (d *Desk) Seed(st *store.Store) error {
	empty := true
	if err := st.Tickets(func(store.Ticket) bool { empty = false; return false }); err != nil {
		return err
	}
	if !empty {
		return nil
	}
	if len(d.Colleagues) == 0 {
		return errors.New("demo: nobody to staff the desk (no colleagues besides " + d.Me + ")")
	}
	defer d.Clock.back(0)
	d.inBacklog = map[string]bool{}
	fates := d.layout(backlogSize)
	for i, f := range fates {
		if err := d.seedOne(st, i, f, age(i, len(fates))); err != nil {
			return fmt.Errorf("demo backlog, ticket %d: %w", i+1, err)
		}
	}
	d.Clock.back(0)
	return d.markSent(st)
}

func (d *Desk) issueFor(i int, f fate, ago time.Duration, leads bool) issue {
	switch {
	case i == 2:
		is := issueBySubject("Export of last month's incident statistics")
		d.inBacklog[is.subject] = true
		return is
	case i == backlogSize-4:
		return issues[0] // a P1 from 13 minutes ago that nobody has taken: watch it get picked up
	}
	for tries := 0; ; tries++ {
		is := issues[d.Rand.IntN(len(issues))]
		active := f != fClosed && f != fResolved
		switch {
		case active && d.inBacklog[is.subject] && tries < 50:
			continue // one ticket per trouble among the active ones, mostly
		case f == fClosed && is.prio <= 2 && !leads:
			continue // it could not have closed without a lead approving its report
		case f == fUnassigned && is.prio == 1:
			continue
		case active && ago > 3*time.Hour && is.prio == 1:
			continue // a P1 does not stay open for hours on this desk
		case active && ago > 24*time.Hour && is.prio == 2:
			continue // nor a P2 for days
		}
		if active {
			d.inBacklog[is.subject] = true
		}
		return is
	}
}

func issueBySubject(s string) issue {
	for _, is := range issues {
		if is.subject == s {
			return is
		}
	}
	panic("demomail: no issue " + s)
}

// seedOne registers backlog ticket i, created ago, and plays its fate.
func (d *Desk) seedOne(st *store.Store, i int, f fate, ago time.Duration) error {
	leads := d.leads(st)
	is := d.issueFor(i, f, ago, len(leads) > 0)
	c := d.Colleagues[d.Rand.IntN(len(d.Colleagues))]
	if (f == fMine || f == fMineNew) && len(leads) > 0 {
		c = leads[d.Rand.IntN(len(leads))]
	}
	at := ago
	// later moves the clock on by lo..hi, never past a minute ago.
	later := func(lo, hi time.Duration) {
		at -= lo + time.Duration(d.Rand.Int64N(int64(hi-lo)+1))
		at = max(at, time.Minute)
		d.Clock.back(at)
	}
	d.Clock.back(at)
	phone := f != fUnassigned && f != fMineNew && d.Rand.IntN(8) == 0
	var t store.Ticket
	var err error
	if phone {
		t, err = st.Create(c, d.newTicket(st, is, false, "Phone call from "+is.req.Name+": "+is.body))
	} else {
		t, err = st.Create("mail", d.newTicket(st, is, true, greeting(is)))
	}
	if err != nil || f == fUnassigned {
		return err
	}
	id := t.ID
	if f == fMineNew {
		later(2*time.Minute, 10*time.Minute)
		_, err = st.SetField(id, c, store.FieldAssignee, "", d.Me)
		return err
	}
	later(time.Minute, 15*time.Minute)
	if _, err = st.SetField(id, c, store.FieldAssignee, "", c); err != nil {
		return err
	}
	if f == fUnresponded {
		return nil
	}
	later(2*time.Minute, 30*time.Minute)
	if phone {
		_, err = st.MarkResponded(id, c)
	} else {
		_, err = st.Reply(id, c, signed(d.pickText(firstReplies), c))
	}
	if err != nil {
		return err
	}
	later(10*time.Minute, 3*time.Hour)
	switch f {
	case fMine:
		if _, err = st.AddNote(id, c, title(d.Me)+" knows this one best; handing it over."); err == nil {
			_, err = st.SetField(id, c, store.FieldAssignee, c, d.Me)
		}
	case fOpen:
		_, err = st.AddNote(id, c, d.pickText(notes))
	case fWaiting:
		if phone {
			_, err = st.AddNote(id, c, "Left a voicemail: waiting for the requester to call back with the details.")
		} else {
			_, err = st.Reply(id, c, signed(d.pickText(questions), c))
		}
		if err == nil {
			_, err = st.SetField(id, c, store.FieldStatus, string(store.StatusOpen), string(store.StatusWaiting))
		}
	case fEscalated:
		teams := d.teams()
		team := teams[d.Rand.IntN(len(teams))]
		_, err = st.Escalate(id, c, team, "Escalated to "+team+": "+d.pickText(notes))
	case fPending:
		if _, err = st.AddNote(id, c, "The supplier has a fix; it goes out with the next release."); err == nil {
			_, err = st.SetField(id, c, store.FieldStatus, string(store.StatusOpen), string(store.StatusPendingRelease))
		}
	case fResolved:
		// Earlier today: between a quarter of an hour and seven hours ago.
		at = min(at, 15*time.Minute+time.Duration(d.Rand.Int64N(int64(6*time.Hour+45*time.Minute))))
		d.Clock.back(at)
		_, _, err = st.Resolve(id, c, signed(d.pickText(resolutions), c))
	case fClosed:
		rt, _, err := st.Resolve(id, c, signed(d.pickText(resolutions), c))
		if err != nil {
			return err
		}
		if t.Priority <= 2 {
			later(30*time.Minute, 4*time.Hour)
			tk, err := st.ReportIncident(id, c, d.report(rt))
			if err != nil {
				return err
			}
			later(10*time.Minute, 2*time.Hour)
			if _, err := st.ApproveReport(id, leads[d.Rand.IntN(len(leads))], tk.Report.Version); err != nil {
				return err
			}
		}
		later(4*time.Hour, 24*time.Hour)
		_, err = st.CloseTicket(id, c, "")
		return err
	}
	return err
}

// markSent records the backlog's mail as sent a moment after it was queued.
func (d *Desk) markSent(st *store.Store) error {
	now := d.Clock.Now()
	ms, err := st.Outbox(now)
	if err != nil {
		return err
	}
	as := make([]store.Attempt, 0, len(ms))
	for _, m := range ms {
		sent := m.Queued.Add(2 * time.Second)
		if sent.After(now) {
			sent = now
		}
		as = append(as, store.Attempt{ID: m.ID, Sent: sent})
	}
	if len(as) == 0 {
		return nil
	}
	return st.RecordAttempts(as, true)
}
