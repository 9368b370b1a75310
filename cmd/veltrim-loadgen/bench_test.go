package main

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// lockedExporter is a countingExporter safe for the benchmark's concurrent senders.
type lockedExporter struct {
	mu sync.Mutex
	countingExporter
}

func (e *lockedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.countingExporter.ExportSpans(ctx, spans)
}

func TestBenchmarkSendsExactCount(t *testing.T) {
	exporter := &lockedExporter{}
	b := benchmark{Spans: 1234, BatchSize: 100, Workers: 3, Seed: 1}

	r, err := b.run(context.Background(), exporter, syntheticPods(4), "test")
	require.NoError(t, err)
	assert.EqualValues(t, 1234, r.SpansSent)
	assert.EqualValues(t, 13, r.ExportRequests)

	seen := map[spanKey]bool{}
	for _, export := range exporter.exports {
		assert.LessOrEqual(t, len(export), 100)
		for _, id := range export {
			assert.False(t, seen[id], "span sent twice")
			seen[id] = true
		}
	}
	assert.Len(t, seen, 1234)
}

func TestBenchmarkValidate(t *testing.T) {
	assert.ErrorContains(t, benchmark{Spans: 0, BatchSize: 1, Workers: 1}.validate(), "-bench-spans 0")
	assert.NoError(t, benchmark{Spans: 1, BatchSize: 1, Workers: 1}.validate())
}
