package publisher

import "github.com/veltrix/veltrim/internal/podstate"

// Values of the controller.kubernetes.io/pod-deletion-cost annotation. On
// scale-down the ReplicaSet controller deletes pods with a lower cost first.
// A pod without the annotation counts as 0, so the deletion order is:
// removable pods, pods without veltrim state (new ones, or ones whose
// telemetry never arrived), busy pods, warm pods.
const (
	// DeletionCostRemovable is published for a cold pod whose CPU request
	// utilization is below the CPU threshold, or unknown.
	DeletionCostRemovable int32 = -1000
	// DeletionCostBusy is published for a cold pod at or above the CPU threshold.
	DeletionCostBusy int32 = 1000
	// DeletionCostWarm is published for a pod with a cache miss within the
	// cache window, whatever its CPU.
	DeletionCostWarm int32 = 10000
)

// deletionCost ranks snap. Any cache state other than "cold" counts as warm,
// so an unexpected value protects the pod instead of exposing it.
func deletionCost(snap snapshot, cpuThreshold float64) int32 {
	switch {
	case snap.cacheState != podstate.CacheStateCold:
		return DeletionCostWarm
	case snap.hasCPU && snap.cpu >= cpuThreshold:
		return DeletionCostBusy
	default:
		return DeletionCostRemovable
	}
}
