package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// TicketAttachment is an attachment of one of a ticket's messages.
type TicketAttachment struct {
	Attachment
	N       int    `json:"n"`   // 1, 2, ... in the order of the history
	Seq     int    `json:"seq"` // the event that carried it
	From    string `json:"from"`
	Inbound bool   `json:"inbound"`
}

// Attachments lists every attachment of the ticket's messages, oldest
// first.
func (s *Store) Attachments(id TicketID) ([]TicketAttachment, error) {
	h, err := s.History(id)
	if err != nil {
		return nil, err
	}
	var out []TicketAttachment
	for _, e := range h {
		if e.Message == nil {
			continue
		}
		for _, a := range e.Message.Attachments {
			out = append(out, TicketAttachment{Attachment: a, N: len(out) + 1, Seq: e.Seq, From: e.Message.From.Email, Inbound: e.Kind == EvMessageIn})
		}
	}
	return out, nil
}

// ErrNoContent: the attachment is listed but its content was not kept
// (over the size limit when the mail came in).
var ErrNoContent = errors.New("its content was not kept (it was over the size limit when the mail came in)")

// AttachmentContent is one attachment and its bytes, named by its file
// name or its number in Attachments ("2" or "#2"). Several with one name:
// the newest.
func (s *Store) AttachmentContent(id TicketID, name string) (TicketAttachment, []byte, error) {
	list, err := s.Attachments(id)
	if err != nil {
		return TicketAttachment{}, nil, err
	}
	var found *TicketAttachment
	for i := range list {
		if list[i].Name == name {
			found = &list[i] // the newest of that name
		}
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "#")); found == nil && err == nil && n >= 1 && n <= len(list) {
		found = &list[n-1]
	}
	if found == nil {
		if len(list) == 0 {
			return TicketAttachment{}, nil, fmt.Errorf("%s has no attachments", id)
		}
		var names []string
		for _, a := range list {
			names = append(names, fmt.Sprintf("%d %s", a.N, a.Name))
		}
		return TicketAttachment{}, nil, fmt.Errorf("%s has no attachment %q; it has: %s", id, name, strings.Join(names, ", "))
	}
	if found.Blob == "" {
		return *found, nil, fmt.Errorf("attachment %s of %s: %w", found.Name, id, ErrNoContent)
	}
	b, err := s.Blob(found.Blob)
	if err != nil {
		return *found, nil, fmt.Errorf("attachment %s of %s: %w", found.Name, id, err)
	}
	return *found, b, nil
}
