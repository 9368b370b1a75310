// Package dedup remembers recently seen spans by trace ID and span ID in a
// fixed-size table of fingerprints, so exact duplicates can be dropped with
// bounded memory and no allocation per span.
package dedup

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/veltrix/veltrim/internal/prefetch"
)

// Ways is the number of slots in one bucket. Four 16-byte slots fill one
// 64-byte cache line, so a lookup reads one line.
const Ways = 4

// hugePages turns on the huge page advice; benchmarks turn it off to
// compare.
var hugePages = true

// slot is one remembered span: 16 bytes.
type slot struct {
	// fingerprint is a seeded 64-bit hash of the trace ID and span ID.
	fingerprint uint64
	// seenAt is the Unix time in nanoseconds the span was first seen;
	// 0 marks an empty slot.
	seenAt int64
}

// Table is a set-associative table of span fingerprints. A span is a
// duplicate when its fingerprint is in its bucket and was stored less than
// the window ago. When a bucket is full the oldest slot is replaced, so the
// table never holds more than its capacity. Table is not safe for concurrent
// use.
type Table struct {
	slots   []slot
	buckets uint64
	window  int64
	seed    uint64
	// evicted counts spans replaced while still within the window.
	evicted int64
	// occupied counts slots that hold a span, expired or not. A slot is
	// never emptied, so it only grows, up to len(slots).
	occupied int
}

// New returns a table that remembers at most maxSpans spans for window.
// maxSpans must be positive.
func New(maxSpans int, window time.Duration) *Table {
	if maxSpans < 1 {
		maxSpans = 1
	}
	slots := make([]slot, maxSpans)
	if hugePages {
		adviseHugePages(slots)
	}
	return &Table{
		slots:   slots,
		buckets: uint64((maxSpans + Ways - 1) / Ways),
		window:  int64(window),
		seed:    rand.Uint64(),
	}
}

// Capacity returns the number of spans the table can remember.
func (t *Table) Capacity() int {
	return len(t.slots)
}

// Seen reports whether the span was already seen within the window, and
// remembers it otherwise. A span with an all-zero trace ID or span ID is
// never a duplicate and is not remembered, because such IDs are invalid
// and shared by unrelated spans.
func (t *Table) Seen(traceID pcommon.TraceID, spanID pcommon.SpanID, now int64) bool {
	fp, ok := t.Fingerprint(traceID, spanID)
	if !ok {
		return false
	}
	return t.SeenFingerprint(fp, now)
}

// Fingerprint returns the fingerprint of a span for PrefetchFingerprint and
// SeenFingerprint, so a caller that does both hashes the IDs once. ok is
// false when the trace ID or span ID is all zeros. Such a span is never a
// duplicate and must not be passed to SeenFingerprint.
func (t *Table) Fingerprint(traceID pcommon.TraceID, spanID pcommon.SpanID) (fp uint64, ok bool) {
	if traceID.IsEmpty() || spanID.IsEmpty() {
		return 0, false
	}
	return t.fingerprint(traceID, spanID), true
}

// SeenFingerprint is Seen for a fingerprint returned by Fingerprint.
func (t *Table) SeenFingerprint(fp uint64, now int64) bool {
	bucket := t.bucket(fp)

	// The new span goes to the first empty or expired slot, else replaces
	// the slot stored earliest.
	free, oldest := -1, 0
	for i := range bucket {
		s := &bucket[i]
		if !t.live(s, now) {
			if free < 0 {
				free = i
			}
			continue
		}
		if s.fingerprint == fp {
			return true
		}
		if s.seenAt < bucket[oldest].seenAt {
			oldest = i
		}
	}
	if free < 0 {
		free = oldest
		t.evicted++
	}
	if bucket[free].seenAt == 0 {
		t.occupied++
	}

	// A seenAt of 0 marks an empty slot, so a clock at the Unix epoch
	// stores 1 ns instead.
	bucket[free] = slot{fingerprint: fp, seenAt: max(now, 1)}
	return false
}

// live reports whether s holds a span stored within the window. A seenAt
// after now, left by a clock that stepped back, counts as live.
func (t *Table) live(s *slot, now int64) bool {
	return s.seenAt != 0 && now-s.seenAt < t.window
}

// bucket returns the slots for fp. The bucket index comes from the high
// bits of fp scaled to the bucket count, so any capacity works without
// rounding to a power of two. The last bucket may have fewer than Ways slots.
func (t *Table) bucket(fp uint64) []slot {
	index, _ := bits.Mul64(fp, t.buckets)
	start := int(index) * Ways
	end := min(start+Ways, len(t.slots))
	return t.slots[start:end]
}

// Evicted returns the number of spans forgotten before their window ended
// because their bucket was full. A duplicate of such a span is not caught;
// a growing count means max spans is too small for the span rate.
func (t *Table) Evicted() int64 {
	return t.evicted
}

// Prefetch starts loading the bucket of a span into the CPU cache and
// returns without waiting. Calling Prefetch for a run of spans before
// calling Seen for each lets the table reads overlap with each other and
// with the work done between them.
func (t *Table) Prefetch(traceID pcommon.TraceID, spanID pcommon.SpanID) {
	t.PrefetchFingerprint(t.fingerprint(traceID, spanID))
}

// PrefetchFingerprint is Prefetch for a fingerprint returned by Fingerprint.
func (t *Table) PrefetchFingerprint(fp uint64) {
	bucket := t.bucket(fp)
	prefetch.Line(unsafe.Pointer(&bucket[0]))
}

// Occupied returns the number of slots that hold a span, including spans
// older than the window that no new span has replaced yet. Slots are never
// emptied, so once traffic has filled every bucket it equals Capacity. It
// costs O(1), unlike Len.
func (t *Table) Occupied() int {
	return t.occupied
}

// Len returns the number of spans remembered within the window at now. It
// reads the whole table, about 5 ms for 1,000,000 slots (BenchmarkLen on a
// shared 2-core VM), so call it in tests, not per span or per telemetry
// collection.
func (t *Table) Len(now int64) int {
	n := 0
	for i := range t.slots {
		if t.live(&t.slots[i], now) {
			n++
		}
	}
	return n
}

// fingerprint hashes the 24 bytes of the IDs with a per-table seed, so
// crafted IDs cannot aim at one bucket across collector restarts.
func (t *Table) fingerprint(traceID pcommon.TraceID, spanID pcommon.SpanID) uint64 {
	a := binary.LittleEndian.Uint64(traceID[:8])
	b := binary.LittleEndian.Uint64(traceID[8:])
	c := binary.LittleEndian.Uint64(spanID[:])
	return mix(mix(mix(t.seed^a)^b) ^ c)
}

// mix is the 64-bit finalizer of MurmurHash3. It is a bijection, so two
// inputs that differ only in the last word never collide.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
