package dedup

import (
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on x86-64 and of the
// default one on arm64 with 4 KiB base pages.
const hugePageSize = 2 << 20

// madviseHugePage is MADV_HUGEPAGE from linux/mman.h, absent from the
// syscall package.
const madviseHugePage = 14

// adviseHugePages advises the kernel to back the 2 MiB-aligned part of the
// slots with transparent huge pages. Every lookup touches a random slot, so
// with 4 KiB pages nearly each one also misses the TLB, and a page walk is
// costly in a virtual machine. The advice takes effect only where the kernel
// runs transparent huge pages in "madvise" or "always" mode. Errors are
// ignored because the table works the same without the advice.
func adviseHugePages(slots []slot) {
	size := len(slots) * int(unsafe.Sizeof(slot{}))
	if size < 2*hugePageSize {
		return
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), size)
	start := (hugePageSize - int(uintptr(unsafe.Pointer(&mem[0]))%hugePageSize)) % hugePageSize
	end := start + (size-start)/hugePageSize*hugePageSize
	_ = syscall.Madvise(mem[start:end], madviseHugePage)
}
