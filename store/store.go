package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/termtext"
)

var (
	// ErrNotFound: no such ticket (or record).
	ErrNotFound = errors.New("not found")
	// ErrStale: the ticket changed since the caller read it (a *ConflictError matches it).
	ErrStale = errors.New("ticket changed since you read it")
)

// LockedError says the data directory is held by another process.
type LockedError struct {
	Dir    string
	Holder string // e.g. "desk serve (pid 4242) on host nightdesk since 2026-11-23 02:10"
}

func (e *LockedError) Error() string {
	return "the data directory " + e.Dir + " is in use by " + e.Holder
}

// Options for Open.
type Options struct {
	// Policy computes SLA clocks and the deadline index at write time.
	// A policy without targets computes no clocks (no deadlines).
	Policy slaengine.Policy
	// Log receives Badger's own messages; nil discards them (Badger's
	// default logger would write over the console).
	Log *log.Logger
	// Holder describes this process for the lock file ("desk console", "desk serve").
	Holder string
	// MailDomain is the right-hand side of Message-IDs the store generates
	// for outbound messages ("desk.example.org").
	MailDomain string
	// SupportAddress is the From of outbound mail.
	SupportAddress string
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
	// TagPrefix tags outbound subjects ("[SD-12]"); empty means "SD".
	// Replies thread back by this tag, so it must match the intake's.
	TagPrefix string
	// Roles: see SetRoles.
	Roles map[string]Role
	// MessageIDTag, when set, tags the local part of every Message-ID the
	// store makes with a keyed hash (mailin.MessageIDTag with the install's
	// key): only mail carrying it is recognised as our own.
	MessageIDTag func(local string) string
	// DiskMargin is the free space (bytes) the data directory's filesystem
	// must keep: below it writes are refused with ErrDiskFull, and Open
	// opens the database read-only. 0 means DefaultDiskMargin (256 MiB).
	DiskMargin uint64
}

// Key prefixes, one byte per record kind and per index. Index entries have
// empty values so scans over them are key-only.
const (
	pTicket       = 't' // id -> ticket record (projection + SLA)
	pTimeline     = 'l' // id -> SLA timeline, kept beside the projection so writes need not replay history
	pEvent        = 'e' // id + seq -> event
	pCounter      = 'n' // name -> big-endian uint64
	pStatus       = 's' // status 0 queue 0 id -> ""
	pRequester    = 'r' // lower(email) 0 id -> ""
	pDeadline     = 'd' // due unixnano + id -> "" (only tickets with a running clock)
	pMessage      = 'm' // message key -> id
	pCheckpoint   = 'c' // mailbox -> checkpoint
	pOutbox       = 'o' // id -> OutMail
	pOutDue       = 'u' // next-try unixnano + id -> "" (unsent mail only)
	pQuarantine   = 'q' // id -> Quarantined
	pQuarKey      = 'k' // key -> quarantine id (dedupe)
	pBlob         = 'b' // key -> content
	pAuto         = 'a' // lower(addr) 0 queued unixnano + outbox id -> "" (automatic mail)
	pReference    = 'x' // lower(system:id) 0 id -> "" (references in other trackers)
	pEscalate     = 'w' // due unixnano + id -> "" (the next escalation step of an active ticket)
	pMajor        = 'j' // id -> "" (tickets that declared a major incident, open or ended)
	pMajorOpen    = 'g' // lower(service) 0 id -> "" (open major incidents of a service)
	pHook         = 'h' // id -> Hook (webhook calls of escalation steps)
	pHookDue      = 'v' // next-try unixnano + id -> "" (webhook calls not yet made)
	pArticle      = 'A' // id -> Article (the knowledge base)
	pArticleEvent = 'B' // id + seq -> ArticleEvent (an article's history)
	pProbe        = 'P' // probe key -> ProbeState
	pUptime       = 'U' // probe key 0 yyyymmdd -> DayCount
	pWindow       = 'W' // id -> Window (planned service windows)
	pSubscriber   = 'S' // lower(address) -> Subscriber (status-page subscriptions)
	pSubToken     = 'T' // token -> lower(address)
)

const (
	ctrTicket     = "ticket"
	ctrOutbox     = "outbox"
	ctrQuarantine = "quarantine"
)

// holderFile names the process that holds the directory; Badger's own LOCK
// file only has a pid, which tells an operator on another host nothing.
const holderFile = "desk-holder"

// Store is the system of record.
type Store struct {
	db     *badger.DB
	dir    string
	opt    Options
	policy atomic.Pointer[slaengine.Policy]
	// directory is whom escalation steps reach (SetDirectory).
	directory atomic.Pointer[Directory]
	// holds are the service windows as spans in which clocks stand still
	// (windowholds.go); nil until read.
	holds atomic.Pointer[holdSet]
	roles atomic.Pointer[map[string]Role]
	hub   hub

	// gate lets Restore run Badger's Load with no other transaction
	// running: every operation holds it shared.
	gate sync.RWMutex
	// commitMu makes commit and publish one step, so the change feed sees
	// commits in commit order.
	commitMu sync.Mutex
	// stripes serialise writers of the same ticket inside this process:
	// conflicts then come only from cross-ticket keys and are rare.
	stripes [64]sync.Mutex
	noLocks bool // tests: exercise the ErrConflict retry path

	conflicts atomic.Int64 // ErrConflict retries, for tests and diagnostics
	closed    atomic.Bool
	// broken is why the database could not be reopened (an error; closed
	// is set with it).
	broken atomic.Value

	// readOnly: Badger is open read-only because the disk was nearly full
	// at open (see diskspace.go); it changes only under gate.Lock.
	readOnly atomic.Bool
	space    diskWatch

	// deferred counts commits made without a sync (Intake.NoSync); it is
	// bumped under commitMu before the commit, so whoever sees such a commit
	// also sees the count. synced is the count the last full sync covered.
	deferred atomic.Uint64
	synced   atomic.Uint64
	syncs    atomic.Uint64 // disk syncs made (Syncs)
	// articleGen counts knowledge-base writes (ArticlesChanged).
	articleGen atomic.Uint64
	syncMu     sync.Mutex // one sync at a time; guards the fields below
	vlogFrom   int        // value-log files below this number were synced before
	files      map[string]bool

	journal sendJournal // outcomes of sends ahead of their commit (sendjournal.go)
}

// Open opens or creates the store in dir. A dir held by another process gives
// a *LockedError.
//
// Memory: Badger's defaults cost ~85 MB of heap at open (64 MB memtables x5,
// 256 MB block cache). A desk store is small (100k tickets is ~100 MB on
// disk) and the whole process must fit in 200 MB with 20 sessions, so the
// memtables are 8 MB x2, the block cache 16 MB and the index cache 8 MB.
// Values over 4 KB (mail bodies, attachments, raw quarantined mail) go to
// the value log so the LSM tree holding projections and indexes stays small
// and a full scan touches few blocks; a value (a raw quarantined mail, an
// attachment) can be up to 128 MB, the value-log file size.
//
// Durability: ordinary console edits are committed without fsync (Badger's
// default; a crash may lose the last moments of edits, never corrupt).
// Everything that precedes mail leaving the process or acknowledges intake
// (RegisterMail, RegisterMails, Quarantine, SaveCheckpoint, Enqueue,
// MarkSent, MarkFailed, RecordAttempts with sync, and any Update/Create
// that queues outbound mail) is synced to disk before it returns. The
// exceptions are for callers that sync a whole batch at once (Sync, or any
// synced write, covers every commit before it): registrations with
// Intake.NoSync, for intake, and RecordAttempts without sync, for a sender
// that records each mail the moment it is sent and syncs once per round.
// Such a commit survives the process being killed (the kernel keeps what
// Badger wrote); only a machine that loses power before the sync may lose
// it. Outbox syncs before it returns anything a NoSync registration queued,
// so no mail leaves before its queuing is on disk.
//
// Disk space: on a filesystem with less than Options.DiskMargin free the
// database is opened read-only (reads work, writes give a *DiskFullError)
// and reopened read-write by the first write after space was freed; see
// diskspace.go for why a full disk must never reach Badger.
func Open(dir string, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MailDomain == "" {
		o.MailDomain = "desk.invalid"
	}
	if o.Holder == "" {
		o.Holder = "desk"
	}
	if o.TagPrefix == "" {
		o.TagPrefix = "SD"
	}
	if o.DiskMargin == 0 {
		o.DiskMargin = DefaultDiskMargin
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory %s: %w", dir, err)
	}
	s := &Store{dir: dir, opt: o}
	s.space = diskWatch{dir: dir, margin: o.DiskMargin}
	p := o.Policy
	s.policy.Store(&p)
	s.SetRoles(o.Roles)
	if err := s.openDB(false); err != nil {
		return nil, err
	}
	if s.readOnly.Load() {
		s.logf("opened %s read-only: %v", dir, s.diskFull(s.space.last(), ""))
	} else if err := s.replayJournal(); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.loadHolds(); err != nil {
		s.db.Close()
		return nil, err
	}
	// Opened read-only, the journal is replayed by the first Outbox once
	// the store is writable again.
	return s, nil
}

const (
	valueLogFileSize = 128 << 20 // also the largest value: a raw quarantined mail
	memTableSize     = 8 << 20
)

// badgerOptions are the options of every Badger database of a store (see
// Open for the choices).
func (s *Store) badgerOptions(dir string, readOnly bool) badger.Options {
	return badger.DefaultOptions(dir).
		WithReadOnly(readOnly).
		WithLogger(badgerLogger{s.opt.Log}).
		WithLoggingLevel(badger.WARNING).
		WithMetricsEnabled(false).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithValueThreshold(4 << 10).
		WithValueLogFileSize(valueLogFileSize).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithNumVersionsToKeep(1).
		WithCompression(options.Snappy)
}

// openDB opens Badger on s.dir, read-write when the filesystem has the
// margin free, else read-only (a read-only Badger creates and writes no
// file, see diskspace.go). A store that was not closed cleanly has a WAL to
// replay, which read-only Badger refuses: it opens read-write when there is
// room for the replay, else not at all. Only Open and holders of gate.Lock
// call it.
func (s *Store) openDB(readOnly bool) error {
	pending, unclean := pendingLog(s.dir)
	free, ferr := s.space.fresh()
	if ferr == nil && free < s.space.margin {
		readOnly = true
	}
	if readOnly && unclean {
		if need := pending + openSlack; ferr == nil && free < need {
			return &DiskFullError{Dir: s.dir, Free: free, Margin: s.space.margin, Unclean: true, Need: need}
		}
		readOnly = false // room for the replay; writes are still refused below the margin
	}
	if readOnly {
		if _, err := os.Stat(filepath.Join(s.dir, "MANIFEST")); errors.Is(err, fs.ErrNotExist) {
			return &DiskFullError{Dir: s.dir, Free: free, Margin: s.space.margin, Doing: "creating the store"}
		}
	}
	db, err := badger.Open(s.badgerOptions(s.dir, readOnly))
	if err != nil {
		if isLockErr(err) {
			return &LockedError{Dir: s.dir, Holder: readHolder(s.dir)}
		}
		return fmt.Errorf("store: open %s: %w", s.dir, err)
	}
	s.db = db
	s.readOnly.Store(readOnly)
	// Log files present at open were replayed from disk or are synced by
	// Badger's own Sync: deferred syncs need only look at newer ones.
	s.syncMu.Lock()
	s.files, s.vlogFrom = nil, 0
	if names, vmax, err := s.logFiles(); err == nil {
		s.files = make(map[string]bool, len(names))
		for _, n := range names {
			s.files[n] = true
		}
		s.vlogFrom = vmax
	}
	s.syncMu.Unlock()
	if readOnly {
		// Read-only Badger shares the directory with other readers and
		// says nothing about them: the holder file stays as it is.
		return nil
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown host"
	}
	holder := fmt.Sprintf("%s (pid %d) on host %s since %s", s.opt.Holder, os.Getpid(), host, time.Now().Format("2006-01-02 15:04"))
	if err := os.WriteFile(filepath.Join(s.dir, holderFile), []byte(holder+"\n"), 0o600); err != nil {
		db.Close()
		s.db = nil
		return fmt.Errorf("store: write %s in %s: %w", holderFile, s.dir, err)
	}
	return nil
}

// reopenReadWrite reopens a database opened read-only on a nearly full disk
// once there is room again.
func (s *Store) reopenReadWrite() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.closed.Load() {
		return s.closedErr()
	}
	if !s.readOnly.Load() {
		return nil
	}
	if err := s.db.Close(); err != nil {
		s.logf("close the read-only database of %s: %v", s.dir, err)
	}
	s.db = nil
	err := s.openDB(false)
	if err != nil {
		// Another reader may share the directory (read-only Badger takes a
		// shared lock): go on reading.
		if rerr := s.openDB(true); rerr != nil {
			return s.breaks(fmt.Errorf("store: %s could not be reopened: %w (read-only: %v)", s.dir, err, rerr))
		}
		return fmt.Errorf("store: %s could not be reopened for writing (it stays readable): %w", s.dir, err)
	}
	if s.readOnly.Load() {
		return s.diskFull(s.space.last(), "")
	}
	s.logf("reopened %s read-write: the disk has room again", s.dir)
	return nil
}

// breaks closes a store whose database could not be reopened (gate.Lock
// held); every later operation returns err.
func (s *Store) breaks(err error) error {
	s.broken.Store(err)
	s.closed.Store(true)
	s.hub.closeAll()
	return err
}

func (s *Store) closedErr() error {
	if err, ok := s.broken.Load().(error); ok {
		return err
	}
	return errors.New("store: the store is closed")
}

func isLockErr(err error) bool {
	return errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) ||
		strings.Contains(err.Error(), "Cannot acquire directory lock")
}

// readHolder says who holds dir: our holder file, else Badger's pid file.
func readHolder(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, holderFile)); err == nil {
		if h := strings.TrimSpace(string(b)); h != "" {
			return sanitizeLine(h)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "LOCK")); err == nil {
		if pid := strings.TrimSpace(string(b)); pid != "" {
			return "another process (pid " + sanitizeLine(pid) + ")"
		}
	}
	return "another process"
}

// sanitizeLine keeps a file's text from carrying escapes to a terminal.
func sanitizeLine(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return termtext.Line(s)
}

// Close flushes and releases the directory. On a disk too full for the
// flush it leaves the database open instead (see diskspace.go): the log is
// replayed at the next start, nothing is lost, and the error says so.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	s.hub.closeAll()
	s.closeJournal()
	if s.db == nil {
		return nil
	}
	if !s.readOnly.Load() {
		os.Remove(filepath.Join(s.dir, holderFile))
		if pending, _ := pendingLog(s.dir); pending > 0 {
			if free, err := s.space.fresh(); err == nil && free < pending+openSlack {
				err := fmt.Errorf("store: the filesystem of %s is nearly full (%s free; %w): the database was left open rather than "+
					"flushed into a disk that cannot hold it; its last changes are replayed from its log at the next start, "+
					"so nothing is lost, once %s more is free", s.dir, sizeText(free), ErrDiskFull, sizeText(pending+openSlack-free))
				s.logf("%v", err)
				return err
			}
		}
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.dir, err)
	}
	return nil
}

// now is in UTC: projections decode their times in UTC, so events and
// projections agree whatever the process's zone; display code converts.
func (s *Store) now() time.Time { return s.opt.Now().UTC() }

// Now is the store's clock (the test clock in tests).
func (s *Store) Now() time.Time { return s.now() }

// ---- transactions ----

// writeSet collects what a transaction must do after it commits.
type writeSet struct {
	changes []Change
	sync    bool // make the commit durable before returning
	nosync  bool // the caller syncs later (Intake.NoSync); wins over sync
	linking bool // Link writes master/child links (see allowInWrite)
	// escalating: FireEscalations appends escalation events (see allowInWrite)
	escalating bool
	// following: the store adds its own follow-up events to a write
	// (majorFollowUps)
	following bool
}

const maxAttempts = 100

// write runs fn in a read-write transaction, retrying on ErrConflict with a
// jittered exponential backoff. fn may run more than once.
func (s *Store) write(fn func(txn *badger.Txn, w *writeSet) error) error {
	if s.closed.Load() {
		return s.closedErr()
	}
	if err := s.roomToWrite(); err != nil {
		return err
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed.Load() {
		return s.closedErr()
	}
	if s.readOnly.Load() {
		return s.diskFull(s.space.last(), "")
	}
	for attempt := 1; ; attempt++ {
		txn := s.db.NewTransaction(true)
		w := &writeSet{}
		err := fn(txn, w)
		if err == nil {
			s.commitMu.Lock()
			if w.nosync {
				s.deferred.Add(1)
			}
			err = txn.Commit()
			if err == nil {
				s.hub.publish(w.changes)
			}
			s.commitMu.Unlock()
		}
		txn.Discard()
		if err == nil {
			if w.sync && !w.nosync {
				return s.syncDisk()
			}
			return nil
		}
		if errors.Is(err, badger.ErrConflict) && attempt < maxAttempts {
			s.conflicts.Add(1)
			backoff(attempt)
			continue
		}
		if errors.Is(err, badger.ErrConflict) {
			return fmt.Errorf("store: gave up after %d conflicting attempts; try again: %w", attempt, err)
		}
		return err
	}
}

func backoff(attempt int) {
	d := 50 * time.Microsecond << min(attempt, 8)
	d = min(d, 10*time.Millisecond)
	time.Sleep(time.Duration(mrand.Int64N(int64(d)) + 1))
}

func (s *Store) read(fn func(txn *badger.Txn) error) error {
	if s.closed.Load() {
		return s.closedErr()
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed.Load() {
		return s.closedErr()
	}
	return s.db.View(fn)
}

func (s *Store) lockTicket(id TicketID) func() { return s.lockTickets(id) }

// lockTickets takes the stripes of several tickets in one fixed order, so
// two writers of overlapping sets cannot deadlock. The stripes only make
// conflicts rare: correctness comes from Badger's conflict detection.
func (s *Store) lockTickets(ids ...TicketID) func() {
	if s.noLocks {
		return func() {}
	}
	var idx []int
	for _, id := range ids {
		i := int(uint64(id) % uint64(len(s.stripes)))
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range idx {
		s.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			s.stripes[i].Unlock()
		}
	}
}

// ---- keys ----

func u64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// maxKeyPart bounds a user string inside a key: Badger refuses keys over
// 65,000 bytes, and a hostile Message-ID or address must not make a mail
// impossible to register or even to quarantine.
const maxKeyPart = 512

// capKey shortens an over-long key part to a prefix and a hash of the whole,
// the same on write and on lookup.
func capKey(s string) string {
	if len(s) <= maxKeyPart {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:maxKeyPart-70] + "~sha256:" + hex.EncodeToString(sum[:])
}

// keyStr keeps a user string from forging a key separator.
func keyStr(b []byte, s string) []byte {
	s = capKey(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			c = 1
		}
		b = append(b, c)
	}
	return b
}

func ticketKey(id TicketID) []byte   { return u64([]byte{pTicket}, uint64(id)) }
func timelineKey(id TicketID) []byte { return u64([]byte{pTimeline}, uint64(id)) }

func eventPrefix(id TicketID) []byte { return u64([]byte{pEvent}, uint64(id)) }
func eventKey(id TicketID, seq int) []byte {
	return binary.BigEndian.AppendUint32(eventPrefix(id), uint32(seq))
}

func counterKey(name string) []byte { return append([]byte{pCounter}, name...) }

func statusPrefix(st Status, queue string, withQueue bool) []byte {
	b := keyStr([]byte{pStatus}, string(st))
	b = append(b, 0)
	if withQueue {
		b = append(keyStr(b, queue), 0)
	}
	return b
}
func statusKey(st Status, queue string, id TicketID) []byte {
	return u64(statusPrefix(st, queue, true), uint64(id))
}

func requesterPrefix(email string) []byte {
	return append(keyStr([]byte{pRequester}, strings.ToLower(strings.TrimSpace(email))), 0)
}
func requesterKey(email string, id TicketID) []byte { return u64(requesterPrefix(email), uint64(id)) }

// timeKey orders times before and after 1970 correctly.
func timeKey(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }
func keyTime(v uint64) time.Time { return time.Unix(0, int64(v^(1<<63))) }

func deadlineKey(due time.Time, id TicketID) []byte {
	return u64(u64([]byte{pDeadline}, timeKey(due)), uint64(id))
}

func escalateKey(due time.Time, id TicketID) []byte {
	return u64(u64([]byte{pEscalate}, timeKey(due)), uint64(id))
}

func messageKey(key string) []byte { return append([]byte{pMessage}, capKey(key)...) }

func checkpointKey(mailbox string) []byte { return append([]byte{pCheckpoint}, capKey(mailbox)...) }

func outboxKey(id uint64) []byte { return u64([]byte{pOutbox}, id) }
func outDueKey(next time.Time, id uint64) []byte {
	return u64(u64([]byte{pOutDue}, timeKey(next)), id)
}

func quarantineKey(id uint64) []byte { return u64([]byte{pQuarantine}, id) }
func quarKeyKey(key string) []byte   { return append([]byte{pQuarKey}, capKey(key)...) }
func blobKey(key string) []byte      { return append([]byte{pBlob}, capKey(key)...) }

func referencePrefix(ref string) []byte {
	return append(keyStr([]byte{pReference}, strings.ToLower(ref)), 0)
}
func referenceKey(ref string, id TicketID) []byte { return u64(referencePrefix(ref), uint64(id)) }

func autoPrefix(addr string) []byte {
	return append(keyStr([]byte{pAuto}, strings.ToLower(strings.TrimSpace(addr))), 0)
}
func autoKey(addr string, at time.Time, id uint64) []byte {
	return u64(u64(autoPrefix(addr), timeKey(at)), id)
}

// normKey is how Message-IDs are compared: without angle brackets or space.
func normKey(k string) string {
	k = strings.TrimSpace(k)
	k = strings.TrimPrefix(k, "<")
	k = strings.TrimSuffix(k, ">")
	return strings.TrimSpace(k)
}

// ---- small txn helpers ----

func getJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return jsonUnmarshal(b, v) })
}

func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// nextCounter allocates the next number of a counter inside txn; a
// concurrent allocation makes the commit conflict and the caller retries, so
// numbers are sequential and never reused.
func nextCounter(txn *badger.Txn, name string) (uint64, error) {
	v, err := readCounter(txn, name)
	if err != nil {
		return 0, err
	}
	v++
	if err := txn.Set(counterKey(name), u64(nil, v)); err != nil {
		return 0, err
	}
	return v, nil
}

func readCounter(txn *badger.Txn, name string) (uint64, error) {
	item, err := txn.Get(counterKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("store: counter %q is damaged (%d bytes)", name, len(b))
		}
		v = binary.BigEndian.Uint64(b)
		return nil
	})
	return v, err
}

// prefixScan iterates keys with prefix p; keyOnly skips value prefetch.
func prefixScan(txn *badger.Txn, p []byte, keyOnly bool, fn func(item *badger.Item) (bool, error)) error {
	o := badger.DefaultIteratorOptions
	o.Prefix = p
	o.PrefetchValues = !keyOnly
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Seek(p); it.ValidForPrefix(p); it.Next() {
		more, err := fn(it.Item())
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- Badger logger ----

type badgerLogger struct{ l *log.Logger }

func (b badgerLogger) printf(level, f string, a ...any) {
	if b.l != nil {
		b.l.Printf("badger "+level+": "+strings.TrimRight(f, "\n"), a...)
	}
}
func (b badgerLogger) Errorf(f string, a ...any)   { b.printf("error", f, a...) }
func (b badgerLogger) Warningf(f string, a ...any) { b.printf("warning", f, a...) }
func (b badgerLogger) Infof(f string, a ...any)    { b.printf("info", f, a...) }
func (b badgerLogger) Debugf(f string, a ...any)   {}

func (s *Store) logf(f string, a ...any) {
	if s.opt.Log != nil {
		s.opt.Log.Printf("store: "+f, a...)
	}
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }
