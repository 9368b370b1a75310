package publisher

import "time"

// changeRules decide whether a new snapshot is worth a patch. Patching on
// every batch would write to etcd at the telemetry rate for every pod.
type changeRules struct {
	// cpuChangeThreshold is how far CPU utilization must move, in absolute
	// terms, before the move alone triggers a patch.
	cpuChangeThreshold float64
	// refreshInterval is the maximum age of the published observed-at. An
	// otherwise unchanged state that much newer is published again.
	refreshInterval time.Duration
	// deletionCost is true when the deletion cost is published, so that a
	// change of it matters.
	deletionCost bool
}

// changed reports whether next differs from the published prev in a way a
// reader of the annotations acts on.
func (r changeRules) changed(prev, next snapshot) bool {
	switch {
	case prev.cacheState != next.cacheState,
		prev.cacheMisses != next.cacheMisses,
		!prev.lastCacheMiss.Equal(next.lastCacheMiss),
		prev.hasCPU != next.hasCPU:
		return true
	case next.hasCPU && r.cpuMoved(prev.cpu, next.cpu):
		return true
	case r.deletionCost && prev.deletionCost != next.deletionCost:
		return true
	default:
		return next.observedAt.Sub(prev.observedAt) >= r.refreshInterval
	}
}

func (r changeRules) cpuMoved(prev, next float64) bool {
	delta := next - prev
	if delta < 0 {
		delta = -delta
	}
	return delta > r.cpuChangeThreshold
}
