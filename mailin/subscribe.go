package mailin

import (
	"regexp"
	"strings"
)

// A new mail whose subject is "subscribe" (or "subscribe DSD, FMK") asks
// for the status page's notices by mail: the sender is sent a
// confirmation link, as the page does, and the mail is not made a ticket.
// Only the link subscribes (a sender address is easy to forge), so a
// forged request costs its victim one mail.
var subscribeRE = regexp.MustCompile(`(?i)^\s*subscribe\b[\s:]*(.*)$`)

// subscribeRequest tells a subscription request by its subject and
// returns what follows the word: the services asked for, in the
// sender's words.
func subscribeRequest(subject string) (rest string, ok bool) {
	m := subscribeRE.FindStringSubmatch(subject)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// servicesNamed are the services whose names the words contain ("DSD and
// Digital Post please"); none: every service.
func servicesNamed(words string, names []string) []string {
	w := " " + strings.ToLower(strings.Map(func(r rune) rune {
		if r == ',' || r == ';' || r == ':' {
			return ' '
		}
		return r
	}, words)) + " "
	var out []string
	for _, n := range names {
		if strings.Contains(w, " "+strings.ToLower(n)+" ") {
			out = append(out, n)
		}
	}
	return out
}

// subscribe handles a subscription request by mail; false when it could
// not (the desk has no services, the address is malformed): the mail is
// then registered as any other, for an operator to answer.
func (r *intakeRun) subscribe(p *Parsed, words string) bool {
	s, m := r.s, p.Msg
	var names []string
	for _, sv := range s.st.Services() {
		names = append(names, sv.Name)
	}
	if len(names) == 0 {
		return false
	}
	sub, err := s.st.Subscribe(m.From.Email, servicesNamed(words, names), "mail")
	if err != nil {
		s.log.Printf("mail: %s asked to subscribe (%q) and cannot be: %v; registered as a ticket instead", m.From.Email, m.Subject, err)
		return false
	}
	s.log.Printf("mail: %s asked to subscribe to %s: confirmation link sent", sub.Address, strings.Join(sub.Pending, ", "))
	return true
}
