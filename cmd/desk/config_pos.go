package main

import (
	"regexp"
	"strconv"
	"strings"
)

// tomlPositions is where each key of a config file is written, so that a
// problem found after decoding (the TOML library keeps positions only for
// its own errors, and for a key of an array of tables only the last
// element's) names the right line.
//
// Paths are dotted keys with the element of an array in brackets:
// "calendars[1].hours.mon-fri" is the hours key mon-fri of the second
// [[calendars]] table, "operators[0].keys[2]" the third line of the first
// operator's keys, "calendars[1]" the second [[calendars]] header. Quoted
// keys are unquoted.
type tomlPositions struct {
	line  map[string]int
	order []string // paths in the order they appear
}

// indexTOML scans src, which the TOML decoder has already accepted, for
// the line of every key, table header and array element. It never fails:
// on text it does not understand it records less, and lookups fall back to
// the enclosing key.
func indexTOML(src []byte) *tomlPositions {
	x := &tomlScan{src: src, line: 1, pos: &tomlPositions{line: map[string]int{}}, arrays: map[string]int{}}
	x.document()
	return x.pos
}

// lineOf is the line of path, else of the nearest enclosing key that is
// written in the file (a key left out is reported at its table's header);
// 0 when there is none.
func (p *tomlPositions) lineOf(path string) int {
	if p == nil {
		return 0
	}
	for path != "" {
		if n, ok := p.line[path]; ok {
			return n
		}
		// A table only implied by a deeper header ([sla.types.problem.P1]
		// for sla.types.problem): the first key under it.
		for _, q := range p.order {
			if strings.HasPrefix(q, path+".") || strings.HasPrefix(q, path+"[") {
				return p.line[q]
			}
		}
		path = parentPath(path)
	}
	return 0
}

// firstOf is the first element path whose key without indexes is key
// ("calendars.hourz" finds "calendars[1].hourz"): how a key the decoder
// names without its element is found again.
func (p *tomlPositions) firstOf(key string) string {
	if p == nil {
		return ""
	}
	for _, path := range p.order {
		if stripIndexes(path) == key {
			return path
		}
	}
	return ""
}

// elements counts the [[name]] tables (or array values) written for path.
func (p *tomlPositions) elements(path string) int {
	if p == nil {
		return 0
	}
	n := 0
	for {
		if _, ok := p.line[path+"["+strconv.Itoa(n)+"]"]; !ok {
			return n
		}
		n++
	}
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// stripIndexes turns a path into the key as people write it:
// "calendars[1].hours.mon" is "calendars.hours.mon".
func stripIndexes(path string) string { return indexRe.ReplaceAllString(path, "") }

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i]
	}
	return ""
}

type tomlScan struct {
	src    []byte
	i      int
	line   int
	pos    *tomlPositions
	arrays map[string]int // [[array]] tables seen per path
}

func (x *tomlScan) record(path string) {
	if path == "" {
		return
	}
	if _, ok := x.pos.line[path]; !ok {
		x.pos.line[path] = x.line
		x.pos.order = append(x.pos.order, path)
	}
}

func (x *tomlScan) eof() bool { return x.i >= len(x.src) }

func (x *tomlScan) peek(off int) byte {
	if x.i+off < len(x.src) {
		return x.src[x.i+off]
	}
	return 0
}

// next moves one byte on, counting lines.
func (x *tomlScan) next() {
	if x.i < len(x.src) {
		if x.src[x.i] == '\n' {
			x.line++
		}
		x.i++
	}
}

// blank skips spaces and tabs, and with newlines also line breaks and
// comments.
func (x *tomlScan) blank(newlines bool) {
	for !x.eof() {
		switch c := x.src[x.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			x.next()
		case c == '\n' && newlines:
			x.next()
		case c == '#':
			for !x.eof() && x.src[x.i] != '\n' {
				x.next()
			}
		default:
			return
		}
	}
}

// restOfLine skips to the start of the next line.
func (x *tomlScan) restOfLine() {
	for !x.eof() && x.src[x.i] != '\n' {
		x.next()
	}
	x.next()
}

func (x *tomlScan) document() {
	ctx := ""
	for !x.eof() {
		x.blank(true)
		if x.eof() {
			return
		}
		start := x.i
		if x.src[x.i] == '[' {
			ctx = x.header()
		} else {
			parts := x.key()
			x.blank(false)
			if len(parts) > 0 && x.peek(0) == '=' {
				x.next()
				x.value(join(ctx, parts))
			}
		}
		x.blank(false)
		if x.i == start || (!x.eof() && x.src[x.i] != '\n') {
			x.restOfLine() // not understood: resynchronise at the next line
		}
	}
}

// header reads [table] or [[array]] and returns the context it opens.
func (x *tomlScan) header() string {
	x.next()
	array := x.peek(0) == '['
	if array {
		x.next()
	}
	x.blank(false)
	parts := x.key()
	x.blank(false)
	for !x.eof() && x.src[x.i] == ']' {
		x.next()
	}
	// Every prefix that names an array of tables means its last element.
	ctx := ""
	for k, p := range parts {
		ctx = join(ctx, []string{p})
		if k == len(parts)-1 && array {
			n := x.arrays[ctx]
			x.arrays[ctx] = n + 1
			ctx += "[" + strconv.Itoa(n) + "]"
		} else if n, ok := x.arrays[ctx]; ok {
			ctx += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	x.record(ctx)
	return ctx
}

func join(ctx string, parts []string) string {
	s := strings.Join(parts, ".")
	if ctx == "" {
		return s
	}
	if s == "" {
		return ctx
	}
	return ctx + "." + s
}

// key reads a dotted key (bare or quoted parts).
func (x *tomlScan) key() []string {
	var parts []string
	for {
		x.blank(false)
		switch c := x.peek(0); {
		case c == '"' || c == '\'':
			s, _ := x.str()
			parts = append(parts, s)
		case isBare(c):
			start := x.i
			for !x.eof() && isBare(x.src[x.i]) {
				x.next()
			}
			parts = append(parts, string(x.src[start:x.i]))
		default:
			return parts
		}
		x.blank(false)
		if x.peek(0) != '.' {
			return parts
		}
		x.next()
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value reads one value written for path, recording the elements of
// arrays and the keys of inline tables.
func (x *tomlScan) value(path string) {
	x.record(path)
	x.blank(false)
	switch x.peek(0) {
	case '"', '\'':
		x.str()
	case '[':
		x.next()
		for n := 0; ; n++ {
			x.blank(true)
			if x.eof() || x.peek(0) == ']' {
				x.next()
				return
			}
			start := x.i
			x.value(path + "[" + strconv.Itoa(n) + "]")
			x.blank(true)
			if x.peek(0) == ',' {
				x.next()
			} else if x.i == start {
				x.next() // not understood: never loop in place
			}
		}
	case '{':
		x.next()
		for {
			x.blank(true)
			if x.eof() || x.peek(0) == '}' {
				x.next()
				return
			}
			start := x.i
			parts := x.key()
			x.blank(false)
			if len(parts) > 0 && x.peek(0) == '=' {
				x.next()
				x.value(join(path, parts))
			}
			x.blank(true)
			if x.peek(0) == ',' {
				x.next()
			} else if x.i == start {
				x.next()
			}
		}
	default:
		// A number, boolean or date: up to the next separator.
		for !x.eof() && !strings.ContainsRune(",]}\n#", rune(x.src[x.i])) {
			x.next()
		}
	}
}

// str reads a basic, literal or multi-line string and returns its text
// (escapes other than \" and \\ are kept as written: keys rarely have them).
func (x *tomlScan) str() (string, bool) {
	q := x.peek(0)
	multi := x.peek(1) == q && x.peek(2) == q
	if multi {
		x.next()
		x.next()
	}
	x.next()
	var b strings.Builder
	for !x.eof() {
		c := x.src[x.i]
		switch {
		case c == '\\' && q == '"':
			x.next()
			if !x.eof() {
				b.WriteByte(x.src[x.i])
				x.next()
			}
			continue
		case c == q && !multi:
			x.next()
			return b.String(), true
		case c == q && x.peek(1) == q && x.peek(2) == q:
			x.next()
			x.next()
			x.next()
			// Up to two more quotes belong to the string ("""a""""").
			for n := 0; n < 2 && x.peek(0) == q; n++ {
				b.WriteByte(q)
				x.next()
			}
			return b.String(), true
		case c == '\n' && !multi:
			return b.String(), false
		}
		b.WriteByte(c)
		x.next()
	}
	return b.String(), false
}
