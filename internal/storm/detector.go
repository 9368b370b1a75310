// Package storm collapses storms of identical spans: per key, the first
// spans of each interval pass, the rest are dropped, and their number is
// handed to the next span of that key that passes.
package storm

import (
	"math/bits"
	"time"
	"unsafe"

	"github.com/veltrix/veltrim/internal/prefetch"
)

// DefaultCapacity is the number of storm keys the processor's detector
// remembers, in 1.4 MB. Beyond it the least useful key of a bucket is
// forgotten, so a storm spread over more distinct spans is partly let
// through, never wrongly dropped.
const DefaultCapacity = 1 << 16

// ways is the number of keys per bucket. Three fill one 64-byte cache line,
// so a lookup reads one line.
const ways = 3

// bucket holds the counts of three keys in their current intervals. The
// number of spans dropped in an interval is count - maxPerInterval, so it
// needs no field of its own: the interval's drops end with the interval,
// and the first span of the next interval is kept and carries them.
type bucket struct {
	keys [ways]uint64
	// starts are the beginnings of the keys' current intervals in Unix
	// nanoseconds. A start of 0 marks an empty way.
	starts [ways]int64
	// counts are the spans seen in the current intervals.
	counts [ways]uint32
	_      [4]byte
}

// Detector counts spans per key in fixed intervals that start at the first
// span of a key. It is not safe for concurrent use.
type Detector struct {
	buckets        []bucket
	interval       int64
	maxPerInterval uint32
	// lost is the number of dropped spans whose count was forgotten with
	// its key before a kept span could carry it.
	lost int64
}

// New returns a detector that lets maxPerInterval spans of a key pass per
// interval and remembers at least capacity keys. maxPerInterval must be at
// least 1.
func New(interval time.Duration, maxPerInterval, capacity int) *Detector {
	return &Detector{
		buckets:        make([]bucket, max((capacity+ways-1)/ways, 1)),
		interval:       int64(interval),
		maxPerInterval: uint32(min(max(maxPerInterval, 1), 1<<30)),
	}
}

// Observe counts one span of key at now, in Unix nanoseconds. It returns
// keep false when the span is beyond the interval's limit and must be
// dropped. When keep is true, suppressed is the number of spans of key
// dropped since the previous kept one, for the kept span to carry.
func (d *Detector) Observe(key uint64, now int64) (keep bool, suppressed int64) {
	// A start of 0 marks an empty way, so a clock at the Unix epoch reads
	// as 1 ns.
	now = max(now, 1)
	b, i := d.find(key, now)

	if b.starts[i] == 0 || now-b.starts[i] >= d.interval || now < b.starts[i] {
		suppressed = d.dropped(b.counts[i])
		b.starts[i] = now
		b.counts[i] = 0
	}
	if b.counts[i] < d.maxPerInterval {
		b.counts[i]++
		return true, suppressed
	}
	if b.counts[i] == 1<<32-1 {
		// The count is full, so the drops so far are reported as lost
		// rather than wrapped around.
		d.lost += d.dropped(b.counts[i])
		b.counts[i] = d.maxPerInterval
	}
	b.counts[i]++
	return false, 0
}

// Prefetch starts loading the bucket of key into the CPU cache and returns
// without waiting, so a later Observe of key finds it there.
func (d *Detector) Prefetch(key uint64) {
	prefetch.Line(unsafe.Pointer(&d.buckets[d.bucketIndex(key)]))
}

// Lost returns the number of dropped spans whose count was forgotten
// before a kept span of the same key could carry it.
func (d *Detector) Lost() int64 {
	return d.lost
}

func (d *Detector) dropped(count uint32) int64 {
	if count <= d.maxPerInterval {
		return 0
	}
	return int64(count - d.maxPerInterval)
}

// find returns the bucket and way of key, taking over the least useful way
// of its bucket when key is new. A new key's way has start 0.
func (d *Detector) find(key uint64, now int64) (*bucket, int) {
	b := &d.buckets[d.bucketIndex(key)]
	for i := range ways {
		if b.keys[i] == key && b.starts[i] != 0 {
			return b, i
		}
	}

	victim := 0
	for i := 1; i < ways; i++ {
		if d.worse(b, i, victim, now) {
			victim = i
		}
	}
	d.lost += d.dropped(b.counts[victim])
	b.keys[victim] = key
	b.starts[victim] = 0
	b.counts[victim] = 0
	return b, victim
}

func (d *Detector) bucketIndex(key uint64) uint64 {
	index, _ := bits.Mul64(mix(key), uint64(len(d.buckets)))
	return index
}

// worse reports whether way i is a better way to replace than way j: empty
// ways first, then ways with no drops to report whose interval has ended,
// then the one whose interval started earliest.
func (d *Detector) worse(b *bucket, i, j int, now int64) bool {
	ri, rj := d.rank(b, i, now), d.rank(b, j, now)
	if ri != rj {
		return ri < rj
	}
	return b.starts[i] < b.starts[j]
}

func (d *Detector) rank(b *bucket, i int, now int64) int {
	switch {
	case b.starts[i] == 0:
		return 0
	case b.counts[i] <= d.maxPerInterval && now-b.starts[i] >= d.interval:
		return 1
	default:
		return 2
	}
}

// mix spreads the key over the buckets even when its low bits are weak.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}
