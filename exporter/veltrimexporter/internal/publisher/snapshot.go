package publisher

import (
	"math"
	"strconv"
	"time"

	"github.com/veltrix/veltrim/internal/podstate"
)

// cpuDecimals is how many decimal places the cpu-request-utilization
// annotation keeps. The deletion cost is computed from the rounded value, so
// the exporter and a reader of the annotation classify a pod the same way.
const cpuDecimals = 3

// snapshot is one pod's state in the form it is published: times at the
// annotations' one-second precision, CPU utilization rounded to cpuDecimals.
type snapshot struct {
	cacheState  string
	cacheMisses int64
	// lastCacheMiss is the zero time when no miss is known.
	lastCacheMiss time.Time
	// cpu is valid only when hasCPU is true.
	cpu          float64
	hasCPU       bool
	observedAt   time.Time
	deletionCost int32
}

func newSnapshot(s podstate.State, cpuThreshold float64) snapshot {
	snap := snapshot{
		cacheState:  s.CacheState,
		cacheMisses: s.CacheMisses,
		hasCPU:      s.HasCPU,
		observedAt:  s.ObservedAt.UTC().Truncate(time.Second),
	}
	if !s.LastCacheMiss.IsZero() {
		snap.lastCacheMiss = s.LastCacheMiss.UTC().Truncate(time.Second)
	}
	if s.HasCPU {
		scale := math.Pow10(cpuDecimals)
		snap.cpu = math.Round(s.CPURequestUtilization*scale) / scale
	}
	snap.deletionCost = deletionCost(snap, cpuThreshold)
	return snap
}

// annotations returns the annotation values of snap keyed by full name. A nil
// value removes the annotation in a JSON merge patch.
func (s snapshot) annotations(prefix string, withDeletionCost bool) map[string]*string {
	values := map[string]*string{
		prefix + podstate.AnnotationCacheState:            stringPtr(s.cacheState),
		prefix + podstate.AnnotationCacheMisses:           stringPtr(strconv.FormatInt(s.cacheMisses, 10)),
		prefix + podstate.AnnotationLastCacheMiss:         nil,
		prefix + podstate.AnnotationCPURequestUtilization: nil,
		prefix + podstate.AnnotationObservedAt:            stringPtr(s.observedAt.Format(time.RFC3339)),
	}
	if !s.lastCacheMiss.IsZero() {
		values[prefix+podstate.AnnotationLastCacheMiss] = stringPtr(s.lastCacheMiss.Format(time.RFC3339))
	}
	if s.hasCPU {
		values[prefix+podstate.AnnotationCPURequestUtilization] = stringPtr(strconv.FormatFloat(s.cpu, 'f', -1, 64))
	}
	if withDeletionCost {
		values[podstate.DeletionCostAnnotation] = stringPtr(strconv.FormatInt(int64(s.deletionCost), 10))
	}
	return values
}

func stringPtr(s string) *string {
	return &s
}
