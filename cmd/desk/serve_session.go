package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"

	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// Terminal sizes: a PTY request may carry 0x0 (some clients never say) or
// absurd values (a hostile client); both are replaced so one session cannot
// make the server lay out a screen of a million cells.
const (
	defaultCols, defaultRows = 80, 24
	maxCols, maxRows         = 1000, 500
)

// liveSession is one open SSH session, for shutdown and the session limit.
type liveSession struct {
	mu     sync.Mutex
	p      *tea.Program // nil for commands
	reason string       // why the server ended the console, told after it closed
	who    authEntry    // the operator and the role the session runs with
}

// send hands a message to a running console (nil program: not yet, or a
// command: nothing to do).
func (ls *liveSession) send(msg tea.Msg) {
	ls.mu.Lock()
	p := ls.p
	ls.mu.Unlock()
	if p != nil {
		go p.Send(msg) // Send blocks until the program's loop reads it
	}
}

// stop ends a console from outside (shutdown, idle); commands finish on
// their own.
func (ls *liveSession) stop(reason string) {
	ls.mu.Lock()
	if ls.reason == "" {
		ls.reason = reason
	}
	p := ls.p
	ls.mu.Unlock()
	if p != nil {
		go p.Quit() // Quit blocks until the program's loop reads it
	}
}

func (ls *liveSession) why() string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.reason
}

// admit registers a session unless the server is closing or full.
func (s *server) admit(ls *liveSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("desk serve is shutting down; try again in a minute")
	case len(s.sessions) >= s.maxSessions:
		return fmt.Errorf("desk serve already has %d sessions open, its limit ([serve] max_sessions); try again later", len(s.sessions))
	}
	s.sessions[ls] = struct{}{}
	s.handlers.Add(1)
	return nil
}

func (s *server) release(ls *liveSession) {
	s.mu.Lock()
	delete(s.sessions, ls)
	s.mu.Unlock()
	s.handlers.Done()
}

// handle is every session: a command when one is given, else the console.
func (s *server) handle(sess ssh.Session) {
	defer func() {
		// One session's bug must not take the desk down for everyone.
		if r := recover(); r != nil {
			s.log.Printf("serve: session of %s panicked: %v", sess.User(), r)
			fmt.Fprintln(sess.Stderr(), "desk: internal error; the server log has details")
			sess.Exit(70)
		}
	}()
	who, err := s.operatorOf(sess)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "desk: %v\r\n", err)
		sess.Exit(1)
		return
	}
	ls := &liveSession{who: who}
	if err := s.admit(ls); err != nil {
		fmt.Fprintf(sess.Stderr(), "desk: %v\r\n", err)
		sess.Exit(1)
		return
	}
	defer s.release(ls)
	cmd := sess.Command()
	_, _, isPty := sess.Pty()
	switch {
	case len(cmd) > 0:
		sess.Exit(s.command(sess.Context(), sess, sess, sess.Stderr(), who, cmd))
	case !isPty:
		fmt.Fprint(sess.Stderr(), "desk: the console needs a terminal: ssh -t (OpenSSH allocates one unless told -T),\n"+
			"or give a command:\n"+sshHelp())
		sess.Exit(2)
	default:
		s.console(sess, who, ls)
	}
}

// sessionEnv is the client's environment: only what the client sent
// (LANG, NO_COLOR, COLORTERM, COLORFGBG when its SendEnv allows) and the
// PTY's TERM, never the server's own. The session's program detects its
// colour profile from this alone, so each operator gets colours for their
// own terminal and no session changes another's.
func sessionEnv(sess ssh.Session, term string) []string {
	env := colourEnv(sess.Environ())
	return append(env, "TERM="+term)
}

// colourEnv makes NO_COLOR mean what no-color.org says: set to anything
// but empty, colour is off (the profile detection reads it as a boolean,
// so NO_COLOR=yes would otherwise be ignored).
func colourEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "NO_COLOR" {
			if v != "" {
				out = append(out, "NO_COLOR=1")
			}
			continue
		}
		out = append(out, kv)
	}
	return out
}

// colourProfile is the detected profile, except that the DEC terminals
// (vt100, vt220…) get none: they show attributes (bold, reverse) but no
// colour, which the detection, knowing only xterm and friends, assumes.
func colourProfile(p colorprofile.Profile, term string) colorprofile.Profile {
	if strings.HasPrefix(term, "vt") && p > colorprofile.Ascii {
		return colorprofile.Ascii
	}
	return p
}

func getenv(env []string, k string) string {
	for _, kv := range env {
		if key, v, ok := strings.Cut(kv, "="); ok && key == k {
			return v
		}
	}
	return ""
}

// idleReader notes when the operator last typed: the console writes every
// second (its clock), so the connection itself is never idle.
type idleReader struct {
	r    io.Reader
	last atomic.Int64
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func (i *idleReader) idleFor() time.Duration { return time.Since(time.Unix(0, i.last.Load())) }

func clampSize(w ssh.Window) tea.WindowSizeMsg {
	c, r := w.Width, w.Height
	if c <= 0 {
		c = defaultCols
	}
	if r <= 0 {
		r = defaultRows
	}
	return tea.WindowSizeMsg{Width: min(c, maxCols), Height: min(r, maxRows)}
}

// console runs the full console for one operator on the session's PTY.
func (s *server) console(sess ssh.Session, who authEntry, ls *liveSession) {
	pty, winch, _ := sess.Pty()
	cfg := s.cfg.Load()
	ops := cfg.OperatorNames()
	env := sessionEnv(sess, pty.Term)
	o := tui.Options{
		Store: s.st, Board: s.board, Dark: tui.DarkFromColorFGBG(getenv(env, "COLORFGBG")), Location: cfg.displayZone(),
		Operator: who.name, Role: who.role, Operators: ops, Teams: cfg.TeamList(), Queues: cfg.QueueList(),
		StoreName: s.e.dataDir, MailStatus: mailStatus(s.svc), Drafts: s.draftsOf(who.name), Bell: cfg.bellOf(who.name), Search: s.index.search, Similar: s.index.similar, Solutions: s.index.solutions,
	}
	if who.role == tui.RoleLead {
		o.Report = func(month string) (string, error) { return reportText(s.st, month, cfg.displayZone()) }
		o.Reload = s.reload
		o.ReleaseMail = func(id uint64, actor string) (store.Ticket, error) {
			return releaseQuarantined(s.st, s.cfg.Load(), id, actor)
		}
	}
	m := tui.New(o)
	defer m.Close()

	in := &idleReader{r: sess}
	in.last.Store(time.Now().UnixNano())
	size := clampSize(pty.Window)
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(sess),
		tea.WithEnvironment(env), tea.WithColorProfile(colourProfile(colorprofile.Env(env), pty.Term)),
		tea.WithWindowSize(size.Width, size.Height),
		// Signals belong to the server (SIGTERM closes every session in order).
		tea.WithoutSignalHandler(),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if _, ok := msg.(tea.SuspendMsg); ok {
				return tea.ResumeMsg{} // ctrl+z over SSH would stop the server's program
			}
			return msg
		}))
	ls.mu.Lock()
	ls.p = p
	stopped := ls.reason != ""
	ls.mu.Unlock()
	if stopped {
		return // shutdown began between admit and here
	}

	done := make(chan struct{})
	defer close(done)
	go func() {
		// The first size is already queued by the PTY request. The channel
		// must be drained for the session's life: an unread resize blocks
		// every later request on the session.
		for {
			select {
			case <-done:
				return
			case <-sess.Context().Done():
				p.Quit()
				return
			case w, ok := <-winch:
				if !ok {
					return
				}
				p.Send(clampSize(w))
			}
		}
	}()
	go func() {
		check := min(s.idleTimeout/4, time.Minute)
		t := time.NewTicker(check)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if in.idleFor() >= s.idleTimeout {
					s.log.Printf("serve: %s idle for %s, session closed", who.name, s.idleTimeout)
					ls.stop(fmt.Sprintf("no key pressed for %s ([serve] idle_timeout)", s.idleTimeout))
					return
				}
			}
		}
	}()

	start := time.Now()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		s.log.Printf("serve: console of %s ended: %v", who.name, err)
	}
	if why := ls.why(); why != "" {
		fmt.Fprintf(sess, "desk: session closed: %s. Everything you saved is kept; unsent notes and replies wait as drafts for your next login.\n", why)
	}
	s.log.Printf("serve: %s closed the console after %s", who.name, time.Since(start).Round(time.Second))
	// Before the handler counts as done, so shutdown cuts no one's exit status.
	sess.Exit(0)
}
