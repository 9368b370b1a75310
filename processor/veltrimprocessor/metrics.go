package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/podtracker"
)

// processMetrics feeds the CPU request utilization of each pod into its
// window and, when stamp.metrics is set, stamps each resource that has a
// pod identity with the pod's state. It never drops data.
func (p *veltrimProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	counts := p.processMetricsAt(md, p.now())
	p.telemetry.record(ctx, &counts)
	return md, nil
}

// processMetricsAt processes one batch at now, in Unix nanoseconds.
func (p *veltrimProcessor) processMetricsAt(md pmetric.Metrics, now int64) batchCounts {
	var counts batchCounts
	p.mu.Lock()
	defer p.mu.Unlock()

	p.pods.ForgetSilent(now)
	for _, rm := range md.ResourceMetrics().All() {
		p.processResourceMetrics(rm, now, &counts)
	}
	return counts
}

func (p *veltrimProcessor) processResourceMetrics(rm pmetric.ResourceMetrics, now int64, counts *batchCounts) {
	attrs := rm.Resource().Attributes()
	id, ok := podstate.IdentityFromResource(attrs)
	if !ok {
		return
	}
	pod, evicted := p.pods.Touch(id, now)
	if evicted {
		counts.podsEvicted++
	}

	for _, sm := range rm.ScopeMetrics().All() {
		for _, m := range sm.Metrics().All() {
			if m.Type() == pmetric.MetricTypeGauge && m.Name() == p.cfg.CPU.Metric {
				p.recordCPU(m.Gauge().DataPoints(), pod, now, counts)
			}
		}
	}

	if p.cfg.Stamp.Metrics {
		p.pods.State(pod, now).Stamp(attrs)
	}
}

// recordCPU adds the gauge's data points to the pod's CPU window. The
// samples are placed at the processor's clock, not at their timestamps, so
// a collector restart or a skewed kubelet clock cannot move them outside
// the window.
func (p *veltrimProcessor) recordCPU(points pmetric.NumberDataPointSlice, pod *podtracker.Pod, now int64, counts *batchCounts) {
	for _, dp := range points.All() {
		var v float64
		switch dp.ValueType() {
		case pmetric.NumberDataPointValueTypeDouble:
			v = dp.DoubleValue()
		case pmetric.NumberDataPointValueTypeInt:
			v = float64(dp.IntValue())
		default:
			counts.cpuInvalid++
			continue
		}
		if !p.pods.RecordCPU(pod, now, v) {
			counts.cpuInvalid++
		}
	}
}
