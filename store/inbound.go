package store

// inbound is what a requester's mail does to the ticket it is appended to,
// decided inside the registering transaction (so a status changed since
// the intake threaded the mail is what counts): a mail on a ticket waiting
// on the requester, resolved or closed puts it back to open; automatic mail
// (out-of-office, bounces) changes nothing. Status events the intake
// passes are dropped: the transition is the store's.
func inbound(cur Ticket, evs []Event) []Event {
	out := make([]Event, 0, len(evs)+1)
	st := cur.Status
	for _, e := range evs {
		if e.Kind == EvStatus {
			continue
		}
		out = append(out, e)
		if e.Kind != EvMessageIn || e.Message == nil || e.Message.Auto {
			continue
		}
		switch st {
		case StatusWaiting, StatusResolved, StatusClosed:
			out = append(out, Event{Kind: EvStatus, Actor: e.Actor, From: string(st), To: string(StatusOpen),
				Text: "the requester wrote"})
			st = StatusOpen
		}
	}
	return out
}
