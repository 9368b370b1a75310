package admission

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type transition struct{ from, to breakerState }

// newTestBreaker returns a breaker of 3 failures and a 30s cooldown on a
// clock the test moves, and the transitions it reports.
func newTestBreaker() (*breaker, *time.Time, *[]transition) {
	now := testNow
	var transitions []transition
	b := &breaker{
		failures: 3,
		cooldown: 30 * time.Second,
		now:      func() time.Time { return now },
		onChange: func(from, to breakerState, _ int) { transitions = append(transitions, transition{from, to}) },
	}
	return b, &now, &transitions
}

func fail(t *testing.T, b *breaker, n int) {
	t.Helper()
	for range n {
		require.True(t, b.allow())
		b.record(false)
	}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	b, _, transitions := newTestBreaker()

	fail(t, b, 2)
	assert.Equal(t, breakerClosed, b.current())
	fail(t, b, 1)

	assert.Equal(t, breakerOpen, b.current())
	assert.False(t, b.allow())
	assert.Equal(t, []transition{{breakerClosed, breakerOpen}}, *transitions)
}

func TestBreakerSuccessResetsCount(t *testing.T) {
	b, _, _ := newTestBreaker()

	fail(t, b, 2)
	require.True(t, b.allow())
	b.record(true)
	fail(t, b, 2)

	assert.Equal(t, breakerClosed, b.current())
}

func TestBreakerStaysOpenDuringCooldown(t *testing.T) {
	b, now, _ := newTestBreaker()
	fail(t, b, 3)

	*now = now.Add(29 * time.Second)

	assert.False(t, b.allow())
	assert.Equal(t, breakerOpen, b.current())
}

func TestBreakerProbeSuccessCloses(t *testing.T) {
	b, now, transitions := newTestBreaker()
	fail(t, b, 3)
	*now = now.Add(30 * time.Second)

	require.True(t, b.allow(), "the first request after the cooldown probes")
	assert.False(t, b.allow(), "only one request probes at a time")
	b.record(true)

	assert.Equal(t, breakerClosed, b.current())
	assert.True(t, b.allow())
	assert.Equal(t, []transition{
		{breakerClosed, breakerOpen},
		{breakerOpen, breakerHalfOpen},
		{breakerHalfOpen, breakerClosed},
	}, *transitions)
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	b, now, transitions := newTestBreaker()
	fail(t, b, 3)
	*now = now.Add(time.Minute)

	require.True(t, b.allow())
	b.record(false)

	assert.Equal(t, breakerOpen, b.current())
	*now = now.Add(29 * time.Second)
	assert.False(t, b.allow(), "the cooldown restarts at the failed probe")
	*now = now.Add(time.Second)
	assert.True(t, b.allow())
	assert.Equal(t, []transition{
		{breakerClosed, breakerOpen},
		{breakerOpen, breakerHalfOpen},
		{breakerHalfOpen, breakerOpen},
		{breakerOpen, breakerHalfOpen},
	}, *transitions)
}
