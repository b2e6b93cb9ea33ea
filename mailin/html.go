package mailin

import (
	"html"
	"strings"
)

// htmlText turns an HTML body into readable plain text. It is a small
// tokenizer rather than golang.org/x/net/html: we only need text, line
// breaks, list bullets and link targets, and a hostile or broken document
// must degrade to "some text", never to an error.
func htmlText(s string) string {
	var out strings.Builder
	var skip string // inside <script>, <style>, <head>...: skip until its end tag
	pre := 0
	var href string
	linkStart := 0
	space := false // a pending collapsed space
	writeText := func(t string) {
		t = html.UnescapeString(t)
		if pre > 0 {
			out.WriteString(t)
			return
		}
		for _, r := range t {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
				space = true
				continue
			}
			if space && out.Len() > 0 && !endsWith(&out, '\n') {
				out.WriteByte(' ')
			}
			space = false
			out.WriteRune(r)
		}
	}
	newline := func(n int) {
		space = false
		str := out.String()
		have := len(str) - len(strings.TrimRight(str, "\n"))
		if out.Len() == 0 {
			return
		}
		for ; have < n; have++ {
			out.WriteByte('\n')
		}
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				writeText(s)
			}
			break
		}
		if i > 0 && skip == "" {
			writeText(s[:i])
		}
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s[4:], "-->")
			if end < 0 {
				break
			}
			s = s[4+end+3:]
			continue
		}
		end := tagEnd(s)
		if end < 0 {
			// An unterminated tag: the rest is not text anyone meant to show.
			break
		}
		tag := s[1:end]
		s = s[end+1:]
		closing := strings.HasPrefix(tag, "/")
		if closing {
			tag = tag[1:]
		}
		name, attrs := tagName(tag)
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch name {
		case "script", "style", "head", "title", "noscript", "template":
			if !closing && !strings.HasSuffix(tag, "/") {
				skip = name
			}
		case "br":
			out.WriteByte('\n')
			space = false
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "ul", "ol":
			newline(2)
		case "div", "tr", "section", "article", "header", "footer", "dl", "dt", "dd", "form":
			newline(1)
		case "hr":
			newline(1)
			out.WriteString("----")
			newline(1)
		case "li":
			if !closing {
				newline(1)
				out.WriteString("- ")
			}
		case "td", "th":
			if closing {
				space = true
			}
		case "pre":
			if closing {
				pre--
				newline(1)
			} else {
				newline(1)
				pre++
			}
		case "a":
			if !closing {
				href = attr(attrs, "href")
				linkStart = out.Len()
			} else if href != "" {
				text := out.String()[min(linkStart, out.Len()):]
				h := href
				href = ""
				if (strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://")) && !strings.Contains(text, h) {
					out.WriteString(" (" + h + ")")
				}
			}
		case "img":
			if alt := attr(attrs, "alt"); alt != "" {
				writeText("[" + alt + "]")
			}
		}
	}
	// Tidy: trim each line, at most one blank line in a row.
	lines := strings.Split(out.String(), "\n")
	var res []string
	blank := 0
	for _, l := range lines {
		if pre == 0 {
			l = strings.TrimRight(l, " \t")
		}
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 || len(res) == 0 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		res = append(res, l)
	}
	return strings.TrimSpace(strings.Join(res, "\n"))
}

func endsWith(b *strings.Builder, c byte) bool {
	s := b.String()
	return len(s) > 0 && s[len(s)-1] == c
}

// tagEnd finds the '>' that ends the tag starting at s[0] == '<', skipping
// quoted attribute values; -1 when there is none.
func tagEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

func tagName(tag string) (name, rest string) {
	i := 0
	for i < len(tag) {
		c := tag[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/' {
			break
		}
		i++
	}
	return strings.ToLower(tag[:i]), tag[i:]
}

// attr returns the value of attribute name in a tag's attribute text.
func attr(attrs, name string) string {
	low := strings.ToLower(attrs)
	for from := 0; ; {
		i := strings.Index(low[from:], name)
		if i < 0 {
			return ""
		}
		i += from
		from = i + len(name)
		if i > 0 && !isSpace(low[i-1]) {
			continue
		}
		j := from
		for j < len(low) && isSpace(low[j]) {
			j++
		}
		if j >= len(low) || low[j] != '=' {
			continue
		}
		j++
		for j < len(low) && isSpace(low[j]) {
			j++
		}
		if j >= len(low) {
			return ""
		}
		if q := attrs[j]; q == '"' || q == '\'' {
			k := strings.IndexByte(attrs[j+1:], q)
			if k < 0 {
				return html.UnescapeString(attrs[j+1:])
			}
			return html.UnescapeString(attrs[j+1 : j+1+k])
		}
		k := j
		for k < len(attrs) && !isSpace(attrs[k]) && attrs[k] != '>' {
			k++
		}
		return html.UnescapeString(attrs[j:k])
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
