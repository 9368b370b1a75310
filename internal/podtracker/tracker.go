// Package podtracker keeps each pod's cache misses and CPU samples in
// sliding windows, bounded by a maximum number of pods. Pods are evicted
// least recently seen first when the bound is reached, and forgotten once
// they have been silent for longer than their windows.
package podtracker

import (
	"strings"
	"time"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/window"
)

// Settings configures a Tracker.
type Settings struct {
	// MaxPods is the maximum number of pods kept, at least 1.
	MaxPods int
	// CacheMissWindow is how long a cache miss keeps a pod warm.
	CacheMissWindow time.Duration
	// CPUWindow is the span of time the CPU average covers.
	CPUWindow time.Duration
}

// Tracker holds per-pod state. It is not safe for concurrent use.
type Tracker struct {
	maxPods    int
	retention  int64
	missWindow int64
	missSpec   window.Spec
	cpuSpec    window.Spec

	pods map[podstate.Identity]*Pod
	// lru is a sentinel of a circular list ordered by last sighting:
	// lru.next is the most recently seen pod, lru.prev the least.
	lru Pod
	// free holds evicted and forgotten pods for reuse, so a churn of pods
	// at the bound does not allocate.
	free []*Pod
}

// New returns an empty tracker.
func New(set Settings) *Tracker {
	t := &Tracker{
		maxPods:    max(set.MaxPods, 1),
		retention:  int64(max(set.CacheMissWindow, set.CPUWindow)),
		missWindow: int64(set.CacheMissWindow),
		missSpec:   window.NewSpec(set.CacheMissWindow),
		cpuSpec:    window.NewSpec(set.CPUWindow),
		pods:       make(map[podstate.Identity]*Pod),
	}
	t.lru.next, t.lru.prev = &t.lru, &t.lru
	return t
}

// Len returns the number of pods tracked.
func (t *Tracker) Len() int {
	return len(t.pods)
}

// Touch returns the state of the pod with identity id, seen at now in Unix
// nanoseconds, creating it if needed. It reports whether another pod was
// evicted to make room. The returned pod is valid until the next call to
// Touch or ForgetSilent.
func (t *Tracker) Touch(id podstate.Identity, now int64) (*Pod, bool) {
	key := mapKey(id)
	if p, ok := t.pods[key]; ok {
		p.lastSeen = now
		t.moveToFront(p)
		return p, false
	}

	evicted := false
	if len(t.pods) >= t.maxPods {
		t.remove(t.lru.prev)
		evicted = true
	}

	p := t.newPod()
	p.key = cloneIdentity(key)
	p.lastSeen = now
	t.pods[p.key] = p
	t.pushFront(p)
	return p, evicted
}

// ForgetSilent removes the pods not seen for longer than the longer of the
// two windows, and returns how many it removed. By then every cache miss
// and CPU sample of such a pod has left its window.
func (t *Tracker) ForgetSilent(now int64) int {
	n := 0
	for p := t.lru.prev; p != &t.lru && now-p.lastSeen > t.retention; p = t.lru.prev {
		t.remove(p)
		n++
	}
	return n
}

// mapKey keeps only the UID when it is known, so a pod seen with its UID in
// one signal and with UID, namespace and name in another is one pod.
func mapKey(id podstate.Identity) podstate.Identity {
	if id.UID != "" {
		return podstate.Identity{UID: id.UID}
	}
	return id
}

// cloneIdentity copies the strings, which may point into a batch that the
// pipeline releases after the call.
func cloneIdentity(id podstate.Identity) podstate.Identity {
	return podstate.Identity{
		UID:       strings.Clone(id.UID),
		Namespace: strings.Clone(id.Namespace),
		Name:      strings.Clone(id.Name),
	}
}

func (t *Tracker) newPod() *Pod {
	if n := len(t.free); n > 0 {
		p := t.free[n-1]
		t.free = t.free[:n-1]
		return p
	}
	return &Pod{}
}

func (t *Tracker) remove(p *Pod) {
	delete(t.pods, p.key)
	p.prev.next = p.next
	p.next.prev = p.prev
	p.reset()
	t.free = append(t.free, p)
}

func (t *Tracker) pushFront(p *Pod) {
	p.prev = &t.lru
	p.next = t.lru.next
	t.lru.next.prev = p
	t.lru.next = p
}

func (t *Tracker) moveToFront(p *Pod) {
	if t.lru.next == p {
		return
	}
	p.prev.next = p.next
	p.next.prev = p.prev
	t.pushFront(p)
}
