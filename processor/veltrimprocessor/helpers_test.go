package veltrimprocessor

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock that moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: testStart}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is one veltrim instance with a traces and a metrics processor,
// each feeding a sink, and the instance's internal metrics.
type harness struct {
	clock      *fakeClock
	factory    *factory
	tel        *componenttest.Telemetry
	traces     processor.Traces
	metrics    processor.Metrics
	traceSink  *consumertest.TracesSink
	metricSink *consumertest.MetricsSink
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	h := &harness{
		clock:      newFakeClock(),
		tel:        componenttest.NewTelemetry(),
		traceSink:  new(consumertest.TracesSink),
		metricSink: new(consumertest.MetricsSink),
	}
	h.factory = newSharedFactory(h.clock.Now)
	factory := h.factory.processorFactory()
	cfg := factory.CreateDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())

	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	var err error
	h.traces, err = factory.CreateTraces(context.Background(), set, cfg, h.traceSink)
	require.NoError(t, err)
	h.metrics, err = factory.CreateMetrics(context.Background(), set, cfg, h.metricSink)
	require.NoError(t, err)

	host := componenttest.NewNopHost()
	require.NoError(t, h.traces.Start(context.Background(), host))
	require.NoError(t, h.metrics.Start(context.Background(), host))
	t.Cleanup(func() {
		require.NoError(t, h.traces.Shutdown(context.Background()))
		require.NoError(t, h.metrics.Shutdown(context.Background()))
		require.NoError(t, h.tel.Shutdown(context.Background()))
	})
	return h
}

func (h *harness) consumeTraces(t *testing.T, td ptrace.Traces) {
	t.Helper()
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), td))
}

func (h *harness) consumeMetrics(t *testing.T, md pmetric.Metrics) {
	t.Helper()
	require.NoError(t, h.metrics.ConsumeMetrics(context.Background(), md))
}

// sentSpans returns every span that reached the trace sink, in order.
func (h *harness) sentSpans() []ptrace.Span {
	var spans []ptrace.Span
	for _, td := range h.traceSink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					spans = append(spans, span)
				}
			}
		}
	}
	return spans
}

// lastTraceResource returns the attributes of the last resource that
// reached the trace sink.
func (h *harness) lastTraceResource(t *testing.T) pcommon.Map {
	t.Helper()
	all := h.traceSink.AllTraces()
	require.NotEmpty(t, all)
	rss := all[len(all)-1].ResourceSpans()
	require.Positive(t, rss.Len())
	return rss.At(rss.Len() - 1).Resource().Attributes()
}

// counter returns the sum of an internal counter, 0 when never recorded.
func (h *harness) counter(t *testing.T, name string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "metric %s is %T", name, m.Data)
	var total int64
	for _, dp := range sum.DataPoints {
		total += dp.Value
	}
	return total
}

// gauge returns the value of an internal gauge.
func (h *harness) gauge(t *testing.T, name string) float64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	require.NoError(t, err)
	switch g := m.Data.(type) {
	case metricdata.Gauge[int64]:
		require.Len(t, g.DataPoints, 1)
		return float64(g.DataPoints[0].Value)
	case metricdata.Gauge[float64]:
		require.Len(t, g.DataPoints, 1)
		return g.DataPoints[0].Value
	}
	t.Fatalf("metric %s is %T", name, m.Data)
	return 0
}

// spanSpec describes one test span.
type spanSpec struct {
	id    uint64
	name  string
	attrs map[string]any
}

// podResource returns resource attributes of a pod identified by UID.
func podResource(uid string) map[string]any {
	return map[string]any{
		"k8s.pod.uid":        uid,
		"k8s.pod.name":       "llm-" + uid,
		"k8s.namespace.name": "serving",
		"service.name":       "llm",
	}
}

// newTraces builds a batch of one resource and one scope.
func newTraces(t *testing.T, resource map[string]any, spans ...spanSpec) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	appendResourceSpans(t, td, resource, spans...)
	return td
}

func appendResourceSpans(t *testing.T, td ptrace.Traces, resource map[string]any, spans ...spanSpec) {
	t.Helper()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(t, rs.Resource().Attributes().FromRaw(resource))
	ss := rs.ScopeSpans().AppendEmpty()
	for _, spec := range spans {
		span := ss.Spans().AppendEmpty()
		span.SetTraceID(traceIDOf(spec.id))
		span.SetSpanID(spanIDOf(spec.id))
		span.SetName(spec.name)
		span.SetKind(ptrace.SpanKindServer)
		require.NoError(t, span.Attributes().FromRaw(spec.attrs))
	}
}

// traceIDOf and spanIDOf derive IDs from n, and n = 0 gives all-zero IDs.
func traceIDOf(n uint64) pcommon.TraceID {
	var id pcommon.TraceID
	if n != 0 {
		binary.BigEndian.PutUint64(id[:8], 0xabcdef)
		binary.BigEndian.PutUint64(id[8:], n)
	}
	return id
}

func spanIDOf(n uint64) pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], n)
	return id
}

// newCPUMetrics builds a batch with one gauge data point per value for the
// pod resource.
func newCPUMetrics(resource map[string]any, name string, values ...any) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	_ = rm.Resource().Attributes().FromRaw(resource)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	points := m.SetEmptyGauge().DataPoints()
	for _, v := range values {
		dp := points.AppendEmpty()
		switch v := v.(type) {
		case float64:
			dp.SetDoubleValue(v)
		case int64:
			dp.SetIntValue(v)
		}
	}
	return md
}

func componentID(name string) component.ID {
	return component.NewIDWithName(componentType, name)
}

// instance returns the shared processor behind the harness.
func (h *harness) instance(t *testing.T) *veltrimProcessor {
	t.Helper()
	h.factory.mu.Lock()
	defer h.factory.mu.Unlock()
	shared, ok := h.factory.instances[component.NewID(componentType)]
	require.True(t, ok)
	return shared.proc
}
