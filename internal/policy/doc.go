// Package policy evaluates scale-down decisions with a Lua policy
// (github.com/yuin/gopher-lua).
//
// A policy is a Lua chunk that defines a global function decide(request). It is
// compiled once, and every evaluation runs the compiled code in a sandboxed
// state taken from a pool. A policy can reach neither files, processes nor
// other Lua code: io, os, package, require, load, loadstring, loadfile and
// dofile are absent.
// Each evaluation is bounded by a timeout that interrupts the Lua VM, so a
// policy that loops forever fails with ErrTimeout instead of blocking its caller.
//
// The default policy, default.lua, is embedded in the binary. It counts a pod
// as removable when it had no cache miss within the cache window, its CPU
// request utilization is below the threshold, and its state was observed
// within stale_after. Pods of missing or stale state count as configured.
package policy
