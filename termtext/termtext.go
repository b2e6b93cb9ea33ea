// Package termtext makes untrusted text safe to put on a terminal: the one
// copy of that rule for the console, the CLI and the store's own messages.
package termtext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Text makes untrusted text (anything that came in a mail) fit to put on
// an operator's terminal: escape sequences and control characters are
// removed, invalid UTF-8 becomes U+FFFD, bidirectional overrides (which can
// make a subject read backwards) are dropped, tabs become spaces. Newlines
// are kept; use Line for one-line contexts.
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case unicode.IsControl(r), isBidiControl(r):
			// dropped: C0, DEL, C1 and bidi overrides
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line is Text for one-line fields (subjects, names): line breaks
// become spaces so a crafted subject cannot push fake rows into the list.
func Line(s string) string {
	s = Text(s)
	if strings.IndexByte(s, '\n') >= 0 {
		s = strings.ReplaceAll(s, "\n", " ")
	}
	return s
}

// isPlain is the fast path: printable ASCII only, nothing to do. Most rows
// take it, which keeps View cheap.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// Viewable reports whether an attachment of this content type and these
// bytes can be shown as text (after Text): text/* and the usual text
// formats, or an untyped body that is UTF-8 without NUL bytes. Images,
// PDFs and everything else are saved, never shown.
func Viewable(contentType string, b []byte) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	head := b[:min(len(b), 8192)]
	if strings.IndexByte(string(head), 0) >= 0 {
		return false
	}
	switch {
	case strings.HasPrefix(ct, "text/"), ct == "application/json", ct == "application/xml", strings.HasSuffix(ct, "+xml"),
		strings.HasSuffix(ct, "+json"), ct == "application/x-yaml", ct == "application/yaml", ct == "message/delivery-status":
		return true
	case ct == "", ct == "application/octet-stream":
		return utf8.Valid(head) || len(b) > len(head) && utf8.Valid(head[:max(len(head)-4, 0)])
	}
	return false
}
