package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Subscribers of the status page. Anyone may subscribe an address to
// services; nothing is sent to it until the address's owner follows the
// confirmation link (double opt-in), and every notice carries a link that
// ends the subscription. The organisations' single points of contact in
// the config are subscribed already (Service.Subscribers): they get a
// record the first time a notice goes to them, so their link works too.

// Subscriber is one address's subscriptions.
type Subscriber struct {
	Address  string   `json:"address"`
	Services []string `json:"services,omitempty"` // confirmed
	// Pending are services asked for and not yet confirmed; Asked is when.
	Pending []string  `json:"pending,omitempty"`
	Asked   time.Time `json:"asked,omitzero"`
	// Asks are the confirmation mails sent in the last AskPer (at most
	// AskLimit): nobody logs in to subscribe, so without a bound anyone
	// could make the desk mail a stranger again and again.
	Asks []time.Time `json:"asks,omitempty"`
	// Token is in the confirmation and unsubscribe links.
	Token     string    `json:"token"`
	Confirmed time.Time `json:"confirmed,omitzero"`
	// Left is when the address unsubscribed: config subscriptions too stay
	// ended.
	Left time.Time `json:"left,omitzero"`
	Via  string    `json:"via"` // "page", "mail", "cli", "config"
}

// At most AskLimit confirmation mails go to one address per AskPer,
// whoever asks (the page, mail, the CLI) and across restarts.
const (
	AskPer   = time.Hour
	AskLimit = 3
)

// ErrTooManyAsks refuses a subscription whose address was sent AskLimit
// confirmation mails in the last AskPer.
var ErrTooManyAsks = fmt.Errorf("%w: this address was sent %d confirmation mails in the past hour: open the link in one of them, or try again in an hour", ErrRefused, AskLimit)

// ErrUnknownLink is a confirmation or unsubscribe link that names no
// subscription (mistyped, or from another desk).
var ErrUnknownLink = errors.New("this link is not one the desk sent (or it was cut short): open the link from the mail again, or subscribe anew")

func subscriberKey(addr string) []byte {
	return append([]byte{pSubscriber}, capKey(strings.ToLower(addr))...)
}
func subTokenKey(token string) []byte { return append([]byte{pSubToken}, capKey(token)...) }

// CheckAddress reads a bare e-mail address as a subscriber gives it.
func CheckAddress(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	p, err := mail.ParseAddress(a)
	if err != nil || p.Address != a || !strings.Contains(a, "@") || len(a) > 254 {
		return "", fmt.Errorf("%q is not an e-mail address: write it bare, like name@example.org", clip(addr, 80))
	}
	return a, nil
}

// Subscribe asks for address to hear of services' incidents and windows
// (none named: every service): a confirmation mail with a link goes to
// it, and nothing else until the link is followed.
func (s *Store) Subscribe(address string, services []string, via string) (Subscriber, error) {
	addr, err := CheckAddress(address)
	if err != nil {
		return Subscriber{}, err
	}
	d := s.people()
	var names []string
	for _, name := range services {
		sv, ok := d.service(strings.TrimSpace(name))
		if !ok {
			return Subscriber{}, fmt.Errorf("there is no service %q to subscribe to: pick one of %s", clip(name, 60), strings.Join(serviceNames(d), ", "))
		}
		if !slices.Contains(names, sv.Name) {
			names = append(names, sv.Name)
		}
	}
	if len(names) == 0 {
		names = serviceNames(d)
	}
	if len(names) == 0 {
		return Subscriber{}, errors.New("the desk has no services to subscribe to ([[services]] in the config)")
	}
	var out Subscriber
	err = s.write(func(txn *badger.Txn, w *writeSet) error {
		sub, err := s.subscriber(txn, addr)
		if err != nil {
			return err
		}
		if sub.Token == "" {
			sub = Subscriber{Address: addr, Token: randHex(16), Via: via}
			if err := txn.Set(subTokenKey(sub.Token), []byte(strings.ToLower(addr))); err != nil {
				return err
			}
		}
		if sub.Via == "config" {
			sub.Via = via // a configured contact subscribing for more
		}
		now := s.now()
		sub.Asks = slices.DeleteFunc(sub.Asks, func(t time.Time) bool { return now.Sub(t) >= AskPer })
		if len(sub.Asks) >= AskLimit {
			return ErrTooManyAsks
		}
		sub.Asks = append(sub.Asks, now)
		sub.Pending, sub.Asked = names, now
		body := fmt.Sprintf("Someone, probably you, asked for %s to hear of incidents and planned service windows of: %s.\n\n"+
			"To confirm, open this link:\n%s\n\nIf it was not you, ignore this mail: nothing more will be sent.\n",
			addr, strings.Join(names, ", "), d.StatusURL+"/confirm/"+sub.Token)
		if err := s.putOutMail(txn, w, &OutMail{Kind: "subscribe", To: []string{addr}, Subject: "Confirm your subscription to " + strings.Join(names, ", "),
			Body: body, MessageID: s.messageID("sub." + randHex(8)), Auto: true}); err != nil {
			return err
		}
		out = sub
		return putJSON(txn, subscriberKey(addr), sub)
	})
	return out, err
}

func serviceNames(d Directory) []string {
	var out []string
	for _, sv := range d.Services {
		out = append(out, sv.Name)
	}
	return out
}

// subscriber reads an address's record; a zero Subscriber when none.
func (s *Store) subscriber(txn *badger.Txn, addr string) (Subscriber, error) {
	var sub Subscriber
	if err := getJSON(txn, subscriberKey(addr), &sub); err != nil && err != ErrNotFound {
		return sub, err
	}
	return sub, nil
}

func (s *Store) byToken(txn *badger.Txn, token string) (Subscriber, error) {
	if token == "" || len(token) > 64 {
		return Subscriber{}, ErrUnknownLink
	}
	item, err := txn.Get(subTokenKey(token))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Subscriber{}, ErrUnknownLink
	}
	if err != nil {
		return Subscriber{}, err
	}
	addr, err := item.ValueCopy(nil)
	if err != nil {
		return Subscriber{}, err
	}
	sub, err := s.subscriber(txn, string(addr))
	if err == nil && sub.Token != token {
		return Subscriber{}, ErrUnknownLink
	}
	return sub, err
}

// ConfirmSubscription follows a confirmation link: the services asked for
// are subscribed from now on.
func (s *Store) ConfirmSubscription(token string) (Subscriber, error) {
	var out Subscriber
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		sub, err := s.byToken(txn, token)
		if err != nil {
			return err
		}
		for _, p := range sub.Pending {
			if !slices.Contains(sub.Services, p) {
				sub.Services = append(sub.Services, p)
			}
		}
		if len(sub.Pending) > 0 || sub.Confirmed.IsZero() {
			sub.Confirmed = s.now()
		}
		sub.Pending, sub.Left = nil, time.Time{}
		out = sub
		return putJSON(txn, subscriberKey(sub.Address), sub)
	})
	return out, err
}

// Unsubscribe follows the link in a notice: the address hears nothing
// more, including as a configured single point of contact.
func (s *Store) Unsubscribe(token string) (Subscriber, error) {
	var out Subscriber
	err := s.write(func(txn *badger.Txn, w *writeSet) error {
		sub, err := s.byToken(txn, token)
		if err != nil {
			return err
		}
		if sub.Left.IsZero() {
			sub.Left = s.now()
		}
		sub.Services, sub.Pending = nil, nil
		out = sub
		return putJSON(txn, subscriberKey(sub.Address), sub)
	})
	return out, err
}

// SubscriberByToken is the subscription a link's token names
// (ErrUnknownLink if none).
func (s *Store) SubscriberByToken(token string) (Subscriber, error) {
	var out Subscriber
	err := s.read(func(txn *badger.Txn) error {
		sub, err := s.byToken(txn, token)
		out = sub
		return err
	})
	return out, err
}

// Subscribers are every address's record, confirmed or not.
func (s *Store) Subscribers() ([]Subscriber, error) {
	var out []Subscriber
	err := s.read(func(txn *badger.Txn) error {
		return prefixScan(txn, []byte{pSubscriber}, false, func(item *badger.Item) (bool, error) {
			var sub Subscriber
			if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &sub) }); err != nil {
				return false, err
			}
			out = append(out, sub)
			return true, nil
		})
	})
	return out, err
}

// recipient is an address a notice goes to, with its unsubscribe token.
type recipient struct{ addr, token string }

// subscribersOf are who hear of a service: its configured addresses
// (unless they left) and the confirmed subscribers. A configured address
// gets its record here, the first time, so its notice has a working
// unsubscribe link.
func (s *Store) subscribersOf(txn *badger.Txn, service string) ([]recipient, error) {
	d := s.people()
	sv, _ := d.service(service)
	var out []recipient
	seen := map[string]bool{}
	for _, a := range sv.Subscribers {
		if seen[strings.ToLower(a)] {
			continue
		}
		seen[strings.ToLower(a)] = true
		sub, err := s.subscriber(txn, a)
		if err != nil {
			return nil, err
		}
		if !sub.Left.IsZero() {
			continue
		}
		if sub.Token == "" {
			sub = Subscriber{Address: a, Token: randHex(16), Via: "config", Confirmed: s.now(), Services: []string{sv.Name}}
			if err := txn.Set(subTokenKey(sub.Token), []byte(strings.ToLower(a))); err != nil {
				return nil, err
			}
			if err := putJSON(txn, subscriberKey(a), sub); err != nil {
				return nil, err
			}
		}
		out = append(out, recipient{a, sub.Token})
	}
	if service == "" {
		return out, nil
	}
	err := prefixScan(txn, []byte{pSubscriber}, false, func(item *badger.Item) (bool, error) {
		var sub Subscriber
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &sub) }); err != nil {
			return false, err
		}
		if sub.Via != "config" && !seen[strings.ToLower(sub.Address)] && sub.Left.IsZero() && slices.ContainsFunc(sub.Services, func(n string) bool { return strings.EqualFold(n, service) }) {
			seen[strings.ToLower(sub.Address)] = true
			out = append(out, recipient{sub.Address, sub.Token})
		}
		return true, nil
	})
	return out, err
}

// unsubscribeLine ends every notice.
func (s *Store) unsubscribeLine(token, service string) string {
	return fmt.Sprintf("\nYou receive this because you are subscribed to %s. To stop these mails, open:\n%s\n", service, s.unsubscribeURL(token))
}

// unsubscribeURL is the status page's link that ends token's subscription.
func (s *Store) unsubscribeURL(token string) string {
	return s.people().StatusURL + "/unsubscribe/" + token
}
