package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

const (
	instrumentationName = "github.com/veltrix/veltrim/cmd/veltrim-loadgen"

	// cacheMissAttribute marks a span whose request missed the model's KV
	// cache. The veltrim processor counts these per pod.
	cacheMissAttribute = "llm-cache-miss"

	requestSpanName   = "POST /v1/completions"
	cacheMissSpanName = "kv_cache.lookup"
	stormSpanName     = "queue.poll"
)

// generator creates spans through the OpenTelemetry SDK, one tracer provider
// per pod because the resource belongs to the provider. Ended spans land in
// the recorder instead of being exported right away.
type generator struct {
	pods    []pod
	rec     *recorder
	tracers []trace.Tracer
	stops   []func(context.Context) error
}

func newGenerator(pods []pod, seed uint64) *generator {
	g := &generator{pods: pods, rec: &recorder{}}
	ids := newSeededIDs(seed)
	for _, p := range pods {
		provider := sdktrace.NewTracerProvider(
			sdktrace.WithResource(podResource(p)),
			sdktrace.WithIDGenerator(ids),
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSyncer(g.rec),
		)
		g.tracers = append(g.tracers, provider.Tracer(instrumentationName))
		g.stops = append(g.stops, provider.Shutdown)
	}
	return g
}

func podResource(p pod) *resource.Resource {
	return resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName("llm"),
		semconv.K8SNamespaceName(p.Namespace),
		semconv.K8SPodName(p.Name),
		semconv.K8SPodUID(p.UID),
	)
}

// shutdown stops every tracer provider.
func (g *generator) shutdown(ctx context.Context) error {
	for _, stop := range g.stops {
		if err := stop(ctx); err != nil {
			return fmt.Errorf("failed to shut down a tracer provider: %w", err)
		}
	}
	return nil
}

// requestSpans returns count server spans of completion requests from one
// pod. Each carries its own request ID, so no two are alike to the storm
// detector.
func (g *generator) requestSpans(podIndex, first, count int) []sdktrace.ReadOnlySpan {
	tracer := g.tracers[podIndex]
	for i := range count {
		_, span := tracer.Start(context.Background(), requestSpanName,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", "POST"),
				attribute.String("http.route", "/v1/completions"),
				attribute.String("llm.request.id", fmt.Sprintf("%s-%d", g.pods[podIndex].Name, first+i)),
				attribute.Bool(cacheMissAttribute, false),
			))
		span.End()
	}
	return g.rec.take()
}

// cacheMissSpans returns count spans of KV cache lookups that missed.
func (g *generator) cacheMissSpans(podIndex, count int) []sdktrace.ReadOnlySpan {
	tracer := g.tracers[podIndex]
	for i := range count {
		_, span := tracer.Start(context.Background(), cacheMissSpanName,
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(
				attribute.String("llm.request.id", fmt.Sprintf("%s-miss-%d", g.pods[podIndex].Name, i)),
				attribute.Bool(cacheMissAttribute, true),
			))
		span.End()
	}
	return g.rec.take()
}

// stormSpans returns count spans of a busy loop: the same name, kind and
// attributes every time, created back to back as fast as the SDK allows.
func (g *generator) stormSpans(podIndex, count int) []sdktrace.ReadOnlySpan {
	tracer := g.tracers[podIndex]
	attrs := trace.WithAttributes(attribute.String("queue.name", "requests"))
	for range count {
		_, span := tracer.Start(context.Background(), stormSpanName, trace.WithSpanKind(trace.SpanKindInternal), attrs)
		span.End()
	}
	return g.rec.take()
}
