package mailin

import (
	"testing"

	"github.com/BurntSushi/toml"
)

// The repository's example config documents every [mail] key; it must
// decode into Config without unknown keys and pass Validate.
func TestExampleConfig(t *testing.T) {
	var f struct {
		Mail          Config         `toml:"mail"`
		Organisations []Organisation `toml:"organisations"`
	}
	md, err := toml.DecodeFile("../desk.example.toml", &f)
	if err != nil {
		t.Skipf("no example config to check: %v", err)
	}
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "mail" {
			t.Errorf("desk.example.toml has a [mail] key mailin does not know: %s", k)
		}
	}
	if err := f.Mail.Validate(); err != nil {
		t.Fatalf("the example [mail] table does not validate: %v", err)
	}
	if len(f.Organisations) == 0 {
		t.Fatal("the example has no [[organisations]]")
	}
}
