package veltrimprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestDuplicatesDroppedWithinWindow(t *testing.T) {
	h := newHarness(t, nil)
	res := podResource("pod-a")

	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, name: "a"}, spanSpec{id: 2, name: "b"}, spanSpec{id: 1, name: "a"}))
	assert.Len(t, h.sentSpans(), 2)

	h.clock.Advance(4 * time.Minute)
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 2, name: "b"}))
	assert.Len(t, h.sentSpans(), 2)

	h.clock.Advance(time.Minute)
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, name: "a"}))
	assert.Len(t, h.sentSpans(), 3)

	assert.Equal(t, int64(5), h.counter(t, "otelcol_processor_veltrim_spans_in"))
	assert.Equal(t, int64(2), h.counter(t, "otelcol_processor_veltrim_spans_dropped_duplicate"))
}

func TestZeroIDsNeverDuplicates(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"),
		spanSpec{id: 0, name: "a"}, spanSpec{id: 0, name: "a"}, spanSpec{id: 0, name: "a"}))

	assert.Len(t, h.sentSpans(), 3)
	assert.Zero(t, h.counter(t, "otelcol_processor_veltrim_spans_dropped_duplicate"))
}

func TestAllDroppedSendsNothing(t *testing.T) {
	h := newHarness(t, nil)
	res := podResource("pod-a")
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1}))
	require.Equal(t, 1, h.traceSink.SpanCount())

	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1}))
	assert.Len(t, h.traceSink.AllTraces(), 1)
}

func TestEmptiedResourceRemoved(t *testing.T) {
	h := newHarness(t, nil)
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}))

	td := newTraces(t, podResource("pod-a"), spanSpec{id: 1})
	appendResourceSpans(t, td, podResource("pod-b"), spanSpec{id: 2})
	h.consumeTraces(t, td)

	last := h.traceSink.AllTraces()[1]
	require.Equal(t, 1, last.ResourceSpans().Len())
	uid, _ := last.ResourceSpans().At(0).Resource().Attributes().Get(podstate.AttrPodUID)
	assert.Equal(t, "pod-b", uid.Str())
}

func TestEmptyInputResourceKept(t *testing.T) {
	h := newHarness(t, nil)
	td := newTraces(t, podResource("pod-a"))
	h.consumeTraces(t, td)
	require.Len(t, h.traceSink.AllTraces(), 1)
	assert.Equal(t, 1, h.traceSink.AllTraces()[0].ResourceSpans().Len())
}

func TestStormCollapsed(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 3 })
	res := podResource("pod-a")
	attrs := map[string]any{"http.route": "/v1/chat", "status": int64(500)}

	var storm []spanSpec
	for i := range 10 {
		storm = append(storm, spanSpec{id: uint64(100 + i), name: "chat", attrs: attrs})
	}
	h.consumeTraces(t, newTraces(t, res, storm...))
	require.Len(t, h.sentSpans(), 3)
	for _, span := range h.sentSpans() {
		_, ok := span.Attributes().Get(podstate.AttrStormSuppressed)
		assert.False(t, ok)
	}
	assert.Equal(t, int64(7), h.counter(t, "otelcol_processor_veltrim_spans_dropped_storm"))

	h.clock.Advance(time.Second)
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 200, name: "chat", attrs: attrs}))
	spans := h.sentSpans()
	require.Len(t, spans, 4)
	suppressed, ok := spans[3].Attributes().Get(podstate.AttrStormSuppressed)
	require.True(t, ok)
	assert.Equal(t, int64(7), suppressed.Int())
}

func TestStormIgnoresAttributeOrder(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(t, rs.Resource().Attributes().FromRaw(podResource("pod-a")))
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	first := spans.AppendEmpty()
	first.SetTraceID(traceIDOf(1))
	first.SetSpanID(spanIDOf(1))
	first.Attributes().PutStr("a", "1")
	first.Attributes().PutStr("b", "2")
	second := spans.AppendEmpty()
	second.SetTraceID(traceIDOf(2))
	second.SetSpanID(spanIDOf(2))
	second.Attributes().PutStr("b", "2")
	second.Attributes().PutStr("a", "1")

	h.consumeTraces(t, td)
	assert.Len(t, h.sentSpans(), 1)
}

func TestStormKeyFields(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(t, rs.Resource().Attributes().FromRaw(podResource("pod-a")))
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	variants := []func(ptrace.Span){
		func(ptrace.Span) {},
		func(s ptrace.Span) { s.SetName("other") },
		func(s ptrace.Span) { s.SetKind(ptrace.SpanKindClient) },
		func(s ptrace.Span) { s.Status().SetCode(ptrace.StatusCodeError) },
		func(s ptrace.Span) { s.Status().SetMessage("timeout") },
		func(s ptrace.Span) { s.Attributes().PutStr("route", "/v2") },
		func(s ptrace.Span) { s.Attributes().PutInt("route", 1) },
	}
	for i, vary := range variants {
		span := spans.AppendEmpty()
		span.SetTraceID(traceIDOf(uint64(i + 1)))
		span.SetSpanID(spanIDOf(uint64(i + 1)))
		span.SetName("chat")
		span.Attributes().PutStr("route", "/v1")
		vary(span)
	}
	// The same spans with new IDs and timestamps are identical to the first set.
	for i := range variants {
		span := spans.AppendEmpty()
		spans.At(i).CopyTo(span)
		span.SetTraceID(traceIDOf(uint64(100 + i)))
		span.SetStartTimestamp(pcommon.Timestamp(i))
	}

	h.consumeTraces(t, td)
	assert.Len(t, h.sentSpans(), len(variants))
}

func TestStormPerPod(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	td := newTraces(t, podResource("pod-a"), spanSpec{id: 1, name: "chat"})
	appendResourceSpans(t, td, podResource("pod-b"), spanSpec{id: 2, name: "chat"})
	appendResourceSpans(t, td, podResource("pod-a"), spanSpec{id: 3, name: "chat"})

	h.consumeTraces(t, td)
	assert.Len(t, h.sentSpans(), 2)
}

func TestStormWithoutPodKeyedByService(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	td := newTraces(t, map[string]any{"service.name": "gateway"}, spanSpec{id: 1, name: "chat"}, spanSpec{id: 2, name: "chat"})
	appendResourceSpans(t, td, map[string]any{"service.name": "router"}, spanSpec{id: 3, name: "chat"})
	appendResourceSpans(t, td, map[string]any{}, spanSpec{id: 4, name: "chat"}, spanSpec{id: 5, name: "chat"})

	h.consumeTraces(t, td)
	assert.Len(t, h.sentSpans(), 3)
	assert.Equal(t, int64(5), h.counter(t, "otelcol_processor_veltrim_spans_without_pod"))
	assert.Equal(t, int64(2), h.counter(t, "otelcol_processor_veltrim_spans_dropped_storm"))
}

func TestWithoutPodDeduplicatedNotStamped(t *testing.T) {
	h := newHarness(t, nil)
	res := map[string]any{"service.name": "gateway"}
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}}, spanSpec{id: 1}))

	require.Len(t, h.sentSpans(), 1)
	attrs := h.lastTraceResource(t)
	_, ok := attrs.Get(podstate.AttrCacheState)
	assert.False(t, ok)
	_, ok = attrs.Get(podstate.AttrObservedAt)
	assert.False(t, ok)
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	assert.Zero(t, h.gauge(t, "otelcol_processor_veltrim_pods_tracked"))
}

func TestSuppressedAddsToUpstreamCount(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Storm.MaxPerInterval = 1 })
	res := podResource("pod-a")
	h.consumeTraces(t, newTraces(t, res, spanSpec{id: 1, name: "x"}, spanSpec{id: 2, name: "x"}))

	h.clock.Advance(time.Second)
	td := newTraces(t, res, spanSpec{id: 3, name: "x"})
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutInt(podstate.AttrStormSuppressed, 40)
	h.consumeTraces(t, td)

	spans := h.sentSpans()
	require.Len(t, spans, 2)
	v, ok := spans[1].Attributes().Get(podstate.AttrStormSuppressed)
	require.True(t, ok)
	assert.Equal(t, int64(41), v.Int())
}

func TestStormDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Storm.Enabled = false
		c.Storm.MaxPerInterval = 1
	})
	h.consumeTraces(t, newTraces(t, podResource("pod-a"),
		spanSpec{id: 1, name: "x", attrs: map[string]any{"llm-cache-miss": "yes"}},
		spanSpec{id: 2, name: "x", attrs: map[string]any{"llm-cache-miss": true}},
		spanSpec{id: 2, name: "x"}))

	assert.Len(t, h.sentSpans(), 2)
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_processor_veltrim_cache_miss_unrecognized"))
}

func TestDedupDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Dedup.Enabled = false })
	h.consumeTraces(t, newTraces(t, podResource("pod-a"), spanSpec{id: 1}, spanSpec{id: 1}))
	assert.Len(t, h.sentSpans(), 2)
}
