package mailin

import (
	"strings"

	"golang.org/x/net/html"
)

// htmlText turns an HTML body into readable plain text: text, line breaks
// for blocks, bullets for list items, link targets after the link text,
// image alt text. It reads the document with golang.org/x/net/html's
// tokenizer (the HTML5 tokenization rules: a bare '<' that starts no tag
// is text, script and style are raw text), which returns an error only at
// the end of its input and never panics, so a hostile or broken document
// degrades to "some text", never to an error or lost text.
func htmlText(s string) string {
	var out strings.Builder
	out.Grow(len(s) / 2)
	var skip string // inside <script>, <style>, <head>...: skip until its end tag
	pre := 0
	var href string
	linkStart := 0
	space := false // a pending collapsed space
	writeText := func(t string) {
		for _, r := range t {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
				if pre > 0 {
					if r != '\r' && r != '\f' {
						out.WriteRune(r)
					}
					continue
				}
				space = true
				continue
			}
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				// Control characters (raw or as &#27;) would reach the
				// operator's terminal as escape sequences.
				continue
			}
			if pre == 0 && space && out.Len() > 0 && !endsWith(&out, '\n') {
				out.WriteByte(' ')
			}
			space = false
			out.WriteRune(r)
		}
	}
	newline := func(n int) {
		space = false
		if out.Len() == 0 {
			return
		}
		str := out.String()
		have := len(str) - len(strings.TrimRight(str, "\n"))
		for ; have < n; have++ {
			out.WriteByte('\n')
		}
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // the end of the input (strings.Reader has no other error)
		}
		switch tt {
		case html.TextToken:
			if skip == "" {
				writeText(string(z.Text()))
			}
			continue
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
		default:
			continue // comments, doctypes
		}
		nameB, hasAttr := z.TagName()
		name := string(nameB)
		closing := tt == html.EndTagToken
		selfClosing := tt == html.SelfClosingTagToken
		// The first href of a link and alt of an image are all that is
		// read of the attributes (a map of them all was a good part of
		// this function's garbage).
		var hrefAttr, altAttr string
		if hasAttr && !closing && (name == "a" || name == "img") {
			var hrefSeen, altSeen bool
			for {
				k, v, more := z.TagAttr()
				switch {
				case string(k) == "href" && !hrefSeen:
					hrefAttr, hrefSeen = string(v), true
				case string(k) == "alt" && !altSeen:
					altAttr, altSeen = string(v), true
				}
				if !more {
					break
				}
			}
		}
		if skip != "" {
			if closing && name == skip {
				skip = ""
			} else if skip == "head" && !closing && name == "body" {
				// A head that is never closed ends where the body starts.
				skip = ""
			}
			if skip != "" {
				continue
			}
		}
		switch name {
		case "script", "style", "title", "noscript", "iframe", "noembed", "noframes":
			// Raw text to the tokenizer, self-closing or not: what follows
			// up to the end tag is their content.
			if !closing {
				skip = name
			}
		case "head", "template":
			if !closing && !selfClosing {
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
				if pre > 0 {
					pre--
				}
				newline(1)
			} else if !selfClosing {
				newline(1)
				pre++
			}
		case "a":
			if !closing {
				href = hrefAttr
				linkStart = out.Len()
			} else if href != "" {
				text := out.String()[min(linkStart, out.Len()):]
				h := headerSafe(href, 2000)
				href = ""
				if (strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://")) && !strings.Contains(text, h) {
					out.WriteString(" (" + h + ")")
				}
			}
		case "img":
			if alt := altAttr; alt != "" {
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
