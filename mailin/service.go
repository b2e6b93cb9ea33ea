package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/deskhq/desk/store"
)

// Service runs intake and the outbox.
type Service struct {
	cfg  Config
	st   *store.Store
	log  *log.Logger
	now  func() time.Time
	im   endpoint
	sm   endpoint
	me   self
	th   *threader
	tlsc *tls.Config
	box  string // checkpoint name: user@host/mailbox

	kick chan struct{} // wakes the outbox sender

	noIdle bool // poll even when the server offers IDLE (tests; servers with a broken IDLE)
	// onPush, when set (benchmarks), hears the server's new-mail push on
	// the intake connection itself, to time push → registered ticket.
	onPush func()

	mu     sync.Mutex
	status Status
}

// New prepares a service; it does not connect yet.
func New(cfg Config, st *store.Store, o Options) (*Service, error) {
	if st == nil {
		return nil, errors.New("mailin: New needs an open store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	im, _ := cfg.imapEndpoint()
	sm, _ := cfg.smtpEndpoint()
	s := &Service{
		cfg:  cfg,
		st:   st,
		log:  o.Log,
		now:  o.Now,
		im:   im,
		sm:   sm,
		me:   newSelf(cfg.Address, o.MailDomain, o.SelfKey),
		th:   newThreader(cfg.TagPrefix, o.Organisations, cfg.ClosedReply, cfg.DefaultQueue),
		tlsc: o.TLSConfig,
		box:  im.User + "@" + im.Host + "/" + im.Mailbox,
		kick: make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.status = Status{State: "stopped", Detail: im.Mailbox}
	return s, nil
}

// Stats of one Once run.
type Stats struct {
	Registered, Duplicates, Quarantined, Sent, Failed int
}

// Status is what the console's status line shows.
type Status struct {
	State     string // "connecting", "idle", "polling", "error", "stopped"
	Detail    string // the reason for an error, the mailbox name otherwise
	LastMail  time.Time
	Outbox    int // unsent mails
	OutboxErr string
}

// Status is safe to call from any goroutine.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Service) setState(state, detail string) {
	s.mu.Lock()
	s.status.State, s.status.Detail = state, detail
	s.mu.Unlock()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run keeps intake (IDLE or polling, reconnecting with backoff) and the
// outbox sender going until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.outboxLoop(ctx)
	}()
	backoff := time.Second
	for ctx.Err() == nil {
		s.setState("connecting", s.im.Host)
		worked, err := s.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if worked {
			backoff = time.Second
		}
		msg := "connection ended"
		if err != nil {
			msg = err.Error()
		}
		// Jitter keeps many desks (or a restarted one) from hammering a
		// recovering server in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		s.setState("error", fmt.Sprintf("%s; retrying in %s", msg, wait.Round(time.Second)))
		s.log.Printf("mail: %s; retrying in %s", msg, wait.Round(time.Second))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Minute)
	}
	wg.Wait()
	s.setState("stopped", s.im.Mailbox)
	return nil
}

// Once connects, registers everything waiting, flushes the outbox and returns.
func (s *Service) Once(ctx context.Context) (Stats, error) {
	var st Stats
	s.setState("connecting", s.im.Host)
	c, sel, err := s.connect(ctx, nil)
	if err == nil {
		err = s.sync(ctx, c, sel, &st)
		c.Logout().Wait()
		c.Close()
	}
	// The outbox is flushed even when the IMAP side failed: a cron job must
	// not stop sending replies and resolutions because reading is down. A
	// send failure is not a failed run: the mail stays queued with its
	// reason (Stats.Failed, Status().OutboxErr) and is retried later.
	st.Sent, st.Failed, _ = s.flush(ctx)
	if err != nil {
		s.setState("error", err.Error())
		return st, err
	}
	s.setState("stopped", s.im.Mailbox)
	return st, nil
}

// connect dials, logs in and selects the mailbox. newMail, if set, is
// signalled when the server announces new mail.
func (s *Service) connect(ctx context.Context, newMail chan<- struct{}) (*imapclient.Client, *imap.SelectData, error) {
	pass, err := s.cfg.Password(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts := &imapclient.Options{
		TLSConfig:   s.tlsConfig(s.im),
		WordDecoder: wordDecoder,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil && s.onPush != nil {
					s.onPush()
				}
				if d.NumMessages != nil && newMail != nil {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var c *imapclient.Client
	switch {
	case s.im.TLS:
		c, err = imapclient.DialTLS(s.im.Host, opts)
	case s.cfg.StartTLS:
		c, err = imapclient.DialStartTLS(s.im.Host, opts)
	default:
		c, err = imapclient.DialInsecure(s.im.Host, opts)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connect to IMAP server %s: %w", s.im.Host, err)
	}
	// Unblock every pending command when ctx ends; the registration goes
	// when the connection does, so reconnects do not pile them up.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	go func() {
		<-c.Closed()
		stop()
	}()
	fail := func(what string, err error) (*imapclient.Client, *imap.SelectData, error) {
		stop()
		c.Close()
		return nil, nil, fmt.Errorf("%s on %s: %w", what, s.im.Host, err)
	}
	if err := c.Login(s.im.User, pass).Wait(); err != nil {
		return fail("log in as "+s.im.User, err)
	}
	if s.cfg.DoneFolder != "" {
		if err := c.Create(s.cfg.DoneFolder, nil).Wait(); err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) || (ie.Code != imap.ResponseCodeAlreadyExists && !strings.Contains(strings.ToLower(ie.Text), "exist")) {
				return fail("create folder "+s.cfg.DoneFolder, err)
			}
		}
	}
	sel, err := c.Select(s.im.Mailbox, nil).Wait()
	if err != nil {
		return fail("open mailbox "+s.im.Mailbox, err)
	}
	return c, sel, nil
}

func (s *Service) tlsConfig(e endpoint) *tls.Config {
	if s.tlsc != nil {
		c := s.tlsc.Clone()
		if c.ServerName == "" {
			c.ServerName = e.hostname()
		}
		return c
	}
	return &tls.Config{ServerName: e.hostname()}
}

// session runs one connection: sync, then wait (IDLE or poll) and sync
// again, until the connection or ctx ends. worked tells whether it got as
// far as a completed sync (to reset the reconnect backoff).
func (s *Service) session(ctx context.Context) (worked bool, err error) {
	newMail := make(chan struct{}, 1)
	c, sel, err := s.connect(ctx, newMail)
	if err != nil {
		return false, err
	}
	defer c.Close()
	var st Stats
	idle := !s.noIdle && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	for {
		if err := s.sync(ctx, c, sel, &st); err != nil {
			return worked, err
		}
		worked = true
		if idle {
			s.setState("idle", s.im.Mailbox)
			if err := s.idle(ctx, c, newMail); err != nil {
				return worked, err
			}
		} else {
			s.setState("polling", s.im.Mailbox)
			select {
			case <-ctx.Done():
				return worked, ctx.Err()
			case <-c.Closed():
				return worked, errors.New("the IMAP server closed the connection")
			case <-time.After(s.cfg.PollInterval.Duration):
			}
		}
		if ctx.Err() != nil {
			return worked, ctx.Err()
		}
		// The selected mailbox may have been replaced (UIDVALIDITY);
		// NOOP lets the server tell us before the next sync.
		if err := c.Noop().Wait(); err != nil {
			return worked, fmt.Errorf("IMAP server %s stopped answering: %w", s.im.Host, err)
		}
	}
}

// idle waits in IDLE for new mail, ctx, a dropped connection or a safety
// resync every few minutes.
func (s *Service) idle(ctx context.Context, c *imapclient.Client, newMail <-chan struct{}) error {
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("IDLE on %s: %w", s.im.Host, err)
	}
	closed := false
	select {
	case <-ctx.Done():
	case <-newMail:
	case <-c.Closed():
		closed = true
	case <-time.After(max(s.cfg.PollInterval.Duration, 5*time.Minute)):
	}
	cerr := cmd.Close()
	werr := cmd.Wait()
	if closed {
		return errors.New("the IMAP server closed the connection")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cerr != nil {
		return fmt.Errorf("end IDLE on %s: %w", s.im.Host, cerr)
	}
	if werr != nil {
		return fmt.Errorf("IDLE on %s: %w", s.im.Host, werr)
	}
	return nil
}

const (
	chunkMails = 100
	chunkBytes = 32 << 20
)

// sync registers every mail after the checkpoint. The checkpoint in the
// store, not \Seen, decides what is new; each chunk of mail is registered
// and synced, with the checkpoint after it, before any of it is flagged,
// moved or answered.
func (s *Service) sync(ctx context.Context, c *imapclient.Client, sel *imap.SelectData, st *Stats) error {
	cp, err := s.st.Checkpoint(s.box)
	if err != nil {
		return fmt.Errorf("read the mail checkpoint: %w", err)
	}
	if mb := c.Mailbox(); mb != nil && sel != nil {
		sel.NumMessages = mb.NumMessages
	}
	if cp.UIDValidity != sel.UIDValidity {
		switch {
		case cp.UIDValidity != 0:
			// The server renumbered the mailbox: read it all again; the
			// dedupe keys keep what we have from being registered twice.
			s.log.Printf("mail: %s changed UIDVALIDITY %d → %d: rescanning, duplicates are skipped", s.box, cp.UIDValidity, sel.UIDValidity)
			since := cp.Since
			cp = store.Checkpoint{Mailbox: s.box, UIDValidity: sel.UIDValidity, Since: since}
			if !since.IsZero() {
				// start_from = "now" skipped the mail that was there; a
				// renumbering must not import it after all.
				from, err := firstUIDSince(c, sel, since)
				if err != nil {
					return err
				}
				cp.LastUID = from - 1
				s.log.Printf("mail: %s: start_from = now (%s): rescanning from UID %d", s.box, since.Format("2006-01-02"), from)
			}
		case s.cfg.StartFrom == "now":
			last, err := lastUID(c, sel)
			if err != nil {
				return err
			}
			cp = store.Checkpoint{Mailbox: s.box, UIDValidity: sel.UIDValidity, LastUID: last, Since: s.now()}
			if err := s.st.SaveCheckpoint(cp); err != nil {
				return fmt.Errorf("save the mail checkpoint: %w", err)
			}
			s.log.Printf("mail: first run on %s, start_from = now: skipping the %d mails already there", s.box, sel.NumMessages)
		case s.cfg.StartFrom == "" && sel.NumMessages > 0:
			return fmt.Errorf("mailbox %s already holds %d mails: set start_from = \"all\" to import them or \"now\" to skip them", s.box, sel.NumMessages)
		default:
			cp = store.Checkpoint{Mailbox: s.box, UIDValidity: sel.UIDValidity}
			if err := s.st.SaveCheckpoint(cp); err != nil {
				return fmt.Errorf("save the mail checkpoint: %w", err)
			}
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunks, err := s.pending(c, cp.LastUID)
		if err != nil {
			return err
		}
		if len(chunks) == 0 {
			return nil
		}
		if err := s.fetchChunks(ctx, c, chunks, &cp, st); err != nil {
			return err
		}
	}
}

// firstUIDSince is the lowest UID of mail that arrived on or after the day
// of since (IMAP SEARCH has day granularity: that day's earlier mail is read
// again and deduped or registered, never more); with none, the next UID.
func firstUIDSince(c *imapclient.Client, sel *imap.SelectData, since time.Time) (uint32, error) {
	data, err := c.UIDSearch(&imap.SearchCriteria{Since: since}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search the mailbox for mail since %s: %w", since.Format("2006-01-02"), err)
	}
	var lowest uint32
	for _, u := range data.AllUIDs() {
		if lowest == 0 || uint32(u) < lowest {
			lowest = uint32(u)
		}
	}
	if lowest > 0 {
		return lowest, nil
	}
	last, err := lastUID(c, sel)
	return last + 1, err
}

// lastUID is UIDNEXT-1, or the highest UID when the server does not say.
func lastUID(c *imapclient.Client, sel *imap.SelectData) (uint32, error) {
	if sel.UIDNext > 0 {
		return uint32(sel.UIDNext) - 1, nil
	}
	if sel.NumMessages == 0 {
		return 0, nil
	}
	msgs, err := c.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) == 0 {
		return 0, fmt.Errorf("find the newest mail's UID: %v", err)
	}
	return uint32(msgs[0].UID), nil
}

// pending lists the UIDs after last, in chunks bounded in count and size.
func (s *Service) pending(c *imapclient.Client, last uint32) ([][]imap.UID, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("list new mail in %s: %w", s.box, err)
	}
	type us struct {
		uid  imap.UID
		size int64
	}
	var l []us
	for _, m := range msgs {
		// "n:*" always matches the newest mail, even when it is older than n.
		if uint32(m.UID) > last {
			l = append(l, us{m.UID, m.RFC822Size})
		}
	}
	slices.SortFunc(l, func(a, b us) int { return int(a.uid) - int(b.uid) })
	var out [][]imap.UID
	var cur []imap.UID
	var size int64
	for _, m := range l {
		if len(cur) > 0 && (len(cur) >= chunkMails || size+m.size > chunkBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, m.uid)
		size += m.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

var bodySection = &imap.FetchItemBodySection{Peek: true}

func (s *Service) fetchChunk(c *imapclient.Client, uids []imap.UID) *imapclient.FetchCommand {
	return c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{bodySection}})
}

// fetchChunks fetches chunk k+1 while chunk k is registered, syncs chunk k
// while chunk k+1 is registered, and flags a chunk only once its sync is
// done and no FETCH is in flight (its untagged answers would be ambiguous
// otherwise).
func (s *Service) fetchChunks(ctx context.Context, c *imapclient.Client, chunks [][]imap.UID, cp *store.Checkpoint, st *Stats) error {
	cur := s.fetchChunk(c, chunks[0])
	var done []imap.UID // synced, not flagged yet
	// flight is the previous chunk's commit. One at a time, so checkpoints
	// are saved in order; none outlives this call (the caller may close
	// the store next).
	var flight *batchCommit
	land := func(e error) error {
		flight = nil
		return e
	}
	defer func() {
		if flight != nil {
			<-flight.err
		}
	}()
	wait := func() error {
		if flight == nil {
			return nil
		}
		b := flight
		if err := land(<-b.err); err != nil {
			return err
		}
		done = append(done, b.uids...)
		return nil
	}
	for i := range chunks {
		msgs, err := cur.Collect()
		cur = nil
		if err != nil {
			return fmt.Errorf("fetch mail from %s: %w", s.box, err)
		}
		if flight != nil {
			select {
			case err := <-flight.err:
				b := flight
				if err := land(err); err != nil {
					return err
				}
				done = append(done, b.uids...)
			default: // still syncing: flagged at the next chance
			}
		}
		if err := s.markDone(c, done); err != nil {
			return err
		}
		done = nil
		if i+1 < len(chunks) {
			cur = s.fetchChunk(c, chunks[i+1])
		}
		slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
		// Parsing needs nothing from the store, so it runs ahead of the
		// registrations.
		parsed := make(chan *Parsed, 16)
		stop := make(chan struct{})
		go func() {
			defer close(parsed)
			for _, m := range msgs {
				var p *Parsed
				if raw := m.FindBodySection(bodySection); len(raw) > 0 {
					p = Parse(raw, s.cfg.MaxAttachment)
				}
				select {
				case parsed <- p:
				case <-stop:
					return
				}
			}
		}()
		from := *cp
		var uids []imap.UID
		for _, m := range msgs {
			p := <-parsed
			if uint32(m.UID) <= cp.LastUID {
				continue
			}
			err := ctx.Err()
			if err == nil {
				err = s.handle(uint32(m.UID), m.FindBodySection(bodySection), p, cp, st)
			}
			if err != nil {
				if cur != nil {
					cur.Close()
				}
				close(stop)
				// What was registered before the failure is kept and
				// flagged; the failed mail is tried again next time.
				if werr := wait(); werr != nil {
					s.log.Printf("mail: %v", werr)
				} else if cerr := s.commitBatch(from, *cp); cerr != nil {
					s.log.Printf("mail: %v", cerr)
				} else if ferr := s.markDone(c, append(done, uids...)); ferr != nil {
					s.log.Printf("mail: %v", ferr)
				}
				return err
			}
			uids = append(uids, m.UID)
		}
		close(stop)
		if err := wait(); err != nil {
			if cur != nil {
				cur.Close()
			}
			return err
		}
		flight = s.commitAsync(from, *cp, uids)
	}
	if err := wait(); err != nil {
		return err
	}
	return s.markDone(c, done)
}

// batchCommit is a chunk's commitBatch running while the next chunk is
// registered: the sync waits on the disk, registering on the CPU.
type batchCommit struct {
	uids []imap.UID
	err  chan error
}

func (s *Service) commitAsync(from, cp store.Checkpoint, uids []imap.UID) *batchCommit {
	b := &batchCommit{uids: uids, err: make(chan error, 1)}
	go func() { b.err <- s.commitBatch(from, cp) }()
	return b
}

// commitBatch makes a chunk's registrations durable with one fsync, the
// checkpoint (moved from from to cp) in the same synced write, and then
// lets the outbox send the chunk's acknowledgements. Until it returns,
// nothing about the chunk may leave the process.
func (s *Service) commitBatch(from, cp store.Checkpoint) error {
	if cp == from {
		return nil
	}
	if err := s.st.SaveCheckpoint(cp); err != nil {
		return fmt.Errorf("save the mail checkpoint (UID %d) and sync the registered mail: %w", cp.LastUID, err)
	}
	s.wake()
	return nil
}

// markDone flags registered mail \Seen, or moves it to the done folder.
func (s *Service) markDone(c *imapclient.Client, uids []imap.UID) error {
	if len(uids) == 0 {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	if s.cfg.DoneFolder != "" {
		if c.Caps().Has(imap.CapMove) || c.Caps().Has(imap.CapIMAP4rev2) {
			if _, err := c.Move(set, s.cfg.DoneFolder).Wait(); err != nil {
				return fmt.Errorf("move registered mail to %s: %w", s.cfg.DoneFolder, err)
			}
			return nil
		}
		// Without MOVE we copy and flag: nothing is ever deleted.
		if _, err := c.Copy(set, s.cfg.DoneFolder).Wait(); err != nil {
			return fmt.Errorf("copy registered mail to %s: %w", s.cfg.DoneFolder, err)
		}
	}
	err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	if err != nil {
		return fmt.Errorf("flag registered mail as seen: %w", err)
	}
	return nil
}
