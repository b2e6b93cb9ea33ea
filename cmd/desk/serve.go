package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	"github.com/charmbracelet/keygen"
	gossh "golang.org/x/crypto/ssh"

	"github.com/deskhq/desk/board"
	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
	"github.com/deskhq/desk/webhook"
)

const (
	defaultListen      = "127.0.0.1:2323"
	defaultIdleTimeout = 30 * time.Minute
	defaultMaxSessions = 100
	// A connection must finish logging in within this (OpenSSH's
	// LoginGraceTime, shorter: a desk operator's client answers at once).
	defaultLoginGrace = 30 * time.Second
	hostKeyName       = "ssh_host_ed25519_key"
	// How long shutdown waits for sessions to end before it cuts their
	// connections.
	shutdownGrace = 3 * time.Second
)

// serve runs `desk serve`: the one process that owns the store, runs the
// mail intake and the SLA board once, and gives every operator the console
// over SSH.
func (e *env) serve(listen string) error {
	logger, closeLog, err := e.logFile()
	if err != nil {
		return err
	}
	defer closeLog()
	// No soft limit while the board loads: a limit below what the loaded
	// board needs keeps the collector running through the whole load (at
	// 10^6 tickets most of the start-up was GC). setMemoryLimit sets it
	// after, from the live heap, and hands the loading peak back.
	_, explicitLimit := os.LookupEnv("GOMEMLIMIT")
	// The load only grows the heap, so a collection halfway finds little
	// to free: with a quarter of the collections (GOGC 400 instead of the
	// default 100 unless GOGC is set) the 10^6 start spends far less of
	// its two cores marking the same rows again and again.
	_, explicitGC := os.LookupEnv("GOGC")
	gc := 100
	if !explicitGC {
		gc = debug.SetGCPercent(400)
	}
	s, err := e.startServer(serveOptions{listen: listen, log: logger})
	if !explicitGC {
		debug.SetGCPercent(gc)
	}
	if err != nil {
		return err
	}
	if lim := setMemoryLimit(explicitLimit); lim > 0 {
		logger.Printf("serve: soft memory limit %d MiB (set GOMEMLIMIT to choose another)", lim>>20)
	}
	fmt.Fprintf(e.stderr, "desk serve: listening on %s, host key %s\n", s.Addr(), s.hostKeyFP)
	fmt.Fprintf(e.stderr, "desk serve: %s; log in %s\n", s.keysSummary(), filepath.Join(e.dataDir, "desk.log"))

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				msg, err := s.reload()
				if err != nil {
					fmt.Fprintf(e.stderr, "desk serve: reload failed, the old config stays: %v\n", err)
					s.log.Printf("serve: reload failed, the old config stays: %v", err)
				} else {
					fmt.Fprintf(e.stderr, "desk serve: %s\n", msg)
				}
				continue
			}
			fmt.Fprintf(e.stderr, "desk serve: %s: closing sessions and the store\n", sig)
			return s.Close()
		case err := <-s.serveErr:
			// The listener failed under us: close cleanly and say why.
			s.Close()
			return fmt.Errorf("ssh listener on %s stopped: %w", s.Addr(), err)
		}
	}
}

// serveOptions are what tests set besides the config.
type serveOptions struct {
	listen string         // overrides [serve] listen
	mail   *mailin.Config // overrides [mail] (tests and demos point at in-process servers)
	orgs   []mailin.Organisation
	log    *log.Logger
	// loginGrace overrides defaultLoginGrace (tests).
	loginGrace time.Duration
}

// server is a running `desk serve`.
type server struct {
	e     *env
	log   *log.Logger
	st    *store.Store
	board *board.Board
	svc   *mailin.Service
	index *searchIndex
	// stopMonitor ends the probes and the status page (at StatusAddr).
	stopMonitor func()
	StatusAddr  string
	ssh         *ssh.Server
	ln          net.Listener
	hostKeyFP   string
	serveErr    chan error

	cfg      atomic.Pointer[Config]
	auth     atomic.Pointer[authTable]
	reloadMu sync.Mutex

	idleTimeout time.Duration
	maxSessions int
	loginGrace  time.Duration

	boardCancel context.CancelFunc
	mailCancel  context.CancelFunc
	mailDone    chan struct{}

	mu       sync.Mutex
	closing  bool
	sessions map[*liveSession]struct{}
	drafts   map[string]*tui.Drafts // per operator: they outlive a dropped connection
	handlers sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// startServer opens the store, starts the board and the intake and listens.
// Close undoes all of it in order.
func (e *env) startServer(o serveOptions) (_ *server, err error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	auth, err := newAuthTable(cfg)
	if err != nil {
		return nil, err
	}
	logger := o.log
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &server{e: e, log: logger, sessions: map[*liveSession]struct{}{}, serveErr: make(chan error, 1)}
	s.cfg.Store(cfg)
	s.auth.Store(auth)
	s.idleTimeout = cfg.Serve.IdleTimeout.Duration
	if s.idleTimeout <= 0 {
		s.idleTimeout = defaultIdleTimeout
	}
	s.maxSessions = cfg.Serve.MaxSessions
	if s.maxSessions <= 0 {
		s.maxSessions = defaultMaxSessions
	}
	s.loginGrace = o.loginGrace
	if s.loginGrace <= 0 {
		s.loginGrace = defaultLoginGrace
	}
	listen := o.listen
	if listen == "" {
		listen = cfg.Serve.Listen
	}
	if listen == "" {
		listen = defaultListen
	}

	hostKey, fp, err := loadHostKey(e.dataDir)
	if err != nil {
		return nil, err
	}
	s.hostKeyFP = fp

	// The listener before the store: a port in use must not leave a
	// half-started server holding the data directory.
	s.ln, err = net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (another desk serve? choose another with --listen or [serve] listen)", listen, err)
	}
	defer func() {
		if err != nil {
			s.ln.Close()
		}
	}()

	// The holder names the address, so a local `desk list` can say which
	// ssh command reaches the store instead.
	began := time.Now()
	s.st, err = e.openStore(cfg, "desk serve on "+s.ln.Addr().String(), logger)
	if err != nil {
		return nil, err
	}
	opened := time.Now()
	defer func() {
		if err != nil {
			if s.boardCancel != nil {
				s.boardCancel()
			}
			s.st.Close()
		}
	}()
	var boardCtx context.Context
	boardCtx, s.boardCancel = context.WithCancel(context.Background())
	s.board, err = board.New(boardCtx, s.st, nil)
	if err != nil {
		return nil, fmt.Errorf("loading tickets: %w", err)
	}
	// How long a start takes, and where, for whoever waits for one.
	s.log.Printf("serve: store opened in %s, %d tickets loaded in %s", opened.Sub(began).Round(time.Millisecond),
		s.board.Snapshot().Rows.Len(), time.Since(opened).Round(time.Millisecond))
	go s.st.RunEscalations(boardCtx, escalationEvery)
	go (&webhook.Sender{St: s.st, Log: s.log}).Run(boardCtx, escalationEvery)
	s.index = startSearch(cfg, e.dataDir, s.st, logger)
	s.stopMonitor, s.StatusAddr = startMonitoring(cfg, s.st, logger)
	defer func() {
		if err != nil {
			s.stopMonitor()
			s.index.stop()
		}
	}()

	mailCfg := o.mail
	if mailCfg == nil {
		mailCfg = cfg.Mail
	}
	if mailCfg != nil {
		s.svc, err = newMailService(cfg, *mailCfg, s.st, logger, o.orgs)
		if err != nil {
			return nil, err
		}
	}

	s.ssh, err = wish.NewServer(
		wish.WithHostKeyPEM(hostKey),
		wish.WithPublicKeyAuth(s.publicKeyAllowed),
		// Idle connections that never authenticate, and clients that stop
		// reading (a console writes its clock every second), are cut after
		// this; idle operators are handled per session below.
		wish.WithIdleTimeout(s.idleTimeout+time.Minute),
		func(srv *ssh.Server) error {
			srv.ServerConfigCallback = s.sshConfig
			srv.ConnCallback = s.startLoginClock
			srv.ConnectionFailedCallback = func(c net.Conn, err error) {
				s.log.Printf("serve: connection from %s failed before a session: %v", c.RemoteAddr(), err)
			}
			srv.Handler = s.handle
			return nil
		},
	)
	if err != nil {
		return nil, fmt.Errorf("setting up the ssh server: %w", err)
	}

	if s.svc != nil {
		var mailCtx context.Context
		mailCtx, s.mailCancel = context.WithCancel(context.Background())
		s.mailDone = make(chan struct{})
		go func() {
			defer close(s.mailDone)
			if err := s.svc.Run(mailCtx); err != nil && mailCtx.Err() == nil {
				s.log.Printf("serve: mail intake stopped: %v", err)
			}
		}()
	}
	go func() {
		err := s.ssh.Serve(s.ln)
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if err != nil && !errors.Is(err, ssh.ErrServerClosed) && !closing {
			s.serveErr <- err
		}
	}()
	s.log.Printf("serve: listening on %s (host key %s); %s", s.Addr(), fp, s.keysSummary())
	return s, nil
}

// Addr is the address the server listens on (with the real port when the
// config asked for port 0).
func (s *server) Addr() string { return s.ln.Addr().String() }

func (s *server) keysSummary() string {
	a := s.auth.Load()
	if len(a.byKey) == 0 {
		return "no operator has a key in the config, so nobody can log in: add keys = [\"ssh-ed25519 ...\"] to [[operators]]"
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	return plural(len(a.byKey), "key", "keys") + " for " + plural(a.operators, "operator", "operators")
}

// minMemoryLimit is the design's budget for 100,000 tickets and 20 sessions.
const minMemoryLimit = 200 << 20

// setMemoryLimit gives the garbage collector a soft limit above what the
// loaded board needs, so that a desk much bigger than the design's does not
// grow to twice its live heap before a collection. It must not sit close
// to what the runtime holds anyway (the live heap, its fragmentation and
// the runtime's own ~1.25x): at 100,000 tickets a limit of live x 1.25 +
// 48 MB kept the collector and the scavenger busy near it, and a key over
// SSH took p95 32 ms against the empty app's 17; at live x 1.5 + 64 MB it
// takes 17 (BenchmarkServeKeyToScreen100k). An explicit GOMEMLIMIT wins.
// Returns the limit set, 0 when none.
func setMemoryLimit(explicit bool) int64 {
	if explicit {
		return 0
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	lim := max(int64(minMemoryLimit), int64(m.HeapAlloc)*3/2+64<<20)
	debug.SetMemoryLimit(lim)
	// Hand the loading peak back to the system now rather than over minutes.
	debug.FreeOSMemory()
	return lim
}

// loadHostKey reads the host key from the data dir, creating it on first
// start. Its fingerprint is what operators compare on their first login.
func loadHostKey(dir string) ([]byte, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating the data directory: %w", err)
	}
	path := filepath.Join(dir, hostKeyName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := keygen.New(path, keygen.WithKeyType(keygen.Ed25519), keygen.WithWrite()); err != nil {
			return nil, "", fmt.Errorf("creating the SSH host key %s: %w", path, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading the SSH host key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		// Whoever can read the host key can pose as this desk.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, "", fmt.Errorf("the SSH host key %s is readable by others and could not be restricted: %w", path, err)
		}
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading the SSH host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		return nil, "", fmt.Errorf("the SSH host key %s is not a readable private key (%v): move it away and a new one is made on the next start", path, err)
	}
	return pem, gossh.FingerprintSHA256(signer.PublicKey()), nil
}

// Close stops the server: intake first (so no mail is half registered),
// then every session (each console is told why), then the store.
func (s *server) Close() error {
	s.closeOnce.Do(func() {
		// Probes write to the store, and the status page reads it.
		s.stopMonitor()
		if s.mailCancel != nil {
			// Intake finishes the mail it is registering (one store
			// transaction each) and stops; a mail server that does not
			// answer must not keep the desk from shutting down.
			s.mailCancel()
			select {
			case <-s.mailDone:
			case <-time.After(10 * time.Second):
				s.log.Printf("serve: mail intake did not stop within 10s; closing anyway (a mail it was registering is fetched again on the next start)")
			}
		}
		s.mu.Lock()
		s.closing = true
		live := make([]*liveSession, 0, len(s.sessions))
		for ls := range s.sessions {
			live = append(live, ls)
		}
		s.mu.Unlock()
		// No new connections (an expired context makes Shutdown close the
		// listener without waiting for anyone).
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		s.ssh.Shutdown(expired)
		for _, ls := range live {
			ls.stop("desk serve is shutting down")
		}
		// Handlers hold the store; each console restores its terminal,
		// says why it closed and sends its exit status before it returns.
		done := make(chan struct{})
		go func() { s.handlers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(shutdownGrace):
			s.log.Printf("serve: sessions still running %s after shutdown began; cutting their connections", shutdownGrace)
		}
		// What is left are connections without a session: cut them, and
		// with them any handler stuck writing to a client that stopped reading.
		s.ssh.Close()
		select {
		case <-done:
		case <-time.After(shutdownGrace):
			s.log.Printf("serve: sessions still running after their connections were cut; closing the store anyway")
		}
		s.boardCancel()
		s.index.stop()
		s.closeErr = s.st.Close()
		s.log.Printf("serve: stopped")
	})
	return s.closeErr
}

// reload rereads the config: new operators and keys apply to the next
// login, the SLA policy at once. Open sessions stay.
// applyRoles brings open consoles in line with a reloaded config: an
// operator no longer listed is logged out at once (a leaver's key removed
// means no more access, not "until they disconnect"); a changed role applies
// to the open console from its next key.
func (s *server) applyRoles(nc *Config) (ended, changed int) {
	roles := map[string]tui.Role{}
	for _, o := range nc.Operators {
		if len(o.Keys) > 0 {
			roles[o.Name] = tui.Role(o.Role)
			if o.Role == "" {
				roles[o.Name] = tui.RoleOperator
			}
		}
	}
	s.mu.Lock()
	live := make([]*liveSession, 0, len(s.sessions))
	for ls := range s.sessions {
		live = append(live, ls)
	}
	s.mu.Unlock()
	for _, ls := range live {
		ls.mu.Lock()
		who := ls.who
		role, ok := roles[who.name]
		if ok && role != who.role {
			ls.who.role = role
		}
		ls.mu.Unlock()
		switch {
		case who.name == "":
		case !ok:
			ls.stop("the operator " + who.name + " is no longer in the config")
			ended++
		case role != who.role:
			ls.send(tui.RoleMsg{Role: role})
			changed++
		}
	}
	return ended, changed
}

func (s *server) reload() (string, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	// The keys are read before anything is applied: a config with a broken
	// key line changes nothing.
	var auth *authTable
	nc, err := s.e.reloadPolicy(s.st, func(c *Config) (err error) {
		auth, err = newAuthTable(c)
		return err
	})
	if err != nil {
		return "", err
	}
	s.cfg.Store(nc)
	s.auth.Store(auth)
	ended, changed := s.applyRoles(nc)
	msg := fmt.Sprintf("config reloaded: SLA policy applied, %s; %d open sessions changed role, %d ended ([serve] and [mail] changes need a restart)",
		s.keysSummary(), changed, ended)
	s.log.Printf("serve: %s", msg)
	return msg, nil
}

// draftsOf is the operator's draft store, shared by all their sessions.
func (s *server) draftsOf(name string) *tui.Drafts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drafts == nil {
		s.drafts = map[string]*tui.Drafts{}
	}
	d, ok := s.drafts[name]
	if !ok {
		d = tui.NewDrafts()
		s.drafts[name] = d
	}
	return d
}
