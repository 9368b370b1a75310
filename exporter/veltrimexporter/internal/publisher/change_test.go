package publisher

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestChangeRules(t *testing.T) {
	base := coldState(0.10, testStart)
	tests := []struct {
		name    string
		next    func(podstate.State) podstate.State
		changed bool
	}{
		{name: "identical", next: func(s podstate.State) podstate.State { return s }},
		{
			name:    "cache state flips",
			next:    func(s podstate.State) podstate.State { s.CacheState = podstate.CacheStateWarm; return s },
			changed: true,
		},
		{
			name:    "miss count changes",
			next:    func(s podstate.State) podstate.State { s.CacheMisses = 1; return s },
			changed: true,
		},
		{
			name:    "last miss moves",
			next:    func(s podstate.State) podstate.State { s.LastCacheMiss = testStart; return s },
			changed: true,
		},
		{
			name: "observed-at moves by a fraction of a second",
			next: func(s podstate.State) podstate.State {
				s.ObservedAt = s.ObservedAt.Add(300 * time.Millisecond)
				return s
			},
		},
		{
			name:    "cpu moves within threshold",
			next:    func(s podstate.State) podstate.State { s.CPURequestUtilization = 0.14; return s },
			changed: false,
		},
		{
			name:    "cpu moves beyond threshold",
			next:    func(s podstate.State) podstate.State { s.CPURequestUtilization = 0.16; return s },
			changed: true,
		},
		{
			name:    "cpu falls beyond threshold",
			next:    func(s podstate.State) podstate.State { s.CPURequestUtilization = 0.04; return s },
			changed: true,
		},
		{
			name:    "cpu disappears",
			next:    func(s podstate.State) podstate.State { s.HasCPU = false; s.CPURequestUtilization = 0; return s },
			changed: true,
		},
		{
			name: "observed-at moves less than the refresh interval",
			next: func(s podstate.State) podstate.State {
				s.ObservedAt = s.ObservedAt.Add(5*time.Minute - time.Second)
				return s
			},
		},
		{
			name: "observed-at moves by the refresh interval",
			next: func(s podstate.State) podstate.State {
				s.ObservedAt = s.ObservedAt.Add(5 * time.Minute)
				return s
			},
			changed: true,
		},
	}
	rules := changeRules{cpuChangeThreshold: 0.05, refreshInterval: 5 * time.Minute, deletionCost: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := newSnapshot(base, 0.30)
			next := newSnapshot(tt.next(base), 0.30)
			assert.Equal(t, tt.changed, rules.changed(prev, next))
		})
	}
}

func TestChangeRulesDeletionCost(t *testing.T) {
	// 0.28 to 0.31 is within the CPU change threshold but crosses the CPU
	// threshold, so the pod turns from removable to busy.
	prev := newSnapshot(coldState(0.28, testStart), 0.30)
	next := newSnapshot(coldState(0.31, testStart), 0.30)
	require.NotEqual(t, prev.deletionCost, next.deletionCost)

	withCost := changeRules{cpuChangeThreshold: 0.05, refreshInterval: time.Minute, deletionCost: true}
	withoutCost := changeRules{cpuChangeThreshold: 0.05, refreshInterval: time.Minute}
	assert.True(t, withCost.changed(prev, next))
	assert.False(t, withoutCost.changed(prev, next))
}

func TestDeletionCost(t *testing.T) {
	tests := []struct {
		name  string
		state podstate.State
		cost  int32
	}{
		{name: "cold and idle", state: coldState(0.05, testStart), cost: DeletionCostRemovable},
		{name: "cold just below threshold", state: coldState(0.2994, testStart), cost: DeletionCostRemovable},
		{name: "cold rounded up to threshold", state: coldState(0.2996, testStart), cost: DeletionCostBusy},
		{name: "cold at threshold", state: coldState(0.30, testStart), cost: DeletionCostBusy},
		{name: "cold and busy", state: coldState(0.9, testStart), cost: DeletionCostBusy},
		{name: "cold without cpu", state: podstate.State{CacheState: podstate.CacheStateCold}, cost: DeletionCostRemovable},
		{name: "warm and idle", state: warmState(1, testStart, testStart), cost: DeletionCostWarm},
		{name: "warm and busy", state: podstate.State{CacheState: podstate.CacheStateWarm, CPURequestUtilization: 2, HasCPU: true}, cost: DeletionCostWarm},
		{name: "unknown cache state", state: podstate.State{CacheState: "lukewarm"}, cost: DeletionCostWarm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.cost, newSnapshot(tt.state, 0.30).deletionCost)
		})
	}
	assert.Less(t, DeletionCostRemovable, int32(0), "removable pods go before pods without the annotation")
	assert.Less(t, int32(0), DeletionCostBusy)
	assert.Less(t, DeletionCostBusy, DeletionCostWarm)
}

func TestOfferSkipsUnchangedState(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	ctx := context.Background()

	f.publisher.Offer(ctx, identity(pod), coldState(0.10, testStart))
	f.drain()
	for i := 1; i <= 10; i++ {
		f.publisher.Offer(ctx, identity(pod), coldState(0.10+0.004*float64(i), testStart.Add(time.Duration(i)*time.Second)))
	}
	f.drain()

	assert.Len(t, f.patches(), 1)
	assert.Equal(t, int64(10), f.sum("otelcol_exporter_veltrim_patches_skipped", "reason", "unchanged"))
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cpu-request-utilization", "0.1")
}

func TestOfferComparesWithNewestAcceptedState(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	ctx := context.Background()

	// Small steps that each stay within the threshold add up past it.
	f.publisher.Offer(ctx, identity(pod), coldState(0.10, testStart))
	f.drain()
	f.publisher.Offer(ctx, identity(pod), coldState(0.13, testStart.Add(time.Second)))
	f.publisher.Offer(ctx, identity(pod), coldState(0.16, testStart.Add(2*time.Second)))
	f.drain()

	assert.Len(t, f.patches(), 2)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cpu-request-utilization", "0.16")
}

func TestOfferRefreshesObservedAt(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	ctx := context.Background()

	for i := 0; i <= 600; i++ {
		f.publisher.Offer(ctx, identity(pod), coldState(0.10, testStart.Add(time.Duration(i)*time.Second)))
		f.drain()
	}

	// One patch at 0s, refreshes at 5m and 10m.
	assert.Len(t, f.patches(), 3)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/observed-at", "2025-03-01T12:10:00Z")
}

func TestOfferSkipsOutOfOrderState(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	ctx := context.Background()

	f.publisher.Offer(ctx, identity(pod), warmState(4, testStart, testStart.Add(time.Minute)))
	f.publisher.Offer(ctx, identity(pod), warmState(2, testStart, testStart))
	f.drain()

	assert.Len(t, f.patches(), 1)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-misses", "4")
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_patches_skipped", "reason", "out_of_order"))
}
