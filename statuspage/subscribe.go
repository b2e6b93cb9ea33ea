package statuspage

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/deskhq/desk/store"
)

// maxForm bounds a subscription form: an address and a few service
// names fit many times over, and nobody can make the desk read more.
const maxForm = 8 << 10

// subscribe takes the form. What the visitor got wrong (the address, a
// service) is said back to them in words with 400; what went wrong in
// the desk is logged and they are only asked to try later.
func (h *handler) subscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.message(w, http.StatusRequestEntityTooLarge, "Not subscribed", []string{"The form was larger than a subscription can be. Fill it in again on the status page."}, nil)
			return
		}
		h.message(w, http.StatusBadRequest, "Not subscribed", []string{"The form could not be read. Fill it in again on the status page."}, nil)
		return
	}
	addr, err := store.CheckAddress(r.PostForm.Get("email"))
	if err != nil {
		h.message(w, http.StatusBadRequest, "Not subscribed", []string{cap1(err.Error()) + "."}, nil)
		return
	}
	known := h.src.Services()
	if len(known) == 0 {
		h.message(w, http.StatusServiceUnavailable, "Not subscribed", []string{"This status page lists no services to subscribe to yet."}, nil)
		return
	}
	var names []string
	for _, n := range r.PostForm["services"] {
		i := slices.IndexFunc(known, func(sv store.Service) bool { return strings.EqualFold(sv.Name, strings.TrimSpace(n)) })
		if i < 0 {
			h.message(w, http.StatusBadRequest, "Not subscribed", []string{fmt.Sprintf("There is no service %q here. Tick the services on the status page.", clip(n, 60))}, nil)
			return
		}
		if !slices.Contains(names, known[i].Name) {
			names = append(names, known[i].Name)
		}
	}
	sub, err := h.src.Subscribe(addr, names, "page")
	if errors.Is(err, store.ErrTooManyAsks) {
		w.Header().Set("Retry-After", "3600")
		h.message(w, http.StatusTooManyRequests, "Not subscribed", []string{"This address was sent several confirmation mails in the past hour. Open the link in one of them, or try again in an hour."}, nil)
		return
	}
	if err != nil {
		h.opt.Logf("status page: subscribe: %v", err)
		h.message(w, http.StatusServiceUnavailable, "Not subscribed", []string{"The subscription could not be taken just now. Try again in a few minutes."}, nil)
		return
	}
	// The address is said back to whoever typed it, so that a typo shows;
	// the answer is not cached.
	h.message(w, http.StatusOK, "Check your mail to confirm",
		[]string{"A mail with a confirmation link is on its way to " + sub.Address + ". Nothing else is sent until you open the link.",
			"You asked to hear of incidents and planned maintenance of:"}, sub.Pending)
}

// confirm follows the link of the confirmation mail. It answers a GET
// because that is what a link in a mail can do; confirming twice is
// harmless.
func (h *handler) confirm(w http.ResponseWriter, r *http.Request) {
	sub, err := h.src.ConfirmSubscription(r.PathValue("token"))
	if err != nil {
		h.linkError(w, err)
		return
	}
	lines := []string{"You will hear of incidents and planned maintenance of:"}
	if len(sub.Services) == 0 {
		lines = []string{"The link is confirmed, but the subscription names no services (it may have been ended since)."}
	}
	h.message(w, http.StatusOK, "Subscription confirmed", append(lines, "Every notice has a link that ends the subscription."), sub.Services)
}

// askUnsubscribe is what the link in a notice opens: a button that posts.
func (h *handler) askUnsubscribe(w http.ResponseWriter, r *http.Request) {
	sub, err := h.src.SubscriberByToken(r.PathValue("token"))
	if err != nil {
		h.linkError(w, err)
		return
	}
	if !sub.Left.IsZero() && len(sub.Services) == 0 && len(sub.Pending) == 0 {
		h.message(w, http.StatusOK, "Unsubscribed", []string{"This address is unsubscribed already: no notices go to it.",
			"Changed your mind? Subscribe again on the status page."}, nil)
		return
	}
	noStore(w)
	h.render(w, http.StatusOK, "message.html", pageData{Title: h.opt.Title, Heading: "Stop the notices?",
		Lines:  []string{"No more mails about incidents and planned maintenance will go to the address this link was sent to."},
		Button: "Unsubscribe", Action: "/unsubscribe/" + r.PathValue("token")})
}

// unsubscribe follows the link every notice carries: one link, no login,
// no questions, as the mails promise.
func (h *handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if _, err := h.src.Unsubscribe(r.PathValue("token")); err != nil {
		h.linkError(w, err)
		return
	}
	h.message(w, http.StatusOK, "Unsubscribed", []string{"No more notices will be sent to this address.",
		"Changed your mind? Subscribe again on the status page."}, nil)
}

func (h *handler) linkError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrUnknownLink) {
		h.message(w, http.StatusNotFound, "Unknown link", []string{cap1(err.Error()) + "."}, nil)
		return
	}
	h.opt.Logf("status page: subscription link: %v", err)
	h.message(w, http.StatusServiceUnavailable, "Not done", []string{"The link could not be followed just now. Try it again in a few minutes."}, nil)
}

func cap1(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
