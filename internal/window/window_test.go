package window

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const start = int64(1_700_000_000_000_000_000)

func at(d time.Duration) int64 {
	return start + int64(d)
}

func TestSpecResolution(t *testing.T) {
	assert.Equal(t, 30*time.Second, NewSpec(15*time.Minute).Resolution())
	assert.Equal(t, 2*time.Second, NewSpec(time.Minute).Resolution())
	assert.Equal(t, time.Duration(1), NewSpec(5).Resolution())
}

func TestCounterWithinWindow(t *testing.T) {
	spec := NewSpec(15 * time.Minute)
	var c Counter
	c.Add(spec, at(0), 1)
	c.Add(spec, at(time.Minute), 2)
	c.Add(spec, at(14*time.Minute), 3)

	assert.Equal(t, int64(6), c.Sum(spec, at(14*time.Minute)))
	assert.Equal(t, int64(6), c.Sum(spec, at(15*time.Minute)))
	assert.Equal(t, int64(5), c.Sum(spec, at(15*time.Minute+30*time.Second)))
	assert.Equal(t, int64(3), c.Sum(spec, at(16*time.Minute+30*time.Second)))
	assert.Equal(t, int64(0), c.Sum(spec, at(29*time.Minute+30*time.Second)))
}

func TestCounterKeepsAtLeastWindow(t *testing.T) {
	spec := NewSpec(15 * time.Minute)
	resolution := spec.Resolution()
	for offset := time.Duration(0); offset < resolution; offset += 7 * time.Second {
		var c Counter
		c.Add(spec, at(offset), 1)
		assert.Equal(t, int64(1), c.Sum(spec, at(offset+15*time.Minute)), "offset %s", offset)
		assert.Equal(t, int64(0), c.Sum(spec, at(offset+15*time.Minute+resolution)), "offset %s", offset)
	}
}

func TestCounterReusesBuckets(t *testing.T) {
	spec := NewSpec(time.Minute)
	var c Counter
	for i := range 1000 {
		c.Add(spec, at(time.Duration(i)*time.Second), 1)
	}
	// 2-second buckets, 31 in the ring: the last 62 seconds are counted.
	sum := c.Sum(spec, at(999*time.Second))
	assert.GreaterOrEqual(t, sum, int64(60))
	assert.LessOrEqual(t, sum, int64(62))
}

func TestCounterBeforeEpoch(t *testing.T) {
	spec := NewSpec(time.Minute)
	var c Counter
	c.Add(spec, -int64(50*time.Second), 1)
	c.Add(spec, -int64(time.Second), 1)
	assert.Equal(t, int64(2), c.Sum(spec, -int64(time.Second)))
	assert.Equal(t, int64(1), c.Sum(spec, int64(13*time.Second)))
}

func TestCounterReset(t *testing.T) {
	spec := NewSpec(time.Minute)
	var c Counter
	c.Add(spec, at(0), 4)
	c.Reset()
	assert.Equal(t, int64(0), c.Sum(spec, at(0)))
}

func TestMeanEmpty(t *testing.T) {
	var m Mean
	_, ok := m.Value(NewSpec(time.Minute), at(0))
	assert.False(t, ok)
}

func TestMeanWithinWindow(t *testing.T) {
	spec := NewSpec(15 * time.Minute)
	var m Mean
	m.Add(spec, at(0), 0.9)
	m.Add(spec, at(10*time.Second), 0.3)
	m.Add(spec, at(10*time.Minute), 0.1)

	v, ok := m.Value(spec, at(10*time.Minute))
	require.True(t, ok)
	assert.InDelta(t, 1.3/3, v, 1e-12)

	v, ok = m.Value(spec, at(16*time.Minute))
	require.True(t, ok)
	assert.InDelta(t, 0.1, v, 1e-12)

	_, ok = m.Value(spec, at(26*time.Minute))
	assert.False(t, ok)
}

func TestMeanReset(t *testing.T) {
	spec := NewSpec(time.Minute)
	var m Mean
	m.Add(spec, at(0), 1)
	m.Reset()
	_, ok := m.Value(spec, at(0))
	assert.False(t, ok)
}

func TestMeanZeroSamplesCount(t *testing.T) {
	spec := NewSpec(time.Minute)
	var m Mean
	m.Add(spec, at(0), 0)
	v, ok := m.Value(spec, at(0))
	require.True(t, ok)
	assert.Zero(t, v)
	assert.False(t, math.IsNaN(v))
}
