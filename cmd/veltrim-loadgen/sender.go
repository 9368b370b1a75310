package main

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exportTimeout bounds one export request. A collector on loopback responds
// in milliseconds, so hitting it means the collector is stuck or gone.
const exportTimeout = 10 * time.Second

// newOTLPExporter returns an OTLP/gRPC exporter without retries: a retried
// request would send spans twice that the report counts once, so a failed
// export ends the run instead.
func newOTLPExporter(ctx context.Context, endpoint string) (*otlptrace.Exporter, error) {
	exporter, err := otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(endpoint),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithTimeout(exportTimeout),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	)
	if err != nil {
		return nil, fmt.Errorf("failed to create the OTLP exporter for %s: %w", endpoint, err)
	}
	return exporter, nil
}

// sendBatches exports every batch in order, and a batch marked for resending
// a second time right after the first. It returns the number of export
// requests made.
func sendBatches(ctx context.Context, exporter sdktrace.SpanExporter, batches []batch) (int, error) {
	requests := 0
	for i, b := range batches {
		copies := 1
		if b.resend {
			copies = 2
		}
		for range copies {
			if err := exporter.ExportSpans(ctx, b.spans); err != nil {
				return requests, fmt.Errorf("failed to export batch %d (%d %s spans): %w", i, len(b.spans), b.category, err)
			}
			requests++
		}
	}
	return requests, nil
}
