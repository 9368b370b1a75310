package veltrimprocessor

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

// The reference batch: 1,000 spans over 20 pods, 10 attributes each, 5 %
// exact duplicates, 1 % cache misses and 10 % storm spans.
const (
	benchPods          = 20
	benchSpansPerPod   = 50
	benchSpans         = benchPods * benchSpansPerPod
	benchDuplicates    = 50  // copies of earlier spans of the same pod, same IDs
	benchCacheMisses   = 10  // unique spans with llm-cache-miss = true
	benchStormSpans    = 100 // 5 pods x 20 identical spans
	benchStormPods     = 5
	benchBatchInterval = 100 * time.Millisecond
	// benchWarmupBatches fills the dedup table before timing: at 950
	// unique spans per batch, 1,200 batches exceed the default 1,000,000
	// slots, so the timed batches see the steady state.
	benchWarmupBatches = 1200
)

// newReferenceBatch builds the reference batch. Per pod: 50 spans, of which
// 2-3 are duplicates, and in 5 pods 20 are one storm. Every span has 10
// attributes, one of them llm-cache-miss.
func newReferenceBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	next := uint64(1)
	misses := 0
	duplicates := 0
	for pod := range benchPods {
		rs := td.ResourceSpans().AppendEmpty()
		res := rs.Resource().Attributes()
		res.PutStr("k8s.pod.uid", fmt.Sprintf("6f1c9a3e-0000-4000-8000-%012d", pod))
		res.PutStr("k8s.pod.name", fmt.Sprintf("llm-serving-7d9f8-%05d", pod))
		res.PutStr("k8s.namespace.name", "inference")
		res.PutStr("service.name", "llm-serving")
		spans := rs.ScopeSpans().AppendEmpty().Spans()

		storm := 0
		if pod < benchStormPods {
			storm = benchStormSpans / benchStormPods
		}
		dups := benchDuplicates / benchPods
		if pod < benchDuplicates%benchPods {
			dups++
		}
		unique := benchSpansPerPod - storm - dups

		for i := range unique {
			// The first span of every other pod is a cache miss.
			miss := i == 0 && pod%2 == 0 && misses < benchCacheMisses
			if miss {
				misses++
			}
			fillSpan(spans.AppendEmpty(), next, fmt.Sprintf("req-%d", next), miss)
			next++
		}
		for range storm {
			span := spans.AppendEmpty()
			fillSpan(span, next, "storm", false)
			next++
		}
		for i := range dups {
			spans.At(i * 7).CopyTo(spans.AppendEmpty())
			duplicates++
		}
	}
	if misses != benchCacheMisses || duplicates != benchDuplicates || td.SpanCount() != benchSpans {
		panic(fmt.Sprintf("reference batch: %d misses, %d duplicates, %d spans", misses, duplicates, td.SpanCount()))
	}
	return td
}

// fillSpan sets IDs and 10 attributes. Spans with the same request share
// every attribute, which makes the storm spans identical.
func fillSpan(span ptrace.Span, id uint64, request string, miss bool) {
	var traceID pcommon.TraceID
	binary.BigEndian.PutUint64(traceID[8:], id*0x9e3779b97f4a7c15)
	span.SetTraceID(traceID)
	var spanID pcommon.SpanID
	binary.BigEndian.PutUint64(spanID[:], id)
	span.SetSpanID(spanID)
	span.SetName("POST /v1/chat/completions")
	span.SetKind(ptrace.SpanKindServer)
	span.SetStartTimestamp(pcommon.Timestamp(id))
	span.SetEndTimestamp(pcommon.Timestamp(id + 1000))

	attrs := span.Attributes()
	attrs.PutStr("http.request.method", "POST")
	attrs.PutStr("http.route", "/v1/chat/completions")
	attrs.PutInt("http.response.status_code", 200)
	attrs.PutStr("gen_ai.request.model", "llama-3.1-70b-instruct")
	attrs.PutStr("gen_ai.system", "vllm")
	attrs.PutInt("gen_ai.usage.input_tokens", 512)
	attrs.PutInt("gen_ai.usage.output_tokens", 128)
	attrs.PutDouble("llm.time_to_first_token", 0.042)
	attrs.PutStr("request.id", request)
	attrs.PutBool("llm-cache-miss", miss)
}

// batchSource hands out fresh copies of the reference batch. Each copy gets
// new trace IDs, so every batch brings new spans as in production, and the
// duplicates within a copy stay duplicates. The copy is made just before
// the batch is processed, with the timer stopped, so the batch is as warm
// in the CPU cache as one a receiver has just decoded.
type batchSource struct {
	reference ptrace.Traces
	copies    uint64
}

func newBatchSource() *batchSource {
	return &batchSource{reference: newReferenceBatch()}
}

// next returns a fresh batch. With b set, it stops the timer and the
// allocation count while copying.
func (src *batchSource) next(b *testing.B, allocs *allocCounter) ptrace.Traces {
	if b != nil {
		b.StopTimer()
		allocs.stop()
	}
	td := src.fresh()
	if b != nil {
		allocs.start()
		b.StartTimer()
	}
	return td
}

func (src *batchSource) fresh() ptrace.Traces {
	src.copies++
	td := ptrace.NewTraces()
	src.reference.CopyTo(td)
	for _, rs := range td.ResourceSpans().All() {
		for _, span := range rs.ScopeSpans().At(0).Spans().All() {
			traceID := span.TraceID()
			binary.BigEndian.PutUint64(traceID[:8], src.copies)
			span.SetTraceID(traceID)
		}
	}
	return td
}

// allocCounter counts heap allocations in the timed parts of a benchmark.
type allocCounter struct {
	total, since uint64
}

func (a *allocCounter) start() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	a.since = ms.Mallocs
}

func (a *allocCounter) stop() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	a.total += ms.Mallocs - a.since
}

// benchFixture is one warmed-up processor shared by every run of a
// sub-benchmark, so the ramp-up of b.N does not warm it again each time.
type benchFixture struct {
	clock  *fakeClock
	traces processor.Traces
	source *batchSource
}

var benchFixtures = map[string]*benchFixture{}

func newBenchFixture(b *testing.B, name string, mutate func(*Config)) *benchFixture {
	if fx, ok := benchFixtures[name]; ok {
		return fx
	}
	clock := newFakeClock()
	f := newFactory(clock.Now)
	cfg := f.CreateDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	traces, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(componentType),
		cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	fx := &benchFixture{clock: clock, traces: traces, source: newBatchSource()}
	for range benchWarmupBatches {
		fx.consume(b, fx.source.fresh())
	}
	benchFixtures[name] = fx
	return fx
}

func (fx *benchFixture) consume(b *testing.B, td ptrace.Traces) {
	fx.clock.Advance(benchBatchInterval)
	if err := fx.traces.ConsumeTraces(context.Background(), td); err != nil {
		b.Fatal(err)
	}
}

// run times the fixture on fresh batches and returns ns per span.
func (fx *benchFixture) run(b *testing.B) float64 {
	var allocs allocCounter
	b.ReportAllocs()
	b.ResetTimer()
	allocs.start()
	for range b.N {
		fx.consume(b, fx.source.next(b, &allocs))
	}
	allocs.stop()
	return reportPerSpan(b, &allocs)
}

// scanBatch is the floor: it reads every span's IDs and attributes and the
// resource attributes, and changes nothing.
func scanBatch(td ptrace.Traces) uint64 {
	var sum uint64
	for _, rs := range td.ResourceSpans().All() {
		sum += scanMap(rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				traceID, spanID := span.TraceID(), span.SpanID()
				sum += uint64(traceID[0]) + uint64(spanID[7])
				sum += scanMap(span.Attributes())
			}
		}
	}
	return sum
}

func scanMap(m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += uint64(len(k))
		switch v.Type() {
		case pcommon.ValueTypeStr:
			sum += uint64(len(v.Str()))
		case pcommon.ValueTypeInt:
			sum += uint64(v.Int())
		case pcommon.ValueTypeDouble:
			sum += uint64(v.Double())
		case pcommon.ValueTypeBool:
			if v.Bool() {
				sum++
			}
		}
	}
	return sum
}

var scanSink uint64

// scanNsPerSpan is the floor measured by the last scan run, for the ratio
// the veltrim run reports.
var scanNsPerSpan float64

// BenchmarkTraces compares the processor with a read-only walk of the same
// batches. Both get a fresh copy per batch, made with the timer stopped, so
// neither pays for copying. veltrim reports its ratio to the scan of the
// same run as x-scan.
func BenchmarkTraces(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		source := newBatchSource()
		var allocs allocCounter
		b.ReportAllocs()
		b.ResetTimer()
		allocs.start()
		for range b.N {
			scanSink += scanBatch(source.next(b, &allocs))
		}
		allocs.stop()
		scanNsPerSpan = reportPerSpan(b, &allocs)
	})

	b.Run("veltrim", func(b *testing.B) {
		ns := newBenchFixture(b, "default", nil).run(b)
		if scanNsPerSpan > 0 {
			b.ReportMetric(ns/scanNsPerSpan, "x-scan")
		}
	})
}

// BenchmarkTracesBreakdown runs the reference batch with parts of the
// processor turned off, to show what each part costs.
func BenchmarkTracesBreakdown(b *testing.B) {
	variants := []struct {
		name   string
		mutate func(*Config)
	}{
		{"dedup_off", func(c *Config) { c.Dedup.Enabled = false }},
		{"storm_off", func(c *Config) { c.Storm.Enabled = false }},
		{"dedup_storm_off", func(c *Config) {
			c.Dedup.Enabled = false
			c.Storm.Enabled = false
		}},
		{"stamp_off", func(c *Config) { c.Stamp.Traces = false }},
		// 20,000 slots (320 kB) stay in the CPU cache, unlike the default 16 MB.
		{"dedup_20k", func(c *Config) { c.Dedup.MaxSpans = 20_000 }},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			newBenchFixture(b, v.name, v.mutate).run(b)
		})
	}
}

func reportPerSpan(b *testing.B, allocs *allocCounter) float64 {
	spans := float64(b.N) * benchSpans
	ns := float64(b.Elapsed().Nanoseconds()) / spans
	b.ReportMetric(ns, "ns/span")
	b.ReportMetric(float64(allocs.total)/spans, "allocs/span")
	return ns
}
