package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The roster of the issue, as written there.
const nspRosterTOML = `
[[oncall]]                      # first match wins; times in the calendar's zone
name = "incident-manager"
contact = "im@example.dk"
calendar = "copenhagen"
hours = { "mon-thu" = "16:00-18:00", fri = "15:30-18:00" }
[[oncall]]
name = "system-owner"
contact = "owner@example.dk"
hours = { "mon-thu" = "18:00-24:00, 00:00-08:00", fri = "18:00-24:00, 00:00-08:00", "sat-sun" = "00:00-24:00" }
[[oncall_overrides]]
from = "2026-12-24T08:00"
to = "2026-12-24T16:00"
name = "system-owner"
reason = "Christmas Eve"
`

func TestOncallCommand(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte(nspRosterTOML), 0o600); err != nil {
		t.Fatal(err)
	}
	// No data directory: asking who is on call needs none, and creates none.
	data := filepath.Join(t.TempDir(), "none")
	out, errOut, code := desk(t, "oncall", "--at", "2026-12-07T19:30:00+01:00", "--json", "--config", cfg, "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Name, Contact string
		OnCall        bool `json:"on_call"`
		Until         string
		Next          struct{ Name, From string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !got.OnCall || got.Name != "system-owner" || got.Contact != "owner@example.dk" || got.Until != "2026-12-08T08:00:00+01:00" ||
		got.Next.Name != "incident-manager" || got.Next.From != "2026-12-08T16:00:00+01:00" {
		t.Fatalf("oncall at 19:30 Monday: %s", out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("desk oncall made a data directory: %v", err)
	}
	out, _, _ = desk(t, "oncall", "--at", "2026-12-24T10:00", "--config", cfg, "--data", data)
	if !strings.Contains(out, "on call  system-owner <owner@example.dk> until Thu 24 Dec 16:00 (override: Christmas Eve)") {
		t.Fatalf("Christmas Eve override:\n%s", out)
	}
	_, errOut, code = desk(t, "oncall", "--at", "tonight", "--config", cfg, "--data", data)
	if code != 2 || !strings.Contains(errOut, "2026-12-07T19:30:00+01:00") {
		t.Fatalf("a bad --at: exit %d %s", code, errOut)
	}
}

func TestOncallConfigErrorsPointAtTheKey(t *testing.T) {
	_, err := loadText(t, "[[oncall]]\nname = \"im\"\ncontact = \"im@x\"\nhours = { \"mon-fri\" = \"18:00-08:00\" }\n")
	wantConfigError(t, err, 4, "oncall.hours.mon-fri", "split one across midnight")
}
