package veltrimprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestClassifyCacheMiss(t *testing.T) {
	tests := []struct {
		name  string
		value pcommon.Value
		want  cacheMiss
	}{
		{"bool true", pcommon.NewValueBool(true), cacheMissTrue},
		{"bool false", pcommon.NewValueBool(false), cacheMissFalse},
		{"string true", pcommon.NewValueStr("true"), cacheMissTrue},
		{"string TRUE", pcommon.NewValueStr("TRUE"), cacheMissTrue},
		{"string True", pcommon.NewValueStr("True"), cacheMissTrue},
		{"string fAlSe", pcommon.NewValueStr("fAlSe"), cacheMissFalse},
		{"string yes", pcommon.NewValueStr("yes"), cacheMissUnrecognized},
		{"string empty", pcommon.NewValueStr(""), cacheMissUnrecognized},
		{"string padded", pcommon.NewValueStr(" true"), cacheMissUnrecognized},
		{"int 1", pcommon.NewValueInt(1), cacheMissUnrecognized},
		{"double 1", pcommon.NewValueDouble(1), cacheMissUnrecognized},
		{"empty", pcommon.NewValueEmpty(), cacheMissUnrecognized},
		{"slice", pcommon.NewValueSlice(), cacheMissUnrecognized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, classifyCacheMiss(tt.value))
		})
	}
}

func TestCacheMissCounting(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"),
		spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}},
		spanSpec{id: 2, attrs: map[string]any{"llm-cache-miss": "TRUE"}},
		spanSpec{id: 3, attrs: map[string]any{"llm-cache-miss": "false"}},
		spanSpec{id: 4, attrs: map[string]any{"llm-cache-miss": "yes"}},
		spanSpec{id: 5, attrs: map[string]any{"llm-cache-miss": int64(1)}},
		spanSpec{id: 6, attrs: map[string]any{"llm-cache-miss": ""}},
		spanSpec{id: 7, attrs: map[string]any{"other": true}},
	))

	assert.Equal(t, int64(2), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	assert.Equal(t, int64(3), h.counter(t, "otelcol_processor_veltrim_cache_miss_unrecognized"))
	misses, ok := h.lastTraceResource(t).Get(podstate.AttrCacheMisses)
	require.True(t, ok)
	assert.Equal(t, int64(2), misses.Int())
}

func TestCacheMissCustomAttribute(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CacheMiss.Attribute = "gen_ai.cache.miss" })
	h.consumeTraces(t, newTraces(t, podResource("pod-a"),
		spanSpec{id: 1, attrs: map[string]any{"gen_ai.cache.miss": true}},
		spanSpec{id: 2, attrs: map[string]any{"llm-cache-miss": true}},
	))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
}

func TestCacheMissCountedBeforeStormDrop(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 2 })
	attrs := map[string]any{"llm-cache-miss": true}
	var spans []spanSpec
	for i := range 10 {
		spans = append(spans, spanSpec{id: uint64(i + 1), name: "generate", attrs: attrs})
	}
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spans...))

	assert.Len(t, h.sentSpans(), 2)
	assert.Equal(t, int64(10), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	misses, _ := h.lastTraceResource(t).Get(podstate.AttrCacheMisses)
	assert.Equal(t, int64(10), misses.Int())
}

func TestDuplicateCacheMissCountedOnce(t *testing.T) {
	h := newHarness(t, nil)
	miss := spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), miss, miss))
	h.clock.Advance(time.Minute)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), miss, spanSpec{id: 2}))

	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	misses, _ := h.lastTraceResource(t).Get(podstate.AttrCacheMisses)
	assert.Equal(t, int64(1), misses.Int())
}
