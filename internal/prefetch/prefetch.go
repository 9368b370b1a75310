//go:build amd64 || arm64

// Package prefetch issues CPU cache prefetches. A table lookup that misses
// the cache stalls for the memory latency. Prefetching the lines a batch
// will read, before reading them, lets those misses overlap instead.
package prefetch

import "unsafe"

// Line issues a prefetch of the cache line at addr into all cache levels and
// returns without waiting for it. A prefetch never faults, but
// addr should point into live memory to be of use.
//
//go:noescape
func Line(addr unsafe.Pointer)
