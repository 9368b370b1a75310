package dedup

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

const start = int64(1_700_000_000_000_000_000)

func ids(n uint64) (pcommon.TraceID, pcommon.SpanID) {
	var traceID pcommon.TraceID
	var spanID pcommon.SpanID
	binary.BigEndian.PutUint64(traceID[8:], n)
	traceID[0] = 1
	binary.BigEndian.PutUint64(spanID[:], n+1)
	return traceID, spanID
}

func TestSeenWithinWindow(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(7)

	assert.False(t, table.Seen(traceID, spanID, start))
	assert.True(t, table.Seen(traceID, spanID, start+int64(59*time.Second)))
	assert.Equal(t, 1, table.Len(start))
}

func TestSeenAfterWindow(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(7)

	require.False(t, table.Seen(traceID, spanID, start))
	assert.False(t, table.Seen(traceID, spanID, start+int64(time.Minute)))
	assert.True(t, table.Seen(traceID, spanID, start+int64(time.Minute)+1))
}

func TestSeenDuplicateDoesNotExtendWindow(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(7)

	require.False(t, table.Seen(traceID, spanID, start))
	require.True(t, table.Seen(traceID, spanID, start+int64(50*time.Second)))
	assert.False(t, table.Seen(traceID, spanID, start+int64(61*time.Second)))
}

func TestSeenZeroIDs(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(7)

	for range 3 {
		assert.False(t, table.Seen(pcommon.NewTraceIDEmpty(), spanID, start))
		assert.False(t, table.Seen(traceID, pcommon.NewSpanIDEmpty(), start))
		assert.False(t, table.Seen(pcommon.NewTraceIDEmpty(), pcommon.NewSpanIDEmpty(), start))
	}
	assert.Equal(t, 0, table.Len(start))
}

func TestSeenDifferentSpanSameTrace(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(7)
	_, otherSpanID := ids(8)

	require.False(t, table.Seen(traceID, spanID, start))
	assert.False(t, table.Seen(traceID, otherSpanID, start))
}

func TestSeenClockAtEpoch(t *testing.T) {
	table := New(8, time.Minute)
	traceID, spanID := ids(7)

	require.False(t, table.Seen(traceID, spanID, 0))
	assert.True(t, table.Seen(traceID, spanID, 0))
}

func TestCapacityBound(t *testing.T) {
	for _, maxSpans := range []int{1, 3, 4, 5, 10, 1000} {
		table := New(maxSpans, time.Hour)
		assert.Equal(t, maxSpans, table.Capacity())
		for i := range uint64(10 * maxSpans) {
			traceID, spanID := ids(i)
			table.Seen(traceID, spanID, start+int64(i))
		}
		assert.LessOrEqual(t, table.Len(start+int64(10*maxSpans)), maxSpans)
	}
}

func TestFullTableForgetsOldest(t *testing.T) {
	// One bucket: the fifth span replaces the first.
	table := New(Ways, time.Hour)
	for i := range uint64(Ways + 1) {
		traceID, spanID := ids(i)
		require.False(t, table.Seen(traceID, spanID, start+int64(i)))
	}
	assert.Equal(t, Ways, table.Len(start+Ways+1))
	assert.Equal(t, int64(1), table.Evicted())

	newest, newestSpan := ids(Ways)
	assert.True(t, table.Seen(newest, newestSpan, start+Ways+2))
	first, firstSpan := ids(0)
	assert.False(t, table.Seen(first, firstSpan, start+Ways+3))
}

func TestExpiredSlotsReusedFirst(t *testing.T) {
	table := New(Ways, time.Minute)
	old, oldSpan := ids(0)
	require.False(t, table.Seen(old, oldSpan, start))
	for i := uint64(1); i < Ways; i++ {
		traceID, spanID := ids(i)
		require.False(t, table.Seen(traceID, spanID, start+int64(2*time.Minute)))
	}

	// The expired slot of span 0 takes the new span, so spans 1..3 stay.
	fresh, freshSpan := ids(100)
	require.False(t, table.Seen(fresh, freshSpan, start+int64(2*time.Minute)))
	assert.Zero(t, table.Evicted())
	for i := uint64(1); i < Ways; i++ {
		traceID, spanID := ids(i)
		assert.True(t, table.Seen(traceID, spanID, start+int64(2*time.Minute)), "span %d", i)
	}
}

func TestLenCountsOnlyFresh(t *testing.T) {
	// Large enough that no bucket overflows, whatever the seed.
	table := New(10_000, time.Minute)
	for i := range uint64(10) {
		traceID, spanID := ids(i)
		table.Seen(traceID, spanID, start+int64(i)*int64(10*time.Second))
	}
	// Spans stored at 0 s, 10 s, ..., 90 s with a one-minute window.
	assert.Equal(t, 10, table.Len(start+int64(50*time.Second)))
	assert.Equal(t, 6, table.Len(start+int64(90*time.Second)))
	assert.Equal(t, 3, table.Len(start+int64(120*time.Second)))
	assert.Equal(t, 0, table.Len(start+int64(time.Hour)))
}

func TestOccupiedCountsFilledSlots(t *testing.T) {
	table := New(Ways, time.Minute)
	traceID, spanID := ids(0)
	require.False(t, table.Seen(traceID, spanID, start))
	require.True(t, table.Seen(traceID, spanID, start+1))
	require.False(t, table.Seen(pcommon.NewTraceIDEmpty(), spanID, start))
	assert.Equal(t, 1, table.Occupied())

	// Expired spans keep their slots, and reusing a slot does not count it
	// twice.
	for i := range uint64(2 * Ways) {
		traceID, spanID := ids(i + 1)
		require.False(t, table.Seen(traceID, spanID, start+int64(time.Hour)+int64(i)))
	}
	assert.Equal(t, Ways, table.Occupied())
	assert.Equal(t, Ways, table.Len(start+int64(time.Hour)+2*Ways))
	assert.Equal(t, 0, table.Len(start+int64(2*time.Hour)))
	assert.Equal(t, Ways, table.Occupied())
}

func TestFingerprintMatchesSeen(t *testing.T) {
	table := New(100, time.Minute)
	traceID, spanID := ids(3)
	fp, ok := table.Fingerprint(traceID, spanID)
	require.True(t, ok)
	table.PrefetchFingerprint(fp)
	require.False(t, table.SeenFingerprint(fp, start))
	assert.True(t, table.Seen(traceID, spanID, start+1))

	_, ok = table.Fingerprint(pcommon.NewTraceIDEmpty(), spanID)
	assert.False(t, ok)
	_, ok = table.Fingerprint(traceID, pcommon.NewSpanIDEmpty())
	assert.False(t, ok)
}

func TestSeenDoesNotAllocate(t *testing.T) {
	table := New(1000, time.Minute)
	var i uint64
	allocs := testing.AllocsPerRun(1000, func() {
		traceID, spanID := ids(i)
		table.Seen(traceID, spanID, start+int64(i))
		i++
	})
	assert.Zero(t, allocs)
}

func BenchmarkSeen(b *testing.B) {
	table := New(1_000_000, 5*time.Minute)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		traceID, spanID := ids(i)
		table.Seen(traceID, spanID, start+int64(i))
		i++
	}
}

func BenchmarkSeenSmall(b *testing.B) {
	table := New(4096, 5*time.Minute)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		traceID, spanID := ids(i)
		table.Seen(traceID, spanID, start+int64(i))
		i++
	}
}

// BenchmarkSeenBatch checks 1,000 new spans per operation in a full
// 1,000,000-slot table, with and without huge pages.
func BenchmarkSeenBatch(b *testing.B) {
	variants := []struct {
		name string
		huge bool
	}{
		{"hugepages", true},
		{"smallpages", false},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			hugePages = v.huge
			defer func() { hugePages = true }()
			table := New(1_000_000, time.Hour)

			var next uint64
			batch := func() {
				for range 1000 {
					traceID, spanID := ids(next)
					table.Seen(traceID, spanID, start+int64(next))
					next++
				}
			}
			for range 1200 {
				batch()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				batch()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/span")
		})
	}
}

// BenchmarkLen reads a full 1,000,000-slot table, as the fill gauge does.
func BenchmarkLen(b *testing.B) {
	table := New(1_000_000, time.Hour)
	for i := range uint64(1_000_000) {
		traceID, spanID := ids(i)
		table.Seen(traceID, spanID, start+int64(i))
	}
	var sink int
	for b.Loop() {
		sink += table.Len(start + 1_000_000)
	}
	lenSink = sink
}

var lenSink int
