package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/veltrix/veltrim/processor/veltrimprocessor"

// batchCounts holds the events of one batch, added to the counters once per
// batch rather than once per span.
type batchCounts struct {
	spansIn         int64
	duplicates      int64
	dedupEvicted    int64
	stormDropped    int64
	stormUnreported int64
	withoutPod      int64
	cacheMisses     int64
	unrecognized    int64
	cpuInvalid      int64
	podsEvicted     int64
}

// telemetry holds the processor's internal metrics.
type telemetry struct {
	spansIn         metric.Int64Counter
	duplicates      metric.Int64Counter
	dedupEvicted    metric.Int64Counter
	stormDropped    metric.Int64Counter
	stormUnreported metric.Int64Counter
	withoutPod      metric.Int64Counter
	cacheMisses     metric.Int64Counter
	unrecognized    metric.Int64Counter
	cpuInvalid      metric.Int64Counter
	podsEvicted     metric.Int64Counter
	podsTracked     metric.Int64ObservableGauge
	dedupFill       metric.Float64ObservableGauge

	registration metric.Registration
}

// gauges reads the values of the observable gauges.
type gauges interface {
	podsTracked() int64
	// dedupFill returns the fraction of the dedup table's slots that hold
	// a span, and false when deduplication is disabled.
	dedupFill() (float64, bool)
}

func newTelemetry(set component.TelemetrySettings, g gauges) (*telemetry, error) {
	meter := set.MeterProvider.Meter(scopeName)
	t := &telemetry{}
	var errs []error
	counter := func(name, unit, description string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(description))
		errs = append(errs, err)
		return c
	}

	t.spansIn = counter("otelcol_processor_veltrim_spans_in", "{span}",
		"Spans received by the veltrim processor.")
	t.duplicates = counter("otelcol_processor_veltrim_spans_dropped_duplicate", "{span}",
		"Spans dropped because a span with the same trace ID and span ID was seen within dedup.window.")
	t.dedupEvicted = counter("otelcol_processor_veltrim_dedup_evictions", "{span}",
		"Spans forgotten by the dedup table before dedup.window ended because their bucket was full; a duplicate of such a span passes. Raise dedup.max_spans when this grows.")
	t.stormDropped = counter("otelcol_processor_veltrim_spans_dropped_storm", "{span}",
		"Spans dropped because identical spans exceeded storm.max_per_interval within storm.interval.")
	t.stormUnreported = counter("otelcol_processor_veltrim_storm_suppressed_unreported", "{span}",
		"Storm-dropped spans whose count was forgotten before a kept span could carry it in veltrim.storm.suppressed.")
	t.withoutPod = counter("otelcol_processor_veltrim_spans_without_pod", "{span}",
		"Spans whose resource has neither k8s.pod.uid nor k8s.namespace.name with k8s.pod.name; they get no pod state.")
	t.cacheMisses = counter("otelcol_processor_veltrim_cache_misses", "{span}",
		"Spans whose cache-miss attribute is true, counted before storm drops.")
	t.unrecognized = counter("otelcol_processor_veltrim_cache_miss_unrecognized", "{span}",
		"Spans whose cache-miss attribute is neither a bool nor the string true or false in any letter case.")
	t.cpuInvalid = counter("otelcol_processor_veltrim_cpu_samples_invalid", "{datapoint}",
		"CPU request utilization data points ignored because the value is NaN, infinite, negative or missing.")
	t.podsEvicted = counter("otelcol_processor_veltrim_pods_evicted", "{pod}",
		"Pods forgotten because max_pods was reached, least recently seen first.")

	var err error
	t.podsTracked, err = meter.Int64ObservableGauge("otelcol_processor_veltrim_pods_tracked",
		metric.WithUnit("{pod}"), metric.WithDescription("Pods whose state the processor holds."))
	errs = append(errs, err)
	t.dedupFill, err = meter.Float64ObservableGauge("otelcol_processor_veltrim_dedup_table_fill",
		metric.WithUnit("1"), metric.WithDescription("Fraction of the dedup table's slots that hold a span, including spans older than dedup.window not yet replaced. It reaches 1 once traffic has filled every bucket and stays there; watch otelcol_processor_veltrim_dedup_evictions for a table that is too small."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	t.registration, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(t.podsTracked, g.podsTracked())
		if fill, ok := g.dedupFill(); ok {
			o.ObserveFloat64(t.dedupFill, fill)
		}
		return nil
	}, t.podsTracked, t.dedupFill)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// record adds one batch's counts to the counters.
func (t *telemetry) record(ctx context.Context, c *batchCounts) {
	add := func(counter metric.Int64Counter, n int64) {
		if n > 0 {
			counter.Add(ctx, n)
		}
	}
	add(t.spansIn, c.spansIn)
	add(t.duplicates, c.duplicates)
	add(t.dedupEvicted, c.dedupEvicted)
	add(t.stormDropped, c.stormDropped)
	add(t.stormUnreported, c.stormUnreported)
	add(t.withoutPod, c.withoutPod)
	add(t.cacheMisses, c.cacheMisses)
	add(t.unrecognized, c.unrecognized)
	add(t.cpuInvalid, c.cpuInvalid)
	add(t.podsEvicted, c.podsEvicted)
}

func (t *telemetry) shutdown() error {
	return t.registration.Unregister()
}
