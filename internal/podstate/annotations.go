package podstate

// DefaultAnnotationPrefix is prepended to the annotation names below.
const DefaultAnnotationPrefix = "veltrim.io/"

// Pod annotation names, without the configurable prefix.
const (
	AnnotationCacheState            = "cache-state"
	AnnotationLastCacheMiss         = "last-cache-miss"
	AnnotationCacheMisses           = "cache-misses"
	AnnotationCPURequestUtilization = "cpu-request-utilization"
	AnnotationObservedAt            = "observed-at"
)

// DeletionCostAnnotation is read by the ReplicaSet controller: on scale-down
// it deletes pods with a lower cost first.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"
