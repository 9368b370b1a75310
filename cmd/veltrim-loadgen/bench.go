package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// benchmark sends a fixed number of unique request spans as fast as the
// collector accepts them, for throughput measurements. Nothing is sent twice
// and no two spans are alike, so a deduplicating pipeline passes them all.
type benchmark struct {
	Spans     int
	BatchSize int
	Workers   int
	Seed      uint64
}

type benchReport struct {
	Endpoint       string  `json:"endpoint"`
	SpansSent      int64   `json:"spansSent"`
	ExportRequests int64   `json:"exportRequests"`
	Seconds        float64 `json:"seconds"`
	SpansPerSecond float64 `json:"spansPerSecond"`
}

func (b benchmark) validate() error {
	if b.Spans < 1 || b.BatchSize < 1 || b.Workers < 1 {
		return fmt.Errorf("invalid benchmark: -bench-spans %d, -bench-batch-size %d and -bench-workers %d must be at least 1",
			b.Spans, b.BatchSize, b.Workers)
	}
	return nil
}

// run sends the spans from b.Workers goroutines, each with its own
// generator, until b.Spans spans were sent or an export fails.
func (b benchmark) run(ctx context.Context, exporter sdktrace.SpanExporter, pods []pod, endpoint string) (benchReport, error) {
	var (
		nextBatch atomic.Int64
		sent      atomic.Int64
		requests  atomic.Int64
		wg        sync.WaitGroup
		errOnce   sync.Once
		firstErr  error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := int64((b.Spans + b.BatchSize - 1) / b.BatchSize)

	start := time.Now()
	for worker := range b.Workers {
		g := newGenerator(pods, b.Seed+uint64(worker))
		wg.Go(func() {
			defer g.shutdown(context.Background())
			for {
				index := nextBatch.Add(1) - 1
				if index >= batches || ctx.Err() != nil {
					return
				}
				count := min(b.BatchSize, b.Spans-int(index)*b.BatchSize)
				spans := g.requestSpans(int(index)%len(pods), int(index)*b.BatchSize, count)
				if err := exporter.ExportSpans(ctx, spans); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("failed to export benchmark batch %d: %w", index, err) })
					cancel()
					return
				}
				sent.Add(int64(count))
				requests.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()

	return benchReport{
		Endpoint:       endpoint,
		SpansSent:      sent.Load(),
		ExportRequests: requests.Load(),
		Seconds:        elapsed,
		SpansPerSecond: float64(sent.Load()) / elapsed,
	}, firstErr
}

func (r benchReport) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "sent %d spans in %d OTLP/gRPC export requests to %s in %.2f s (%.0f spans/s)\n",
		r.SpansSent, r.ExportRequests, r.Endpoint, r.Seconds, r.SpansPerSecond)
	return err
}
