package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Why a full disk used to crash desk (badger v4.9.6 with ristretto v2.2.0),
// and what desk does about it.
//
// Badger writes its value log (*.vlog) and the write-ahead log of each
// memtable (*.mem) through shared, writable memory maps. A new log file is
// made with ftruncate to its full size and then mapped (z.OpenMmapFile):
// 2 × ValueLogFileSize = 256 MiB for a value-log file
// (valueLog.createVlogFile), 2 × MemTableSize = 16 MiB for a WAL
// (DB.openMemTable). ftruncate allocates nothing: the file is sparse. Every
// write is then a plain memory copy into the map (valueLog.write:
// copy(curlf.Data[start:], buf); logFile.writeEntry likewise), and the
// filesystem allocates a block only when the copy first touches a page. On a
// full filesystem that allocation fails inside a page fault, where there is
// no error to return: the kernel sends SIGBUS, the Go runtime prints
// "unexpected fault address … fatal error: fault" with every goroutine and
// exits with status 2. Sorted tables (*.sst, table.CreateTable) are written
// the same way when a memtable is flushed (also at Close) and at compactions.
//
// Opening read-write writes through maps too: Badger replays the WAL of an
// unclean stop, creates a fresh value-log file and WAL and copies their
// 20-byte headers into the map (logFile.bootstrap). With no free block that
// faults before the first command runs, which is why even `desk list`
// crashed while the disk stayed full. (On tmpfs even reading a hole of such a
// map allocates a page, so replaying a WAL faults there as well.)
//
// So desk lets Badger write only while the filesystem has room:
//   - before each write transaction (Store.write) it compares the free space
//     of the data directory's filesystem (statfs, a reading reused for at most
//     25 ms while plenty is free) with a margin, and below it refuses the write
//     with a *DiskFullError (errors.Is(err, ErrDiskFull)); nothing is
//     written, nothing crashes, reads go on;
//   - Open opens Badger read-only when the filesystem has less than the
//     margin free (read-only Badger creates and writes no file), and the
//     first write after space was freed reopens it read-write;
//   - Restore reads the free space again before each 4 MB it commits;
//   - Close leaves Badger open (its log is replayed at the next start, nothing
//     is lost) rather than flush a memtable into a disk that cannot hold it.
// The margin is what Badger may still write after the last allowed write:
// that write itself (a value can be as large as a value-log file), the
// memtable flush, compactions. What this cannot prevent: another program
// filling the disk to the last block while Badger compacts or flushes in the
// background; the margin is there so that it would have to eat all of it.

// ErrDiskFull: the filesystem of the data directory has too little free
// space for desk to write safely. Refused writes, opens and restores give a
// *DiskFullError; Close on a full disk wraps ErrDiskFull itself.
var ErrDiskFull = errors.New("the disk is full")

// DefaultDiskMargin is the free space desk keeps on the data directory's
// filesystem: two value-log files' worth (2 × 128 MiB), since one write may
// put a value as large as a value-log file (a raw quarantined mail) into the
// log, and a memtable flush and compactions still need room after it.
const DefaultDiskMargin = 2 * valueLogFileSize

// DiskFullError says that a write was refused (or the store could only be
// opened read-only) because the disk holding the data directory is nearly
// full, how full, and what to do.
type DiskFullError struct {
	Dir    string // the data directory
	Free   uint64 // bytes free on its filesystem
	Margin uint64 // bytes desk keeps free
	// ReadOnly: the database is open read-only (it was opened on a nearly
	// full disk); the first write after space is freed reopens it.
	ReadOnly bool
	// Unclean: the store was not closed cleanly and replaying its log needs
	// Need bytes free; until then it cannot even be read.
	Unclean bool
	Need    uint64
	// Doing names what was refused ("restore"); empty for an ordinary write.
	Doing string
}

func (e *DiskFullError) Error() string {
	fs := "the filesystem of " + e.Dir
	if e.Unclean {
		return fmt.Sprintf("%s is full (%s free): desk was stopped without closing its database, and replaying "+
			"its log needs about %s; nothing is lost. Free space on that filesystem and start desk again",
			fs, sizeText(e.Free), sizeText(e.Need))
	}
	what, meanwhile := "nothing was saved", "; reading works meanwhile"
	switch e.Doing {
	case "":
	case "creating the store":
		what, meanwhile = "the store cannot be created", ""
	default:
		what = e.Doing + " stopped; nothing was changed"
	}
	msg := fmt.Sprintf("%s is nearly full: %s free, and desk keeps %s free so that its database cannot be damaged; %s. "+
		"Free space on that filesystem and try again%s",
		fs, sizeText(e.Free), sizeText(e.Margin), what, meanwhile)
	if e.ReadOnly {
		msg += " (the database is open read-only until then)"
	}
	return msg
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// DiskSpace is the state of the data directory's filesystem, for a status
// line.
type DiskSpace struct {
	Dir    string
	Free   uint64 // bytes free (for unprivileged users)
	Margin uint64 // bytes desk keeps free
	// Low: writes are refused (Free < Margin).
	Low bool
	// ReadOnly: the database is open read-only (opened on a nearly full
	// disk). With Low false, the next write reopens it read-write.
	ReadOnly bool
	// Err: free space could not be read (writes are not refused for it).
	Err error
}

// Warning is a short line for a status bar, or "" when all is well. It fits
// 80 columns with room to spare.
func (d DiskSpace) Warning() string {
	switch {
	case d.Err != nil:
		return ""
	case d.Low:
		return fmt.Sprintf("DISK FULL: %s free, desk needs %s; nothing can be saved", sizeText(d.Free), sizeText(d.Margin))
	case d.ReadOnly:
		return "disk space is back: saving resumes with the next change"
	}
	return ""
}

// Space reports the free space of the data directory's filesystem against
// the margin (a reading at most 25 ms old).
// It is cheap enough to call on every status-line refresh.
func (s *Store) Space() DiskSpace {
	free, err := s.space.get()
	d := DiskSpace{Dir: s.dir, Free: free, Margin: s.space.margin, ReadOnly: s.readOnly.Load(), Err: err}
	d.Low = err == nil && free < d.Margin
	return d
}

// roomToWrite is asked before every write transaction: a *DiskFullError
// when the filesystem is below the margin; a read-only database is reopened
// read-write once there is room again.
func (s *Store) roomToWrite() error {
	free, err := s.space.get()
	if err != nil {
		// Free space unknown (statfs failed): do not refuse writes for it.
		if s.space.statErrLogged.CompareAndSwap(false, true) {
			s.logf("cannot read the free space of %s: %v; writes are not checked against the disk margin", s.dir, err)
		}
		return nil
	}
	if free < s.space.margin {
		if s.space.lowLogged.CompareAndSwap(false, true) {
			s.logf("only %s free on the filesystem of %s (margin %s): refusing writes until space is freed",
				sizeText(free), s.dir, sizeText(s.space.margin))
		}
		return s.diskFull(free, "")
	}
	if s.space.lowLogged.CompareAndSwap(true, false) {
		s.logf("%s free on the filesystem of %s again: writes resume", sizeText(free), s.dir)
	}
	if s.readOnly.Load() {
		return s.reopenReadWrite()
	}
	return nil
}

func (s *Store) diskFull(free uint64, doing string) *DiskFullError {
	return &DiskFullError{Dir: s.dir, Free: free, Margin: s.space.margin, ReadOnly: s.readOnly.Load(), Doing: doing}
}

// diskWatch caches statfs of the data directory.
type diskWatch struct {
	dir    string
	margin uint64
	statfs func(dir string) (uint64, error) // tests replace it

	mu   sync.Mutex
	at   time.Time // when free was read (monotonic clock, not Options.Now)
	free uint64
	err  error

	lowLogged     atomic.Bool
	statErrLogged atomic.Bool
}

// spaceCacheFor is how long a reading is reused while at least twice the
// margin is free; closer to the margin every write reads it afresh, so
// writes stop in time and resume as soon as space is freed. statfs costs
// about half a microsecond, a write transaction tens: the cache only spares
// bursts of writes, and keeps short the window in which a disk filled by
// someone else goes unnoticed (to crash Badger within it, the other writer
// would have to take twice the margin in 25 ms).
const spaceCacheFor = 25 * time.Millisecond

func (w *diskWatch) get() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.at.IsZero() && w.err == nil && w.free/2 >= w.margin && time.Since(w.at) < spaceCacheFor {
		return w.free, nil
	}
	return w.readLocked()
}

// last is the latest reading, without reading again.
func (w *diskWatch) last() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.free
}

// fresh reads the free space now.
func (w *diskWatch) fresh() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readLocked()
}

func (w *diskWatch) readLocked() (uint64, error) {
	st := w.statfs
	if st == nil {
		st = freeSpace
	}
	w.free, w.err = st(w.dir)
	w.at = time.Now()
	return w.free, w.err
}

// pendingLog is the space Badger's memtable WALs (*.mem) take on disk: what
// opening read-write replays and flushes into tables (a clean close leaves
// none), and what Close flushes. It also says whether any WAL exists.
func pendingLog(dir string) (bytes uint64, any bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, false
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		any = true
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			bytes += allocated(fi)
		}
	}
	return bytes, any
}

// openSlack is what opening read-write writes besides replaying WALs: the
// headers of a new value-log file and WAL, a DISCARD file (1 MiB) the first
// time, MANIFEST and KEYREGISTRY rewrites.
const openSlack = 2 << 20

// sizeText is a byte count for people: "41 MiB", "3.2 GiB", "512 KiB".
func sizeText(b uint64) string {
	switch {
	case b >= 10<<30:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10:
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d bytes", b)
}
