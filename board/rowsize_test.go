package board

import (
	"testing"
	"unsafe"

	"github.com/deskhq/desk/slaengine"
)

// A Row is allocated once per ticket and kept. An object with pointers of
// more than 512 bytes gets an 8-byte header from the allocator, so a Row
// of at most 760 bytes takes the 768-byte size class and one byte more
// the 896-byte one: 128 MB at 10^6 tickets. A field added to store.Ticket
// or slaengine.Clock that pushes a Row past 760 bytes must be paid for
// elsewhere (slaengine.Clock.Holds is a pointer, Row.Group a method, for
// this).
func TestRowFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Row{}); n > 760 {
		t.Errorf("a Row is %d bytes, with its allocation header past the 768-byte size class (Clock %d bytes)", n, unsafe.Sizeof(slaengine.Clock{}))
	}
}
