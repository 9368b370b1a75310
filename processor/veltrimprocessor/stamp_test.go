package veltrimprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestStampColdPod(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))

	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateCold, state.CacheState)
	assert.Zero(t, state.CacheMisses)
	assert.True(t, state.LastCacheMiss.IsZero())
	assert.False(t, state.HasCPU)
	assert.Equal(t, testStart, state.ObservedAt)

	_, ok = h.lastTraceResource(t).Get(podstate.AttrCacheLastMiss)
	assert.False(t, ok)
	_, ok = h.lastTraceResource(t).Get(podstate.AttrCPURequestUtilization)
	assert.False(t, ok)
}

func TestStampWarmThenCold(t *testing.T) {
	h := newHarness(t, nil)
	res := podResource("pod-a")
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}))
	missAt := testStart

	h.clock.Advance(10 * time.Minute)
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 2}))
	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateWarm, state.CacheState)
	assert.Equal(t, int64(1), state.CacheMisses)
	assert.Equal(t, missAt, state.LastCacheMiss)
	assert.Equal(t, testStart.Add(10*time.Minute), state.ObservedAt)

	h.clock.Advance(5*time.Minute + time.Second)
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 3}))
	state, ok = podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateCold, state.CacheState)
	assert.Equal(t, missAt, state.LastCacheMiss)
}

func TestStampIncludesThisBatch(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"),
		spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": "True"}}))

	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateWarm, state.CacheState)
	assert.Equal(t, testStart, state.LastCacheMiss)
}

func TestStampReplacesUpstreamValues(t *testing.T) {
	h := newHarness(t, nil)
	res := podResource("pod-a")
	res[podstate.AttrCacheState] = podstate.CacheStateWarm
	res[podstate.AttrCacheLastMiss] = int64(12345)
	res[podstate.AttrCPURequestUtilization] = 0.9
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1}))

	attrs := h.lastTraceResource(t)
	state, ok := podstate.StateFromResource(attrs)
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateCold, state.CacheState)
	_, ok = attrs.Get(podstate.AttrCacheLastMiss)
	assert.False(t, ok)
	_, ok = attrs.Get(podstate.AttrCPURequestUtilization)
	assert.False(t, ok)
}

func TestStampByNamespaceAndName(t *testing.T) {
	h := newHarness(t, nil)
	res := map[string]any{"k8s.namespace.name": "serving", "k8s.pod.name": "llm-0"}
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}))
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 2}))

	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.Equal(t, int64(1), state.CacheMisses)
	assert.Zero(t, h.counter(t, "otelcol_processor_veltrim_spans_without_pod"))
}

func TestStampTracesDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Stamp.Traces = false })
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}))

	_, ok := podstate.StateFromResource(h.lastTraceResource(t))
	assert.False(t, ok)
	assert.Equal(t, 1.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
}

func TestSpansCarryCPUFromMetrics(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.2, 0.4))
	h.clock.Advance(time.Minute)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))

	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	require.True(t, state.HasCPU)
	assert.InDelta(t, 0.3, state.CPURequestUtilization, 1e-12)
}

func TestMetricsCarryCacheFromSpans(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Stamp.Metrics = true })
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}))
	h.clock.Advance(time.Minute)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.5))

	all := h.metricSink.AllMetrics()
	require.Len(t, all, 1)
	state, ok := podstate.StateFromResource(all[0].ResourceMetrics().At(0).Resource().Attributes())
	require.True(t, ok)
	assert.Equal(t, podstate.CacheStateWarm, state.CacheState)
	assert.Equal(t, int64(1), state.CacheMisses)
	assert.Equal(t, testStart, state.LastCacheMiss)
	assert.InDelta(t, 0.5, state.CPURequestUtilization, 1e-12)
	assert.Equal(t, testStart.Add(time.Minute), state.ObservedAt)
}
