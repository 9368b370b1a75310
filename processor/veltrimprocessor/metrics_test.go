package veltrimprocessor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestMetricsUnstampedByDefault(t *testing.T) {
	h := newHarness(t, nil)
	md := newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.5)
	want := pmetric.NewMetrics()
	md.CopyTo(want)
	h.consumeMetrics(t, md)

	all := h.metricSink.AllMetrics()
	require.Len(t, all, 1)
	assert.Equal(t, want, all[0])
}

func TestCPUInvalidValuesIgnored(t *testing.T) {
	h := newHarness(t, nil)
	md := newCPUMetrics(podResource("pod-a"), defaultCPUMetric,
		math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 0.25, int64(1))
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().AppendEmpty()
	h.consumeMetrics(t, md)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))

	assert.Equal(t, int64(5), h.counter(t, "otelcol_processor_veltrim_cpu_samples_invalid"))
	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	require.True(t, state.HasCPU)
	assert.InDelta(t, 0.625, state.CPURequestUtilization, 1e-12)
}

func TestCPUOtherMetricsIgnored(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), "k8s.pod.memory_request_utilization", 0.9))

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	require.NoError(t, rm.Resource().Attributes().FromRaw(podResource("pod-a")))
	sum := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	sum.SetName(defaultCPUMetric)
	sum.SetEmptySum().DataPoints().AppendEmpty().SetDoubleValue(0.9)
	h.consumeMetrics(t, md)

	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))
	state, ok := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, ok)
	assert.False(t, state.HasCPU)
}

func TestCPUWindowSlides(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CPU.Window = 10 * time.Minute })
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.9))
	h.clock.Advance(5 * time.Minute)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.1))

	h.clock.Advance(6 * time.Minute)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))
	state, _ := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, state.HasCPU)
	assert.InDelta(t, 0.1, state.CPURequestUtilization, 1e-12)
}

func TestCPUCustomMetric(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CPU.Metric = "container.cpu.utilization" })
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), "container.cpu.utilization", 0.7))
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.1))
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))

	state, _ := podstate.StateFromResource(h.lastTraceResource(t))
	require.True(t, state.HasCPU)
	assert.InDelta(t, 0.7, state.CPURequestUtilization, 1e-12)
}

func TestMetricsWithoutPodPassThrough(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Stamp.Metrics = true })
	h.consumeMetrics(t, newCPUMetrics(map[string]any{"service.name": "x"}, defaultCPUMetric, 0.5))

	all := h.metricSink.AllMetrics()
	require.Len(t, all, 1)
	_, ok := podstate.StateFromResource(all[0].ResourceMetrics().At(0).Resource().Attributes())
	assert.False(t, ok)
	assert.Zero(t, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
}
