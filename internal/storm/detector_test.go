package storm

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const start = int64(1_700_000_000_000_000_000)

func at(d time.Duration) int64 {
	return start + int64(d)
}

func TestObserveLimitPerInterval(t *testing.T) {
	d := New(time.Second, 3, DefaultCapacity)
	for i := range 3 {
		keep, suppressed := d.Observe(42, at(time.Duration(i)*time.Millisecond))
		require.True(t, keep, "span %d", i)
		assert.Zero(t, suppressed)
	}
	for i := range 5 {
		keep, _ := d.Observe(42, at(time.Duration(10+i)*time.Millisecond))
		assert.False(t, keep, "span %d", 3+i)
	}

	keep, suppressed := d.Observe(42, at(time.Second))
	require.True(t, keep)
	assert.Equal(t, int64(5), suppressed)

	keep, suppressed = d.Observe(42, at(time.Second+time.Millisecond))
	require.True(t, keep)
	assert.Zero(t, suppressed)
}

func TestObserveIntervalStartsAtFirstSpan(t *testing.T) {
	d := New(time.Second, 1, DefaultCapacity)
	keep, _ := d.Observe(1, at(500*time.Millisecond))
	require.True(t, keep)

	keep, _ = d.Observe(1, at(1400*time.Millisecond))
	assert.False(t, keep)
	keep, suppressed := d.Observe(1, at(1500*time.Millisecond))
	assert.True(t, keep)
	assert.Equal(t, int64(1), suppressed)
}

func TestObserveKeysIndependent(t *testing.T) {
	d := New(time.Second, 1, DefaultCapacity)
	keep, _ := d.Observe(1, at(0))
	require.True(t, keep)
	keep, _ = d.Observe(2, at(0))
	assert.True(t, keep)
	keep, _ = d.Observe(1, at(0))
	assert.False(t, keep)
}

func TestObserveClockStepsBack(t *testing.T) {
	d := New(time.Second, 1, DefaultCapacity)
	d.Observe(1, at(time.Hour))
	keep, _ := d.Observe(1, at(time.Hour))
	require.False(t, keep)

	keep, suppressed := d.Observe(1, at(0))
	assert.True(t, keep)
	assert.Equal(t, int64(1), suppressed)
}

func TestObserveClockAtEpoch(t *testing.T) {
	d := New(time.Second, 1, DefaultCapacity)
	keep, _ := d.Observe(1, 0)
	require.True(t, keep)
	keep, _ = d.Observe(1, 0)
	assert.False(t, keep)
}

func TestForgottenKeysCountedAsLost(t *testing.T) {
	d := New(time.Hour, 1, 64)

	// Fill far beyond capacity with keys that each drop one span, so every
	// replaced way had a count to report.
	const keys = 2 * 64
	for k := range uint64(keys) {
		d.Observe(k+1, at(time.Duration(k)))
		keep, _ := d.Observe(k+1, at(time.Duration(k)))
		require.False(t, keep)
	}

	var pending int64
	for i := range d.buckets {
		for w := range ways {
			pending += d.dropped(d.buckets[i].counts[w])
		}
	}
	assert.Equal(t, int64(keys), d.Lost()+pending)
	assert.Positive(t, d.Lost())
}

func TestExpiredKeysReplacedFirst(t *testing.T) {
	d := New(time.Second, 1, DefaultCapacity)
	// Find keys that share key 1's bucket.
	same := []uint64{1}
	for k := uint64(2); len(same) < ways+1; k++ {
		if d.bucketIndex(k) == d.bucketIndex(1) {
			same = append(same, k)
		}
	}

	// Key 1 drops a span, and the others pass once and expire.
	d.Observe(same[0], at(0))
	d.Observe(same[0], at(0))
	for _, k := range same[1:ways] {
		d.Observe(k, at(0))
	}

	// A new key replaces an expired way, not the one with drops to report.
	d.Observe(same[ways], at(2*time.Second))
	assert.Zero(t, d.Lost())
	keep, suppressed := d.Observe(same[0], at(2*time.Second))
	assert.True(t, keep)
	assert.Equal(t, int64(1), suppressed)
}

func TestFullCountReportedAsLost(t *testing.T) {
	d := New(time.Hour, 2, 64)
	d.Observe(9, at(0))
	b, i := d.find(9, at(0))
	b.counts[i] = 1<<32 - 1

	keep, _ := d.Observe(9, at(time.Second))
	require.False(t, keep)
	assert.Equal(t, int64(1<<32-1-2), d.Lost())

	keep, suppressed := d.Observe(9, at(2*time.Hour))
	require.True(t, keep)
	assert.Equal(t, int64(1), suppressed)
}

func TestBucketIsOneCacheLine(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(bucket{}))
}

func TestObserveDoesNotAllocate(t *testing.T) {
	d := New(time.Second, 20, DefaultCapacity)
	var i uint64
	allocs := testing.AllocsPerRun(1000, func() {
		d.Observe(i%50, at(time.Duration(i)*time.Millisecond))
		i++
	})
	assert.Zero(t, allocs)
}
