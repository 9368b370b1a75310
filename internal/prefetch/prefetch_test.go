package prefetch

import (
	"testing"
	"unsafe"
)

func TestLineAcceptsAnyAddress(t *testing.T) {
	buf := make([]byte, 128)
	Line(unsafe.Pointer(&buf[0]))
	Line(unsafe.Pointer(&buf[127]))
	// A prefetch of an unmapped address must not fault.
	Line(nil)
}
