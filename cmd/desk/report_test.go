package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// reportClock is the store's clock in these tests, moved by hand.
type reportClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reportClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *reportClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func cph(t *testing.T, y int, mo time.Month, d, h, mi int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, mo, d, h, mi, 0, 0, loc)
}

// reportStore writes ten tickets into a store in dir on the default policy
// (P1 15m/4h and P2 4h/8h on 24x7; P3 2/10 and P4 4/30 business days of
// 8h, Mon-Fri 08:30-16:30 Copenhagen; no Danish holiday in March 2025),
// every step at a time given here, Copenhagen time, in the order they
// happen. The report of March 2025 is made at 1 April 00:00 CEST.
//
//	SD-1  P2 incident, 28 Feb 23:00: before March, never answered (not counted).
//	SD-2  P1 incident, Mon 3 Mar 10:00: responded 10:10 (10m met), resolved 12:00 (2h met).
//	SD-3  P1 incident, 3 Mar 14:00: responded 14:30 (30m, breached by 15m), resolved 15:00 (1h met).
//	SD-4  P3 request, Mon 3 Mar 15:00: responded Tue 10:30 = 1.5h + 2h = 3.5h met (16h);
//	      resolved Fri 7 Mar 12:00 = 1.5 + 3x8 + 3.5 = 29h met (80h).
//	SD-5  P1 request, Tue 4 Mar 09:00: responded 09:05 (5m met), resolved 14:00 (5h, breached by 1h).
//	SD-6  P1 incident, Wed 5 Mar 08:00: responded 08:14 (14m met); waiting 09:00-11:00 does
//	      not count, resolved 12:00 = 1h + 1h = 2h met.
//	SD-7  P3 incident, Mon 10 Mar 09:00: responded Thu 13 Mar 09:00 = 7.5 + 8 + 8 + 0.5 = 24h
//	      (breached by 8h); resolved Fri 14 Mar 09:30 = 24 + 7.5 + 1 = 32.5h met.
//	SD-8  P2 incident, 10 Mar 10:00 CET: responded 11:00 (1h met); still open: resolution
//	      breached, 10 Mar 09:00 UTC to 31 Mar 22:00 UTC = 21d13h = 517h used, 509h over.
//	SD-9  P4 change, Tue 18 Mar 09:00: responded 09:30 (30m met), resolved Wed 19 Mar
//	      10:00 = 7.5 + 1.5 = 9h met.
//	SD-10 P3 request, 1 Apr 00:00 CEST: the end of March, excluded.
func reportStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	clk := &reportClock{}
	st, err := store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar()), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	at := func(mo time.Month, d, h, mi int) { clk.set(cph(t, 2025, mo, d, h, mi)) }
	must := func(_ store.Ticket, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	create := func(p store.Priority, ty store.Type) {
		t.Helper()
		must(st.Create("mette", store.NewTicket{Type: ty, Priority: p, Subject: "a call", Requester: store.Person{Name: "Caller"}}))
	}
	respond := func(id store.TicketID) { t.Helper(); must(st.MarkResponded(id, "mette")) }
	resolve := func(id store.TicketID) {
		t.Helper()
		if _, _, err := st.Resolve(id, "mette", "done"); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id store.TicketID, from, to store.Status) {
		t.Helper()
		must(st.SetField(id, "mette", store.FieldStatus, string(from), string(to)))
	}

	at(2, 28, 23, 0)
	create(2, store.Incident) // SD-1
	at(3, 3, 10, 0)
	create(1, store.Incident) // SD-2
	at(3, 3, 10, 10)
	respond(2)
	at(3, 3, 12, 0)
	resolve(2)
	at(3, 3, 14, 0)
	create(1, store.Incident) // SD-3
	at(3, 3, 14, 30)
	respond(3)
	at(3, 3, 15, 0)
	resolve(3)
	create(3, store.Request) // SD-4
	at(3, 4, 9, 0)
	create(1, store.Request) // SD-5
	at(3, 4, 9, 5)
	respond(5)
	at(3, 4, 10, 30)
	respond(4)
	at(3, 4, 14, 0)
	resolve(5)
	at(3, 5, 8, 0)
	create(1, store.Incident) // SD-6
	at(3, 5, 8, 14)
	respond(6)
	at(3, 5, 9, 0)
	status(6, store.StatusOpen, store.StatusWaiting)
	at(3, 5, 11, 0)
	status(6, store.StatusWaiting, store.StatusOpen)
	at(3, 5, 12, 0)
	resolve(6)
	at(3, 7, 12, 0)
	resolve(4)
	at(3, 10, 9, 0)
	create(3, store.Incident) // SD-7
	at(3, 10, 10, 0)
	create(2, store.Incident) // SD-8
	at(3, 10, 11, 0)
	respond(8)
	at(3, 13, 9, 0)
	respond(7)
	at(3, 14, 9, 30)
	resolve(7)
	at(3, 18, 9, 0)
	create(4, store.ChangeReq) // SD-9
	at(3, 18, 9, 30)
	respond(9)
	at(3, 19, 10, 0)
	resolve(9)
	at(4, 1, 0, 0)
	create(3, store.Request) // SD-10
	return st
}

// reportNow is when the March report is made: 1 April 00:00 CEST.
func reportNow(t *testing.T) time.Time { return cph(t, 2025, 4, 1, 0, 0) }

func runReport(t *testing.T, st *store.Store, r reportRequest) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeReport(st, &b, r, reportNow(t)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The table's rows with runs of spaces collapsed, worked out by hand from
// the histories (nearest-rank: the median of n is the value at rank
// ceil(n/2), P90 at ceil(0.9n)):
//
//	P1 SD-2 SD-3 SD-5 SD-6: response 3 of 4, times 5m 10m 14m 30m: median
//	   rank 2 = 10m, P90 rank 4 = 30m. Resolution 3 of 4 (SD-5), times 1h
//	   2h 2h 5h: median 2h, P90 5h.
//	P2 SD-8: response 1 of 1 at 1h; resolution 0 of 1, none stopped.
//	P3 SD-4 SD-7, in days of 8h: response 1 of 2, times 3.5h 24h (3d);
//	   resolution 2 of 2, times 29h (3d 5h), 32.5h (4d 0h, the half hour
//	   cut).
//	P4 SD-9: 30m; 9h = 1d 1h.
//	change SD-9, in hours (its calendars have 24h and 8h days): 30m, 9h.
//	incident SD-2 SD-3 SD-6 SD-7 SD-8: response 3 of 5, times 10m 14m 30m 1h
//	   24h: median rank 3 = 30m, P90 rank 5 = 24h. Resolution 4 of 5
//	   (SD-8), times 1h 2h 2h 32.5h: median rank 2 = 2h, P90 rank 4 = 32.5h.
//	request SD-4 SD-5: response 2 of 2, 5m and 3.5h; resolution 1 of 2
//	   (SD-5), 5h and 29h.
//	all 8: response 6 of 8, times 5m 10m 14m 30m 30m 1h 3.5h 24h: median
//	   rank 4 = 30m, P90 rank 8 = 24h. Resolution 6 of 8, 7 timed: 1h 2h
//	   2h 5h 9h 29h 32.5h: median rank 4 = 5h, P90 rank 7 = 32.5h.
var wantReportRows = []string{
	"PRIORITY TICKETS RESPONSE GOAL MEDIAN P90 RESOLUTION GOAL MEDIAN P90",
	"P1 4 3/4 75% 90% MISSED 10m 30m 3/4 75% 95% MISSED 2h00m 5h00m",
	"P2 1 1/1 100% 90% ok 1h00m 1h00m 0/1 0% 95% MISSED - -",
	"P3 2 1/2 50% 90% MISSED 3h30m 3d 0h 2/2 100% 95% ok 3d 5h 4d 0h",
	"P4 1 1/1 100% 90% ok 30m 30m 1/1 100% 95% ok 1d 1h 1d 1h",
	"TYPE TICKETS RESPONSE GOAL MEDIAN P90 RESOLUTION GOAL MEDIAN P90",
	"change 1 1/1 100% 90% ok 30m 30m 1/1 100% 95% ok 9h00m 9h00m",
	"incident 5 3/5 60% 90% MISSED 30m 24h00m 4/5 80% 95% MISSED 2h00m 32h30m",
	"request 2 2/2 100% 90% ok 5m 3h30m 1/2 50% 95% MISSED 5h00m 29h00m",
	"all 8 6/8 75% 90% MISSED 30m 24h00m 6/8 75% 95% MISSED 5h00m 32h30m",
}

// The breaches, in ticket order, each in the days of its own calendar.
var wantReportBreaches = []string{
	"TICKET PRIORITY TYPE CLOCK TARGET USED OVER BY STOPPED",
	"SD-3 P1 incident response 15m 30m 15m 2025-03-03 14:30",
	"SD-5 P1 request resolution 4h00m 5h00m 1h00m 2025-03-04 14:00",
	"SD-7 P3 incident response 2d 0h 3d 0h 1d 0h 2025-03-13 09:00",
	"SD-8 P2 incident resolution 8h00m 21d 21d still open",
}

// tableSections splits a table report into its row lines and breach lines,
// runs of spaces collapsed.
func tableSections(t *testing.T, out string) (head string, rows, breaches []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	head = lines[0]
	in := &rows
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "Breaches ("):
			in = &breaches
		case strings.HasPrefix(l, "Counted:"):
			return head, rows, breaches
		case strings.TrimSpace(l) != "":
			*in = append(*in, strings.Join(strings.Fields(l), " "))
		}
		if l != strings.TrimRight(l, " ") {
			t.Errorf("trailing spaces: %q", l)
		}
	}
	t.Fatalf("no footer:\n%s", out)
	return
}

func TestReportTable(t *testing.T) {
	st := reportStore(t, t.TempDir())
	defer st.Close()
	out := runReport(t, st, reportRequest{Month: "2025-03"})
	head, rows, breaches := tableSections(t, out)
	if want := "SLA compliance for tickets registered 2025-03-01 to 2025-03-31 (both days whole, Europe/Copenhagen), as of 2025-04-01 00:00"; head != want {
		t.Errorf("heading %q, want %q", head, want)
	}
	if !reflect.DeepEqual(rows, wantReportRows) {
		t.Errorf("rows:\n%s\nwant:\n%s\n\n%s", strings.Join(rows, "\n"), strings.Join(wantReportRows, "\n"), out)
	}
	if !reflect.DeepEqual(breaches, wantReportBreaches) {
		t.Errorf("breaches:\n%s\nwant:\n%s\n\n%s", strings.Join(breaches, "\n"), strings.Join(wantReportBreaches, "\n"), out)
	}
	// The default is the month before now's: March again.
	if got := runReport(t, st, reportRequest{}); got != out {
		t.Errorf("no --month is not last month:\n%s", got)
	}
	// --format table is the default.
	if got := runReport(t, st, reportRequest{Month: "2025-03", Format: "table"}); got != out {
		t.Errorf("--format table differs:\n%s", got)
	}
}

// --to is inclusive: 3 to 4 March takes SD-5, registered on 4 March 09:00,
// and nothing from 5 March. All four clocks stopped, so the numbers do
// not depend on now.
func TestReportFromToInclusive(t *testing.T) {
	st := reportStore(t, t.TempDir())
	defer st.Close()
	out := runReport(t, st, reportRequest{From: "2025-03-03", To: "2025-03-04"})
	head, rows, breaches := tableSections(t, out)
	if !strings.Contains(head, "registered 2025-03-03 to 2025-03-04 ") {
		t.Errorf("heading %q", head)
	}
	// SD-2 SD-3 SD-4 SD-5: P1 response 10m 30m 5m, 2 of 3: median 10m, P90
	// 30m; resolution 2h 1h 5h, 2 of 3: median 2h, P90 5h. P3: SD-4 alone.
	want := []string{
		"P1 3 2/3 66.6% 90% MISSED 10m 30m 2/3 66.6% 95% MISSED 2h00m 5h00m",
		"P2 0 - 90% - - - 95% - -",
		"P3 1 1/1 100% 90% ok 3h30m 3h30m 1/1 100% 95% ok 3d 5h 3d 5h",
		"P4 0 - 90% - - - 95% - -",
	}
	if !reflect.DeepEqual(rows[1:5], want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows[1:5], "\n"), strings.Join(want, "\n"))
	}
	if len(rows) != 9 || rows[8] != "all 4 3/4 75% 90% MISSED 10m 3h30m 3/4 75% 95% MISSED 2h00m 29h00m" {
		t.Errorf("rows:\n%s", strings.Join(rows, "\n"))
	}
	if len(breaches) != 3 || !strings.HasPrefix(breaches[1], "SD-3 ") || !strings.HasPrefix(breaches[2], "SD-5 ") {
		t.Errorf("breaches:\n%s", strings.Join(breaches, "\n"))
	}
	// A single day: 3 March only, SD-2 SD-3 SD-4: response 10m 30m 3.5h,
	// 2 of 3; resolution 2h 1h 29h, all met.
	_, rows, _ = tableSections(t, runReport(t, st, reportRequest{From: "2025-03-03", To: "2025-03-03"}))
	if rows[len(rows)-1] != "all 3 2/3 66.6% 90% MISSED 30m 3h30m 3/3 100% 95% ok 2h00m 29h00m" {
		t.Errorf("3 March alone:\n%s", strings.Join(rows, "\n"))
	}
}

func TestReportCSV(t *testing.T) {
	st := reportStore(t, t.TempDir())
	defer st.Close()
	recs, err := csv.NewReader(strings.NewReader(runReport(t, st, reportRequest{Month: "2025-03", Format: "csv"}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The numbers of wantReportRows, times in seconds: 10m 600, 30m 1800,
	// 2h 7200, 5h 18000, 3.5h 12600, 24h 86400, 29h 104400, 32.5h 117000.
	want := [][]string{
		{"group", "name", "tickets",
			"response_met", "response_total", "response_share", "response_goal", "response_ok", "response_timed", "response_median_seconds", "response_p90_seconds",
			"resolution_met", "resolution_total", "resolution_share", "resolution_goal", "resolution_ok", "resolution_timed", "resolution_median_seconds", "resolution_p90_seconds"},
		{"priority", "P1", "4", "3", "4", "0.75", "0.9", "false", "4", "600", "1800", "3", "4", "0.75", "0.95", "false", "4", "7200", "18000"},
		{"priority", "P2", "1", "1", "1", "1", "0.9", "true", "1", "3600", "3600", "0", "1", "0", "0.95", "false", "0", "0", "0"},
		{"priority", "P3", "2", "1", "2", "0.5", "0.9", "false", "2", "12600", "86400", "2", "2", "1", "0.95", "true", "2", "104400", "117000"},
		{"priority", "P4", "1", "1", "1", "1", "0.9", "true", "1", "1800", "1800", "1", "1", "1", "0.95", "true", "1", "32400", "32400"},
		{"type", "change", "1", "1", "1", "1", "0.9", "true", "1", "1800", "1800", "1", "1", "1", "0.95", "true", "1", "32400", "32400"},
		{"type", "incident", "5", "3", "5", "0.6", "0.9", "false", "5", "1800", "86400", "4", "5", "0.8", "0.95", "false", "4", "7200", "117000"},
		{"type", "request", "2", "2", "2", "1", "0.9", "true", "2", "300", "12600", "1", "2", "0.5", "0.95", "false", "2", "18000", "104400"},
		{"all", "", "8", "6", "8", "0.75", "0.9", "false", "8", "1800", "86400", "6", "8", "0.75", "0.95", "false", "7", "18000", "117000"},
	}
	if !reflect.DeepEqual(recs, want) {
		var b strings.Builder
		csv.NewWriter(&b).WriteAll(recs)
		t.Errorf("csv:\n%s", b.String())
	}
}

func TestReportJSON(t *testing.T) {
	st := reportStore(t, t.TempDir())
	defer st.Close()
	out := runReport(t, st, reportRequest{Month: "2025-03", Format: "json"})
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := strings.Join(slices.Sorted(maps.Keys(j)), " "), "all at breaches from priorities resolution_goal response_goal to types"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if j["from"] != "2025-03-01T00:00:00+01:00" || j["to"] != "2025-04-01T00:00:00+02:00" || j["at"] != "2025-04-01T00:00:00+02:00" ||
		j["response_goal"] != 0.9 || j["resolution_goal"] != 0.95 {
		t.Errorf("period and goals: %v %v %v %v %v", j["from"], j["to"], j["at"], j["response_goal"], j["resolution_goal"])
	}
	row := func(v any) map[string]any { return v.(map[string]any) }
	p1 := row(j["priorities"].([]any)[0])
	wantP1 := map[string]any{"priority": "P1", "tickets": 4.0,
		"response_met": 3.0, "response_total": 4.0, "response_share": 0.75, "response_goal": 0.9, "response_ok": false,
		"response_timed": 4.0, "response_median_seconds": 600.0, "response_p90_seconds": 1800.0,
		"resolution_met": 3.0, "resolution_total": 4.0, "resolution_share": 0.75, "resolution_goal": 0.95, "resolution_ok": false,
		"resolution_timed": 4.0, "resolution_median_seconds": 7200.0, "resolution_p90_seconds": 18000.0}
	if !reflect.DeepEqual(p1, wantP1) {
		t.Errorf("P1 = %v\nwant %v", p1, wantP1)
	}
	inc := row(j["types"].([]any)[1])
	if inc["type"] != "incident" || inc["tickets"] != 5.0 || inc["response_met"] != 3.0 || inc["response_median_seconds"] != 1800.0 ||
		inc["response_p90_seconds"] != 86400.0 || inc["resolution_median_seconds"] != 7200.0 || inc["resolution_p90_seconds"] != 117000.0 {
		t.Errorf("incident = %v", inc)
	}
	all := row(j["all"])
	if all["tickets"] != 8.0 || all["resolution_timed"] != 7.0 || all["resolution_median_seconds"] != 18000.0 || all["resolution_p90_seconds"] != 117000.0 {
		t.Errorf("all = %v", all)
	}
	bs := j["breaches"].([]any)
	want := []map[string]any{
		{"ticket": "SD-3", "priority": "P1", "type": "incident", "clock": "response", "target_seconds": 900.0, "used_seconds": 1800.0, "over_seconds": 900.0, "stopped": "2025-03-03T14:30:00+01:00"},
		{"ticket": "SD-5", "priority": "P1", "type": "request", "clock": "resolution", "target_seconds": 14400.0, "used_seconds": 18000.0, "over_seconds": 3600.0, "stopped": "2025-03-04T14:00:00+01:00"},
		{"ticket": "SD-7", "priority": "P3", "type": "incident", "clock": "response", "target_seconds": 57600.0, "used_seconds": 86400.0, "over_seconds": 28800.0, "stopped": "2025-03-13T09:00:00+01:00"},
		{"ticket": "SD-8", "priority": "P2", "type": "incident", "clock": "resolution", "target_seconds": 28800.0, "used_seconds": 517 * 3600.0, "over_seconds": 509 * 3600.0, "stopped": nil},
	}
	if len(bs) != len(want) {
		t.Fatalf("%d breaches, want %d: %v", len(bs), len(want), bs)
	}
	for i, b := range bs {
		if got := row(b); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("breach %d = %v\nwant %v", i, got, want[i])
		}
	}
	// An empty period still has its lists, as [] rather than null.
	var empty map[string]any
	if err := json.Unmarshal([]byte(runReport(t, st, reportRequest{Month: "2024-01", Format: "json"})), &empty); err != nil {
		t.Fatal(err)
	}
	if ts, ok := empty["types"].([]any); !ok || len(ts) != 0 {
		t.Errorf("types of an empty month: %v", empty["types"])
	}
	if bs, ok := empty["breaches"].([]any); !ok || len(bs) != 0 {
		t.Errorf("breaches of an empty month: %v", empty["breaches"])
	}
}

// The command line: --json is --format json, and the flags' mistakes are
// usage mistakes (exit 2). Only 3-4 March, whose clocks all stopped: the
// command reports at the real now.
func TestReportCommandLine(t *testing.T) {
	dir := t.TempDir()
	reportStore(t, dir).Close()
	cfg := filepath.Join(t.TempDir(), "desk.toml")
	if err := os.WriteFile(cfg, []byte("operator = \"mette\"\ntimezone = \"Europe/Copenhagen\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := func(args ...string) (string, string, int) {
		t.Helper()
		return desk(t, append([]string{"report", "--data", dir, "--config", cfg}, args...)...)
	}
	decode := func(out string) map[string]any {
		t.Helper()
		var j map[string]any
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		delete(j, "at")
		return j
	}
	a, stderr, code := rep("--from", "2025-03-03", "--to", "2025-03-04", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _, _ := rep("--from", "2025-03-03", "--to", "2025-03-04", "--format", "json")
	ja := decode(a)
	if !reflect.DeepEqual(ja, decode(b)) {
		t.Errorf("--json and --format json differ:\n%s\n%s", a, b)
	}
	if ja["to"] != "2025-03-05T00:00:00+01:00" || ja["all"].(map[string]any)["tickets"] != 4.0 {
		t.Errorf("3-4 March: to %v, all %v", ja["to"], ja["all"])
	}
	out, _, code := rep("--from", "2025-03-03", "--to", "2025-03-04", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "group,name,tickets,") || !strings.Contains(out, "\nall,,4,3,4,0.75,") {
		t.Errorf("csv: exit %d\n%s", code, out)
	}
	out, _, code = rep("--from", "2025-03-03", "--to", "2025-03-04")
	if code != 0 || !strings.HasPrefix(out, "SLA compliance for tickets registered 2025-03-03 to 2025-03-04") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"--month", "2025-03", "--from", "2025-03-01"},
		{"--to", "2025-03-04"},
		{"--from", "2025-03-05", "--to", "2025-03-04"},
		{"--from", "03/03/2025"},
		{"--from", "2025-03-03", "--to", "2025-3-4"},
		{"--month", "March"},
		{"--format", "xml"},
		{"--json", "--format", "csv"},
	} {
		if out, stderr, code := rep(args...); code != 2 || out != "" || !strings.HasPrefix(stderr, "desk: ") {
			t.Errorf("report %v: exit %d, %q, %q; want 2", args, code, out, stderr)
		}
	}
	if _, stderr, _ := desk(t, "report", "-h"); !strings.Contains(stderr, "included whole") {
		t.Errorf("report -h does not say --to is included:\n%s", stderr)
	}
}

// The period's ends are midnights in the desk's zone: the last day is
// taken whole even when it has 23 hours (30 March 2025, CET to CEST), and
// --from alone runs through today.
func TestReportPeriod(t *testing.T) {
	now := cph(t, 2025, 4, 2, 15, 30)
	for _, c := range []struct {
		r        reportRequest
		from, to time.Time
	}{
		{reportRequest{From: "2025-03-30", To: "2025-03-30"}, cph(t, 2025, 3, 30, 0, 0), cph(t, 2025, 3, 31, 0, 0)},
		{reportRequest{From: "2025-03-01"}, cph(t, 2025, 3, 1, 0, 0), cph(t, 2025, 4, 3, 0, 0)},
		{reportRequest{}, cph(t, 2025, 3, 1, 0, 0), cph(t, 2025, 4, 1, 0, 0)},
		{reportRequest{Month: "this"}, cph(t, 2025, 4, 1, 0, 0), cph(t, 2025, 5, 1, 0, 0)},
	} {
		from, to, err := c.r.period(now)
		if err != nil || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%+v: %v to %v (%v), want %v to %v", c.r, from, to, err, c.from, c.to)
		}
	}
	if got := cph(t, 2025, 3, 31, 0, 0).Sub(cph(t, 2025, 3, 30, 0, 0)); got != 23*time.Hour {
		t.Fatalf("30 March 2025 has %v in Copenhagen: the test needs its 23", got)
	}
}
