package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"github.com/charmbracelet/keygen"
	gossh "golang.org/x/crypto/ssh"

	"github.com/deskhq/desk/store"
)

// go test -run '^$' -bench Serve -benchtime 300x ./cmd/desk/
// (the memory and idle-wire benchmarks measure once whatever -benchtime says)
//
// The server runs in a child process (this test binary re-run) on a store
// of 100,000 tickets, so its memory is its own and the client's work does
// not count as the server's.

const benchTickets = 100_000

// benchConfig writes a config with one operator. The search index is
// off: each benchmark's store is new, and indexing all of it for the first
// time (minutes at 10^6 tickets, see search's BenchmarkReindex) would be
// what they measure instead of the console.
func benchConfig(b *testing.B) (cfg string, op testOp) {
	op = newTestOp(b, "bench", "operator")
	cfg = filepath.Join(b.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte(configText([]testOp{op}, "[search]\nindex = false\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	return cfg, op
}

// benchStore builds a data dir of 100,000 active tickets with running
// clocks (a few seconds) and a config with one operator.
func benchStore(b *testing.B) (data, cfg string, op testOp) {
	b.Helper()
	cfg, op = benchConfig(b)
	c, err := LoadConfig(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := c.Policy()
	data = filepath.Join(b.TempDir(), "data")
	st, err := store.Open(data, store.Options{Policy: p})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchTickets; i += 8 {
				_, err := st.Create("bench", store.NewTicket{Type: store.Types[i%3], Priority: store.Priority(i%4 + 1), Queue: "2nd-line",
					Subject:   fmt.Sprintf("Printer on floor %d does not print colour pages since the update", i%40),
					Requester: store.Person{Name: fmt.Sprintf("Requester %d", i%997), Email: fmt.Sprintf("user%d@example.org", i%997)}})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return data, cfg, op
}

func (ch *child) dial(b testing.TB, op testOp) *gossh.Client {
	b.Helper()
	c, err := gossh.Dial("tcp", ch.addr, &gossh.ClientConfig{User: op.name, Auth: []gossh.AuthMethod{gossh.PublicKeys(op.signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: waitLimit})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// rssMB is a process's resident memory from /proc.
func rssMB(b *testing.B, pid int) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// liveHeapMB asks the child for its live heap after a collection.
func (ch *child) liveHeapMB(b *testing.B) float64 {
	live, _ := ch.heapMB(b)
	return live
}

// heapMB is the child's live heap after a collection and all it has
// allocated since it started, in MB.
func (ch *child) heapMB(b *testing.B) (live, total float64) {
	b.Helper()
	from := len(ch.log())
	ch.cmd.Process.Signal(syscall.SIGUSR1)
	re := regexp.MustCompile(`heap-live (\d+) total-alloc (\d+)`)
	deadline := time.After(waitLimit)
	for {
		if m := re.FindStringSubmatch(ch.log()[from:]); m != nil {
			l, _ := strconv.ParseFloat(m[1], 64)
			t, _ := strconv.ParseFloat(m[2], 64)
			return l / (1 << 20), t / (1 << 20)
		}
		select {
		case <-ch.more:
		case <-deadline:
			b.Fatal("the child did not report its heap")
		}
	}
}

// settle waits until the child's live heap holds still and returns it in
// MB. A freshly written store is compacted by Badger in the first seconds
// after open, with buffers of its own, and the escalation worker catches
// up with the steps due on the bulk-loaded tickets. (Badger holds its
// buffers for seconds at a time, so "still" is four equal readings a second
// apart.)
func (ch *child) settle(b *testing.B) float64 {
	heap, same := ch.liveHeapMB(b), 0
	for i := 0; i < 60 && same < 3; i++ {
		time.Sleep(time.Second)
		h := ch.liveHeapMB(b)
		if h > heap-2 && h < heap+2 {
			same++
		} else {
			same = 0
		}
		heap = h
	}
	return heap
}

// BenchmarkServeSessionMemory: desk serve with 100k tickets, with 0, 20 and
// 50 consoles open (80x24): the live heap after a collection (what a
// session really costs) and the resident size (what the system sees; it
// hovers near the soft memory limit, as the board's once-a-second
// evaluation of 100k clocks makes garbage).
func BenchmarkServeSessionMemory(b *testing.B) {
	data, cfg, op := benchStore(b)
	// Once, whatever b.N: the numbers are levels, not rates.
	ch := startChild(b, data, cfg)
	defer func() { ch.cmd.Process.Signal(os.Interrupt); ch.wait() }()
	pid := ch.cmd.Process.Pid
	heap0 := ch.settle(b)
	rss0 := rssMB(b, pid)
	var screens []*screen
	open := func(n int) (float64, float64) {
		for len(screens) < n {
			sc := openScreen(b, ch.dial(b, op), "bench", "xterm-256color", 80, 24)
			sc.waitFor(0, reReady)
			screens = append(screens, sc)
		}
		time.Sleep(3 * time.Second) // a few ticks with every session drawing
		return ch.liveHeapMB(b), rssMB(b, pid)
	}
	heap20, rss20 := open(20)
	heap50, rss50 := open(50)
	b.ReportMetric((heap50-heap0)*1024/50, "KB-heap-per-session")
	b.ReportMetric(heap0, "MB-heap-0")
	b.ReportMetric(heap20, "MB-heap-20")
	b.ReportMetric(rss0, "MB-RSS-0")
	b.ReportMetric(rss20, "MB-RSS-20")
	b.ReportMetric(rss50, "MB-RSS-50")
}

// keyToScreen presses j (the cursor moves one row down) and times until
// the newly selected row has arrived; reports p50 and p95.
func keyToScreen(b *testing.B, sc *screen) {
	b.Helper()
	sc.waitFor(0, reReady)
	time.Sleep(500 * time.Millisecond)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	// The v2 renderer writes only the cells that changed, so the raw
	// stream has no whole row to look for: the terminal emulator's screen
	// says where the selection (›) is.
	selected := func() int {
		for i, l := range strings.Split(sc.text(0), "\n") {
			if strings.HasPrefix(l, "›") {
				return i
			}
		}
		return -1
	}
	for range b.N {
		was := selected()
		start := time.Now()
		sc.keys("j")
		sc.waitUntil(0, "the selection moved", func(string) bool { r := selected(); return r >= 0 && r != was })
		lat = append(lat, time.Since(start))
		if selected() >= 20 {
			sc.keys("g") // back to the top, outside the timing
			sc.waitUntil(0, "the selection at the top", func(string) bool { return selected() >= 0 && selected() < 20 })
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkServeKeyToScreen100k: a key over loopback SSH to the changed
// screen, desk serve with 100,000 tickets.
func BenchmarkServeKeyToScreen100k(b *testing.B) {
	data, cfg, op := benchStore(b)
	ch := startChild(b, data, cfg)
	defer func() { ch.cmd.Process.Signal(os.Interrupt); ch.wait() }()
	ch.settle(b) // measured on a desk at work, not one catching up with its bulk load
	sc := openScreen(b, ch.dial(b, op), "bench", "xterm-256color", 80, 24)
	// What the console allocates decides how often the collector runs,
	// and a key pressed while it marks waits a frame or two.
	_, a0 := ch.heapMB(b)
	t0 := time.Now()
	keyToScreen(b, sc)
	_, a1 := ch.heapMB(b)
	b.ReportMetric((a1-a0)/time.Since(t0).Seconds(), "MB-alloc/s")
	time.Sleep(5 * time.Second)
	_, a2 := ch.heapMB(b)
	b.ReportMetric((a2-a1)/5, "MB-alloc/s-idle")
}

// BenchmarkServeKeyToScreenEmptyApp is the floor: the same measurement
// against a bubbletea app that draws nothing but a list of 22 rows, served
// by wish in a child process the same way.
func BenchmarkServeKeyToScreenEmptyApp(b *testing.B) {
	cfg, op := benchConfig(b)
	ch := startChild(b, b.TempDir(), cfg, "DESK_SERVE_CHILD=empty")
	defer func() { ch.cmd.Process.Kill(); ch.wait() }()
	sc := openScreen(b, ch.dial(b, op), "empty", "xterm-256color", 80, 24)
	keyToScreen(b, sc)
}

// BenchmarkServeIdleWire: bytes per second on the wire from an idle 80x24
// console over 10 s, 100,000 tickets with running countdowns.
func BenchmarkServeIdleWire(b *testing.B) {
	data, cfg, op := benchStore(b)
	ch := startChild(b, data, cfg)
	defer func() { ch.cmd.Process.Signal(os.Interrupt); ch.wait() }()
	sc := openScreen(b, ch.dial(b, op), "bench", "xterm-256color", 80, 24)
	sc.waitFor(0, reReady)
	time.Sleep(time.Second)
	// Once, whatever b.N: 10 s is the measurement.
	mark := sc.mark()
	time.Sleep(10 * time.Second)
	b.ReportMetric(float64(sc.mark()-mark)/10, "wire-B/s")
}

// emptyModel is the comparison app: a cursor over 22 rows.
type emptyModel struct{ cursor, w, h int }

func (m emptyModel) Init() tea.Cmd { return nil }

func (m emptyModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyPressMsg:
		switch msg.String() {
		case "j":
			m.cursor = (m.cursor + 1) % 22
		case "g":
			m.cursor = 0
		case "q":
			return m, tea.Quit
		}
	}
	return m, nil
}

func (m emptyModel) View() tea.View {
	var b strings.Builder
	b.WriteString("Unassigned 0\n")
	for i := range 22 {
		line := fmt.Sprintf("SD-%d  P3 INC new  a row of the empty app", i+1)
		if i == m.cursor {
			line = "\x1b[7m›" + line + "\x1b[0m"
		}
		b.WriteString(line + "\n")
	}
	v := tea.NewView(b.String())
	v.AltScreen = true
	return v
}

// runEmptyApp serves emptyModel (child of BenchmarkServeKeyToScreenEmptyApp).
func runEmptyApp() int {
	// A host key in memory: without one wish writes id_ed25519 into the
	// working directory.
	k, err := keygen.New("", keygen.WithKeyType(keygen.Ed25519))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := wish.NewServer(wish.WithHostKeyPEM(k.RawPrivateKey()),
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		func(s *ssh.Server) error {
			s.Handler = func(sess ssh.Session) {
				pty, winch, _ := sess.Pty()
				p := tea.NewProgram(emptyModel{}, tea.WithInput(sess), tea.WithOutput(sess), tea.WithoutSignalHandler(),
					tea.WithWindowSize(pty.Window.Width, pty.Window.Height), tea.WithEnvironment(append(sess.Environ(), "TERM="+pty.Term)))
				go func() {
					for w := range winch {
						p.Send(clampSize(w))
					}
				}()
				p.Run()
			}
			return nil
		})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "desk serve: listening on %s, empty app\n", ln.Addr())
	srv.Serve(ln)
	return 0
}

// wireStore is a data dir of n P1 incidents registered ago(i) before now,
// and a config with one operator.
func wireStore(b *testing.B, n int, ago func(i int) time.Duration) (data, cfg string, op testOp) {
	b.Helper()
	cfg, op = benchConfig(b)
	c, err := LoadConfig(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := c.Policy()
	data = filepath.Join(b.TempDir(), "data")
	var at time.Time
	st, err := store.Open(data, store.Options{Policy: p, Now: func() time.Time { return at }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for i := range n {
		at = now.Add(-ago(i))
		if _, err := st.Create("bench", store.NewTicket{Type: store.Incident, Priority: 1, Queue: "2nd-line",
			Subject:   fmt.Sprintf("Core switch %d in building %d drops packets", i, i%7),
			Requester: store.Person{Name: fmt.Sprintf("Requester %d", i), Email: fmt.Sprintf("user%d@example.org", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	return data, cfg, op
}

// wireRate is the bytes per second a 120x40 console sends over 10 s once
// it has settled.
func wireRate(b *testing.B, data, cfg string, op testOp) float64 {
	ch := startChild(b, data, cfg)
	defer func() { ch.cmd.Process.Signal(os.Interrupt); ch.wait() }()
	sc := openScreen(b, ch.dial(b, op), "wire", "xterm-256color", 120, 40)
	sc.waitFor(0, reReady)
	time.Sleep(3 * time.Second) // the late escalation steps of the back-dated tickets fire first
	mark := sc.mark()
	time.Sleep(10 * time.Second)
	rate := float64(sc.mark()-mark) / 10
	lines := strings.Split(sc.text(0), "\n")
	b.Logf("the screen measured (first rows):\n%s", strings.Join(lines[:min(8, len(lines))], "\n"))
	return rate
}

// BenchmarkServeWireCountdowns: a 120x40 screen full of P1 response clocks
// with 1-4 minutes left (seconds shown), and one of clocks breached two
// days ago (minutes shown): bytes per second on the wire over 10 s.
func BenchmarkServeWireCountdowns(b *testing.B) {
	b.Run("under-5m", func(b *testing.B) {
		// P1 response 15m: registered 11-14 minutes ago.
		data, cfg, op := wireStore(b, 60, func(i int) time.Duration { return 11*time.Minute + time.Duration(i%180)*time.Second })
		b.ReportMetric(wireRate(b, data, cfg, op), "wire-B/s")
	})
	b.Run("breached-long-ago", func(b *testing.B) {
		data, cfg, op := wireStore(b, 60, func(i int) time.Duration { return 48*time.Hour + time.Duration(i)*time.Minute })
		b.ReportMetric(wireRate(b, data, cfg, op), "wire-B/s")
	})
}

// BenchmarkServeStart1M: desk serve on a store of 1,000,000 active
// tickets: process start to the first screen over SSH (right after the
// bulk load, and again on the settled store), and the CPU the process
// uses while idle with no session, over 10 s.
func BenchmarkServeStart1M(b *testing.B) {
	cfg, op := benchConfig(b)
	c, err := LoadConfig(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := c.Policy()
	data := filepath.Join(b.TempDir(), "data")
	st, err := store.Open(data, store.Options{Policy: p})
	if err != nil {
		b.Fatal(err)
	}
	const n, chunk = 1_000_000, 2000
	for from := 0; from < n; from += chunk {
		ins := make([]store.Intake, 0, chunk)
		for i := from; i < from+chunk; i++ {
			ins = append(ins, store.Intake{Key: fmt.Sprintf("bench-%d@desk.test", i), NoSync: true, New: &store.NewTicket{
				// P3/P4: no ladder step is due at start (P1/P2 would fire
				// 10^6/2 registration steps, a write each, and the
				// measurement would be of that catching up).
				Type: store.Types[i%3], Priority: store.Priority(i%2 + 3), Queue: "2nd-line",
				Subject:   fmt.Sprintf("Printer on floor %d does not print colour pages since the update", i%40),
				Requester: store.Person{Name: fmt.Sprintf("Requester %d", i%997), Email: fmt.Sprintf("user%d@example.org", i%997)}}})
		}
		if _, err := st.RegisterMails("bench", ins); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	// Twice: the first start finds the store as the bulk load left it,
	// with Badger compacting it while the board loads (as after a
	// migration); the second finds it as a desk in use does.
	firstScreen := func() (*child, float64) {
		start := time.Now()
		ch := startChild(b, data, cfg)
		client := ch.dial(b, op)
		sc := openScreen(b, client, "start", "xterm-256color", 80, 24)
		sc.waitFor(0, reReady)
		took := time.Since(start).Seconds()
		sc.sess.Close()
		client.Close()
		return ch, took
	}
	ch, fresh := firstScreen()
	time.Sleep(20 * time.Second) // the compactions of the bulk load finish
	ch.cmd.Process.Signal(os.Interrupt)
	ch.wait()
	ch, settled := firstScreen()
	defer func() { ch.cmd.Process.Signal(os.Interrupt); ch.wait() }()
	b.ReportMetric(fresh, "s-to-first-screen-after-bulk-load")
	b.ReportMetric(settled, "s-to-first-screen")
	time.Sleep(5 * time.Second)
	cpu := func() float64 {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ch.cmd.Process.Pid))
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		stt, _ := strconv.ParseFloat(f[12], 64)
		return (ut + stt) / 100 // clock ticks at USER_HZ 100
	}
	c0, t0 := cpu(), time.Now()
	time.Sleep(10 * time.Second)
	b.ReportMetric(100*(cpu()-c0)/time.Since(t0).Seconds(), "%core-idle")
}
