package veltrimprocessor

import (
	"context"
	"strconv"
	"testing"

	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/veltrix/veltrim/internal/storm"
)

func TestInternalMetricsDescribed(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxPods = 1
		c.Dedup.MaxSpans = 1
	})
	td := newTraces(t, podResource("pod-a"),
		spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}},
		spanSpec{id: 1},
		spanSpec{id: 2, attrs: map[string]any{"llm-cache-miss": "yes"}})
	appendResourceSpans(t, td, podResource("pod-b"), spanSpec{id: 3})
	appendResourceSpans(t, td, map[string]any{}, spanSpec{id: 4})
	h.consumeTraces(t, td)
	h.consumeMetrics(t, newCPUMetrics(podResource("pod-b"), defaultCPUMetric, -1.0))

	want := map[string]string{
		"otelcol_processor_veltrim_spans_in":                "{span}",
		"otelcol_processor_veltrim_spans_dropped_duplicate": "{span}",
		"otelcol_processor_veltrim_dedup_evictions":         "{span}",
		"otelcol_processor_veltrim_spans_without_pod":       "{span}",
		"otelcol_processor_veltrim_cache_misses":            "{span}",
		"otelcol_processor_veltrim_cache_miss_unrecognized": "{span}",
		"otelcol_processor_veltrim_cpu_samples_invalid":     "{datapoint}",
		"otelcol_processor_veltrim_pods_evicted":            "{pod}",
		"otelcol_processor_veltrim_pods_tracked":            "{pod}",
		"otelcol_processor_veltrim_dedup_table_fill":        "1",
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.tel.Reader.Collect(context.Background(), &rm))
	got := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != scopeName {
			continue
		}
		for _, m := range sm.Metrics {
			got[m.Name] = m.Unit
			assert.NotEmpty(t, m.Description, m.Name)
		}
	}
	assert.Equal(t, want, got)

	assert.Equal(t, int64(5), h.counter(t, "otelcol_processor_veltrim_spans_in"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_spans_dropped_duplicate"))
	assert.Equal(t, int64(3), h.counter(t, "otelcol_processor_veltrim_dedup_evictions"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_spans_without_pod"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_miss_unrecognized"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cpu_samples_invalid"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_pods_evicted"))
	assert.Equal(t, 1.0, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
}

func TestDedupTableFill(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Dedup.MaxSpans = 10 })
	assert.Zero(t, h.gauge(t, "otelcol_processor_veltrim_dedup_table_fill"))

	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}, spanSpec{id: 2}, spanSpec{id: 0}))
	assert.InDelta(t, 0.2, h.gauge(t, "otelcol_processor_veltrim_dedup_table_fill"), 1e-12)

	// Expired spans keep their slots until new spans replace them.
	h.clock.Advance(defaultDedupWindow)
	assert.InDelta(t, 0.2, h.gauge(t, "otelcol_processor_veltrim_dedup_table_fill"), 1e-12)
}

func TestDedupTableFillAbsentWhenDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Dedup.Enabled = false })
	_, err := h.tel.GetMetric("otelcol_processor_veltrim_dedup_table_fill")
	assert.Error(t, err)
}

func TestStormUnreportedCounted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	p := h.instance(t)
	p.storm = storm.New(time.Second, 1, 64)

	// Drive the detector past its capacity with keys that each suppress
	// one span and never come back, so their counts are forgotten.
	const keys = 3 * 64
	var spans []spanSpec
	for i := range keys {
		name := "op-" + strconv.Itoa(i)
		spans = append(spans, spanSpec{id: uint64(2*i + 1), name: name}, spanSpec{id: uint64(2*i + 2), name: name})
	}
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spans...))

	dropped := h.counter(t, "otelcol_processor_veltrim_spans_dropped_storm")
	require.Equal(t, int64(keys), dropped)
	unreported := h.counter(t, "otelcol_processor_veltrim_storm_suppressed_unreported")
	assert.Positive(t, unreported)
	assert.Equal(t, p.storm.Lost(), unreported)
}
