package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/deskhq/desk/tui"
)

// Permission extensions that carry who logged in from the verified key to
// the session.
const (
	extOperator = "desk-operator"
	extKey      = "desk-key"
)

// authTable maps public keys (wire form) to operators; one per config
// generation, swapped whole on reload.
type authTable struct {
	byKey     map[string]authEntry
	operators int // operators with at least one key
}

type authEntry struct {
	name string
	role tui.Role
}

// newAuthTable reads every operator's keys. A line that does not parse, or
// a key listed for two operators, is a config error: who is who must never
// be a guess.
func newAuthTable(cfg *Config) (*authTable, error) {
	a := &authTable{byKey: map[string]authEntry{}}
	for _, o := range cfg.Operators {
		role := tui.Role(o.Role)
		if role == "" {
			role = tui.RoleOperator
		}
		if len(o.Keys) > 0 {
			a.operators++
		}
		for i, line := range o.Keys {
			// LoadConfig has checked every line (parseOperatorKey); this
			// stays for a Config that did not come from a file.
			pub, err := parseOperatorKey(line)
			if err != nil {
				return nil, fmt.Errorf("config %s: operator %q, key %d: %v", dash(cfg.path), o.Name, i+1, err)
			}
			k := string(pub.Marshal())
			if prev, ok := a.byKey[k]; ok && prev.name != o.Name {
				return nil, fmt.Errorf("config %s: key %s is listed for both %q and %q: give each operator their own key",
					dash(cfg.path), gossh.FingerprintSHA256(pub), prev.name, o.Name)
			}
			a.byKey[k] = authEntry{name: o.Name, role: role}
		}
	}
	return a, nil
}

// publicKeyAllowed answers key queries and offers: only keys of the current
// config pass. No password or keyboard-interactive handler is installed, so
// those methods are refused by the SSH library itself.
func (s *server) publicKeyAllowed(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.auth.Load().byKey[string(key.Marshal())]; ok {
		return true
	}
	s.log.Printf("serve: refused key %s (user %q) from %s", gossh.FingerprintSHA256(key), ctx.User(), ctx.RemoteAddr())
	return false
}

type loginClockKey struct{}

// startLoginClock cuts a connection that has not logged in within the
// grace time: the connection-level idle timeout alone would let a client
// that trickles bytes, or never finishes the handshake, hold a goroutine
// and its buffers for half an hour.
func (s *server) startLoginClock(ctx ssh.Context, c net.Conn) net.Conn {
	t := time.AfterFunc(s.loginGrace, func() {
		s.log.Printf("serve: %s did not log in within %s; connection closed", c.RemoteAddr(), s.loginGrace)
		c.Close()
	})
	ctx.SetValue(loginClockKey{}, t)
	return c
}

// sshConfig adds what the SSH wrapper does not set. Its own public-key
// callback records the last key a client *offered*, which need not be the
// key it then signed with; the verified-key callback sees exactly the key
// whose signature was checked, so the operator's identity comes from there.
func (s *server) sshConfig(ctx ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		MaxAuthTries: 6,
		VerifiedPublicKeyCallback: func(conn gossh.ConnMetadata, key gossh.PublicKey, _ *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			ent, ok := s.auth.Load().byKey[string(key.Marshal())]
			if !ok {
				return nil, errors.New("key no longer in the config")
			}
			if t, ok := ctx.Value(loginClockKey{}).(*time.Timer); ok {
				t.Stop()
			}
			s.log.Printf("serve: %s logged in from %s with key %s", ent.name, conn.RemoteAddr(), gossh.FingerprintSHA256(key))
			return &gossh.Permissions{Extensions: map[string]string{extOperator: ent.name, extKey: string(key.Marshal())}}, nil
		},
	}
}

// operatorOf is who owns the session, checked against the config of now: a
// key removed by a reload after the login opens no new session.
func (s *server) operatorOf(sess ssh.Session) (authEntry, error) {
	conn, _ := sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	if conn == nil || conn.Permissions == nil {
		return authEntry{}, errors.New("no verified key for this connection")
	}
	name, key := conn.Permissions.Extensions[extOperator], conn.Permissions.Extensions[extKey]
	ent, ok := s.auth.Load().byKey[key]
	if name == "" || !ok || ent.name != name {
		return authEntry{}, fmt.Errorf("the key you logged in with is no longer listed for %q in the config", name)
	}
	return ent, nil
}
