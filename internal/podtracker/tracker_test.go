package podtracker

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/veltrix/veltrim/internal/podstate"
)

const start = int64(1_700_000_000_000_000_000)

func at(d time.Duration) int64 {
	return start + int64(d)
}

func newTracker(maxPods int) *Tracker {
	return New(Settings{MaxPods: maxPods, CacheMissWindow: 15 * time.Minute, CPUWindow: 10 * time.Minute})
}

func uid(s string) podstate.Identity {
	return podstate.Identity{UID: s}
}

func TestTouchCreatesOnce(t *testing.T) {
	tracker := newTracker(10)
	first, evicted := tracker.Touch(uid("a"), at(0))
	require.False(t, evicted)
	second, _ := tracker.Touch(uid("a"), at(time.Second))
	assert.Same(t, first, second)
	assert.Equal(t, 1, tracker.Len())
}

func TestTouchUIDWinsOverName(t *testing.T) {
	tracker := newTracker(10)
	withName, _ := tracker.Touch(podstate.Identity{UID: "a", Namespace: "ns", Name: "pod-0"}, at(0))
	uidOnly, _ := tracker.Touch(uid("a"), at(0))
	assert.Same(t, withName, uidOnly)
	assert.Equal(t, uid("a"), uidOnly.Identity())

	byName, _ := tracker.Touch(podstate.Identity{Namespace: "ns", Name: "pod-0"}, at(0))
	assert.NotSame(t, withName, byName)
	assert.Equal(t, 2, tracker.Len())
}

func TestTouchEvictsLeastRecentlySeen(t *testing.T) {
	tracker := newTracker(2)
	a, _ := tracker.Touch(uid("a"), at(0))
	tracker.RecordCacheMiss(a, at(0))
	tracker.Touch(uid("b"), at(time.Second))
	tracker.Touch(uid("a"), at(2*time.Second))

	_, evicted := tracker.Touch(uid("c"), at(3*time.Second))
	require.True(t, evicted)
	assert.Equal(t, 2, tracker.Len())

	// a was seen after b, so b went and a kept its miss.
	a, evicted = tracker.Touch(uid("a"), at(4*time.Second))
	assert.False(t, evicted)
	assert.Equal(t, int64(1), tracker.State(a, at(4*time.Second)).CacheMisses)

	b, evicted := tracker.Touch(uid("b"), at(5*time.Second))
	assert.True(t, evicted)
	assert.Zero(t, tracker.State(b, at(5*time.Second)).CacheMisses)
}

func TestForgetSilent(t *testing.T) {
	tracker := newTracker(10)
	tracker.Touch(uid("a"), at(0))
	tracker.Touch(uid("b"), at(5*time.Minute))

	assert.Zero(t, tracker.ForgetSilent(at(15*time.Minute)))
	assert.Equal(t, 1, tracker.ForgetSilent(at(15*time.Minute+1)))
	assert.Equal(t, 1, tracker.Len())
	assert.Equal(t, 1, tracker.ForgetSilent(at(21*time.Minute)))
	assert.Zero(t, tracker.Len())
}

func TestStateCold(t *testing.T) {
	tracker := newTracker(10)
	p, _ := tracker.Touch(uid("a"), at(0))
	s := tracker.State(p, at(time.Minute))
	assert.Equal(t, podstate.CacheStateCold, s.CacheState)
	assert.Zero(t, s.CacheMisses)
	assert.True(t, s.LastCacheMiss.IsZero())
	assert.False(t, s.HasCPU)
	assert.Equal(t, at(time.Minute), s.ObservedAt.UnixNano())
}

func TestStateWarmThenCold(t *testing.T) {
	tracker := newTracker(10)
	p, _ := tracker.Touch(uid("a"), at(0))
	tracker.RecordCacheMiss(p, at(time.Minute))
	tracker.RecordCacheMiss(p, at(2*time.Minute))

	s := tracker.State(p, at(3*time.Minute))
	assert.Equal(t, podstate.CacheStateWarm, s.CacheState)
	assert.Equal(t, int64(2), s.CacheMisses)
	assert.Equal(t, at(2*time.Minute), s.LastCacheMiss.UnixNano())

	s = tracker.State(p, at(17*time.Minute))
	assert.Equal(t, podstate.CacheStateWarm, s.CacheState)
	s = tracker.State(p, at(17*time.Minute+1))
	assert.Equal(t, podstate.CacheStateCold, s.CacheState)
	assert.Equal(t, at(2*time.Minute), s.LastCacheMiss.UnixNano())
}

func TestStateCPUAverage(t *testing.T) {
	tracker := newTracker(10)
	p, _ := tracker.Touch(uid("a"), at(0))
	assert.True(t, tracker.RecordCPU(p, at(0), 0.2))
	assert.True(t, tracker.RecordCPU(p, at(time.Minute), 0.4))

	s := tracker.State(p, at(2*time.Minute))
	require.True(t, s.HasCPU)
	assert.InDelta(t, 0.3, s.CPURequestUtilization, 1e-12)

	s = tracker.State(p, at(time.Hour))
	assert.False(t, s.HasCPU)
}

func TestRecordCPURejectsInvalid(t *testing.T) {
	tracker := newTracker(10)
	p, _ := tracker.Touch(uid("a"), at(0))
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.1} {
		assert.False(t, tracker.RecordCPU(p, at(0), v), "value %v", v)
	}
	assert.True(t, tracker.RecordCPU(p, at(0), 0))
	s := tracker.State(p, at(0))
	require.True(t, s.HasCPU)
	assert.Zero(t, s.CPURequestUtilization)
}

func TestReusedPodStartsEmpty(t *testing.T) {
	tracker := newTracker(1)
	a, _ := tracker.Touch(uid("a"), at(0))
	tracker.RecordCacheMiss(a, at(0))
	tracker.RecordCPU(a, at(0), 0.5)

	b, evicted := tracker.Touch(uid("b"), at(time.Second))
	require.True(t, evicted)
	s := tracker.State(b, at(time.Second))
	assert.Zero(t, s.CacheMisses)
	assert.True(t, s.LastCacheMiss.IsZero())
	assert.False(t, s.HasCPU)
	assert.Equal(t, uid("b"), b.Identity())
}

func TestTouchKnownPodDoesNotAllocate(t *testing.T) {
	tracker := newTracker(10)
	ids := []podstate.Identity{uid("a"), {Namespace: "ns", Name: "pod-0"}}
	for _, id := range ids {
		tracker.Touch(id, at(0))
	}
	var i int
	allocs := testing.AllocsPerRun(100, func() {
		p, _ := tracker.Touch(ids[i%2], at(time.Duration(i)))
		tracker.RecordCacheMiss(p, at(time.Duration(i)))
		i++
	})
	assert.Zero(t, allocs)
}
