package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/deskhq/desk/mailin"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
	"github.com/deskhq/desk/tui"
)

// Config is the TOML config file; desk.example.toml documents every key.
type Config struct {
	Operator      string                `toml:"operator"`
	Timezone      string                `toml:"timezone"`
	MailDomain    string                `toml:"mail_domain"`
	Queues        []string              `toml:"queues"`
	Calendars     []CalendarConfig      `toml:"calendars"`
	SLA           SLAConfig             `toml:"sla"`
	Teams         []TeamConfig          `toml:"teams"`
	Operators     []OperatorConfig      `toml:"operators"`
	Organisations []mailin.Organisation `toml:"organisations"`
	Mail          *mailin.Config        `toml:"mail"`
	Serve         ServeConfig           `toml:"serve"`

	path string
	src  []byte
}

// CalendarConfig is one [[calendars]] table.
type CalendarConfig struct {
	Name     string            `toml:"name"`
	Timezone string            `toml:"timezone"`
	Hours    map[string]string `toml:"hours"` // mon = "08:30-16:30", tue = ..., or "mon-fri" = ...
	Holidays []string          `toml:"holidays"`
	// DanishHolidays adds the Danish public holidays for the years around now.
	DanishHolidays bool `toml:"danish_holidays"`
}

// SLAConfig is the [sla] table.
type SLAConfig struct {
	Calendar string                             `toml:"calendar"` // default business calendar
	WarnAt   float64                            `toml:"warn_at"`
	Pause    []string                           `toml:"pause"`
	Goals    GoalsConfig                        `toml:"goals"`
	Targets  map[string]TargetConfig            `toml:"targets"` // "P1".."P4"
	ByType   map[string]map[string]TargetConfig `toml:"types"`   // type -> "P1".. -> target
}

// GoalsConfig are the compliance goals.
type GoalsConfig struct {
	Response   float64 `toml:"response"`
	Resolution float64 `toml:"resolution"`
}

// TargetConfig is one priority's promise: "15m", "4h", "2bd" (business days).
type TargetConfig struct {
	Response   string `toml:"response"`
	Resolution string `toml:"resolution"`
	Calendar   string `toml:"calendar"`
}

// TeamConfig is a 3rd-level team.
type TeamConfig struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
}

// OperatorConfig is one [[operators]] table.
type OperatorConfig struct {
	Name string   `toml:"name"`
	Role Role     `toml:"role"`
	Keys []string `toml:"keys"`
}

// Role validates itself while decoding, so a wrong role names its line.
type Role string

func (r *Role) UnmarshalText(b []byte) error {
	switch v := tui.Role(b); v {
	case tui.RoleOperator, tui.RoleLead, tui.RoleViewer:
		*r = Role(v)
		return nil
	}
	return fmt.Errorf("role %q: use operator, lead or viewer", b)
}

// ServeConfig is the [serve] table.
type ServeConfig struct {
	Listen      string          `toml:"listen"`
	IdleTimeout mailin.Duration `toml:"idle_timeout"`
	MaxSessions int             `toml:"max_sessions"`
}

// ConfigError points at the place in the file that is wrong.
type ConfigError struct {
	Path string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.Path
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("config %s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("config %s: %s", loc, e.Msg)
}

// LoadConfig reads path; a missing path gives the defaults when optional.
func LoadConfig(path string, optional bool) (*Config, error) {
	c := &Config{path: path}
	if path == "" {
		return c, c.check()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, os.ErrNotExist) {
			c.path = ""
			return c, c.check()
		}
		return nil, fmt.Errorf("reading config: %w (run `desk --help` for where desk looks, or pass --config)", err)
	}
	c.src = src
	md, err := toml.Decode(string(src), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line
			if strings.Contains(pe.Message, `got '\n'`) && line > 1 {
				line-- // the parser is already past the line that lacks something
			}
			return nil, &ConfigError{Path: path, Line: line, Key: pe.LastKey, Msg: pe.Message}
		}
		// Type mismatches come as plain errors with the place in the text.
		if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ConfigError{Path: path, Line: line, Key: m[2], Msg: m[3]}
		}
		return nil, &ConfigError{Path: path, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, &ConfigError{Path: path, Line: c.lineOf(k), Key: k,
			Msg: "unknown key (misspelt? desk.example.toml lists every key)"}
	}
	return c, c.check()
}

var mailKeyRe = regexp.MustCompile(`^mail\.([a-z_]+)`)

var typeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// lineOf finds the line of a dotted key such as "sla.targets.P1.response"
// or "calendars.timezone". TOML decoding knows positions only for its own
// errors; checks made after decoding look the key up here.
func (c *Config) lineOf(dotted string) int {
	if len(c.src) == 0 {
		return 0
	}
	if n := c.findKey(dotted); n > 0 {
		return n
	}
	// An inline table (hours = { mon = ... }) has its keys mid-line: the
	// line of the enclosing key is the place to look.
	if i := strings.LastIndexByte(dotted, '.'); i > 0 {
		return c.findKey(dotted[:i])
	}
	return 0
}

func (c *Config) findKey(dotted string) int {
	parts := strings.Split(dotted, ".")
	leaf := parts[len(parts)-1]
	table := strings.Join(parts[:len(parts)-1], ".")
	keyRe := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(leaf) + `"?\s*=`)
	sc := bufio.NewScanner(bytes.NewReader(c.src))
	cur, line, fallback := "", 0, 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(t, "[") {
			cur = strings.Trim(t, "[] ")
			if cur == dotted || strings.HasSuffix(dotted, "."+cur) {
				fallback = line
			}
			continue
		}
		if keyRe.MatchString(t) {
			if cur == table || strings.HasPrefix(table, cur) || strings.HasSuffix(table, cur) {
				return line
			}
			if fallback == 0 {
				fallback = line
			}
		}
	}
	return fallback
}

func (c *Config) errAt(key, format string, args ...any) error {
	return &ConfigError{Path: c.path, Line: c.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// displayZone is where the console shows times: the config's timezone,
// else the zone of the default SLA calendar, so that "due 16:30" means the
// business hours' 16:30 whatever zone the server runs in.
func (c *Config) displayZone() *time.Location {
	if c.Timezone != "" {
		if loc, err := time.LoadLocation(c.Timezone); err == nil {
			return loc
		}
	}
	if p, err := c.Policy(); err == nil {
		if t, ok := p.Targets[3]; ok && t.Calendar != nil && t.Calendar.Location != nil {
			return t.Calendar.Location
		}
	}
	return time.Local
}

// check validates what decoding could not.
func (c *Config) check() error {
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			return c.errAt("timezone", "%q is not an IANA time zone (e.g. Europe/Copenhagen)", c.Timezone)
		}
	}
	if _, err := c.Policy(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, o := range c.Operators {
		if strings.TrimSpace(o.Name) == "" {
			return c.errAt("operators.name", "an [[operators]] table has no name")
		}
		if seen[o.Name] {
			return c.errAt("operators.name", "operator %q is listed twice", o.Name)
		}
		seen[o.Name] = true
	}
	if c.Mail != nil {
		if err := c.Mail.Validate(); err != nil {
			// mailin names the key ("mail.imap = ...: ..."): point at its line.
			msg, key := err.Error(), "mail"
			if m := mailKeyRe.FindStringSubmatch(msg); m != nil {
				key = "mail." + m[1]
				msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(msg, m[0])), "= ")
				msg = strings.TrimPrefix(msg, ": ")
			}
			msg = strings.TrimPrefix(msg, "mail: ")
			return &ConfigError{Path: c.path, Line: c.lineOf(key), Key: key, Msg: msg}
		}
	}
	return nil
}

// calendars builds the named calendars; "24x7" and "business" always exist.
func (c *Config) calendars() (map[string]*slaengine.Calendar, error) {
	cals := map[string]*slaengine.Calendar{
		"24x7":     slaengine.AlwaysOpen(),
		"business": slaengine.DefaultBusinessCalendar(),
		"eu":       slaengine.EUCalendar(),
	}
	for _, cc := range c.Calendars {
		if cc.Name == "" {
			return nil, c.errAt("calendars.name", "a [[calendars]] table has no name")
		}
		week := map[time.Weekday][]slaengine.Window{}
		names := make([]string, 0, len(cc.Hours))
		for k := range cc.Hours {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			// "mon-fri" = "08:30-16:30" is slaengine's "mon-fri 08:30-16:30".
			part, err := slaengine.ParseWeek(k + " " + strings.ReplaceAll(cc.Hours[k], " ", ""))
			if err != nil {
				return nil, c.errAt("calendars.hours."+k, "%v", err)
			}
			for d, ws := range part {
				for _, w := range ws {
					if w.End <= w.Start {
						return nil, c.errAt("calendars.hours."+k, "%q: the window ends before it starts", cc.Hours[k])
					}
				}
				week[d] = append(week[d], ws...)
			}
		}
		var hols []slaengine.Date
		for _, h := range cc.Holidays {
			d, err := slaengine.ParseDate(h)
			if err != nil {
				return nil, c.errAt("calendars.holidays", "%v", err)
			}
			hols = append(hols, d)
		}
		if cc.DanishHolidays {
			y := time.Now().Year()
			for yy := y - 1; yy <= y+2; yy++ {
				hols = append(hols, slaengine.DanishHolidays(yy)...)
			}
		}
		tz := cc.Timezone
		if tz == "" {
			tz = "UTC"
		}
		cal, err := slaengine.NewCalendar(cc.Name, tz, week, hols)
		if err != nil {
			return nil, c.errAt("calendars.timezone", "%v", err)
		}
		cals[cc.Name] = cal
	}
	return cals, nil
}

// parseTarget reads "15m", "4h", "1h30m" or "2bd" (business days of cal).
func parseTarget(s string, cal *slaengine.Calendar) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "bd"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil || f <= 0 {
			return 0, fmt.Errorf("%q: use a number of business days such as 2bd", s)
		}
		return time.Duration(f * float64(cal.DayLength())), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: use a duration such as 15m, 4h or 2bd (business days)", s)
	}
	return d, nil
}

// Policy builds the SLA policy: DESIGN.md's defaults, then the config's
// overrides.
func (c *Config) Policy() (slaengine.Policy, error) {
	cals, err := c.calendars()
	if err != nil {
		return slaengine.Policy{}, err
	}
	baseName := c.SLA.Calendar
	if baseName == "" {
		baseName = "business"
	}
	base, ok := cals[baseName]
	if !ok {
		return slaengine.Policy{}, c.errAt("sla.calendar", "no calendar named %q (have: %s)", baseName, calNames(cals))
	}
	p := slaengine.DefaultPolicy(base)
	if c.SLA.WarnAt != 0 {
		if c.SLA.WarnAt <= 0 || c.SLA.WarnAt >= 1 {
			return p, c.errAt("sla.warn_at", "%v: use a share between 0 and 1, e.g. 0.75", c.SLA.WarnAt)
		}
		p.WarnAt = c.SLA.WarnAt
	}
	if c.SLA.Pause != nil {
		p.Pause = map[string]bool{}
		for _, s := range c.SLA.Pause {
			if !store.Status(s).Valid() {
				return p, c.errAt("sla.pause", "%q is not a status", s)
			}
			p.Pause[s] = true
		}
	}
	if c.SLA.Goals.Response != 0 {
		p.Goals.Response = c.SLA.Goals.Response
	}
	if c.SLA.Goals.Resolution != 0 {
		p.Goals.Resolution = c.SLA.Goals.Resolution
	}
	apply := func(prefix string, into map[slaengine.Priority]slaengine.Target, tc map[string]TargetConfig) error {
		for k, t := range tc {
			var prio store.Priority
			if err := prio.UnmarshalText([]byte(k)); err != nil {
				return c.errAt(prefix+"."+k, "%v", err)
			}
			cur := p.Targets[slaengine.Priority(prio)]
			if t.Calendar != "" {
				cal, ok := cals[t.Calendar]
				if !ok {
					return c.errAt(prefix+"."+k+".calendar", "no calendar named %q (have: %s)", t.Calendar, calNames(cals))
				}
				cur.Calendar = cal
			}
			cal := cur.Calendar
			if cal == nil {
				cal = slaengine.AlwaysOpen()
			}
			if t.Response != "" {
				d, err := parseTarget(t.Response, cal)
				if err != nil {
					return c.errAt(prefix+"."+k+".response", "%v", err)
				}
				cur.Response = d
			}
			if t.Resolution != "" {
				d, err := parseTarget(t.Resolution, cal)
				if err != nil {
					return c.errAt(prefix+"."+k+".resolution", "%v", err)
				}
				cur.Resolution = d
			}
			into[slaengine.Priority(prio)] = cur
		}
		return nil
	}
	if err := apply("sla.targets", p.Targets, c.SLA.Targets); err != nil {
		return p, err
	}
	for typ, tc := range c.SLA.ByType {
		switch store.Type(typ) {
		case store.Incident, store.Request, store.ChangeReq:
		default:
			return p, c.errAt("sla.types."+typ, "%q is not a ticket type (incident, request, change)", typ)
		}
		if p.ByType == nil {
			p.ByType = map[string]map[slaengine.Priority]slaengine.Target{}
		}
		m := map[slaengine.Priority]slaengine.Target{}
		if err := apply("sla.types."+typ, m, tc); err != nil {
			return p, err
		}
		p.ByType[typ] = m
	}
	return p, nil
}

func calNames(m map[string]*slaengine.Calendar) string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// TeamList is the teams for the console, with defaults from the seeds'
// 3rd-level roles when the config names none.
func (c *Config) TeamList() []tui.Team {
	if len(c.Teams) == 0 {
		return []tui.Team{
			{Name: "operations", Description: "operations supplier (Driftleverandør)"},
			{Name: "application", Description: "application supplier"},
			{Name: "component", Description: "component supplier"},
			{Name: "security", Description: "security incidents"},
		}
	}
	var out []tui.Team
	for _, t := range c.Teams {
		out = append(out, tui.Team{Name: t.Name, Description: t.Description})
	}
	return out
}

// OperatorNames are the assignable operators (viewers only read, so no
// ticket goes to them).
func (c *Config) OperatorNames() []string {
	var out []string
	for _, o := range c.Operators {
		if o.Role != Role(tui.RoleViewer) {
			out = append(out, o.Name)
		}
	}
	return out
}

// QueueList is the queues; a desk without config has one queue.
func (c *Config) QueueList() []string {
	if len(c.Queues) == 0 {
		return []string{"2nd-line"}
	}
	return c.Queues
}
