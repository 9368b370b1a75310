package admission

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// scopeName is the instrumentation scope of the admission metrics.
const scopeName = "github.com/veltrix/veltrim/exporter/veltrimexporter/internal/admission"

// outcome is the value of the outcome attribute of each request responded to.
type outcome string

const (
	// outcomeAllowed: the policy found enough removable pods.
	outcomeAllowed outcome = "allowed"
	// outcomeDenied: too few removable pods, denied on /validate.
	outcomeDenied outcome = "denied"
	// outcomeClamped: too few removable pods, lowered on /mutate.
	outcomeClamped outcome = "clamped"
	// outcomeIgnored: not a scale-down, allowed unchanged.
	outcomeIgnored outcome = "ignored"
	// outcomePolicyFailed: the policy failed or timed out; allowed with a warning.
	outcomePolicyFailed outcome = "policy_failed"
	// outcomeBreakerOpen: allowed without evaluating because the breaker is open.
	outcomeBreakerOpen outcome = "breaker_open"
	// outcomeNotSynced: allowed with a warning before the pod cache synced.
	outcomeNotSynced outcome = "not_synced"
	// outcomeInvalid: the body was not a usable AdmissionReview (HTTP 4xx).
	outcomeInvalid outcome = "invalid"
	// outcomePanic: a handler panicked; allowed with a warning.
	outcomePanic outcome = "panic"
)

var outcomes = []outcome{
	outcomeAllowed, outcomeDenied, outcomeClamped, outcomeIgnored, outcomePolicyFailed,
	outcomeBreakerOpen, outcomeNotSynced, outcomeInvalid, outcomePanic,
}

// durationBuckets, in seconds, resolve the sub-millisecond decisions of a
// healthy policy and place the 20 ms default policy timeout on a boundary.
var durationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1,
}

type metrics struct {
	decisions    metric.Int64Counter
	duration     metric.Float64Histogram
	breakerState metric.Int64Gauge

	// attributes holds one pre-built attribute set per outcome.
	attributes map[outcome]metric.MeasurementOption
}

func newMetrics(provider metric.MeterProvider) (*metrics, error) {
	meter := provider.Meter(scopeName)

	decisions, errDecisions := meter.Int64Counter(
		"otelcol_exporter_veltrim_admission_decisions",
		metric.WithUnit("{request}"),
		metric.WithDescription("Admission requests handled, by outcome."),
	)
	duration, errDuration := meter.Float64Histogram(
		"otelcol_exporter_veltrim_admission_duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time from reading an admission request to writing its response, by outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...),
	)
	breakerState, errBreaker := meter.Int64Gauge(
		"otelcol_exporter_veltrim_admission_breaker_state",
		metric.WithUnit("1"),
		metric.WithDescription("Circuit breaker state: 0 closed, 1 open, 2 half-open."),
	)
	if err := errors.Join(errDecisions, errDuration, errBreaker); err != nil {
		return nil, err
	}

	m := &metrics{
		decisions:    decisions,
		duration:     duration,
		breakerState: breakerState,
		attributes:   make(map[outcome]metric.MeasurementOption, len(outcomes)),
	}
	for _, o := range outcomes {
		m.attributes[o] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", string(o))))
	}
	return m, nil
}

func (m *metrics) recordDecision(o outcome, elapsed time.Duration) {
	attrs := m.attributes[o]
	m.decisions.Add(context.Background(), 1, attrs)
	m.duration.Record(context.Background(), elapsed.Seconds(), attrs)
}

func (m *metrics) recordBreakerState(s breakerState) {
	m.breakerState.Record(context.Background(), int64(s))
}
