package e2e

import (
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/veltrix/veltrim/internal/podstate"
)

// PodView is one pod's veltrim annotations as kube-apiserver stores them.
type PodView struct {
	Name string
	UID  string
	// CacheState is "warm", "cold" or "" when not published yet.
	CacheState    string
	CacheMisses   string
	LastCacheMiss string
	CPU           string
	ObservedAt    string
	// DeletionCost is the controller.kubernetes.io/pod-deletion-cost value.
	DeletionCost string
}

// viewPod reads the annotations of pod under prefix.
func viewPod(pod *corev1.Pod, prefix string) PodView {
	a := pod.Annotations
	return PodView{
		Name:          pod.Name,
		UID:           string(pod.UID),
		CacheState:    a[prefix+podstate.AnnotationCacheState],
		CacheMisses:   a[prefix+podstate.AnnotationCacheMisses],
		LastCacheMiss: a[prefix+podstate.AnnotationLastCacheMiss],
		CPU:           a[prefix+podstate.AnnotationCPURequestUtilization],
		ObservedAt:    a[prefix+podstate.AnnotationObservedAt],
		DeletionCost:  a[podstate.DeletionCostAnnotation],
	}
}

// Published reports whether the exporter has written the pod's state.
func (v PodView) Published() bool {
	return v.CacheState != "" && v.ObservedAt != ""
}

// DeletionCostValue returns the deletion cost as a number, 0 when absent
// as the ReplicaSet controller reads it.
func (v PodView) DeletionCostValue() int64 {
	cost, _ := strconv.ParseInt(v.DeletionCost, 10, 32)
	return cost
}

// ObservedTime parses ObservedAt, the zero time when absent or invalid.
func (v PodView) ObservedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, v.ObservedAt)
	return t
}

// podNames returns the sorted names of pods.
func podNames(pods []corev1.Pod) []string {
	names := make([]string, len(pods))
	for i, pod := range pods {
		names[i] = pod.Name
	}
	slices.Sort(names)
	return names
}

// missing returns the names in before that are not in after.
func missing(before, after []string) []string {
	var gone []string
	for _, name := range before {
		if !slices.Contains(after, name) {
			gone = append(gone, name)
		}
	}
	return gone
}

func joinNames(names []string) string {
	return strings.Join(names, ", ")
}
