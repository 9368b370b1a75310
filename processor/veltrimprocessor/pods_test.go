package veltrimprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestMaxPodsEvictsLeastRecentlySeen(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPods = 2 })
	miss := map[string]any{"llm-cache-miss": true}
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1, attrs: miss}))
	h.consumeTraces(t, newTraces(t, podResource("pod-b"), spanSpec{id: 2, attrs: miss}))
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 3}))
	h.consumeTraces(t, newTraces(t, podResource("pod-c"), spanSpec{id: 4}))

	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_pods_evicted"))
	assert.Equal(t, 2.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))

	// pod-a survived with its miss, and pod-b starts over.
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 5}))
	state, _ := podstate.StateFromResource(h.lastTraceResource(t))
	assert.Equal(t, int64(1), state.CacheMisses)

	h.consumeTraces(t, newTraces(t, podResource("pod-b"), spanSpec{id: 6}))
	state, _ = podstate.StateFromResource(h.lastTraceResource(t))
	assert.Zero(t, state.CacheMisses)
	assert.Equal(t, int64(2), h.counter(t, "otelcol_processor_veltrim_pods_evicted"))
}

func TestSilentPodsForgotten(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.CacheMiss.Window = 10 * time.Minute
		c.CPU.Window = 20 * time.Minute
	})
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))
	h.clock.Advance(15 * time.Minute)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-b"), defaultCPUMetric, 0.5))
	require.Equal(t, 2.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))

	// pod-a has been silent for 20 minutes and 1 second, the longer window.
	h.clock.Advance(5*time.Minute + time.Second)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-b"), defaultCPUMetric, 0.5))
	assert.Equal(t, 1.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
	assert.Zero(t, h.counter(t, "otelcol_processor_veltrim_pods_evicted"))
}

func TestPodSeenThroughMetricsOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), "other.metric", 1.0))
	assert.Equal(t, 1.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
}
