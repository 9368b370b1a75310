package veltrimprocessor

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/storm"
)

// fuzzInput hands out bytes of the fuzz input. It returns zeros once the
// input is used up, so every input decodes to some batch.
type fuzzInput struct {
	data []byte
}

func (in *fuzzInput) byte() byte {
	if len(in.data) == 0 {
		return 0
	}
	b := in.data[0]
	in.data = in.data[1:]
	return b
}

func (in *fuzzInput) uint64() uint64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = in.byte()
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (in *fuzzInput) done() bool {
	return len(in.data) == 0
}

// Small alphabets make collisions between spans, pods and attribute keys
// likely, which is where duplicates and storms happen.
var (
	fuzzStrings = []string{"", "true", "TRUE", "false", "yes", "1", "chat", "pod-a", "pod-b", "serving"}
	fuzzKeys    = []string{"llm-cache-miss", podstate.AttrStormSuppressed, "route", "model", "tokens", "x"}
)

func (in *fuzzInput) str() string {
	return fuzzStrings[int(in.byte())%len(fuzzStrings)]
}

// value fills v with a value of a type chosen by the input, nesting maps
// and slices up to depth.
func (in *fuzzInput) value(v pcommon.Value, depth int) {
	switch in.byte() % 8 {
	case 0:
		v.SetStr(in.str())
	case 1:
		v.SetInt(int64(in.uint64()))
	case 2:
		v.SetDouble(math.Float64frombits(in.uint64()))
	case 3:
		v.SetBool(in.byte()%2 == 0)
	case 4:
		bs := v.SetEmptyBytes()
		for range in.byte() % 4 {
			bs.Append(in.byte())
		}
	case 5:
		if depth > 0 {
			in.attributes(v.SetEmptyMap(), depth-1)
		}
	case 6:
		if depth > 0 {
			s := v.SetEmptySlice()
			for range in.byte() % 3 {
				in.value(s.AppendEmpty(), depth-1)
			}
		}
	default:
		// Leave the value empty.
	}
}

func (in *fuzzInput) attributes(m pcommon.Map, depth int) {
	for range in.byte() % 5 {
		in.value(m.PutEmpty(fuzzKeys[int(in.byte())%len(fuzzKeys)]), depth)
	}
}

func (in *fuzzInput) resource(m pcommon.Map) {
	flags := in.byte()
	if flags&1 != 0 {
		in.value(m.PutEmpty(podstate.AttrPodUID), 0)
	}
	if flags&2 != 0 {
		m.PutStr(podstate.AttrNamespaceName, in.str())
	}
	if flags&4 != 0 {
		m.PutStr(podstate.AttrPodName, in.str())
	}
	if flags&8 != 0 {
		in.value(m.PutEmpty(podstate.AttrServiceName), 0)
	}
	if flags&16 != 0 {
		in.value(m.PutEmpty(podstate.AttrCacheState), 0)
	}
}

func (in *fuzzInput) traces() ptrace.Traces {
	td := ptrace.NewTraces()
	for range 1 + in.byte()%3 {
		rs := td.ResourceSpans().AppendEmpty()
		in.resource(rs.Resource().Attributes())
		for range in.byte() % 3 {
			spans := rs.ScopeSpans().AppendEmpty().Spans()
			for range in.byte() % 8 {
				in.span(spans.AppendEmpty())
			}
		}
	}
	return td
}

func (in *fuzzInput) span(span ptrace.Span) {
	// IDs from a few values, all-zero included, so duplicates are common.
	id := uint64(in.byte() % 6)
	var traceID pcommon.TraceID
	var spanID pcommon.SpanID
	if in.byte()%4 != 0 {
		binary.LittleEndian.PutUint64(traceID[:8], id)
	}
	binary.LittleEndian.PutUint64(spanID[:], id*uint64(in.byte()%3))
	span.SetTraceID(traceID)
	span.SetSpanID(spanID)
	span.SetName(in.str())
	span.SetKind(ptrace.SpanKind(in.byte() % 7))
	span.Status().SetCode(ptrace.StatusCode(in.byte() % 4))
	in.attributes(span.Attributes(), 2)
}

func (in *fuzzInput) metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	in.resource(rm.Resource().Attributes())
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(defaultCPUMetric)
	points := m.SetEmptyGauge().DataPoints()
	for range in.byte() % 4 {
		dp := points.AppendEmpty()
		switch in.byte() % 3 {
		case 0:
			dp.SetDoubleValue(math.Float64frombits(in.uint64()))
		case 1:
			dp.SetIntValue(int64(in.uint64()))
		}
	}
	return md
}

func FuzzProcessor(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 1, 5, 1, 1, 2, 0, 0, 2, 0, 1, 0, 1, 1, 1, 5, 1, 1, 2, 0, 0, 2, 0, 1, 0, 1})
	f.Add([]byte("\x02\x03\x01\x07\x03\x00\x01\x02\x00\x01\x00\x03\x01\x00\x00\x01\x01\x02\x00\x01\x00\x03\x01\x00"))
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0"))

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := createDefaultConfig().(*Config)
		cfg.Dedup.MaxSpans = 8
		cfg.Storm.MaxPerInterval = 2
		cfg.MaxPods = 2
		cfg.Stamp.Metrics = true
		set := processortest.NewNopSettings(componentType)
		p, err := newVeltrimProcessor(set, cfg, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer p.shutdown()
		// A small storm table makes forgotten storm counts likely.
		p.storm = storm.New(cfg.Storm.Interval, cfg.Storm.MaxPerInterval, 8)

		in := &fuzzInput{data: data}
		now := testStart.UnixNano()
		for step := 0; step < 6 && !in.done(); step++ {
			// The clock moves by up to about 12 minutes, and sometimes back.
			now += int64(int8(in.byte())) * int64(6*time.Second)
			if in.byte()%4 == 0 {
				md := in.metrics()
				p.processMetricsAt(md, now)
				checkStamped(t, md.ResourceMetrics().At(0).Resource().Attributes(), now)
			} else {
				checkTraceBatch(t, p, in.traces(), now)
			}
			if n := p.pods.Len(); n > cfg.MaxPods {
				t.Fatalf("%d pods tracked, max_pods is %d", n, cfg.MaxPods)
			}
		}
	})
}

// checkTraceBatch processes td and checks the invariants every batch keeps.
func checkTraceBatch(t *testing.T, p *veltrimProcessor, td ptrace.Traces, now int64) {
	in := td.SpanCount()
	counts := p.processTracesAt(td, now)
	out := td.SpanCount()

	if counts.spansIn != int64(in) {
		t.Fatalf("spans in counted %d, batch had %d", counts.spansIn, in)
	}
	if int64(out)+counts.duplicates+counts.stormDropped != int64(in) {
		t.Fatalf("%d in, %d out, %d duplicates, %d storm: a dropped span went uncounted",
			in, out, counts.duplicates, counts.stormDropped)
	}

	type spanKey struct {
		trace pcommon.TraceID
		span  pcommon.SpanID
	}
	seen := map[spanKey]bool{}
	for _, rs := range td.ResourceSpans().All() {
		if _, ok := podstate.IdentityFromResource(rs.Resource().Attributes()); ok {
			checkStamped(t, rs.Resource().Attributes(), now)
		}
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				key := spanKey{span.TraceID(), span.SpanID()}
				// Only a full bucket lets a duplicate through.
				if !key.trace.IsEmpty() && !key.span.IsEmpty() && seen[key] && counts.dedupEvicted == 0 {
					t.Fatalf("duplicate span %s/%s passed", key.trace, key.span)
				}
				seen[key] = true
			}
		}
	}
}

// checkStamped checks the stamped state of a resource with a pod identity.
func checkStamped(t *testing.T, attrs pcommon.Map, now int64) {
	if _, ok := podstate.IdentityFromResource(attrs); !ok {
		return
	}
	state, ok := podstate.StateFromResource(attrs)
	if !ok {
		t.Fatalf("resource with a pod identity not stamped: %v", attrs.AsRaw())
	}
	if state.CacheState != podstate.CacheStateWarm && state.CacheState != podstate.CacheStateCold {
		t.Fatalf("cache state %q", state.CacheState)
	}
	if state.CacheMisses < 0 {
		t.Fatalf("cache misses %d", state.CacheMisses)
	}
	if state.CacheState == podstate.CacheStateWarm && (state.CacheMisses == 0 || state.LastCacheMiss.IsZero()) {
		t.Fatalf("warm pod with %d misses, last miss %s", state.CacheMisses, state.LastCacheMiss)
	}
	if state.HasCPU && (math.IsNaN(state.CPURequestUtilization) || math.IsInf(state.CPURequestUtilization, 0) || state.CPURequestUtilization < 0) {
		t.Fatalf("cpu request utilization %v", state.CPURequestUtilization)
	}
	if state.ObservedAt.UnixNano() != now {
		t.Fatalf("observed at %d, clock at %d", state.ObservedAt.UnixNano(), now)
	}
}
