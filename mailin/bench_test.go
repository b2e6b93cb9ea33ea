package mailin

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// benchMails are 1,000 mails of mixed sizes: short notes, long threads
// quoted back, HTML-only mails and attachments up to ~200 KB.
func benchMails() [][]byte {
	out := make([][]byte, 1000)
	for i := range out {
		var body string
		hdr := []string{fmt.Sprintf("Message-ID: <bench-%d@load.example>", i)}
		switch i % 10 {
		case 0, 1, 2, 3:
			body = fmt.Sprintf("Hej,\n\nprinter %d virker ikke. Mvh.\n", i)
		case 4, 5:
			body = strings.Repeat("> quoted earlier mail in the thread, line after line of it\n", 40+i%200)
		case 6:
			hdr = append(hdr, "Content-Type: text/html; charset=utf-8")
			body = strings.Repeat("<p>Status <b>down</b> since <i>09:40</i>; see <a href='https://status.example'>status</a></p>\n", 30+i%50)
		default:
			raw := make([]byte, 2000+(i%9)*20000)
			for j := range raw {
				raw[j] = byte(i + j*7)
			}
			out[i] = []byte(fmt.Sprintf("From: user%d@load.example\r\nTo: support@desk.test\r\nSubject: log %d\r\nMessage-ID: <bench-%d@load.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nLog attached.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=log%d.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
				i, i, i, i, wrap76(base64.StdEncoding.EncodeToString(raw))))
			continue
		}
		m := mk(fmt.Sprintf("User %d <user%d@load.example>", i, i), fmt.Sprintf("bench %d", i), body, hdr...)
		if i%10 == 6 {
			m = strings.Replace(m, "Content-Type: text/plain; charset=utf-8\r\n", "", 1)
		}
		out[i] = []byte(m)
	}
	return out
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// BenchmarkDovecot compares intake (fetch, parse, thread, register, one
// synced commit per chunk, flag \Seen) with a plain go-imap client pulling
// the same 1,000 mails raw. Run with:
//
//	go test ./mailin -run XXX -bench Dovecot -benchtime 3x
func BenchmarkDovecot(b *testing.B) {
	d := startDovecot(b)
	mails := benchMails()
	d.drop(b, mails)
	var size int
	for _, m := range mails {
		size += len(m)
	}
	if n := rawFetch(b, d); n != len(mails) { // also lets Dovecot build its index first
		b.Fatalf("raw fetch saw %d mails", n)
	}
	b.Run("raw", func(b *testing.B) {
		b.SetBytes(int64(size))
		start := time.Now()
		for range b.N {
			rawFetch(b, d)
		}
		b.ReportMetric(float64(len(mails)*b.N)/time.Since(start).Seconds(), "mails/s")
	})
	b.Run("intake", func(b *testing.B) {
		b.SetBytes(int64(size))
		var took time.Duration
		for range b.N {
			b.StopTimer()
			clk := &clock{t: time.Now()}
			st := openStore(b, b.TempDir(), clk)
			cfg := d.config()
			cfg.AutoPerDay = 1 << 20
			svc, err := New(cfg, st, Options{Now: clk.Now})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			c, sel, err := svc.connect(context.Background(), nil)
			if err != nil {
				b.Fatal(err)
			}
			var stats Stats
			if err := svc.sync(context.Background(), c, sel, &stats); err != nil {
				b.Fatal(err)
			}
			c.Close()
			took += time.Since(start)
			b.StopTimer()
			if stats.Registered != len(mails) {
				b.Fatalf("registered %d of %d", stats.Registered, len(mails))
			}
			st.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(mails)*b.N)/took.Seconds(), "mails/s")
	})
}

func rawFetch(b testing.TB, d *dovecot) int {
	c, err := imapclient.DialInsecure(d.addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "secret").Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	n := 0
	for {
		m := cmd.Next()
		if m == nil {
			break
		}
		for {
			item := m.Next()
			if item == nil {
				break
			}
			if bs, ok := item.(imapclient.FetchItemDataBodySection); ok {
				io.Copy(io.Discard, bs.Literal)
				n++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}
