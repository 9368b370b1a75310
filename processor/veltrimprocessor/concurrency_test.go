package veltrimprocessor

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestConcurrentSignals feeds both signals and collects the internal
// metrics at once; run with -race it checks the shared state's locking.
func TestConcurrentSignals(t *testing.T) {
	h := newHarness(t, nil)
	const rounds = 50

	// Batches are built up front because require must not run outside the
	// test goroutine. Each span differs in request.id, so none is a storm.
	batches := make([]ptrace.Traces, rounds)
	for i := range batches {
		batches[i] = newTraces(t, podResource("pod-a"), spanSpec{
			id:    uint64(i + 1),
			attrs: map[string]any{"llm-cache-miss": true, "request.id": int64(i)},
		})
	}

	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for _, td := range batches {
			assert.NoError(t, h.traces.ConsumeTraces(context.Background(), td))
		}
	}()
	go func() {
		defer wg.Done()
		for range rounds {
			md := newCPUMetrics(podResource("pod-a"), defaultCPUMetric, 0.5)
			assert.NoError(t, h.metrics.ConsumeMetrics(context.Background(), md))
		}
	}()
	go func() {
		defer wg.Done()
		for range rounds {
			var rm metricdata.ResourceMetrics
			assert.NoError(t, h.tel.Reader.Collect(context.Background(), &rm))
		}
	}()
	wg.Wait()

	require.Equal(t, rounds, h.traceSink.SpanCount())
	assert.Len(t, h.metricSink.AllMetrics(), rounds)
	assert.Equal(t, int64(rounds), h.counter(t, "otelcol_processor_veltrim_cache_misses"))
}
