package termtext

import (
	"strings"
	"testing"
	"unicode"
)

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Printer on floor 3 is down", "Printer on floor 3 is down"},
		{"danish", "Æblegrød på Ærø", "Æblegrød på Ærø"},
		{"csi colour", "\x1b[31mred\x1b[0m alert", "red alert"},
		{"clear screen", "hi\x1b[2J\x1b[H there", "hi there"},
		{"osc title", "\x1b]0;pwned\x07subject", "subject"},
		{"osc8 link", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"bell and backspace", "a\x07b\x08c", "abc"},
		{"c1 csi", "x\u009b31my", "x31my"},
		{"bidi override", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"invalid utf8", "ok\xff\xfeok", "ok\uFFFDok"},
		{"tab", "a\tb", "a    b"},
		{"crlf kept as newline", "line1\r\nline2", "line1\nline2"},
		{"lone cr dropped", "over\rwrite", "overwrite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Text(c.in); got != c.want {
				t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestSafeLineHasNoBreaks(t *testing.T) {
	got := Line("Subject\n[SD-1] fake row\r\n")
	if strings.ContainsAny(got, "\r\n") {
		t.Fatalf("SafeLine left a line break: %q", got)
	}
}

// FuzzText: whatever comes in, nothing that a terminal interprets comes out.
func FuzzText(f *testing.F) {
	for _, s := range []string{"\x1b[31m", "\x1bP+q\x1b\\", "\u009b2J", "a\x00b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		for _, r := range out {
			if r != '\n' && (unicode.IsControl(r) || isBidiControl(r)) {
				t.Fatalf("Text(%q) left control %U in %q", s, r, out)
			}
		}
	})
}

func TestViewable(t *testing.T) {
	for _, c := range []struct {
		ct   string
		b    string
		want bool
	}{
		{"text/plain; charset=utf-8", "log line\n", true},
		{"text/csv", "a,b\n", true},
		{"application/json", `{"a":1}`, true},
		{"application/octet-stream", "plain enough\n", true},
		{"", "plain enough\n", true},
		{"application/octet-stream", "MZ\x00\x01binary", false},
		{"text/plain", "has a NUL \x00 in it", false},
		{"application/pdf", "%PDF-1.7 looks like text", false},
		{"image/png", "\x89PNG\r\n", false},
		{"application/octet-stream", "\xff\xfe\xfd not utf-8", false},
	} {
		if got := Viewable(c.ct, []byte(c.b)); got != c.want {
			t.Errorf("Viewable(%q, %q) = %v, want %v", c.ct, c.b, got, c.want)
		}
	}
}
