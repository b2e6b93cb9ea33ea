package mailin

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// encodedWordRE finds RFC 2047 encoded words the way mime.WordDecoder
// does: charset, B or Q, and the text up to the first "?=".
var encodedWordRE = regexp.MustCompile(`=\?([^?\s]{1,75})\?([bBqQ])\?(.*?)\?=`)

// decodeText decodes the RFC 2047 encoded words of a header value. A word
// that cannot be decoded (a charset we cannot convert, a broken encoding)
// is shown in its best readable form instead of as "=?...?=": its bytes
// when they are readable text, U+FFFD for the rest. The problem is
// recorded under field. White space between two encoded words is not
// text, as in mime.WordDecoder.DecodeHeader.
func decodeText(p *Parsed, field, v string) string {
	locs := encodedWordRE.FindAllStringSubmatchIndex(v, 500)
	if len(locs) == 0 {
		return v
	}
	var b strings.Builder
	last := 0
	for i, l := range locs {
		between := v[last:l[0]]
		if i == 0 || strings.Trim(between, " \t\r\n") != "" {
			b.WriteString(between)
		}
		last = l[1]
		word := v[l[0]:l[1]]
		if s, err := wordDecoder.Decode(word); err == nil {
			b.WriteString(s)
			continue
		} else if p != nil {
			p.problem("%s: encoded word in charset %q could not be decoded (%v); shown as far as it is readable", field, clip(v[l[2]:l[3]]), err)
		}
		raw, ok := transferDecode(v[l[4]:l[5]], v[l[6]:l[7]])
		if !ok {
			b.WriteString("\uFFFD")
			continue
		}
		b.WriteString(readable(raw))
	}
	b.WriteString(v[last:])
	return b.String()
}

// transferDecode undoes an encoded word's B or Q encoding, leniently.
func transferDecode(enc, text string) ([]byte, bool) {
	if enc == "b" || enc == "B" {
		t := strings.TrimRight(text, "=")
		b, err := base64.RawStdEncoding.DecodeString(t)
		return b, err == nil
	}
	var out []byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// readable keeps the printable text of bytes in an unknown charset: valid
// UTF-8 (which covers ASCII) as it is, each run of anything else (bytes
// that are not UTF-8, control characters) as one U+FFFD.
func readable(b []byte) string {
	var out strings.Builder
	bad := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if (r == utf8.RuneError && n <= 1) || !unicode.IsGraphic(r) {
			if !bad {
				out.WriteRune('\uFFFD')
			}
			bad = true
			continue
		}
		bad = false
		out.WriteRune(r)
	}
	return out.String()
}

// headerWords is a header value for an outbound header: as is, unless it
// holds text that a receiver would take for an encoded word, which is
// then sent as UTF-8 encoded words (base64) so it reads back as the text
// it is. The value is expected through headerSafe already.
func headerWords(v string) string {
	if !encodedWordRE.MatchString(v) {
		return ""
	}
	var words []string
	for len(v) > 0 {
		n := min(len(v), 45)
		for n < len(v) && n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		if n == 0 {
			n = min(len(v), 45)
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(v[:n]))+"?=")
		v = v[n:]
	}
	return strings.Join(words, " ")
}
