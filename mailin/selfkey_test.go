package mailin

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSelfKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadSelfKey(dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first load: %x, %v", k1, err)
	}
	path := filepath.Join(dir, "mail-key")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v: want mode 0600", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != hex.EncodeToString(k1) {
		t.Fatalf("key file holds %q", b)
	}
	k2, err := LoadSelfKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load %x, %v: want the same key", k2, err)
	}
	if other, _ := LoadSelfKey(t.TempDir()); bytes.Equal(other, k1) {
		t.Fatal("two installs got the same key")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("data dir holds %d files, want only the key", len(ents))
	}
	// Readable by others: refused, with the fix.
	os.Chmod(path, 0o644)
	if _, err := LoadSelfKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a 0644 key: %v", err)
	}
	// Not a key: refused, never replaced.
	os.WriteFile(path, []byte("not hex\n"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := LoadSelfKey(dir); err == nil || !strings.Contains(err.Error(), "hex digits") {
		t.Fatalf("a broken key: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not hex\n" {
		t.Fatalf("the broken key was replaced: %q", b)
	}
	if _, err := LoadSelfKey(""); err == nil {
		t.Fatal("no data dir accepted")
	}
}

// TestMessageIDTag holds the tag to its definition, for an implementation
// elsewhere (the store): HMAC-SHA256(key, "desk-msgid-v1\x00" + lower(local)
// + "\x00"), first 16 hex digits; checked with Python's hmac.
func TestMessageIDTag(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	if got := MessageIDTag(key, "sd-42.out7.3f9a1c2b7d4e"); got != "15fbe4cd7af9c0e9" {
		t.Fatalf("tag %s", got)
	}
	if got := SignMessageID(key, "sd-42.out7.3f9a1c2b7d4e"); got != "sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9" {
		t.Fatalf("signed %s", got)
	}
	if got := bodySig(key, "<sd-42.out7.3f9a1c2b7d4e.x@desk.test>", "Dear Jens,  \r\nfixed.\r\n\r\n"); got != "v1 0e8008b80abf2690214c36b7e6ee6e19" {
		t.Fatalf("body signature %s", got)
	}
	id := NewMessageID(key, "Desk.Test")
	other := []byte("another key, thirty-two bytes...")
	for _, c := range []struct {
		id, domain string
		key        []byte
		ok         bool
	}{
		{id, "desk.test", key, true},
		{"<" + strings.ToUpper(id) + ">", "desk.test", key, true},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@desk.test", "desk.test", key, true},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@desk.test", "", key, true},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@elsewhere.test", "desk.test", key, false},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e8@desk.test", "desk.test", key, false},
		{"sd-43.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@desk.test", "desk.test", key, false},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@desk.test", "desk.test", other, false},
		{"sd-42.out7.3f9a1c2b7d4e.15fbe4cd7af9c0e9@desk.test", "desk.test", nil, false},
		{"sd-1.out1.abc@desk.test", "desk.test", key, false},
		{"", "desk.test", key, false},
		{"@", "", key, false},
		{".15fbe4cd7af9c0e9@desk.test", "desk.test", key, false},
	} {
		if got := ValidMessageID(c.key, c.id, c.domain); got != c.ok {
			t.Errorf("ValidMessageID(%q, %q) = %v", c.id, c.domain, got)
		}
	}
}
