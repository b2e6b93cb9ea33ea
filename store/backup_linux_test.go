//go:build linux

package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A data directory that is a mount point (a container volume) cannot be
// swapped by rename: the restore says where the verified copy is, keeps it,
// and leaves the store as it was.
func TestRestoreIntoMountPoint(t *testing.T) {
	_, clk, good := backupFixture(t)
	dir := mountTmpfs(t, "1g") // more than the default margin; only what is written takes memory
	r := openTest(t, dir, clk, testPolicy())
	_, err := r.RestoreFrom(bytes.NewReader(good))
	if err == nil {
		t.Fatal("restore into a mount point swapped it")
	}
	t.Log(err)
	m := regexp.MustCompile(`--data (\S+)`).FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(err.Error(), "verified and complete") {
		t.Fatalf("the error does not say where the restored copy is: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(m[1]) })
	if n := len(dump(t, r)); n != 0 {
		t.Errorf("the store holds %d records after the failed swap", n)
	}
	if tk := mustCreate(t, r, NewTicket{Subject: "still works"}); tk.ID != 1 {
		t.Errorf("created %s", tk.ID)
	}
	staged := openTest(t, m[1], clk, testPolicy())
	if tk, err := staged.Get(300); err != nil || tk.Subject != "ticket 299" {
		t.Errorf("the restored copy's SD-300: %+v %v", tk, err)
	}
}

// TestRestoreOnFullDisk: a restore that would fill the disk stops with
// ErrDiskFull before Badger faults; nothing changes, and with room it works.
func TestRestoreOnFullDisk(t *testing.T) {
	mnt := mountTmpfs(t, "40m")
	runChild(t, "restore-full", mnt)
}

func restoreFullChild(t *testing.T, mnt string) {
	_, _, good := backupFixture(t) // on the ordinary disk
	if len(good) < 4<<20 {
		t.Fatalf("the backup has only %d bytes", len(good))
	}
	dir := filepath.Join(mnt, "data")
	s, err := openChild(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := filepath.Join(mnt, "filler")
	fill(t, filler, testMargin+2<<20)
	time.Sleep(spaceCacheFor)
	_, err = s.RestoreFrom(bytes.NewReader(good))
	t.Logf("restore with %s free: %v", sizeText(freeOf(t, mnt)), err)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "the restore stopped; nothing was changed") {
		t.Fatalf("restore onto a nearly full disk: %v", err)
	}
	if n := countTickets(t, s); n != 0 {
		t.Errorf("%d tickets after the refused restore", n)
	}
	if n := siblings(t, dir); len(n) != 2 { // data and filler
		t.Errorf("beside the data directory: %v", n)
	}
	os.Remove(filler)
	got, err := s.RestoreFrom(bytes.NewReader(good))
	if err != nil || got.Tickets != 300 {
		t.Fatalf("restore with room: %+v %v", got, err)
	}
	if n := countTickets(t, s); n != 300 {
		t.Errorf("%d tickets after the restore", n)
	}
}
