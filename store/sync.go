package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sync makes every commit so far durable, including registrations made with
// Intake.NoSync. Intake registers a batch of mails without waiting for the
// disk, then calls Sync once, and only then lets anything about those mails
// leave the process (\Seen, MOVE, acknowledgements).
func (s *Store) Sync() error {
	if s.closed.Load() {
		return errors.New("store: the store is closed")
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.syncDisk()
}

// Syncs counts the times this store has waited for the disk since Open (one
// per synced write, however many files it covered): what benchmarks report
// next to their rates.
func (s *Store) Syncs() uint64 { return s.syncs.Load() }

// syncDisk is Badger's Sync, plus, when deferred commits happened since the
// last sync, the log files Badger rotated in between.
//
// Badger v4's DB.Sync flushes only the active memtable's WAL and the newest
// value-log file. A commit made without sync can sit in a memtable that has
// since filled up and been rotated (its WAL is not synced on rotation; it is
// deleted once the memtable is written to a synced table), or in a value-log
// file that has since been closed. Per-commit sync never leaves such
// commits behind; deferred commits do, so those files are synced here too,
// with the directory when new log files appeared.
func (s *Store) syncDisk() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	// Under commitMu no deferred commit is half done: every one counted in
	// gen is in the logs, so the syncs below cover it.
	s.commitMu.Lock()
	gen := s.deferred.Load()
	s.commitMu.Unlock()
	jgen, jclean := s.journalMark()
	s.syncs.Add(1)
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync %s to disk: %w", s.dir, err)
	}
	if gen != s.synced.Load() {
		if err := s.syncLogs(); err != nil {
			return fmt.Errorf("store: sync %s to disk: %w", s.dir, err)
		}
		s.synced.Store(gen)
	}
	s.journalSynced(jgen, jclean)
	return nil
}

// syncLogs fsyncs every memtable WAL (*.mem: only unflushed ones exist) and
// the value-log files written since the last call; syncMu is held. The
// newest of each was synced by the DB.Sync just before (or, if a newer one
// appeared since, holds only commits after it): they are skipped.
func (s *Store) syncLogs() error {
	names, vmax, err := s.logFiles()
	if err != nil {
		return err
	}
	mmax, newest := "", -1
	for _, n := range names {
		if fid, err := strconv.Atoi(strings.TrimSuffix(n, ".mem")); err == nil && strings.HasSuffix(n, ".mem") && fid > newest {
			mmax, newest = n, fid
		}
	}
	fresh := false
	for _, n := range names {
		if !s.files[n] {
			fresh = true
		}
		if n == mmax {
			continue
		}
		if strings.HasSuffix(n, ".vlog") {
			if fid, _ := strconv.Atoi(strings.TrimSuffix(n, ".vlog")); fid < s.vlogFrom || fid == vmax {
				continue
			}
		}
		if err := fsyncPath(filepath.Join(s.dir, n)); err != nil {
			return err
		}
	}
	if fresh {
		if err := fsyncPath(s.dir); err != nil {
			return err
		}
	}
	s.files = make(map[string]bool, len(names))
	for _, n := range names {
		s.files[n] = true
	}
	s.vlogFrom = vmax
	return nil
}

// logFiles lists Badger's log files in the directory and the highest
// value-log number.
func (s *Store) logFiles() (names []string, vmax int, err error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasSuffix(n, ".mem"):
			names = append(names, n)
		case strings.HasSuffix(n, ".vlog"):
			names = append(names, n)
			if fid, err := strconv.Atoi(strings.TrimSuffix(n, ".vlog")); err == nil {
				vmax = max(vmax, fid)
			}
		}
	}
	return names, vmax, nil
}

// fsyncPath fsyncs a file or directory. A WAL that vanished meanwhile was
// written to a synced table and deleted: nothing left to do. On Linux an
// fsync through any descriptor also writes back pages dirtied through
// Badger's mmap.
func fsyncPath(p string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", p, err)
	}
	return nil
}

// syncedForSending makes sure outbound mail just read can leave the process:
// a deferred registration may have queued it without a sync yet. Call it
// after the read: every commit the read saw counted in deferred before it
// committed.
func (s *Store) syncedForSending() error {
	if s.deferred.Load() == s.synced.Load() {
		return nil
	}
	return s.syncDisk()
}
