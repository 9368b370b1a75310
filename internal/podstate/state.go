package podstate

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Resource attributes the processor stamps on every resource with a pod
// identity. The exporter reads them back; renaming one breaks that contract.
const (
	// AttrCacheState is "warm" when the pod had a cache miss within the
	// cache window, else "cold".
	AttrCacheState = "veltrim.cache.state"
	// AttrCacheMisses is the number of cache-miss spans within the window (int).
	AttrCacheMisses = "veltrim.cache.misses"
	// AttrCacheLastMiss is the time of the newest cache-miss span in Unix
	// nanoseconds (int), absent when none is known.
	AttrCacheLastMiss = "veltrim.cache.last_miss"
	// AttrCPURequestUtilization is the pod's CPU usage divided by its CPU
	// request, averaged over the CPU window (double), absent without samples.
	AttrCPURequestUtilization = "veltrim.cpu.request_utilization"
	// AttrObservedAt is the time the state was computed in Unix nanoseconds (int).
	AttrObservedAt = "veltrim.state.observed_at"

	// AttrStormSuppressed is a span attribute (int): how many identical spans
	// were dropped as a storm since the previous kept span of the same kind.
	AttrStormSuppressed = "veltrim.storm.suppressed"
)

// Values of AttrCacheState and of the cache-state annotation.
const (
	CacheStateWarm = "warm"
	CacheStateCold = "cold"
)

// State is one pod's state at ObservedAt.
type State struct {
	CacheState  string
	CacheMisses int64
	// LastCacheMiss is the zero time when no miss is known.
	LastCacheMiss time.Time
	// CPURequestUtilization is valid only when HasCPU is true.
	CPURequestUtilization float64
	HasCPU                bool
	ObservedAt            time.Time
}

// Stamp writes the state onto resource attributes, replacing earlier values
// and removing optional attributes the state does not have.
func (s State) Stamp(attrs pcommon.Map) {
	attrs.PutStr(AttrCacheState, s.CacheState)
	attrs.PutInt(AttrCacheMisses, s.CacheMisses)
	if s.LastCacheMiss.IsZero() {
		attrs.Remove(AttrCacheLastMiss)
	} else {
		attrs.PutInt(AttrCacheLastMiss, s.LastCacheMiss.UnixNano())
	}
	if s.HasCPU {
		attrs.PutDouble(AttrCPURequestUtilization, s.CPURequestUtilization)
	} else {
		attrs.Remove(AttrCPURequestUtilization)
	}
	attrs.PutInt(AttrObservedAt, s.ObservedAt.UnixNano())
}

// StateFromResource reads a stamped state from resource attributes. It
// reports false when the resource carries no veltrim state, that is when
// AttrObservedAt or AttrCacheState is missing or of the wrong type.
func StateFromResource(attrs pcommon.Map) (State, bool) {
	observed, ok := attrs.Get(AttrObservedAt)
	if !ok || observed.Type() != pcommon.ValueTypeInt {
		return State{}, false
	}
	cacheState, ok := attrs.Get(AttrCacheState)
	if !ok || cacheState.Type() != pcommon.ValueTypeStr {
		return State{}, false
	}

	s := State{
		CacheState: cacheState.Str(),
		ObservedAt: time.Unix(0, observed.Int()).UTC(),
	}
	if v, ok := attrs.Get(AttrCacheMisses); ok && v.Type() == pcommon.ValueTypeInt {
		s.CacheMisses = v.Int()
	}
	if v, ok := attrs.Get(AttrCacheLastMiss); ok && v.Type() == pcommon.ValueTypeInt {
		s.LastCacheMiss = time.Unix(0, v.Int()).UTC()
	}
	if v, ok := attrs.Get(AttrCPURequestUtilization); ok && v.Type() == pcommon.ValueTypeDouble {
		s.CPURequestUtilization = v.Double()
		s.HasCPU = true
	}
	return s, true
}
