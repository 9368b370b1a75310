package storm

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// benchAttributes are the 10 span attributes of the processor's reference
// batch.
func benchAttributes() pcommon.Map {
	attrs := pcommon.NewMap()
	attrs.PutStr("http.request.method", "POST")
	attrs.PutStr("http.route", "/v1/chat/completions")
	attrs.PutInt("http.response.status_code", 200)
	attrs.PutStr("gen_ai.request.model", "llama-3.1-70b-instruct")
	attrs.PutStr("gen_ai.system", "vllm")
	attrs.PutInt("gen_ai.usage.input_tokens", 512)
	attrs.PutInt("gen_ai.usage.output_tokens", 128)
	attrs.PutDouble("llm.time_to_first_token", 0.042)
	attrs.PutStr("request.id", "req-12345")
	attrs.PutBool("llm-cache-miss", false)
	return attrs
}

func BenchmarkMap(b *testing.B) {
	h := NewHasher()
	attrs := benchAttributes()
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += h.Map(attrs)
	}
	hashSink = sink
}

func BenchmarkObserve(b *testing.B) {
	d := New(time.Second, 20, DefaultCapacity)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		d.Observe(mix(i%10000), start+int64(i)*1000)
		i++
	}
}

var hashSink uint64
