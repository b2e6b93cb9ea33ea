package mailin

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// onceMails are benchMails made more like a real support mailbox: replies
// threading onto earlier mails, out-of-office answers (registered, never
// acknowledged), mails without a Message-ID (deduped by content hash) and
// the odd mails of testdata/mails (bad charsets, broken MIME, no headers).
func onceMails(t testing.TB) [][]byte {
	mails := benchMails()
	files, err := filepath.Glob(filepath.Join("testdata", "mails", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/mails: %v", err)
	}
	sort.Strings(files)
	msgID := regexp.MustCompile(`(?im)^message-id:.*\r?\n`)
	k := 0
	for i := range mails {
		switch {
		case i%25 == 9:
			raw, err := os.ReadFile(files[k%len(files)])
			if err != nil {
				t.Fatal(err)
			}
			k++
			raw = msgID.ReplaceAll(raw, nil)
			mails[i] = append([]byte(fmt.Sprintf("Message-ID: <odd-%d@load.example>\r\n", i)), raw...)
		case i%20 == 13:
			j := i - 13 // a short note of the same sender's earlier mail
			mails[i] = []byte(mk(fmt.Sprintf("User %d <user%d@load.example>", j, j), fmt.Sprintf("Re: bench %d", j),
				"Any news?\n\n> printer virker ikke\n", fmt.Sprintf("Message-ID: <reply-%d@load.example>", i),
				fmt.Sprintf("In-Reply-To: <bench-%d@load.example>", j), fmt.Sprintf("References: <bench-%d@load.example>", j)))
		case i%50 == 17:
			mails[i] = []byte(mk(fmt.Sprintf("away%d@load.example", i), "Out of office", "Back on Monday.",
				fmt.Sprintf("Message-ID: <ooo-%d@load.example>", i), "Auto-Submitted: auto-replied"))
		case i%33 == 1:
			mails[i] = []byte(strings.Replace(string(mails[i]), fmt.Sprintf("Message-ID: <bench-%d@load.example>\r\n", i), "", 1))
		}
	}
	return mails
}

// countingSink is an SMTP server that accepts every mail and keeps only a
// count: the sink's own cost stays out of the measurement.
type countingSink struct {
	addr string
	srv  *smtp.Server
	n    atomic.Int64
	// delay, when set, is how long each DATA takes (a slow server).
	delay time.Duration
}

func startCountingSink(t testing.TB, delay time.Duration) *countingSink {
	t.Helper()
	k := &countingSink{delay: delay}
	k.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return countSession{k}, nil }))
	k.srv.Domain = "localhost"
	k.srv.ErrorLog = quiet
	k.srv.MaxMessageBytes = 32 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go k.srv.Serve(ln)
	k.addr = ln.Addr().String()
	t.Cleanup(func() { k.srv.Close() })
	return k
}

type countSession struct{ k *countingSink }

func (countSession) Reset()                               {}
func (countSession) Logout() error                        { return nil }
func (countSession) Mail(string, *smtp.MailOptions) error { return nil }
func (countSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s countSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if s.k.delay > 0 {
		time.Sleep(s.k.delay)
	}
	s.k.n.Add(1)
	return nil
}

// BenchmarkMailOnce is the end-to-end measure, side by side with
// its baseline on the same Dovecot: a plain go-imap client pulling the
// mailbox's 1,000 mixed mails raw (UID FETCH of whole bodies), and what
// `desk mail --once` does with them (Service.Once: fetch, parse, thread,
// register, flag \Seen, then send every acknowledgement to an SMTP server
// that accepts). Reported: both rates, desk's as a percentage of the raw
// pull (the target is at least 50), the store's disk syncs per run and the
// acknowledgements sent per run.
//
//	go test ./mailin -run '^$' -bench MailOnce -benchtime 3x
func BenchmarkMailOnce(b *testing.B) {
	d := startDovecot(b) // skips, saying why, without dovecot or root
	mails := onceMails(b)
	d.drop(b, mails)
	if n := rawFetch(b, d); n != len(mails) { // also lets Dovecot build its index first
		b.Fatalf("raw fetch saw %d mails", n)
	}
	sink := startCountingSink(b, 0)
	var rawTook, deskTook time.Duration
	var syncs uint64
	var acks int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		start := time.Now()
		if n := rawFetch(b, d); n != len(mails) {
			b.Fatalf("raw fetch saw %d mails", n)
		}
		rawTook += time.Since(start)

		clk := &clock{t: time.Now()}
		st := openStore(b, b.TempDir(), clk)
		cfg := d.config()
		cfg.SMTP = "smtp://" + sink.addr
		svc, err := New(cfg, st, Options{Now: clk.Now})
		if err != nil {
			b.Fatal(err)
		}
		before, sent0 := st.Syncs(), sink.n.Load()
		b.StartTimer()
		start = time.Now()
		stats, err := svc.Once(context.Background())
		took := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		deskTook += took
		syncs += st.Syncs() - before
		acks += sink.n.Load() - sent0
		if got := stats.Registered + stats.Duplicates; got < len(mails)*9/10 || stats.Sent < len(mails)*8/10 {
			b.Fatalf("desk mail --once: %+v of %d mails", stats, len(mails))
		}
		st.Close()
	}
	n := float64(len(mails) * b.N)
	raw, desk := n/rawTook.Seconds(), n/deskTook.Seconds()
	b.ReportMetric(raw, "raw-msg/s")
	b.ReportMetric(desk, "mails/s")
	b.ReportMetric(100*desk/raw, "%-of-raw")
	b.ReportMetric(float64(syncs)/float64(b.N), "syncs/run")
	b.ReportMetric(float64(acks)/float64(b.N), "acks/run")
}

// BenchmarkMailOnceBinary is BenchmarkMailOnce with the real binary: each
// run is a fresh `desk mail --once` process (start-up and store opening
// included) on the same Dovecot mailbox, beside the raw pull. When strace is
// installed, one more run is traced and the disk syncs it made (fsync,
// fdatasync, msync) are reported per run.
//
//	go test ./mailin -run '^$' -bench MailOnceBinary -benchtime 3x
func BenchmarkMailOnceBinary(b *testing.B) {
	d := startDovecot(b)
	if _, err := os.Stat(filepath.Join("..", "cmd", "desk", "main.go")); err != nil {
		b.Skip("cmd/desk is not there: this benchmark runs `desk mail --once`")
	}
	mails := onceMails(b)
	d.drop(b, mails)
	if n := rawFetch(b, d); n != len(mails) {
		b.Fatalf("raw fetch saw %d mails", n)
	}
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "desk")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/desk").CombinedOutput(); err != nil {
		b.Fatalf("build cmd/desk: %v\n%s", err, out)
	}
	sink := startCountingSink(b, 0)
	conf := filepath.Join(tmp, "desk.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[mail]
imap = %q
smtp = %q
address = "support@desk.test"
password_env = "MAILIN_BENCH_PASSWORD"
start_from = "all"
`, d.config().IMAP, "smtp://"+sink.addr)), 0o600)
	once := func(data string, wrap ...string) []byte {
		args := append(wrap, bin, "--data", data, "--config", conf, "mail", "--once")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "MAILIN_BENCH_PASSWORD=secret")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("desk mail --once: %v\n%s", err, out)
		}
		return out
	}
	var rawTook, deskTook time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		start := time.Now()
		rawFetch(b, d)
		rawTook += time.Since(start)
		data := filepath.Join(tmp, fmt.Sprintf("data%d", i))
		b.StartTimer()
		start = time.Now()
		out := once(data)
		deskTook += time.Since(start)
		b.StopTimer()
		// Every mail is registered or (bounces of mail this desk never
		// sent) quarantined.
		var reg, dup, quar int
		if _, err := fmt.Sscanf(lastLine(string(out)), "registered %d, duplicates %d, quarantined %d", &reg, &dup, &quar); err != nil || reg+dup+quar != 1000 {
			b.Fatalf("desk mail --once: %s", out)
		}
	}
	n := float64(len(mails) * b.N)
	raw, desk := n/rawTook.Seconds(), n/deskTook.Seconds()
	b.ReportMetric(raw, "raw-msg/s")
	b.ReportMetric(desk, "mails/s")
	b.ReportMetric(100*desk/raw, "%-of-raw")
	if _, err := exec.LookPath("strace"); err == nil {
		trace := filepath.Join(tmp, "strace.out")
		once(filepath.Join(tmp, "traced"), "strace", "-f", "-c", "-o", trace, "-e", "trace=fsync,fdatasync,msync")
		counts, _ := os.ReadFile(trace)
		syncs := 0
		for _, l := range strings.Split(string(counts), "\n") {
			f := strings.Fields(l)
			if len(f) >= 5 && (f[len(f)-1] == "fsync" || f[len(f)-1] == "fdatasync" || f[len(f)-1] == "msync") {
				var c int
				fmt.Sscan(f[3], &c)
				syncs += c
			}
		}
		b.ReportMetric(float64(syncs), "fsyncs/run")
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}
