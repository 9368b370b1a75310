package policy

import "time"

// Values of Settings.UnknownPods.
const (
	UnknownPodsRemovable = "removable"
	UnknownPodsProtected = "protected"
)

// Values of Request.Mode.
const (
	ModeDeny  = "deny"
	ModeClamp = "clamp"
)

// Settings are the operator's thresholds, passed to the policy as request.settings.
type Settings struct {
	// CacheWindow protects a pod whose last cache miss is newer than this.
	CacheWindow time.Duration
	// CPUThreshold protects a pod whose CPU request utilization is at or above it.
	CPUThreshold float64
	// StaleAfter is the age after which a pod's observed state counts as unknown.
	StaleAfter time.Duration
	// UnknownPods is UnknownPodsRemovable or UnknownPodsProtected.
	UnknownPods string
}

// Request is one scale-down request, passed to the policy as its request table.
type Request struct {
	Namespace string
	// Kind is the workload's kind: Deployment, StatefulSet or ReplicaSet.
	Kind string
	Name string

	OldReplicas int32
	NewReplicas int32

	// Ordered is true when the workload removes pods by ordinal, highest
	// first, as a StatefulSet does; Pod.Ordinal is then set.
	Ordered bool

	// Mode is ModeDeny or ModeClamp: what happens when too few pods are removable.
	Mode string

	// Now is the time the decision is made at, from the caller's clock.
	Now time.Time

	// Pods are the workload's pods that count as replicas (not terminating,
	// succeeded or failed), in the order the policy should report them.
	Pods []Pod
}

// Pod is one pod's scheduling status and its published state. Zero times
// and the Has* flags mark annotations that are missing or do not parse.
type Pod struct {
	// UID and Version identify this content of the pod, such as its UID and
	// resourceVersion. An engine state reuses the Lua table it built for a
	// UID and Version it has seen. Either one "" builds a new table every time.
	UID     string
	Version string

	Name      string
	Phase     string
	Scheduled bool
	Ready     bool

	// Ordinal is the StatefulSet pod index; valid only when HasOrdinal is true.
	Ordinal    int
	HasOrdinal bool

	// CacheState is "warm", "cold" or "" when unknown.
	CacheState string
	// LastCacheMiss is the zero time when no cache miss is known.
	LastCacheMiss time.Time

	CacheMisses    int64
	HasCacheMisses bool

	CPURequestUtilization float64
	HasCPU                bool

	// ObservedAt is the zero time when the pod carries no state.
	ObservedAt time.Time
}

// Result is the value the policy's decide function returns.
type Result struct {
	// Removable is how many of the request's replicas may go, between 0 and
	// Request.OldReplicas.
	Removable int
	// Protected lists pods that must stay and why, in the order to report them.
	Protected []ProtectedPod
	// Message, when not empty, replaces the generated denial message.
	Message string
}

// ProtectedPod names a pod that must not be removed and the reason.
type ProtectedPod struct {
	Name   string
	Reason string
}
