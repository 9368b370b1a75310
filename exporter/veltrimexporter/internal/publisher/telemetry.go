package publisher

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterScope is the instrumentation scope of the internal metrics.
const meterScope = "github.com/veltrix/veltrim/exporter/veltrimexporter"

// Reasons a received state leads to no patch.
const (
	skipUnchanged  = "unchanged"
	skipOutOfOrder = "out_of_order"
	skipPodGone    = "pod_gone"
)

// Attribute keys of the internal metrics.
const (
	attrReason       = "reason"
	attrFailureClass = "failure_class"
)

// telemetry holds the publisher's internal metrics.
type telemetry struct {
	patchesSent           metric.Int64Counter
	patchesFailed         metric.Int64Counter
	patchesSkipped        metric.Int64Counter
	podsGone              metric.Int64Counter
	resourcesUnidentified metric.Int64Counter
	queueDepth            metric.Int64ObservableGauge

	// Attribute sets per reason and class, built once so that recording a
	// measurement allocates nothing.
	skipOptions    map[string]metric.AddOption
	goneOptions    map[string]metric.AddOption
	failureOptions map[string]metric.AddOption

	registration metric.Registration
}

func newTelemetry(set component.TelemetrySettings, queueDepth func() int64) (*telemetry, error) {
	meter := set.MeterProvider.Meter(meterScope)
	t := &telemetry{
		skipOptions: attributeOptions(attrReason, skipUnchanged, skipOutOfOrder, skipPodGone),
		goneOptions: attributeOptions(attrReason, goneNotFound, goneUIDMismatch),
		failureOptions: attributeOptions(attrFailureClass, failureUnreachable, failureTimeout, failureThrottled,
			failureForbidden, failureInvalid, failureServer, failureOther),
	}
	var errs, err error

	t.patchesSent, err = meter.Int64Counter("otelcol_exporter_veltrim_patches_sent",
		metric.WithUnit("{patch}"),
		metric.WithDescription("Pod annotation patches the Kubernetes API accepted."))
	errs = errors.Join(errs, err)

	t.patchesFailed, err = meter.Int64Counter("otelcol_exporter_veltrim_patches_failed",
		metric.WithUnit("{patch}"),
		metric.WithDescription("Pod annotation patches that failed, by failure class; all but invalid ones are retried with backoff."))
	errs = errors.Join(errs, err)

	t.patchesSkipped, err = meter.Int64Counter("otelcol_exporter_veltrim_patches_skipped",
		metric.WithUnit("{state}"),
		metric.WithDescription("Pod states received that led to no patch, by reason: unchanged, out_of_order or pod_gone."))
	errs = errors.Join(errs, err)

	t.podsGone, err = meter.Int64Counter("otelcol_exporter_veltrim_pods_gone",
		metric.WithUnit("{pod}"),
		metric.WithDescription("Pods dropped from the queue because they no longer exist: not_found, or uid_mismatch when a new pod took the name."))
	errs = errors.Join(errs, err)

	t.resourcesUnidentified, err = meter.Int64Counter("otelcol_exporter_veltrim_resources_unidentified",
		metric.WithUnit("{resource}"),
		metric.WithDescription("Resources with veltrim state that lack k8s.pod.uid, k8s.pod.name or k8s.namespace.name and so cannot be patched."))
	errs = errors.Join(errs, err)

	t.queueDepth, err = meter.Int64ObservableGauge("otelcol_exporter_veltrim_queue_depth",
		metric.WithUnit("{pod}"),
		metric.WithDescription("Pods whose newest state waits to be patched, including those waiting for a retry."))
	errs = errors.Join(errs, err)
	if errs != nil {
		return nil, errs
	}

	t.registration, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(t.queueDepth, queueDepth())
		return nil
	}, t.queueDepth)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) shutdown() error {
	return t.registration.Unregister()
}

func (t *telemetry) recordSent(ctx context.Context) {
	t.patchesSent.Add(ctx, 1)
}

func (t *telemetry) recordFailed(ctx context.Context, class string) {
	t.patchesFailed.Add(ctx, 1, t.failureOptions[class])
}

func (t *telemetry) recordSkipped(ctx context.Context, reason string) {
	t.patchesSkipped.Add(ctx, 1, t.skipOptions[reason])
}

func (t *telemetry) recordGone(ctx context.Context, reason string) {
	t.podsGone.Add(ctx, 1, t.goneOptions[reason])
}

func (t *telemetry) recordUnidentified(ctx context.Context) {
	t.resourcesUnidentified.Add(ctx, 1)
}

func attributeOptions(key string, values ...string) map[string]metric.AddOption {
	options := make(map[string]metric.AddOption, len(values))
	for _, value := range values {
		options[value] = metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value)))
	}
	return options
}
