package store

import (
	"regexp"
	"strconv"
	"strings"
)

// The one place a ticket's mail tag is made: acknowledgements, replies and
// resolutions carry it in the subject, and the intake threads replies back
// by it (TagPattern), so both must use the configured prefix.

// TicketTag is the ticket's name in mail: "SD-12", or with TagPrefix "HD"
// "HD-12".
func (s *Store) TicketTag(id TicketID) string {
	return s.opt.TagPrefix + "-" + strconv.FormatUint(uint64(id), 10)
}

// TagPattern matches "[PREFIX-n]" in a subject, case-insensitively; the
// first group is n.
func TagPattern(prefix string) *regexp.Regexp {
	if prefix == "" {
		prefix = "SD"
	}
	return regexp.MustCompile(`(?i)\[` + regexp.QuoteMeta(prefix) + `-([0-9]{1,18})\]`)
}

// tagSubject tags subj with the ticket once, so replies thread back even
// when a mail client drops In-Reply-To.
func (s *Store) tagSubject(subj string, id TicketID) string {
	tag := s.TicketTag(id)
	subj = strings.ReplaceAll(subj, TicketPlaceholder, tag)
	if strings.Contains(strings.ToLower(subj), "["+strings.ToLower(tag)+"]") {
		return subj
	}
	if subj == "" {
		return "[" + tag + "]"
	}
	return "[" + tag + "] " + subj
}

// stripReply removes the reply prefixes a subject starts with ("Re: Sv: x"
// is "x").
func stripReply(subject string) string {
	s := strings.TrimSpace(subject)
	for {
		r := ReplySubject(s)
		if r != s { // no prefix left
			return s
		}
		_, rest, _ := strings.Cut(s, ":")
		s = strings.TrimSpace(rest)
	}
}

// ReplySubject is subject as a reply: "Re: " once, whatever case or
// localised prefix ("Sv:", "Aw:", "Antw:") the other side used.
func ReplySubject(subject string) string {
	s := strings.TrimSpace(subject)
	if i := strings.IndexByte(s, ':'); i > 0 && i <= 4 {
		switch strings.ToLower(s[:i]) {
		case "re", "sv", "aw", "antw", "vs", "r":
			return s
		}
	}
	return "Re: " + s
}

// TagPrefix is the prefix of the ticket tag in mail subjects.
func (s *Store) TagPrefix() string { return s.opt.TagPrefix }

// messageID makes the Message-ID of an outbound mail from its local part,
// tagged (Options.MessageIDTag) so the intake can tell a copy of our own
// mail from a stranger's mail that only looks like it.
func (s *Store) messageID(local string) string {
	if s.opt.MessageIDTag != nil {
		local += "." + s.opt.MessageIDTag(local)
	}
	return local + "@" + s.opt.MailDomain
}
