package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	gossh "golang.org/x/crypto/ssh"

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
	// OnCall is the roster, first match wins; OnCallOverrides put someone
	// else on call for dated stretches (holidays, sickness, swaps).
	OnCall          []OnCallConfig   `toml:"oncall"`
	OnCallOverrides []OverrideConfig `toml:"oncall_overrides"`
	// Services the desk supports, and the update cadence of their major
	// incidents.
	Services []ServiceConfig `toml:"services"`
	Major    MajorConfig     `toml:"major"`
	// IncidentReports: when a P1/P2's report is overdue.
	IncidentReports IncidentReportsConfig `toml:"incident_reports"`
	// Webhook is where escalation steps with via = ["webhook"] POST.
	Webhook WebhookConfig `toml:"webhook"`
	// Search: the full-text index (on unless index = false).
	Search SearchConfig `toml:"search"`
	// Status is the public status page; Windows the notice rules of
	// planned service windows.
	Status  StatusConfig  `toml:"status"`
	Windows WindowsConfig `toml:"windows"`

	path string
	src  []byte
	pos  *tomlPositions // where each key is written (nil without a file)

	policy   slaengine.Policy // compiled by check, once per load
	roster   slaengine.Roster
	cadence  slaengine.UpdateCadence
	compiled bool
	zone     *time.Location // displayZone, set by check
}

// SearchConfig is [search].
type SearchConfig struct {
	// Index = false keeps no full-text index: / only filters, desk search
	// says it is off. The first index of a store of millions of tickets
	// takes a while in the background (see the README).
	Index *bool `toml:"index"`
}

func (c *Config) searchOn() bool { return c.Search.Index == nil || *c.Search.Index }

// OnCallConfig is one [[oncall]] table.
type OnCallConfig struct {
	Name     string            `toml:"name"`
	Contact  string            `toml:"contact"`
	Calendar string            `toml:"calendar"` // its zone (and holidays); default: the SLA calendar's
	Hours    map[string]string `toml:"hours"`    // "mon-thu" = "16:00-18:00", holidays = "00:00-24:00"
}

// OverrideConfig is one [[oncall_overrides]] table.
type OverrideConfig struct {
	From    string `toml:"from"` // "2026-12-24T00:00" in the roster's zone, or RFC 3339
	To      string `toml:"to"`
	Name    string `toml:"name"`
	Contact string `toml:"contact"` // may be left out for a roster entry's name
	Reason  string `toml:"reason"`
}

// CalendarConfig is one [[calendars]] table.
type CalendarConfig struct {
	Name     string            `toml:"name"`
	Timezone string            `toml:"timezone"`
	Hours    map[string]string `toml:"hours"` // mon = "08:30-16:30", tue = ..., or "mon-fri" = ...
	Holidays []string          `toml:"holidays"`
	// HolidaySets adds built-in holiday lists: "dk", "be-flanders",
	// "eu-institutions" (2025-2030; desk warns a year before they end).
	HolidaySets []string `toml:"holiday_sets"`
	// DanishHolidays is holiday_sets = ["dk"] (the older spelling).
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
	// Escalation replaces a priority's default ladder ([[sla.escalation.P1]]
	// tables, one per step); EscalationByType one type's
	// ([[sla.escalation_by_type.change.P2]]).
	Escalation       map[string][]StepConfig            `toml:"escalation"`
	EscalationByType map[string]map[string][]StepConfig `toml:"escalation_by_type"`
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

// StepConfig is one escalation step:
//
//	name = "warning"; at = "75%" | "breach" | "breach+1h"; clock = "response"
//	notify = ["assignee", "team", "leads", "oncall", "sdm@example.org"]
//	via = ["mail", "console", "webhook"]
type StepConfig struct {
	Name   string   `toml:"name"`
	At     string   `toml:"at"`
	Clock  string   `toml:"clock"`
	Notify []string `toml:"notify"`
	Via    []string `toml:"via"`
}

// TeamConfig is a 3rd-level team.
type TeamConfig struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	Address     string `toml:"address"` // where escalations for the team go
}

// OperatorConfig is one [[operators]] table.
type OperatorConfig struct {
	Name  string   `toml:"name"`
	Role  Role     `toml:"role"`
	Keys  []string `toml:"keys"`
	Email string   `toml:"email"` // where escalation steps that name them are mailed
	// Bell rings the terminal on their alerts (default on for operators
	// and leads, off for viewers).
	Bell *bool `toml:"bell"`
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
// Every mistake comes back as a *ConfigError with the line of the key; the
// SLA policy is compiled here, once, and kept (Policy).
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
		return nil, c.decodeError(err)
	}
	c.pos = indexTOML(src)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, c.errAt(c.pathOf(k), "unknown key (misspelt? desk.example.toml lists every key)")
	}
	return c, c.check()
}

// decodeError places an error of the TOML decoder. Syntax errors carry
// their line; errors about a value (a wrong type, a role desk does not know)
// name the key but, in an array of tables, the line of its last element:
// the element that failed is found by decoding each on its own.
func (c *Config) decodeError(err error) error {
	c.pos = indexTOML(c.src)
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		if strings.Contains(pe.Message, `got '\n'`) && line > 1 {
			line-- // the parser is already past the line that lacks something
		}
		key := pe.LastKey
		if p := c.failingElement(key); p != "" {
			line, key = c.pos.lineOf(p), stripIndexes(p)
		}
		return &ConfigError{Path: c.path, Line: line, Key: key, Msg: pe.Message}
	}
	// Type mismatches come as plain errors in the library's own words.
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		key, msg := m[2], typeMessage(m[3])
		if p := c.failingElement(key); p != "" {
			line = c.pos.lineOf(p)
		}
		return &ConfigError{Path: c.path, Line: line, Key: key, Msg: msg}
	}
	return &ConfigError{Path: c.path, Msg: err.Error()}
}

var typeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

var badTypeRe = regexp.MustCompile(`^incompatible types: TOML value has type (\S+); destination has type (.+)$`)

// typeMessage says a type mismatch in the words of the file.
func typeMessage(msg string) string {
	m := badTypeRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	words := map[string]string{
		"int64": "a number", "float64": "a number", "string": "a string", "bool": "true or false",
		"time.Time": "a date", "[]any": "a list", "map[string]any": "a table", "[]map[string]any": "a list of tables",
		"integer": "a whole number", "float": "a number", "boolean": "true or false", "slice": "a list [...]",
		"map": "a table", "primitive (string-like)": "a string in quotes",
	}
	say := func(s string) string {
		if w, ok := words[s]; ok {
			return w
		}
		return s
	}
	return fmt.Sprintf("this is %s, but here desk needs %s", say(m[1]), say(m[2]))
}

// failingElement finds, for a key inside an array of tables
// ("operators.role"), the element whose value the decoder refused
// ("operators[2].role"); "" when the key is not in such an array or no
// single element fails.
func (c *Config) failingElement(key string) string {
	top, rest, ok := strings.Cut(key, ".")
	if !ok {
		return ""
	}
	var elem reflect.Type
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		if f.Tag.Get("toml") == top && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			elem = f.Type.Elem()
		}
	}
	if elem == nil {
		return ""
	}
	var probe map[string]toml.Primitive
	md, err := toml.Decode(string(c.src), &probe)
	if err != nil {
		return ""
	}
	var elems []toml.Primitive
	if md.PrimitiveDecode(probe[top], &elems) != nil {
		return ""
	}
	for i, el := range elems {
		if md.PrimitiveDecode(el, reflect.New(elem).Interface()) != nil {
			return fmt.Sprintf("%s[%d].%s", top, i, rest)
		}
	}
	return ""
}

// pathOf is where a key the decoder names without its element
// ("calendars.hourz") is written: the first element that has it.
func (c *Config) pathOf(key string) string {
	if p := c.pos.firstOf(key); p != "" {
		return p
	}
	return key
}

// errAt is a *ConfigError for the key at path ("calendars[1].timezone":
// the second [[calendars]] table's timezone), at the line where the file
// writes it, or its table when the key is left out.
func (c *Config) errAt(path, format string, args ...any) error {
	return &ConfigError{Path: c.path, Line: c.pos.lineOf(path), Key: stripIndexes(path), Msg: fmt.Sprintf(format, args...)}
}

// displayZone is where the console shows times: the config's timezone,
// else the zone of the default SLA calendar, so that "due 16:30" means the
// business hours' 16:30 whatever zone the server runs in.
func (c *Config) displayZone() *time.Location {
	if c.zone != nil {
		return c.zone
	}
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

// check validates what decoding could not, and compiles the SLA policy.
func (c *Config) check() error {
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			return c.errAt("timezone", "%q is not an IANA time zone (e.g. Europe/Copenhagen)", c.Timezone)
		}
	}
	p, err := c.compile()
	if err != nil {
		return err
	}
	r, err := c.compileRoster()
	if err != nil {
		return err
	}
	if u := c.Webhook.URL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return c.errAt("webhook.url", "%q is not an http(s) URL: write it as https://chat.example.org/hooks/desk", u)
		}
	}
	if c.IncidentReports.DueDays < 0 {
		return c.errAt("incident_reports.due_days", "%d is negative: give the days after the resolution a report is due, e.g. 14", c.IncidentReports.DueDays)
	}
	u, err := c.checkServices()
	if err != nil {
		return err
	}
	if err := c.checkMonitoring(); err != nil {
		return err
	}
	c.policy, c.roster, c.cadence, c.compiled = p, r, u, true
	c.zone = c.displayZone() // read once: every command and console asks for it
	if err := c.checkOperators(); err != nil {
		return err
	}
	if c.Serve.IdleTimeout.Duration < 0 {
		return c.errAt("serve.idle_timeout", "%s is negative: use a duration such as 30m (leave it out for the default, %s)",
			shortDuration(c.Serve.IdleTimeout.Duration), shortDuration(defaultIdleTimeout))
	}
	if c.Serve.MaxSessions < 0 {
		return c.errAt("serve.max_sessions", "%d is negative: use the most sessions to allow at once, e.g. 100 (leave it out for the default, %d)",
			c.Serve.MaxSessions, defaultMaxSessions)
	}
	if c.Mail != nil {
		if err := c.Mail.Validate(); err != nil {
			key, msg := mailKey(err)
			return c.errAt(key, "%s", msg)
		}
		if q := c.Mail.DefaultQueue; q != "" && !slices.Contains(c.QueueList(), q) {
			if len(c.Queues) == 0 {
				return c.errAt("mail.default_queue", "%q is not a queue: without queues = [...] the only queue is %q; add queues = [%q, ...] or leave default_queue out",
					q, c.QueueList()[0], q)
			}
			return c.errAt("mail.default_queue", "%q is not one of the queues (%s): add it to queues, or name one of them", q, strings.Join(c.Queues, ", "))
		}
	}
	return nil
}

// shortDuration writes 30m rather than 30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// checkOperators checks the [[operators]]: a name each, once, and keys that
// desk serve can use, so a broken key line is reported with its line when
// the config is loaded, by whatever command loads it.
func (c *Config) checkOperators() error {
	seen := map[string]bool{}
	owner := map[string]string{} // key (wire form) -> operator
	for i, o := range c.Operators {
		at := func(field string) string { return fmt.Sprintf("operators[%d].%s", i, field) }
		if strings.TrimSpace(o.Name) == "" {
			return c.errAt(at("name"), "operator %d has no name: add name = \"...\" (the name tickets are assigned to)", i+1)
		}
		if seen[o.Name] {
			return c.errAt(at("name"), "operator %q is listed twice: merge the two [[operators]] tables", o.Name)
		}
		seen[o.Name] = true
		for j, line := range o.Keys {
			pub, err := parseOperatorKey(line)
			if err != nil {
				return c.errAt(fmt.Sprintf("operators[%d].keys[%d]", i, j), "operator %q, key %d: %v", o.Name, j+1, err)
			}
			k := string(pub.Marshal())
			if prev, ok := owner[k]; ok && prev != o.Name {
				return c.errAt(fmt.Sprintf("operators[%d].keys[%d]", i, j), "key %s is listed for both %q and %q: give each operator their own key",
					gossh.FingerprintSHA256(pub), prev, o.Name)
			}
			owner[k] = o.Name
		}
	}
	return nil
}

// parseOperatorKey reads one authorized_keys line of an operator.
func parseOperatorKey(line string) (gossh.PublicKey, error) {
	pub, _, opts, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return nil, fmt.Errorf("%v: use one authorized_keys line such as \"ssh-ed25519 AAAA... name@host\"", err)
	}
	if len(opts) > 0 {
		return nil, fmt.Errorf("options (%s) are not supported by desk serve: remove them from the line", strings.Join(opts, ","))
	}
	return pub, nil
}

// mailKey is the key a mail validation error is about, and its message
// without the key (the line number stands in front of it instead).
func mailKey(err error) (key, msg string) {
	var ce *mailin.ConfigError
	if !errors.As(err, &ce) {
		return "mail", err.Error()
	}
	msg = strings.TrimPrefix(ce.Msg, ce.Key)
	msg = strings.TrimPrefix(strings.TrimSpace(msg), "= ")
	msg = strings.TrimPrefix(msg, ": ")
	return ce.Key, msg
}

// spec is the SLA part of the config in the engine's terms.
func (c *Config) spec() slaengine.Spec {
	s := slaengine.Spec{Calendar: c.SLA.Calendar, WarnAt: c.SLA.WarnAt, Pause: c.SLA.Pause,
		Goals: slaengine.Goals{Response: c.SLA.Goals.Response, Resolution: c.SLA.Goals.Resolution}}
	for _, cc := range c.Calendars {
		s.Calendars = append(s.Calendars, slaengine.CalendarSpec{Name: cc.Name, Timezone: cc.Timezone, Hours: cc.Hours,
			Holidays: cc.Holidays, HolidaySets: cc.HolidaySets, DanishHolidays: cc.DanishHolidays})
	}
	targets := func(tc map[string]TargetConfig) map[string]slaengine.TargetSpec {
		if tc == nil {
			return nil
		}
		m := map[string]slaengine.TargetSpec{}
		for k, t := range tc {
			m[k] = slaengine.TargetSpec{Response: t.Response, Resolution: t.Resolution, Calendar: t.Calendar}
		}
		return m
	}
	s.Targets = targets(c.SLA.Targets)
	steps := func(sc []StepConfig) []slaengine.StepSpec {
		var out []slaengine.StepSpec
		for _, st := range sc {
			out = append(out, slaengine.StepSpec{Name: st.Name, At: st.At, Clock: st.Clock, Notify: st.Notify, Via: st.Via})
		}
		return out
	}
	if c.SLA.Escalation != nil {
		s.Escalation = map[string][]slaengine.StepSpec{}
		for k, sc := range c.SLA.Escalation {
			s.Escalation[k] = steps(sc)
		}
	}
	if c.SLA.EscalationByType != nil {
		s.EscalationByType = map[string]map[string][]slaengine.StepSpec{}
		for typ, m := range c.SLA.EscalationByType {
			s.EscalationByType[typ] = map[string][]slaengine.StepSpec{}
			for k, sc := range m {
				s.EscalationByType[typ][k] = steps(sc)
			}
		}
	}
	if c.SLA.ByType != nil {
		s.ByType = map[string]map[string]slaengine.TargetSpec{}
		for typ, tc := range c.SLA.ByType {
			s.ByType[typ] = targets(tc)
		}
	}
	return s
}

// compile builds the SLA policy: DESIGN.md's defaults, then the config's
// overrides, checked by the engine; its errors point at the key's line.
func (c *Config) compile() (slaengine.Policy, error) {
	var statuses, types []string
	for _, s := range store.Statuses {
		statuses = append(statuses, string(s))
	}
	for _, t := range store.Types {
		types = append(types, string(t))
	}
	p, err := c.spec().Compile(slaengine.CompileOptions{Statuses: statuses, Types: types})
	var se *slaengine.SpecError
	if errors.As(err, &se) {
		path := se.Key
		if !strings.HasPrefix(path, "calendars[") {
			path = "sla." + path
		}
		return p, c.errAt(path, "%s", se.Msg)
	}
	return p, err
}

// compileRoster builds the on-call roster on the SLA calendars.
func (c *Config) compileRoster() (slaengine.Roster, error) {
	var es []slaengine.OnCallSpec
	for _, o := range c.OnCall {
		es = append(es, slaengine.OnCallSpec{Name: o.Name, Contact: o.Contact, Calendar: o.Calendar, Hours: o.Hours})
	}
	var os []slaengine.OverrideSpec
	for _, o := range c.OnCallOverrides {
		os = append(os, slaengine.OverrideSpec{From: o.From, To: o.To, Name: o.Name, Contact: o.Contact, Reason: o.Reason})
	}
	r, err := c.spec().CompileRoster(es, os, slaengine.CompileOptions{})
	var se *slaengine.SpecError
	if errors.As(err, &se) {
		return r, c.errAt(se.Key, "%s", se.Msg)
	}
	return r, err
}

// Roster is the on-call roster compiled when the config was loaded.
func (c *Config) Roster() slaengine.Roster {
	if !c.compiled {
		r, _ := c.compileRoster()
		return r
	}
	return c.roster
}

// Policy is the SLA policy compiled when the config was loaded: every
// calendar built once, shared by every caller until the next load (a
// reload loads a new Config). A Config not made by LoadConfig is compiled
// on each call.
func (c *Config) Policy() (slaengine.Policy, error) {
	if c.compiled {
		return c.policy, nil
	}
	return c.compile()
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
