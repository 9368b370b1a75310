package admission

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/policy"
)

// annotationKeys are the full names of the state annotations, with the
// configured prefix.
type annotationKeys struct {
	cacheState    string
	lastCacheMiss string
	cacheMisses   string
	cpu           string
	observedAt    string
}

func newAnnotationKeys(prefix string) annotationKeys {
	if prefix == "" {
		prefix = podstate.DefaultAnnotationPrefix
	}
	return annotationKeys{
		cacheState:    prefix + podstate.AnnotationCacheState,
		lastCacheMiss: prefix + podstate.AnnotationLastCacheMiss,
		cacheMisses:   prefix + podstate.AnnotationCacheMisses,
		cpu:           prefix + podstate.AnnotationCPURequestUtilization,
		observedAt:    prefix + podstate.AnnotationObservedAt,
	}
}

// podBuffers recycles the slices listPods fills, because every decision
// needs one and the policy engine reads it only while it evaluates.
var podBuffers = sync.Pool{New: func() any { return new([]policy.Pod) }}

// getPodBuffer returns an empty slice from podBuffers.
func getPodBuffer() *[]policy.Pod {
	buf := podBuffers.Get().(*[]policy.Pod)
	*buf = (*buf)[:0]
	return buf
}

// putPodBuffer returns pods to podBuffers, cleared so that it keeps no
// strings of the pods alive.
func putPodBuffer(buf *[]policy.Pod, pods []policy.Pod) {
	clear(pods)
	*buf = pods[:0]
	podBuffers.Put(buf)
}

// listPods appends to pods the policy's view of the workload's pods that
// count as replicas: terminating, succeeded and failed pods are left out,
// as the ReplicaSet controller leaves them out. Pods are sorted by ordinal
// for ordered workloads and by name otherwise.
func listPods(lister corelisters.PodLister, keys annotationKeys, sd *scaleDown, pods []policy.Pod) ([]policy.Pod, error) {
	cached, err := lister.Pods(sd.namespace).List(sd.selector)
	if err != nil {
		return pods, err
	}

	// Sorting the pointers the lister returned reorders neither the cache
	// nor the pods, and costs less than sorting the converted pods.
	slices.SortFunc(cached, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })

	for _, pod := range cached {
		if !isActive(pod) {
			continue
		}
		p := toPolicyPod(pod, keys)
		if sd.ordered {
			p.Ordinal, p.HasOrdinal = podOrdinal(pod, sd.name)
		}
		pods = append(pods, p)
	}

	if sd.ordered {
		slices.SortStableFunc(pods, func(a, b policy.Pod) int { return cmp.Compare(a.Ordinal, b.Ordinal) })
	}
	return pods, nil
}

func isActive(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil &&
		pod.Status.Phase != corev1.PodSucceeded &&
		pod.Status.Phase != corev1.PodFailed
}

// toPolicyPod reads a cached pod without changing it. An annotation that
// does not parse is treated as missing.
func toPolicyPod(pod *corev1.Pod, keys annotationKeys) policy.Pod {
	p := policy.Pod{
		Name:      pod.Name,
		Phase:     string(pod.Status.Phase),
		Scheduled: pod.Spec.NodeName != "",
		Ready:     isReady(pod),
	}

	// The resourceVersion changes with every update of the pod, so the
	// engine rebuilds the pod's Lua table exactly when the pod changed.
	// Without a resourceVersion, as from some fake clients, it rebuilds the
	// table every time.
	p.UID = string(pod.UID)
	p.Version = pod.ResourceVersion

	annotations := pod.Annotations
	switch state := annotations[keys.cacheState]; state {
	case podstate.CacheStateWarm, podstate.CacheStateCold:
		p.CacheState = state
	}
	p.LastCacheMiss = parseTime(annotations[keys.lastCacheMiss])
	p.ObservedAt = parseTime(annotations[keys.observedAt])
	if n, err := strconv.ParseInt(annotations[keys.cacheMisses], 10, 64); err == nil && n >= 0 {
		p.CacheMisses, p.HasCacheMisses = n, true
	}
	if u, err := strconv.ParseFloat(annotations[keys.cpu], 64); err == nil && u >= 0 && !math.IsInf(u, 0) {
		p.CPURequestUtilization, p.HasCPU = u, true
	}
	return p
}

// parseTime returns the zero time for an empty or invalid RFC 3339 value.
func parseTime(value string) time.Time {
	if value == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}
	}
	return t
}

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podOrdinal reads a StatefulSet pod's index from the pod-index label, or
// from the name "<statefulset>-<ordinal>" on clusters older than that label.
func podOrdinal(pod *corev1.Pod, statefulSet string) (int, bool) {
	text, ok := pod.Labels[appsv1.PodIndexLabel]
	if !ok {
		suffix, found := strings.CutPrefix(pod.Name, statefulSet+"-")
		if !found {
			return 0, false
		}
		text = suffix
	}
	ordinal, err := strconv.Atoi(text)
	if err != nil || ordinal < 0 {
		return 0, false
	}
	return ordinal, true
}
