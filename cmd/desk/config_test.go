package main

import (
	"errors"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
)

const (
	keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEjyNOpBAtUJVYjCqRYVrvZz3FvFR2bl2n3iS2+zB4UY a@test"
	keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5C/pXo4TszbpDa0esr1rdw9a1G7UumYpdTiY1gYxE6 b@test"
)

// loadText writes toml to a file and loads it.
func loadText(t *testing.T, toml string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "desk.toml")
	if err := os.WriteFile(p, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(p, false)
}

// wantConfigError checks that err is a *ConfigError at line with key, and
// that its text says msg.
func wantConfigError(t *testing.T, err error, line int, key, msg string) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *ConfigError", err, err)
	}
	if ce.Line != line || ce.Key != key || !strings.Contains(ce.Msg, msg) {
		t.Fatalf("error at line %d key %q: %q\nwant line %d key %q saying %q", ce.Line, ce.Key, ce.Msg, line, key, msg)
	}
	if !strings.Contains(err.Error(), ":"+strconv.Itoa(line)+": "+key+": ") {
		t.Fatalf("error text %q does not name line %d and key %s", err, line, key)
	}
}

const twoCalendars = `# line 1
[[calendars]]
name = "copenhagen"
timezone = "Europe/Copenhagen"
hours = { "mon-fri" = "08:30-16:30" }
holidays = ["2026-12-24"]

[[calendars]]
name = "brussels"
timezone = "%TZ%"
hours = { "mon-fri" = "%HOURS%" }
holidays = [
  "2026-12-24",
  "%HOL%",
]
`

// Problems in the second element of an array of tables are reported at
// that element's line, not the first's (or, for decoding errors, the
// last's).
func TestConfigErrorsNameTheElementsLine(t *testing.T) {
	cal := func(tz, hours, hol string) string {
		return strings.NewReplacer("%TZ%", tz, "%HOURS%", hours, "%HOL%", hol).Replace(twoCalendars)
	}
	ops := func(second string) string {
		return "[[operators]]\nname = \"a\"\nrole = \"lead\"\n\n[[operators]]\n" + second + "\n\n[[operators]]\nname = \"c\"\nrole = \"viewer\"\n"
	}
	for _, tc := range []struct {
		name, toml string
		line       int
		key, msg   string
	}{
		{"zone", cal("Europe/Bruxelles", "08:00-18:00", "2026-12-25"), 10, "calendars.timezone", `calendar "brussels": "Europe/Bruxelles" is not an IANA time zone`},
		{"hours", cal("Europe/Brussels", "18:00-08:00", "2026-12-25"), 11, "calendars.hours.mon-fri", "ends before it starts"},
		{"holiday in a multi-line list", cal("Europe/Brussels", "08:00-18:00", "25/12/2026"), 14, "calendars.holidays", "YYYY-MM-DD"},
		{"no name", strings.Replace(cal("UTC", "08:00-18:00", "2026-12-25"), `name = "brussels"`, "", 1), 8, "calendars.name", "calendar 2 has no name"},
		{"unknown key", strings.Replace(cal("UTC", "08:00-18:00", "2026-12-25"), `name = "brussels"`, "name = \"brussels\"\nhourz = 3", 1), 10, "calendars.hourz", "unknown key"},
		{"role", ops("name = \"b\"\nrole = \"boss\""), 7, "operators.role", `role "boss": use operator, lead or viewer`},
		{"type", ops("name = 7\nrole = \"operator\""), 6, "operators.name", "this is a number, but here desk needs a string"},
		{"twice", ops("name = \"a\""), 6, "operators.name", `operator "a" is listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, tc.toml)
			wantConfigError(t, err, tc.line, tc.key, tc.msg)
		})
	}
}

// An operator's key lines are checked when the config is loaded, by every
// command, and the error names the line of the key.
func TestConfigChecksOperatorKeys(t *testing.T) {
	conf := func(keys string) string {
		return "[[operators]]\nname = \"a\"\nkeys = [\"" + keyA + "\"]\n\n[[operators]]\nname = \"b\"\nkeys = [\n  \"" + keyB + "\",\n  " + keys + ",\n]\n"
	}
	for _, tc := range []struct {
		name, keys string
		msg        string
	}{
		{"not a key", `"ssh-ed25519 AAAA-not-base64"`, `operator "b", key 2: ssh: no key found`},
		{"cut short", `"` + keyB[:40] + `"`, `operator "b", key 2:`},
		{"options", `'command="/bin/sh" ` + keyB + `'`, "options (command=\"/bin/sh\") are not supported"},
		{"someone else's", `"` + keyA + `"`, `is listed for both "a" and "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, conf(tc.keys))
			wantConfigError(t, err, 9, "operators.keys", tc.msg)
		})
	}
	// Any command that loads the config says so, not only desk serve.
	p := filepath.Join(t.TempDir(), "desk.toml")
	os.WriteFile(p, []byte(conf(`"ssh-ed25519 AAAA-not-base64"`)), 0o600)
	_, stderr, code := desk(t, "--config", p, "list", "--data", seedStore(t))
	if code != 1 || !strings.Contains(stderr, "desk.toml:9: operators.keys: ") {
		t.Fatalf("desk list with a broken key: exit %d, %q", code, stderr)
	}
	if _, err := loadText(t, conf(`"`+keyB+`"`)); err != nil {
		t.Fatalf("the same key twice for one operator is harmless: %v", err)
	}
}

func TestConfigRefusesBadServeAndQueues(t *testing.T) {
	const mail = "[mail]\nimap = \"imap://support@127.0.0.1:143/INBOX\"\nsmtp = \"smtp://127.0.0.1:25\"\naddress = \"support@example.dk\"\npassword_env = \"X\"\n"
	for _, tc := range []struct {
		name, toml string
		line       int
		key, msg   string
	}{
		{"idle_timeout", "[serve]\nlisten = \"127.0.0.1:0\"\nidle_timeout = \"-5m\"\n", 3, "serve.idle_timeout", "-5m is negative: use a duration such as 30m (leave it out for the default, 30m)"},
		{"max_sessions", "[serve]\nmax_sessions = -1\n", 2, "serve.max_sessions", "-1 is negative"},
		{"default_queue", "queues = [\"2nd-line\", \"FMK\"]\n" + mail + "default_queue = \"borger.dk\"\n", 7, "mail.default_queue", `"borger.dk" is not one of the queues (2nd-line, FMK)`},
		{"default_queue without queues", mail + "default_queue = \"FMK\"\n", 6, "mail.default_queue", `the only queue is "2nd-line"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, tc.toml)
			wantConfigError(t, err, tc.line, tc.key, tc.msg)
		})
	}
	for _, ok := range []string{
		"[serve]\nidle_timeout = \"0s\"\nmax_sessions = 0\n",
		"queues = [\"2nd-line\", \"FMK\"]\n" + mail + "default_queue = \"FMK\"\n",
		mail + "default_queue = \"2nd-line\"\n",
		mail,
	} {
		if _, err := loadText(t, ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestConfigSLAErrorsNameLineAndKey(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		line       int
		key, msg   string
	}{
		{"goal in percent", "[sla.goals]\nresponse = 90\n", 2, "sla.goals.response", "use a share between 0 and 1"},
		{"pause", "[sla]\npause = [\n  \"waiting\",\n  \"lunch\",\n]\n", 4, "sla.pause", `"lunch" is not a status`},
		{"type", "[sla.types.problem.P1]\nresponse = \"1h\"\n", 1, "sla.types.problem", "not a ticket type"},
		{"type target", "[sla.types.request.P3]\nresponse = \"1bd\"\nresolution = \"5 days\"\n", 3, "sla.types.request.P3.resolution", `"5 days"`},
		{"dotted key", "sla.targets.P2.response = \"quickly\"\n", 1, "sla.targets.P2.response", "such as 15m"},
		{"holiday set", "[[calendars]]\nname = \"x\"\nhours = { mon = \"08:00-12:00\" }\nholiday_sets = [\"dk\", \"se\"]\n", 4, "calendars.holiday_sets", `no holiday set "se": the built-in ones are be-flanders, dk, eu-institutions`},
		{"escalation step", "[[sla.escalation.P1]]\nname = \"first\"\nat = \"50%\"\nnotify = [\"oncall\"]\n[[sla.escalation.P1]]\nname = \"later\"\nat = \"soon\"\nnotify = [\"leads\"]\n", 7, "sla.escalation.P1.at", `"soon": write when the step is due`},
		{"escalation notify", "[[sla.escalation_by_type.change.P2]]\nat = \"breach\"\nnotify = [\"the boss\"]\n", 3, "sla.escalation_by_type.change.P2.notify", `"the boss": notify names assignee`},
		{"target calendar", "[[calendars]]\nname = \"x\"\nhours = { mon = \"08:00-12:00\" }\n[sla.targets.P1]\ncalendar = \"y\"\n", 5, "sla.targets.P1.calendar", `no calendar named "y" (have: 24x7, business, eu, flanders, x)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadText(t, tc.toml)
			wantConfigError(t, err, tc.line, tc.key, tc.msg)
		})
	}
}

// The config's ladder replaces the default for its priority; the others
// keep theirs, and the directory knows the operators' and teams' addresses.
func TestConfigEscalationLadderAndDirectory(t *testing.T) {
	c, err := loadText(t, `[[operators]]
name = "lena"
role = "lead"
email = "lena@desk.test"
[[operators]]
name = "dan"
[[teams]]
name = "security"
address = "soc@desk.test"
[[sla.escalation.P2]]
name = "half"
at = "50%"
clock = "resolution"
notify = ["team", "sdm@example.org"]
via = ["mail"]
`)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Policy()
	l := p.Ladder("incident", 2)
	if len(l) != 1 || l[0].Name != "half" || l[0].Share != 0.5 || l[0].Clock != "resolution" || strings.Join(l[0].Notify, ",") != "team,sdm@example.org" {
		t.Fatalf("P2 ladder %+v", l)
	}
	if l1 := p.Ladder("incident", 1); len(l1) != len(slaengine.DefaultLadders()[1]) {
		t.Fatalf("P1 lost its default ladder: %+v", l1)
	}
	d := c.directory()
	if d.Operators["lena"] != "lena@desk.test" || d.Operators["dan"] != "" || strings.Join(d.Leads, ",") != "lena" || d.Teams["security"] != "soc@desk.test" {
		t.Fatalf("directory %+v", d)
	}
}

// A calendar on the built-in holiday data closes on those days, and a desk
// that runs into the data's last year says so in its log.
func TestConfigHolidaySets(t *testing.T) {
	c, err := loadText(t, "[[calendars]]\nname = \"oots\"\ntimezone = \"Europe/Brussels\"\nhours = { \"mon-fri\" = \"08:00-18:00\" }\nholiday_sets = [\"eu-institutions\"]\n[sla]\ncalendar = \"oots\"\n")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Policy()
	if err != nil {
		t.Fatal(err)
	}
	cal := p.Targets[3].Calendar
	bxl, _ := time.LoadLocation("Europe/Brussels")
	if cal.Open(time.Date(2026, 5, 15, 10, 0, 0, 0, bxl)) || !cal.Open(time.Date(2026, 5, 18, 10, 0, 0, 0, bxl)) {
		t.Fatal("the oots calendar does not close on the Friday after Ascension 2026 (or not open the Monday after)")
	}
	var logged strings.Builder
	e := &env{dataDir: filepath.Join(t.TempDir(), "data"), now: func() time.Time { return time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC) }}
	st, err := e.openStore(c, "test", log.New(&logged, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if !strings.Contains(logged.String(), `calendar "oots": its holiday data ends 2030-12-31`) {
		t.Fatalf("no warning about the end of the holiday data in the log:\n%s", logged.String())
	}
}

// The policy is compiled once per load: every caller shares its calendars
// (before, each Policy() call built every calendar again).
func TestConfigPolicyIsCompiledOnce(t *testing.T) {
	cfg, err := LoadConfig("../../desk.example.toml", false)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Policy()
	b, _ := cfg.Policy()
	if a.Targets[3].Calendar == nil || a.Targets[3].Calendar != b.Targets[3].Calendar || a.ByType["request"][3].Calendar != b.ByType["request"][3].Calendar {
		t.Fatal("two Policy() calls built two sets of calendars")
	}
	// A new load (what a reload does) compiles again.
	again, err := LoadConfig("../../desk.example.toml", false)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := again.Policy()
	if c.Targets[3].Calendar == a.Targets[3].Calendar || c.Targets[3].Response != a.Targets[3].Response {
		t.Fatal("a second load did not compile its own policy")
	}
	if z := cfg.displayZone(); z.String() != "Europe/Copenhagen" {
		t.Fatalf("display zone %s", z)
	}
}

func TestIndexTOMLPositions(t *testing.T) {
	src := `title = "x" # [[calendars]] in a comment
notes = """
[[calendars]]
name = "not a table"
"""
lit = '''
[[calendars]]'''
"quoted key" = 1
a.b . c = 2

[[calendars]]
name = "one"
hours = { mon = "08:00-12:00", "mon-fri" = "x" }

[calendars.extra]
k = 1

[[calendars]] # two
name = "two"
nested = [[1, 2], [
  3,
]]
tables = [ { x = 1 },
  { x = 2 } ]

[sla.targets."P1"]
response = "1h"
`
	p := indexTOML([]byte(src))
	for path, want := range map[string]int{
		"title": 1, "notes": 2, "lit": 6, "quoted key": 8, "a.b.c": 9,
		"calendars[0]": 11, "calendars[0].name": 12, "calendars[0].hours.mon": 13, "calendars[0].hours.mon-fri": 13,
		"calendars[0].extra": 15, "calendars[0].extra.k": 16,
		"calendars[1]": 18, "calendars[1].name": 19, "calendars[1].nested[1][0]": 21, "calendars[1].tables[1].x": 24,
		"sla.targets.P1": 26, "sla.targets.P1.response": 27,
	} {
		if got := p.lineOf(path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
	if n := p.elements("calendars"); n != 2 {
		t.Errorf("%d [[calendars]], want 2 (headers inside strings and comments do not count)", n)
	}
	if got := p.lineOf("calendars[1].timezone"); got != 18 {
		t.Errorf("a key left out is reported at its table: line %d, want 18", got)
	}
	if got := p.firstOf("calendars.name"); got != "calendars[0].name" {
		t.Errorf("firstOf = %q", got)
	}
}

// The index is built from text the decoder accepted, but it must not fail
// or hang on anything.
func TestIndexTOMLNeverPanics(t *testing.T) {
	src, err := os.ReadFile("../../desk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := append([]byte(nil), src[:r.IntN(len(src))]...)
		for range i % 5 {
			if len(b) > 0 {
				const noise = "[]{}\"'=#.,\n\\x"
				b[r.IntN(len(b))] = noise[r.IntN(len(noise))]
			}
		}
		indexTOML(b)
	}
}
