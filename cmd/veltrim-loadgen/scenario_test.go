package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// countingExporter records the ID of every span it is given, once per export.
type countingExporter struct {
	exports [][]spanKey
}

type spanKey struct {
	traceID trace.TraceID
	spanID  trace.SpanID
}

func (e *countingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	var ids []spanKey
	for _, s := range spans {
		ids = append(ids, spanKey{s.SpanContext().TraceID(), s.SpanContext().SpanID()})
	}
	e.exports = append(e.exports, ids)
	return nil
}

func (e *countingExporter) Shutdown(context.Context) error { return nil }

func defaultScenario() scenario {
	return scenario{
		RequestSpansPerPod: defaultRequestSpans,
		BatchSize:          defaultBatchSize,
		ResendEvery:        defaultResendEvery,
		StormSpans:         defaultStormSpans,
		StormPod:           defaultSyntheticPods - 1,
		CacheMissPods:      defaultCacheMissPods,
		CacheMissesPerPod:  defaultCacheMissesPerPod,
	}
}

func runDefaultScenario(t *testing.T, seed uint64) (report, *countingExporter) {
	t.Helper()
	pods := syntheticPods(defaultSyntheticPods)
	g := newGenerator(pods, seed)
	t.Cleanup(func() { require.NoError(t, g.shutdown(context.Background())) })

	exporter := &countingExporter{}
	batches := defaultScenario().plan(g)
	requests, err := sendBatches(context.Background(), exporter, batches)
	require.NoError(t, err)
	return newReport("test", pods, batches, requests), exporter
}

func TestScenarioCounts(t *testing.T) {
	r, exporter := runDefaultScenario(t, 1)

	assert.Equal(t, 400, r.RequestSpans)
	assert.Equal(t, 6, r.CacheMissSpans)
	assert.Equal(t, 500, r.StormSpans)
	assert.Equal(t, 906, r.UniqueSpans)
	// 16 request batches of 25 spans, every fourth sent twice.
	assert.Equal(t, 4, r.ResentRequests)
	assert.Equal(t, 100, r.ResentSpans)
	assert.Equal(t, 1006, r.SpansSent)
	assert.Equal(t, len(exporter.exports), r.ExportRequests)

	sent := 0
	seen := map[spanKey]int{}
	for _, export := range exporter.exports {
		sent += len(export)
		for _, id := range export {
			seen[id]++
		}
	}
	assert.Equal(t, r.SpansSent, sent)
	assert.Len(t, seen, r.UniqueSpans)

	twice := 0
	for _, n := range seen {
		require.LessOrEqual(t, n, 2)
		if n == 2 {
			twice++
		}
	}
	assert.Equal(t, r.ResentSpans, twice)
}

func TestScenarioPerPod(t *testing.T) {
	r, _ := runDefaultScenario(t, 1)

	require.Len(t, r.Pods, 4)
	for i, p := range r.Pods {
		assert.Equal(t, 100, p.RequestSpans, p.Name)
		assert.Equal(t, 25, p.ResentSpans, p.Name)
		if i < 2 {
			assert.Equal(t, 3, p.CacheMissSpans, p.Name)
		} else {
			assert.Zero(t, p.CacheMissSpans, p.Name)
		}
	}
	assert.Equal(t, 500, r.Pods[3].StormSpans)
	assert.Zero(t, r.Pods[0].StormSpans)
}

func TestScenarioResendsSameBatch(t *testing.T) {
	_, exporter := runDefaultScenario(t, 1)

	// The fourth export request is the first resent one and the fifth its copy.
	require.Greater(t, len(exporter.exports), 5)
	assert.Equal(t, exporter.exports[3], exporter.exports[4])
	assert.NotEqual(t, exporter.exports[2], exporter.exports[3])
}

func TestScenarioSeedFixesIDs(t *testing.T) {
	_, first := runDefaultScenario(t, 7)
	_, again := runDefaultScenario(t, 7)
	_, other := runDefaultScenario(t, 8)

	assert.Equal(t, first.exports, again.exports)
	assert.NotEqual(t, first.exports[0][0], other.exports[0][0])
}

func TestStormSpansAreAlike(t *testing.T) {
	g := newGenerator(syntheticPods(1), 1)
	t.Cleanup(func() { require.NoError(t, g.shutdown(context.Background())) })

	spans := g.stormSpans(0, 3)
	require.Len(t, spans, 3)
	for _, s := range spans[1:] {
		assert.Equal(t, spans[0].Name(), s.Name())
		assert.Equal(t, spans[0].SpanKind(), s.SpanKind())
		assert.Equal(t, spans[0].Attributes(), s.Attributes())
		assert.Equal(t, spans[0].Resource(), s.Resource())
		assert.NotEqual(t, spans[0].SpanContext().SpanID(), s.SpanContext().SpanID())
	}
}

func TestScenarioValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*scenario)
		errMsg string
	}{
		{name: "zero batch size", modify: func(s *scenario) { s.BatchSize = 0 }, errMsg: "-batch-size 0"},
		{name: "storm pod out of range", modify: func(s *scenario) { s.StormPod = 4 }, errMsg: "-storm-pod 4"},
		{name: "too many cache-miss pods", modify: func(s *scenario) { s.CacheMissPods = 5 }, errMsg: "-cache-miss-pods 5"},
		{name: "negative count", modify: func(s *scenario) { s.StormSpans = -1 }, errMsg: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultScenario()
			tt.modify(&s)
			assert.ErrorContains(t, s.validate(4), tt.errMsg)
		})
	}
	assert.NoError(t, defaultScenario().validate(4))
}

func TestPodFlag(t *testing.T) {
	var pods podList
	require.NoError(t, pods.Set("llm/llm-abc/1234"))
	assert.Equal(t, pod{Namespace: "llm", Name: "llm-abc", UID: "1234"}, pods[0])
	assert.ErrorContains(t, pods.Set("llm/llm-abc"), `invalid -pod "llm/llm-abc"`)
}
