package storm

import (
	"math"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Hasher computes storm keys. Attribute sets hash to the same value in any
// order, because a storm of identical spans may list attributes in
// different orders. The seed is random per Hasher, so keys are not stable
// across processes and must not be stored.
type Hasher struct {
	seed uint64
}

// NewHasher returns a hasher with a random seed.
func NewHasher() Hasher {
	return Hasher{seed: rand.Uint64()}
}

// Tags keep values of different types apart, so the string "1" and the
// integer 1 hash differently.
const (
	tagEmpty uint64 = iota + 1
	tagStr
	tagInt
	tagDouble
	tagBool
	tagMap
	tagSlice
	tagBytes
	tagPod
	tagPodName
	tagService
	tagSpan
)

const prime = 0x9e3779b97f4a7c15

// String returns the hash of s.
func (h Hasher) String(s string) uint64 {
	return hashString(h.seed, s)
}

// Pod returns the origin hash of spans from one pod, identified by its UID
// or, when the UID is empty, by namespace and name.
func (h Hasher) Pod(uid, namespace, name string) uint64 {
	if uid != "" {
		return combine(tagPod, h.String(uid))
	}
	return combine(combine(tagPodName, h.String(namespace)), h.String(name))
}

// Service returns the origin hash of spans without a pod identity, keyed
// by their service.name.
func (h Hasher) Service(serviceName string) uint64 {
	return combine(tagService, h.String(serviceName))
}

// Attribute returns the hash of one key and value. Sum the hashes of a
// set's attributes to hash the set. The key's hash seeds the hash of a
// string, int or bool value, which saves one combine step per attribute.
// The value's type tag keeps the types apart.
func (h Hasher) Attribute(key string, v pcommon.Value) uint64 {
	k := hashString(h.seed, key)
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return hashString(k^tagStr, v.Str())
	case pcommon.ValueTypeInt:
		return combine(k^tagInt, uint64(v.Int()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return combine(k^tagBool, 1)
		}
		return combine(k^tagBool, 0)
	default:
		return combine(k, h.Value(v))
	}
}

// Map returns the order-independent hash of m.
func (h Hasher) Map(m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += h.Attribute(k, v)
	}
	return combine(tagMap, sum)
}

// Value returns the hash of v, including its type.
func (h Hasher) Value(v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return combine(tagStr, h.String(v.Str()))
	case pcommon.ValueTypeInt:
		return combine(tagInt, uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		return combine(tagDouble, math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return combine(tagBool, 1)
		}
		return combine(tagBool, 0)
	case pcommon.ValueTypeMap:
		return h.Map(v.Map())
	case pcommon.ValueTypeSlice:
		return h.slice(v.Slice())
	case pcommon.ValueTypeBytes:
		return h.bytes(v.Bytes())
	default:
		return tagEmpty
	}
}

func (h Hasher) slice(s pcommon.Slice) uint64 {
	sum := tagSlice
	for _, v := range s.All() {
		sum = combine(sum, h.Value(v))
	}
	return sum
}

// bytes hashes a byte slice one byte at a time, because pcommon.ByteSlice
// has no accessor that avoids a copy. Byte attributes are rare.
func (h Hasher) bytes(b pcommon.ByteSlice) uint64 {
	sum := combine(tagBytes, uint64(b.Len()))
	for _, c := range b.All() {
		sum = combine(sum, uint64(c))
	}
	return sum
}

// Span returns the storm key of a span from its origin (Pod or Service),
// the hashes of its name and status message, its kind and status code, and
// the sum of its attribute hashes.
func Span(origin, name uint64, kind, statusCode int32, statusMessage, attributes uint64) uint64 {
	k := combine(tagSpan, origin)
	k = combine(k, name)
	k = combine(k, uint64(uint32(kind))<<32|uint64(uint32(statusCode)))
	k = combine(k, statusMessage)
	return combine(k, attributes)
}

// combine mixes b into a, so a change in either changes the result.
func combine(a, b uint64) uint64 {
	x := a*prime + b
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x
}
