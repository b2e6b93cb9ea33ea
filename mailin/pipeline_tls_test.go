package mailin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/deskhq/desk/store"
)

// selfSigned is a certificate for 127.0.0.1 and a client config that
// trusts only it.
func selfSigned(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// TestOutboxOverTLS: STARTTLS (done by desk itself, so that the TLS
// connection can be pipelined) and implicit TLS both deliver every mail,
// pipelined, and the server really saw TLS.
func TestOutboxOverTLS(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		name := "starttls"
		if implicit {
			name = "smtps"
		}
		t.Run(name, func(t *testing.T) {
			srvTLS, cliTLS := selfSigned(t)
			k := &policySink{got: map[string]int{}}
			var sawTLS, sawPlain int
			var mu sync.Mutex
			srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
				return &tlsSession{policySession{k: k}, func() {
					mu.Lock()
					defer mu.Unlock()
					if _, ok := c.TLSConnectionState(); ok {
						sawTLS++
					} else {
						sawPlain++
					}
				}}, nil
			}))
			srv.Domain = "localhost"
			srv.ErrorLog = quiet
			srv.TLSConfig = srvTLS
			var ln net.Listener
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			if implicit {
				ln = tls.NewListener(ln, srvTLS)
			}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
			r := newRig(t, func(c *Config, o *Options) {
				c.SMTP = "smtp://" + addr
				if implicit {
					c.SMTP = "smtps://" + addr
				}
				c.StartTLS = !implicit
				o.TLSConfig = cliTLS
			})
			for _, to := range []string{"a@x.example", "b@x.example", "c@x.example"} {
				if _, err := r.st.Enqueue(store.OutMail{Kind: "reply", To: []string{to}, Subject: "s", Body: "b"}); err != nil {
					t.Fatal(err)
				}
			}
			sent, failed, err := r.svc.flush(context.Background())
			if sent != 3 || failed != 0 || err != nil {
				t.Fatalf("sent %d failed %d: %v", sent, failed, err)
			}
			if sc, pipe := dialCheck(t, r.svc); !pipe {
				t.Errorf("not pipelined over TLS: %+v", sc)
			}
			for _, to := range []string{"a@x.example", "b@x.example", "c@x.example"} {
				if n := k.count(to); n != 1 {
					t.Errorf("%s got %d mails", to, n)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if sawPlain > 0 || sawTLS != 3 {
				t.Errorf("%d mails over TLS, %d without; want all 3 over TLS", sawTLS, sawPlain)
			}
		})
	}
}

// tlsSession is a policySession that notes, for each mail, whether its
// connection was under TLS.
type tlsSession struct {
	policySession
	note func()
}

func (s *tlsSession) Data(r io.Reader) error {
	s.note()
	return s.policySession.Data(r)
}
