package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/podtracker"
	"github.com/veltrix/veltrim/internal/storm"
)

// spanOrigin is the pod and storm key part shared by the spans of one
// resource.
type spanOrigin struct {
	// pod is nil when the resource has no pod identity.
	pod *podtracker.Pod
	// key is the storm key part of the pod, or of service.name without one.
	key uint64
}

// processTraces drops duplicate and storm spans, counts cache misses, and
// stamps each resource that has a pod identity with the pod's state.
func (p *veltrimProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	counts := p.processTracesAt(td, p.now())
	p.telemetry.record(ctx, &counts)
	if td.ResourceSpans().Len() == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

// processTracesAt processes one batch at now, in Unix nanoseconds, and
// returns what happened to its spans.
func (p *veltrimProcessor) processTracesAt(td ptrace.Traces, now int64) batchCounts {
	var counts batchCounts
	p.mu.Lock()
	defer p.mu.Unlock()

	p.pods.ForgetSilent(now)
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		return p.processResourceSpans(rs, now, &counts)
	})
	if p.dedup != nil {
		counts.dedupEvicted = p.dedup.Evicted() - p.dedupEvicted
		p.dedupEvicted = p.dedup.Evicted()
	}
	if p.storm != nil {
		counts.stormUnreported = p.storm.Lost() - p.stormLost
		p.stormLost = p.storm.Lost()
	}
	return counts
}

// processResourceSpans processes the spans of one resource and reports
// whether the resource lost all its spans to drops and should be removed.
func (p *veltrimProcessor) processResourceSpans(rs ptrace.ResourceSpans, now int64, counts *batchCounts) bool {
	attrs := rs.Resource().Attributes()
	origin := p.resolveOrigin(attrs, now, counts)

	emptied := false
	rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
		if p.processSpans(ss.Spans(), origin, now, counts) {
			emptied = true
			return true
		}
		return false
	})

	if origin.pod != nil && p.cfg.Stamp.Traces {
		p.pods.State(origin.pod, now).Stamp(attrs)
	}
	return emptied && rs.ScopeSpans().Len() == 0
}

// processSpans drops the duplicate and storm spans of one scope and reports
// whether it dropped them all.
func (p *veltrimProcessor) processSpans(spans ptrace.SpanSlice, origin spanOrigin, now int64, counts *batchCounts) bool {
	before := spans.Len()
	if origin.pod == nil {
		counts.withoutPod += int64(before)
	}

	p.planSpans(spans, origin)
	i := 0
	spans.RemoveIf(func(span ptrace.Span) bool {
		plan := p.plans[i]
		i++
		return p.dropSpan(span, plan, origin.pod, now, counts)
	})
	return spans.Len() == 0 && before > 0
}

// resolveOrigin finds the pod of a resource, creating its state on first
// sight, and the storm key part of its spans.
func (p *veltrimProcessor) resolveOrigin(attrs pcommon.Map, now int64, counts *batchCounts) spanOrigin {
	id, ok := podstate.IdentityFromResource(attrs)
	if !ok {
		var service string
		if v, ok := attrs.Get(podstate.AttrServiceName); ok && v.Type() == pcommon.ValueTypeStr {
			service = v.Str()
		}
		return spanOrigin{key: p.hasher.Service(service)}
	}

	pod, evicted := p.pods.Touch(id, now)
	if evicted {
		counts.podsEvicted++
	}
	key := pod.Identity()
	return spanOrigin{pod: pod, key: p.hasher.Pod(key.UID, key.Namespace, key.Name)}
}

// spanPlan holds the values the first pass over a scope's spans computes
// for one span, before any span is dropped.
type spanPlan struct {
	stormKey uint64
	// fingerprint is the span's dedup fingerprint. It is valid only when
	// hasFingerprint is true, which needs dedup on and both IDs non-zero.
	fingerprint    uint64
	hasFingerprint bool
	miss           cacheMiss
}

// planSpans reads every span of a scope once: it computes the dedup
// fingerprint and the storm key, classifies the cache-miss attribute, and
// starts loading the dedup and storm table buckets that dropSpan will read.
// The table reads miss the CPU cache nearly every time, and issuing them all
// up front lets them overlap instead of stalling each span in turn.
func (p *veltrimProcessor) planSpans(spans ptrace.SpanSlice, origin spanOrigin) {
	p.plans = slices.Grow(p.plans[:0], spans.Len())[:spans.Len()]
	for i, span := range spans.All() {
		var plan spanPlan
		if p.dedup != nil {
			plan.fingerprint, plan.hasFingerprint = p.dedup.Fingerprint(span.TraceID(), span.SpanID())
			if plan.hasFingerprint {
				p.dedup.PrefetchFingerprint(plan.fingerprint)
			}
		}
		attrsHash, miss := p.scanAttributes(span.Attributes())
		plan.miss = miss
		if p.storm != nil {
			plan.stormKey = storm.Span(origin.key,
				p.hasher.String(span.Name()),
				int32(span.Kind()),
				int32(span.Status().Code()),
				p.hasher.String(span.Status().Message()),
				attrsHash,
			)
			p.storm.Prefetch(plan.stormKey)
		}
		p.plans[i] = plan
	}
}

// dropSpan runs the per-span steps in order and reports whether the span
// is dropped. An exact duplicate is the same span delivered twice, so it is
// dropped before its cache miss could count a second time. A storm span is
// a distinct span, so its cache miss counts before the storm check drops it.
func (p *veltrimProcessor) dropSpan(span ptrace.Span, plan spanPlan, pod *podtracker.Pod, now int64, counts *batchCounts) bool {
	counts.spansIn++
	if plan.hasFingerprint && p.dedup.SeenFingerprint(plan.fingerprint, now) {
		counts.duplicates++
		return true
	}

	p.countCacheMiss(plan.miss, pod, now, counts)
	if p.storm == nil {
		return false
	}

	keep, suppressed := p.storm.Observe(plan.stormKey, now)
	if !keep {
		counts.stormDropped++
		return true
	}
	if suppressed > 0 {
		addSuppressed(span.Attributes(), suppressed)
	}
	return false
}

// scanAttributes walks the span attributes once: it sums their storm
// hashes, when storms are collapsed, and reads the cache-miss attribute.
// The storm count of an earlier veltrim processor is left out of the hash,
// so spans it collapsed still match their siblings here.
func (p *veltrimProcessor) scanAttributes(attrs pcommon.Map) (uint64, cacheMiss) {
	if p.storm == nil {
		v, ok := attrs.Get(p.cfg.CacheMiss.Attribute)
		if !ok {
			return 0, cacheMissAbsent
		}
		return 0, classifyCacheMiss(v)
	}

	var sum uint64
	miss := cacheMissAbsent
	for k, v := range attrs.All() {
		switch k {
		case podstate.AttrStormSuppressed:
			continue
		case p.cfg.CacheMiss.Attribute:
			miss = classifyCacheMiss(v)
		}
		sum += p.hasher.Attribute(k, v)
	}
	return sum, miss
}

func (p *veltrimProcessor) countCacheMiss(miss cacheMiss, pod *podtracker.Pod, now int64, counts *batchCounts) {
	switch miss {
	case cacheMissTrue:
		counts.cacheMisses++
		if pod != nil {
			p.pods.RecordCacheMiss(pod, now)
		}
	case cacheMissUnrecognized:
		counts.unrecognized++
	}
}

// addSuppressed adds n to the span's storm count. A count set by an
// earlier veltrim processor, as in a collector tier in front of this one,
// is added to rather than replaced.
func addSuppressed(attrs pcommon.Map, n int64) {
	if v, ok := attrs.Get(podstate.AttrStormSuppressed); ok && v.Type() == pcommon.ValueTypeInt {
		v.SetInt(v.Int() + n)
		return
	}
	attrs.PutInt(podstate.AttrStormSuppressed, n)
}
