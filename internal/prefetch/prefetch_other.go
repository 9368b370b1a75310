//go:build !amd64 && !arm64

// Package prefetch issues CPU cache prefetches. A table lookup that misses
// the cache stalls for the memory latency. Prefetching the lines a batch
// will read, before reading them, lets those misses overlap instead.
package prefetch

import "unsafe"

// Line does nothing on architectures without an assembly version.
func Line(unsafe.Pointer) {}
