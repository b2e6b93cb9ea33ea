//go:build linux

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The full-disk tests fill a small tmpfs. Badger faults (SIGBUS) when it
// writes through a memory map into a full filesystem, and a fault kills the
// whole process, so the store runs in a child process (this test binary run
// again with DESK_DISK_CHILD set): a crash fails the parent test instead of
// ending the test run.

const (
	childStepEnv = "DESK_DISK_CHILD"
	childDirEnv  = "DESK_DISK_DIR"
	testMargin   = 12 << 20
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "40m") on a new
// directory, or skips the test saying why it cannot.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("this test fills a small filesystem: mounting a %s tmpfs on %s failed (%v); "+
			"run the store tests as root (or with CAP_SYS_ADMIN) to check desk on a full disk", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// runChild runs step of TestDiskChild in a new process on dir. A fault
// (Badger's SIGBUS) or a failed check fails t with the child's output.
func runChild(t *testing.T, step, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDiskChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childStepEnv+"="+step, childDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		if strings.Contains(text, "SIGBUS") || strings.Contains(text, "unexpected fault address") {
			t.Fatalf("step %q: desk crashed on the full disk (a fault inside Badger):\n%s", step, firstLines(text, 30))
		}
		t.Fatalf("step %q failed (%v):\n%s", step, err, firstLines(text, 60))
	}
	if !strings.Contains(text, "--- PASS: TestDiskChild") {
		t.Fatalf("step %q did not run:\n%s", step, text)
	}
	return text
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…\n")
	}
	return strings.Join(lines, "")
}

func freeOf(t testing.TB, dir string) uint64 {
	t.Helper()
	free, err := freeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	return free
}

// fill writes a file at path until the filesystem has at most leave bytes
// free (leave 0: until it is full).
func fill(t testing.TB, path string, leave uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = 0xa5
	}
	for {
		free := freeOf(t, filepath.Dir(path))
		if free <= leave {
			return
		}
		n := min(uint64(len(buf)), free-leave)
		if _, err := f.Write(buf[:n]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

func openChild(t *testing.T, dir string) (*Store, error) {
	clk := newClock()
	return Open(dir, Options{Policy: testPolicy(), Holder: "desk test", Now: clk.Now, DiskMargin: testMargin})
}

func bigTicket(i int) NewTicket {
	return NewTicket{Subject: fmt.Sprintf("ticket %d", i), Queue: "q", Requester: Person{Email: "r@x"},
		Message: &Message{Body: strings.Repeat(fmt.Sprintf("line %d of a long mail\n", i), 1000)}}
}

func countTickets(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.Tickets(func(Ticket) bool { n++; return true }); err != nil {
		t.Fatalf("reading the tickets: %v", err)
	}
	return n
}

// firstBody is the body of the first message in a ticket's history (a value
// in the value log: reading it reads the log's memory map).
func firstBody(t *testing.T, s *Store, id TicketID) string {
	t.Helper()
	h, err := s.History(id)
	if err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	for _, e := range h {
		if e.Message != nil {
			return e.Message.Body
		}
	}
	return ""
}

// checkDiskFull checks err is a refusal that tells a person what happened.
func checkDiskFull(t *testing.T, err error, dir string) {
	t.Helper()
	var dfe *DiskFullError
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &dfe) {
		t.Fatalf("write on a full disk: %v, want ErrDiskFull", err)
	}
	msg := err.Error()
	for _, want := range []string{dir, "free", sizeText(testMargin), "Free space on that filesystem"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
}

// TestDiskFullWrites: writes on a filling disk are refused with ErrDiskFull
// instead of crashing, reads go on (even with not one byte free), and writes
// work again once space is freed.
func TestDiskFullWrites(t *testing.T) {
	mnt := mountTmpfs(t, "40m")
	out := runChild(t, "writes", mnt)
	t.Log(firstLines(out, 20))
}

// TestDiskFullOpen: a store opened on a full disk opens read-only instead of
// crashing, reads work, writes are refused, and the first write after space
// is freed succeeds. A store left unclean (killed) on a full disk is refused
// with a clear error and opens once there is room.
func TestDiskFullOpen(t *testing.T) {
	mnt := mountTmpfs(t, "40m")
	for _, step := range []string{"seed", "open-full", "unclean-seed", "open-unclean"} {
		t.Log(firstLines(runChild(t, step, mnt), 20))
	}
}

// TestDiskFullClose: closing on a full disk does not flush the memtable
// into it (that faults); the store is left for its log to be replayed, and
// the next start finds every ticket.
func TestDiskFullClose(t *testing.T) {
	mnt := mountTmpfs(t, "40m")
	runChild(t, "close-full", mnt)
	runChild(t, "reopen", mnt)
}

func TestDiskChild(t *testing.T) {
	step, mnt := os.Getenv(childStepEnv), os.Getenv(childDirEnv)
	if step == "" {
		t.Skip("run by TestDiskFullWrites and TestDiskFullOpen in a child process")
	}
	dir := filepath.Join(mnt, "data")
	filler := filepath.Join(mnt, "filler")
	switch step {
	case "writes":
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		fill(t, filler, 20<<20)
		time.Sleep(spaceCacheFor) // the store's last reading predates the filler
		created := 0
		var werr error
		for i := 0; i < 5000; i++ {
			if _, werr = s.Create("alice", bigTicket(i)); werr != nil {
				break
			}
			created++
		}
		if werr == nil {
			t.Fatalf("5000 tickets on a 40 MB disk and no refusal; %s free", sizeText(freeOf(t, mnt)))
		}
		t.Logf("refused after %d tickets with %s free: %v", created, sizeText(freeOf(t, mnt)), werr)
		checkDiskFull(t, werr, dir)
		if created == 0 {
			t.Fatal("no ticket could be written before the disk filled up")
		}
		if sp := s.Space(); !sp.Low || sp.Warning() == "" || sp.Margin != testMargin {
			t.Errorf("Space() = %+v, warning %q", sp, sp.Warning())
		}

		// Something else takes the rest: reads still work, writes are refused.
		fill(t, filler+"2", 0)
		t.Logf("disk full: %s free", sizeText(freeOf(t, mnt)))
		if n := countTickets(t, s); n != created {
			t.Errorf("read %d tickets, want %d", n, created)
		}
		if tk, err := s.Get(TicketID(created)); err != nil || tk.Subject != fmt.Sprintf("ticket %d", created-1) {
			t.Errorf("get SD-%d: %+v %v", created, tk, err)
		}
		if b := firstBody(t, s, 1); !strings.Contains(b, "line 0 of a long mail") {
			t.Errorf("the mail of SD-1 reads %.40q", b)
		}
		_, err = s.Update(1, "bob", events(setStatus(StatusOpen)))
		checkDiskFull(t, err, dir)

		// Space is freed: writes work again, at once.
		os.Remove(filler)
		os.Remove(filler + "2")
		if _, err := s.Create("alice", bigTicket(created)); err != nil {
			t.Fatalf("write after freeing space: %v", err)
		}
		if sp := s.Space(); sp.Low || sp.Warning() != "" {
			t.Errorf("Space() after freeing = %+v", sp)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		if n := countTickets(t, s); n != created+1 {
			t.Errorf("after reopening: %d tickets, want %d", n, created+1)
		}
		s.Close()

	case "seed":
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if _, err := s.Create("alice", bigTicket(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

	case "open-full":
		// A few pages left: enough for Badger's lock file, not for its logs.
		fill(t, filler, 8<<10)
		t.Logf("disk full: %s free", sizeText(freeOf(t, mnt)))
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatalf("open on a full disk: %v", err)
		}
		if sp := s.Space(); !sp.ReadOnly || !sp.Low {
			t.Errorf("Space() = %+v, want read-only and low", sp)
		}
		if n := countTickets(t, s); n != 50 {
			t.Errorf("read %d tickets, want 50", n)
		}
		if b := firstBody(t, s, 50); !strings.Contains(b, "line 49 of a long mail") {
			t.Errorf("the mail of SD-50 reads %.40q", b)
		}
		_, err = s.Create("alice", bigTicket(50))
		checkDiskFull(t, err, dir)
		if !strings.Contains(err.Error(), "read-only") {
			t.Errorf("the refusal does not say the store is read-only: %v", err)
		}
		os.Remove(filler)
		if _, err := s.Create("alice", bigTicket(50)); err != nil {
			t.Fatalf("write after freeing space: %v", err)
		}
		if sp := s.Space(); sp.ReadOnly || sp.Low {
			t.Errorf("Space() after freeing = %+v", sp)
		}
		if n := countTickets(t, s); n != 51 {
			t.Errorf("read %d tickets after the write, want 51", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

	case "unclean-seed":
		// Like a desk killed while it ran: no Close, the WAL stays.
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create("alice", bigTicket(51)); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		fmt.Println("--- PASS: TestDiskChild (exiting without closing)")
		os.Exit(0)

	case "open-unclean":
		fill(t, filler, 0)
		_, err := openChild(t, dir)
		var dfe *DiskFullError
		if !errors.As(err, &dfe) || !dfe.Unclean || !strings.Contains(err.Error(), "nothing is lost") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("open of an unclean store on a full disk: %v", err)
		}
		t.Logf("refused: %v", err)
		os.Remove(filler)
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		if n := countTickets(t, s); n != 52 {
			t.Errorf("read %d tickets, want 52", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	case "close-full":
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		// Bodies under the value threshold stay in the memtable (and its
		// WAL): Close would flush megabytes into a table.
		for i := range 400 {
			nt := NewTicket{Subject: fmt.Sprintf("ticket %d", i), Message: &Message{Body: randHex(900)}}
			if _, err := s.Create("alice", nt); err != nil {
				t.Fatal(err)
			}
		}
		fill(t, filler, 0)
		err = s.Close()
		if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "nothing is lost") {
			t.Fatalf("close on a full disk: %v", err)
		}
		t.Log(err)
		if _, err := s.Get(1); err == nil {
			t.Error("the store can still be read after Close")
		}

	case "reopen":
		os.Remove(filler)
		s, err := openChild(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		if n := countTickets(t, s); n != 400 {
			t.Errorf("%d tickets after the reopen, want 400", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

	case "restore-full":
		restoreFullChild(t, mnt)
	default:
		t.Fatalf("unknown step %q", step)
	}
}
