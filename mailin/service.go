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

	flushMu sync.Mutex // one outbox round at a time

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
	if p := st.TagPrefix(); !strings.EqualFold(p, cfg.TagPrefix) {
		// The store tags outbound subjects; replies thread back by the tag.
		return nil, fmt.Errorf("mail.tag_prefix is %q but the store tags mail with %q: open the store with the same prefix (store.Options.TagPrefix)", cfg.TagPrefix, p)
	}
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
// The outbox is sent while intake goes on: each commit of registered mail
// wakes the sender, which hands its acknowledgements to the SMTP server
// while the next mails are registered.
func (s *Service) Once(ctx context.Context) (Stats, error) {
	var st Stats
	var sent, failed int
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-s.kick:
				n, f, _ := s.flush(ctx)
				sent, failed = sent+n, failed+f
			}
		}
	}()
	s.setState("connecting", s.im.Host)
	c, sel, err := s.connect(ctx, nil)
	if err == nil {
		err = s.sync(ctx, c, sel, &st)
		c.Logout().Wait()
		c.Close()
	}
	close(stop)
	<-stopped
	// The outbox is flushed even when the IMAP side failed: a cron job must
	// not stop sending replies and resolutions because reading is down. A
	// send failure is not a failed run: the mail stays queued with its
	// reason (Stats.Failed, Status().OutboxErr) and is retried later, or,
	// refused for good, is kept as failed with the server's answer.
	n, f, _ := s.flush(ctx)
	st.Sent, st.Failed = sent+n, failed+f
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
		before := cp.LastUID
		if err := s.fetchChunks(ctx, c, chunks, &cp, st); err != nil {
			return err
		}
		if cp.LastUID == before {
			// The server listed mail it then did not send: try again at the
			// next sync rather than ask for it in a loop.
			s.log.Printf("mail: %s listed mail after UID %d but sent none of it", s.box, before)
			return nil
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

// fetchChunks registers the mails of chunks as they stream in. Three
// stages run at once: a fetcher reads the mails off the connection (one
// FETCH per chunk), parsers parse them, and this goroutine threads and
// registers them in order. A commit point comes after chunkMails mails or
// chunkBytes bytes, and commitEvery after the first mail it would cover
// however few came (a slow mailbox). At a commit point the group is written
// and the checkpoint saved in a synced write, which makes every
// registration before it durable; only then are the mails flagged (by the
// fetcher, between two FETCHes: a STORE's answers would be ambiguous during
// one) and their acknowledgements handed to the outbox. One commit is in
// flight while the next mails are registered.
func (s *Service) fetchChunks(ctx context.Context, c *imapclient.Client, chunks [][]imap.UID, cp *store.Checkpoint, st *Stats) error {
	r := newIntakeRun(s, *cp, st)
	cm := &committer{s: s, saved: *cp}
	f := s.startFetcher(c, chunks, cm)
	tr := newUIDTracker(chunks)
	timer := time.NewTimer(commitEvery)
	timer.Stop()
	defer timer.Stop()
	armed := false
	mails, size := 0, 0
	commit := func() error {
		err := r.endChunk()
		mails, size, armed = 0, 0, false
		timer.Stop()
		cpt := r.cp
		cpt.LastUID = tr.safe(cpt.LastUID)
		if cerr := cm.commit(cpt); err == nil {
			err = cerr
		}
		return err
	}
	// fail keeps what was registered before the failure, and flags it;
	// the failed mail is tried again next time.
	fail := func(err error) error {
		f.halt()
		if cerr := commit(); cerr != nil {
			s.log.Printf("mail: %v", cerr)
		}
		if werr := cm.wait(); werr != nil {
			s.log.Printf("mail: %v", werr)
		} else if ferr := s.markDone(c, cm.takeFlags()); ferr != nil {
			s.log.Printf("mail: %v", ferr)
		}
		*cp = cm.saved
		return err
	}
	for {
		var it *fetched
		select {
		case it = <-f.order:
		case <-timer.C:
			armed = false
			if err := commit(); err != nil {
				return fail(err)
			}
			continue
		}
		if it == nil {
			break // the fetcher is done
		}
		if it.end {
			tr.chunkDone(it.chunk)
			continue
		}
		if !tr.take(it.uid) {
			f.budget.release(it.size) // an answer for a mail not asked for, or twice
			continue
		}
		<-it.ready
		err := ctx.Err()
		if err == nil {
			err = r.handle(uint32(it.uid), it.raw, it.p)
		}
		f.budget.release(it.size)
		if err != nil {
			return fail(err)
		}
		cm.handled(it.uid)
		mails++
		size += len(it.raw)
		if !armed {
			timer.Reset(commitEvery)
			armed = true
		}
		if mails >= chunkMails || size >= chunkBytes {
			if err := commit(); err != nil {
				return fail(err)
			}
		}
	}
	<-f.done
	if f.err != nil {
		return fail(f.err)
	}
	if err := commit(); err != nil {
		return fail(err)
	}
	if err := cm.wait(); err != nil {
		return err
	}
	*cp = cm.saved
	return s.markDone(c, cm.takeFlags())
}

// commitEvery is how long a registered mail waits at most for its commit
// when mail arrives slowly (see fetchChunks).
const commitEvery = time.Second

// committer saves checkpoints in order, one in flight at a time, and keeps
// the UIDs whose registration is durable until they are flagged.
type committer struct {
	s      *Service
	saved  store.Checkpoint // the newest checkpoint on disk
	flight chan error       // the commit in flight, nil if none
	next   store.Checkpoint // what flight saves
	uids   []imap.UID       // handled since the last commit

	mu     sync.Mutex
	toFlag []imap.UID // durable, not flagged yet
}

func (cm *committer) handled(uid imap.UID) { cm.uids = append(cm.uids, uid) }

// commit saves cp in a synced write, after the previous commit; the mails
// it covers are then flagged and answered. A mail handled but not covered
// (a failed group write moved the checkpoint back) waits.
func (cm *committer) commit(cp store.Checkpoint) error {
	if err := cm.wait(); err != nil {
		return err
	}
	var covered, rest []imap.UID
	for _, u := range cm.uids {
		if uint32(u) <= cp.LastUID {
			covered = append(covered, u)
		} else {
			rest = append(rest, u)
		}
	}
	cm.uids = rest
	if cp == cm.saved && len(covered) == 0 {
		return nil
	}
	ch := make(chan error, 1)
	cm.flight, cm.next = ch, cp
	go func() {
		err := cm.s.st.SaveCheckpoint(cp)
		if err != nil {
			err = fmt.Errorf("save the mail checkpoint (UID %d) and sync the registered mail: %w", cp.LastUID, err)
		} else {
			cm.mu.Lock()
			cm.toFlag = append(cm.toFlag, covered...)
			cm.mu.Unlock()
			cm.s.wake()
		}
		ch <- err
	}()
	return nil
}

// wait waits for the commit in flight.
func (cm *committer) wait() error {
	if cm.flight == nil {
		return nil
	}
	err := <-cm.flight
	cm.flight = nil
	if err == nil {
		cm.saved = cm.next
	}
	return err
}

// takeFlags returns the UIDs that are durable and not flagged yet.
func (cm *committer) takeFlags() []imap.UID {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	u := cm.toFlag
	cm.toFlag = nil
	return u
}

// uidTracker knows which UIDs of the chunks asked for have been handled,
// so that a checkpoint never passes a mail not handled yet, whatever order
// the server answers in.
type uidTracker struct {
	chunks [][]imap.UID
	begun  int        // chunks whose UIDs are in pend
	pend   []imap.UID // the UIDs of the chunks begun, ascending
	left   map[imap.UID]bool
	head   int // pend[:head] are all handled
}

func newUIDTracker(chunks [][]imap.UID) *uidTracker {
	return &uidTracker{chunks: chunks, left: map[imap.UID]bool{}}
}

func (t *uidTracker) begin(k int) {
	for ; t.begun <= k && t.begun < len(t.chunks); t.begun++ {
		for _, u := range t.chunks[t.begun] {
			t.pend = append(t.pend, u)
			t.left[u] = true
		}
	}
}

// take reports whether uid is one asked for and not handled yet, and
// counts it handled.
func (t *uidTracker) take(uid imap.UID) bool {
	for k := t.begun; !t.left[uid] && k < len(t.chunks); k++ {
		if slices.Contains(t.chunks[k], uid) {
			t.begin(k)
		}
	}
	if !t.left[uid] {
		return false
	}
	delete(t.left, uid)
	t.advance()
	return true
}

// chunkDone: the server has answered the whole FETCH of chunk k; what it
// did not send (mail expunged meanwhile) is not waited for.
func (t *uidTracker) chunkDone(k int) {
	t.begin(k)
	for _, u := range t.chunks[k] {
		delete(t.left, u)
	}
	t.advance()
}

func (t *uidTracker) advance() {
	for t.head < len(t.pend) && !t.left[t.pend[t.head]] {
		t.head++
	}
}

// safe caps a checkpoint below the first mail asked for and not handled.
func (t *uidTracker) safe(last uint32) uint32 {
	if t.head < len(t.pend) {
		return min(last, uint32(t.pend[t.head])-1)
	}
	return last
}

// fetched is one mail read from the server; p is set when ready is closed.
// A fetched with end set is no mail: it says chunk has been read whole.
type fetched struct {
	uid   imap.UID
	raw   []byte
	size  int64 // bytes held against the fetcher's budget
	p     *Parsed
	ready chan struct{}
	chunk int
	end   bool
}

// readAhead bounds the bytes of mail fetched but not yet registered.
const readAhead = 32 << 20

// fetcher owns the IMAP connection while intake streams mail through it.
type fetcher struct {
	order  chan *fetched // in the server's order; closed when done
	stop   chan struct{}
	done   chan struct{} // closed when the goroutine has ended: no FETCH in flight
	err    error         // why it ended early; read after done
	budget *budget
	once   sync.Once
}

// halt stops the fetcher and waits until no FETCH is in flight.
func (f *fetcher) halt() {
	f.once.Do(func() { close(f.stop) })
	f.budget.cancel()
	for range f.order {
	}
	<-f.done
}

func (s *Service) startFetcher(c *imapclient.Client, chunks [][]imap.UID, cm *committer) *fetcher {
	f := &fetcher{order: make(chan *fetched, 64), stop: make(chan struct{}), done: make(chan struct{}), budget: newBudget(readAhead)}
	work := make(chan *fetched, 64)
	// Parsing needs nothing from the store, so it runs ahead of the
	// registrations, on both cores.
	for range 2 {
		go func() {
			for it := range work {
				if len(it.raw) > 0 {
					it.p = Parse(it.raw, s.cfg.MaxAttachment)
				}
				close(it.ready)
			}
		}()
	}
	go func() {
		defer close(f.done)
		defer close(f.order)
		defer close(work)
		for k, uids := range chunks {
			if err := s.markDone(c, cm.takeFlags()); err != nil {
				f.err = err
				return
			}
			cmd := s.fetchChunk(c, uids)
			err := f.read(cmd, k, work)
			if cerr := cmd.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("fetch mail from %s: %w", s.box, cerr)
			}
			if err != nil {
				if !errors.Is(err, errHalted) {
					f.err = err
				}
				return
			}
			select {
			case f.order <- &fetched{chunk: k, end: true}:
			case <-f.stop:
				return
			}
		}
	}()
	return f
}

var errHalted = errors.New("intake stopped")

// read streams one FETCH's mails to the parsers and, in order, to the
// registration.
func (f *fetcher) read(cmd *imapclient.FetchCommand, k int, work chan<- *fetched) error {
	for {
		msg := cmd.Next()
		if msg == nil {
			return nil
		}
		it := &fetched{chunk: k, ready: make(chan struct{})}
		body := false
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				it.uid = item.UID
			case imapclient.FetchItemDataBodySection:
				body = true
				if item.Literal == nil {
					continue
				}
				n := item.Literal.Size()
				if !f.budget.acquire(n) {
					return errHalted
				}
				it.size += n
				buf := make([]byte, n)
				if _, err := io.ReadFull(item.Literal, buf); err != nil {
					f.budget.release(it.size)
					return fmt.Errorf("read mail UID %d: %w", it.uid, err)
				}
				it.raw = buf
			}
		}
		if it.uid == 0 || !body {
			// A flag update or another answer without the mail.
			f.budget.release(it.size)
			continue
		}
		work <- it
		select {
		case f.order <- it:
		case <-f.stop:
			return errHalted
		}
	}
}

// budget is a count of bytes that blocks when it would exceed its limit
// (one item larger than the limit passes alone).
type budget struct {
	mu       sync.Mutex
	cond     *sync.Cond
	used     int64
	limit    int64
	canceled bool
}

func newBudget(limit int64) *budget {
	b := &budget{limit: limit}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *budget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.canceled && b.used > 0 && b.used+n > b.limit {
		b.cond.Wait()
	}
	b.used += n
	return !b.canceled
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) cancel() {
	b.mu.Lock()
	b.canceled = true
	b.mu.Unlock()
	b.cond.Broadcast()
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
