package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// desk runs the command in-process, as `desk ARGS...` would.
func desk(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// seedStore makes a data dir with a few tickets and returns its path.
func seedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Policy: slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar())})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, nt := range []store.NewTicket{
		{Type: store.Incident, Priority: 1, Subject: "borger.dk login down", Queue: "2nd-line",
			Requester: store.Person{Name: "Søren Østergård", Email: "so@aarhus.dk", Organisation: "Aarhus Kommune"},
			Message:   &store.Message{Body: "Nobody can log in.", From: store.Person{Email: "so@aarhus.dk"}}, Inbound: true},
		{Type: store.Request, Priority: 4, Subject: "New contact person", Requester: store.Person{Name: "Katrien Wouters", Email: "kw@kbo.be"}},
	} {
		if _, err := st.Create("test", nt); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Resolve(2, "pieter", "Restarted the login service."); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestListJSONHasTheDocumentedFields(t *testing.T) {
	dir := seedStore(t)
	out, errOut, code := desk(t, "--config", "", "list", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("%d tickets, want 2", len(got))
	}
	first := got[0]
	for _, k := range []string{"id", "type", "priority", "status", "queue", "assignee", "requester", "subject", "created", "sla"} {
		if _, ok := first[k]; !ok {
			t.Errorf("list --json lacks %q: %v", k, first)
		}
	}
	if first["id"] != "SD-1" || first["priority"] != "P1" || first["type"] != "incident" || first["status"] != "new" {
		t.Fatalf("first = %v", first)
	}
	req := first["requester"].(map[string]any)
	if req["name"] != "Søren Østergård" || req["email"] != "so@aarhus.dk" || req["organisation"] != "Aarhus Kommune" {
		t.Fatalf("requester = %v", req)
	}
	resp := first["sla"].(map[string]any)["response"].(map[string]any)
	if resp["state"] != "ok" || resp["due"] == nil {
		t.Fatalf("sla.response = %v", resp)
	}
	if left := resp["left_seconds"].(float64); left <= 0 || left > 15*60 {
		t.Fatalf("P1 response left_seconds = %v, want within 15 minutes", left)
	}
	// --status filters
	out, _, _ = desk(t, "list", "--status", "resolved", "--json", "--data", dir)
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0]["id"] != "SD-2" {
		t.Fatalf("--status resolved gave %s", out)
	}
	_, errOut, code = desk(t, "list", "--status", "bogus", "--data", dir)
	if code != 2 || !strings.Contains(errOut, "use one of new, open") {
		t.Fatalf("bad --status: exit %d, %q", code, errOut)
	}
}

func TestShowJSONAddsHistory(t *testing.T) {
	dir := seedStore(t)
	out, errOut, code := desk(t, "show", "SD-2", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		History []struct {
			Kind  string `json:"kind"`
			Actor string `json:"actor"`
			To    string `json:"to"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "SD-2" || got.Status != "resolved" || len(got.History) != 4 || got.History[1].Kind != "message-out" ||
		got.History[2].Kind != "status" || got.History[2].Actor != "pieter" || got.History[2].To != "resolved" {
		t.Fatalf("show --json = %+v", got)
	}
	out, _, code = desk(t, "show", "sd-1", "--data", dir)
	if code != 0 || !strings.Contains(out, "borger.dk login down") || !strings.Contains(out, "Nobody can log in.") {
		t.Fatalf("show text (exit %d):\n%s", code, out)
	}
	_, errOut, code = desk(t, "show", "SD-99", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "SD-99") {
		t.Fatalf("missing ticket: exit %d %q", code, errOut)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := seedStore(t)
	file := filepath.Join(t.TempDir(), "desk.backup")
	if _, e, code := desk(t, "backup", file, "--data", dir); code != 0 {
		t.Fatalf("backup: %s", e)
	}
	fresh := t.TempDir()
	if _, e, code := desk(t, "restore", file, "--data", fresh); code != 0 {
		t.Fatalf("restore: %s", e)
	}
	a, _, _ := desk(t, "show", "SD-1", "--json", "--data", dir)
	b, _, _ := desk(t, "show", "SD-1", "--json", "--data", fresh)
	strip := func(s string) string { // left_seconds moves with the clock
		var v map[string]any
		json.Unmarshal([]byte(s), &v)
		delete(v, "sla")
		out, _ := json.Marshal(v)
		return string(out)
	}
	if strip(a) != strip(b) || !strings.Contains(a, "Nobody can log in.") {
		t.Fatalf("restored ticket differs:\n%s\n%s", a, b)
	}
	// restoring over a store with tickets is refused
	_, e, code := desk(t, "restore", file, "--data", dir)
	if code == 0 || !strings.Contains(e, "restor") {
		t.Fatalf("restore into a full store: exit %d %q", code, e)
	}
}

func TestSecondDeskSaysWhoHoldsTheStore(t *testing.T) {
	dir := seedStore(t)
	st, err := store.Open(dir, store.Options{Holder: "desk console"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, e, code := desk(t, "list", "--data", dir)
	if code != 1 || !strings.Contains(e, "in use by desk console") || !strings.Contains(e, "pid") {
		t.Fatalf("exit %d, %q", code, e)
	}
}

func TestConfigErrorsNameLineAndKey(t *testing.T) {
	cases := []struct{ name, toml, want string }{
		{"syntax", "operator = \"x\"\n[sla\nwarn_at = 1\n", ":2: expected '.' or ']'"},
		{"unknown key", "operator = \"x\"\n\n[sla]\nwarn_att = 0.5\n", ":4: sla.warn_att: unknown key"},
		{"bad role", "[[operators]]\nname = \"a\"\nrole = \"boss\"\n", "role \"boss\": use operator, lead or viewer"},
		{"bad zone", "[[calendars]]\nname = \"x\"\ntimezone = \"Mars/Olympus\"\nhours = { mon = \"08:00-16:00\" }\n", ":3: calendars.timezone"},
		{"bad hours", "[[calendars]]\nname = \"x\"\ntimezone = \"UTC\"\nhours = { mon = \"16:00-08:00\" }\n", ":4: calendars.hours.mon"},
		{"bad target", "[sla.targets.P1]\nresponse = \"soon\"\n", ":2: sla.targets.P1.response"},
		{"bad priority", "[sla.targets.P7]\nresponse = \"1h\"\n", ":1: sla.targets.P7"},
		{"unknown calendar", "[sla]\ncalendar = \"mars\"\n", ":2: sla.calendar: no calendar named \"mars\""},
		{"warn share", "[sla]\nwarn_at = 3\n", ":2: sla.warn_at"},
		{"wrong type", "queues = 3\n", ":1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "desk.toml")
			os.WriteFile(p, []byte(c.toml), 0o600)
			_, err := LoadConfig(p, false)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadConfig error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("../../desk.example.toml", false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Target("request", 3).Response; got.Hours() < 7.5 || got.Hours() > 8 {
		t.Fatalf("request P3 response = %v, want 1 business day (8h Mon-Thu, 7h Fri)", got)
	}
	if cfg.Mail == nil || cfg.Mail.Address != "support@example.dk" || len(cfg.Operators) != 2 || cfg.Serve.Listen != "127.0.0.1:2323" {
		t.Fatalf("example config read wrong: %+v", cfg)
	}
}

func TestMissingDefaultConfigIsFine(t *testing.T) {
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"), false); err == nil || !strings.Contains(err.Error(), "reading config") {
		t.Fatalf("an explicit missing config must fail: %v", err)
	}
}

func TestReadingCommandsDoNotCreateAStore(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{{"list"}, {"show", "SD-1"}, {"report"}, {"backup", filepath.Join(t.TempDir(), "b")}} {
		_, e, code := desk(t, append(args, "--data", missing)...)
		if code != 1 || !strings.Contains(e, "no desk data in "+missing) {
			t.Errorf("%v: exit %d %q", args, code, e)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a reading command created the data directory")
	}
	out, _, code := desk(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "desk ") {
		t.Fatalf("--version: %d %q", code, out)
	}
}

func TestMailConfigErrorsPointAtTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "desk.toml")
	os.WriteFile(p, []byte("operator = \"x\"\n\n[mail]\naddress = \"support@example.dk\"\nimap = \"imap//support@127.0.0.1:143/INBOX\"\nsmtp = \"smtp://127.0.0.1:25\"\npassword_env = \"X\"\n"), 0o600)
	_, err := LoadConfig(p, false)
	if err == nil || !strings.Contains(err.Error(), ":5: mail.imap: ") || !strings.Contains(err.Error(), "imap:// or imaps://") {
		t.Fatalf("error = %v, want line 5 and the imap key", err)
	}
}
