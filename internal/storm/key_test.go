package storm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestMapOrderIndependent(t *testing.T) {
	h := NewHasher()
	a := pcommon.NewMap()
	a.PutStr("model", "llama")
	a.PutInt("tokens", 12)
	a.PutBool("stream", true)
	b := pcommon.NewMap()
	b.PutBool("stream", true)
	b.PutInt("tokens", 12)
	b.PutStr("model", "llama")

	assert.Equal(t, h.Map(a), h.Map(b))
}

func TestValueTypesDiffer(t *testing.T) {
	h := NewHasher()
	values := []pcommon.Value{
		pcommon.NewValueEmpty(),
		pcommon.NewValueStr("1"),
		pcommon.NewValueInt(1),
		pcommon.NewValueDouble(1),
		pcommon.NewValueBool(true),
		pcommon.NewValueMap(),
		pcommon.NewValueSlice(),
		pcommon.NewValueBytes(),
	}
	values[6].Slice().AppendEmpty().SetInt(1)
	values[7].Bytes().Append('1')

	seen := map[uint64]int{}
	for i, v := range values {
		hash := h.Value(v)
		if j, ok := seen[hash]; ok {
			t.Errorf("values %d and %d hash alike", j, i)
		}
		seen[hash] = i
	}
}

func TestValueNestedChanges(t *testing.T) {
	h := NewHasher()
	a := pcommon.NewValueMap()
	a.Map().PutEmptySlice("list").AppendEmpty().SetStr("x")
	b := pcommon.NewValueMap()
	b.Map().PutEmptySlice("list").AppendEmpty().SetStr("y")
	assert.NotEqual(t, h.Value(a), h.Value(b))

	c := pcommon.NewValueMap()
	c.Map().PutEmptySlice("list").AppendEmpty().SetStr("x")
	assert.Equal(t, h.Value(a), h.Value(c))
}

func TestSliceOrderMatters(t *testing.T) {
	h := NewHasher()
	a := pcommon.NewValueSlice()
	a.Slice().AppendEmpty().SetInt(1)
	a.Slice().AppendEmpty().SetInt(2)
	b := pcommon.NewValueSlice()
	b.Slice().AppendEmpty().SetInt(2)
	b.Slice().AppendEmpty().SetInt(1)
	assert.NotEqual(t, h.Value(a), h.Value(b))
}

func TestKeyAndValueNotSwappable(t *testing.T) {
	h := NewHasher()
	assert.NotEqual(t, h.Attribute("a", pcommon.NewValueStr("b")), h.Attribute("b", pcommon.NewValueStr("a")))
}

func TestSpanKeyFields(t *testing.T) {
	h := NewHasher()
	base := Span(h.Pod("uid-1", "", ""), h.String("GET"), 2, 0, h.String(""), 7)
	assert.Equal(t, base, Span(h.Pod("uid-1", "", ""), h.String("GET"), 2, 0, h.String(""), 7))

	variants := []uint64{
		Span(h.Pod("uid-2", "", ""), h.String("GET"), 2, 0, h.String(""), 7),
		Span(h.Pod("", "ns", "uid-1"), h.String("GET"), 2, 0, h.String(""), 7),
		Span(h.Service("uid-1"), h.String("GET"), 2, 0, h.String(""), 7),
		Span(h.Pod("uid-1", "", ""), h.String("POST"), 2, 0, h.String(""), 7),
		Span(h.Pod("uid-1", "", ""), h.String("GET"), 3, 0, h.String(""), 7),
		Span(h.Pod("uid-1", "", ""), h.String("GET"), 2, 2, h.String(""), 7),
		Span(h.Pod("uid-1", "", ""), h.String("GET"), 2, 0, h.String("timeout"), 7),
		Span(h.Pod("uid-1", "", ""), h.String("GET"), 2, 0, h.String(""), 8),
	}
	for i, v := range variants {
		assert.NotEqual(t, base, v, "variant %d", i)
	}
}

func TestAttributeDoesNotAllocate(t *testing.T) {
	h := NewHasher()
	m := pcommon.NewMap()
	m.PutStr("model", "llama")
	m.PutInt("tokens", 12)
	m.PutEmptyBytes("raw").Append(1, 2, 3)
	m.PutEmptySlice("list").AppendEmpty().SetDouble(0.5)
	allocs := testing.AllocsPerRun(100, func() {
		h.Map(m)
	})
	assert.Zero(t, allocs)
}

func TestAttributeValueTypesDiffer(t *testing.T) {
	h := NewHasher()
	values := []pcommon.Value{
		pcommon.NewValueEmpty(),
		pcommon.NewValueStr("1"),
		pcommon.NewValueStr(""),
		pcommon.NewValueInt(1),
		pcommon.NewValueInt(0),
		pcommon.NewValueDouble(1),
		pcommon.NewValueBool(true),
		pcommon.NewValueBool(false),
		pcommon.NewValueMap(),
		pcommon.NewValueSlice(),
		pcommon.NewValueBytes(),
	}
	seen := map[uint64]int{}
	for i, v := range values {
		hash := h.Attribute("k", v)
		if j, ok := seen[hash]; ok {
			t.Errorf("values %d and %d hash alike", j, i)
		}
		seen[hash] = i
	}
	assert.NotEqual(t, h.Attribute("k", pcommon.NewValueStr("v")), h.Attribute("j", pcommon.NewValueStr("v")))
}
