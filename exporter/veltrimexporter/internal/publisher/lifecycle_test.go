package publisher

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStartPublishesFromWorkers(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	require.NoError(t, f.publisher.Start(f.client))

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))

	require.Eventually(t, func() bool { return f.publisher.Pending() == 0 }, waitTimeout, time.Millisecond)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-state", "cold")
	require.NoError(t, f.publisher.Shutdown())
	assert.Error(t, f.publisher.Start(f.client), "a shut down publisher cannot start again")
}

func TestShutdownWithoutStart(t *testing.T) {
	f := newFixture(t, defaultSettings())
	require.NoError(t, f.publisher.Shutdown())
	require.NoError(t, f.publisher.Shutdown())
}

func TestStartTwiceFails(t *testing.T) {
	f := newFixture(t, defaultSettings())
	require.NoError(t, f.publisher.Start(f.client))
	assert.Error(t, f.publisher.Start(f.client))
}

func TestShutdownCancelsRetries(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	f.failPatches(1000, errNetworkDown)
	require.NoError(t, f.publisher.Start(f.client))

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))
	require.Eventually(t, func() bool {
		return f.sum("otelcol_exporter_veltrim_patches_failed", "failure_class", failureUnreachable) == 1
	}, waitTimeout, time.Millisecond)

	require.NoError(t, f.publisher.Shutdown())
	assert.Equal(t, 1, f.publisher.Pending())
}

func TestSweepRemovesIdlePods(t *testing.T) {
	idle := newPod("llm", "serve-0", "uid-0", nil)
	active := newPod("llm", "serve-1", "uid-1", nil)
	f := newFixture(t, defaultSettings(), idle, active)
	require.NoError(t, f.publisher.Start(f.client))
	ctx := context.Background()

	// Wait for the tickers of the sweep and of the workqueue, or the first
	// step is lost.
	require.Eventually(t, func() bool { return f.clock.Waiters() >= 2 }, waitTimeout, time.Millisecond)

	f.publisher.Offer(ctx, identity(idle), coldState(0.1, testStart))
	for i := range idleRefreshIntervals + 1 {
		f.publisher.Offer(ctx, identity(active), coldState(0.1, testStart.Add(time.Duration(i)*time.Minute)))
		f.clock.Step(defaultSettings().RefreshInterval)
	}

	require.Eventually(t, func() bool { return f.entries() == 1 }, waitTimeout, time.Millisecond)
	f.publisher.mu.Lock()
	_, activeKept := f.publisher.pods["uid-1"]
	f.publisher.mu.Unlock()
	assert.True(t, activeKept)
}

func (f *fixture) entries() int {
	f.publisher.mu.Lock()
	defer f.publisher.mu.Unlock()
	return len(f.publisher.pods)
}
