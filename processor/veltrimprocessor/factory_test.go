package veltrimprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestFactoryType(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "veltrim", f.Type().String())
	assert.Equal(t, stability, f.TracesStability())
	assert.Equal(t, stability, f.MetricsStability())
	assert.NoError(t, componenttest.CheckConfigStruct(f.CreateDefaultConfig()))
}

func TestDefaultConfigValues(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.True(t, cfg.Dedup.Enabled)
	assert.Equal(t, 5*time.Minute, cfg.Dedup.Window)
	assert.Equal(t, 1_000_000, cfg.Dedup.MaxSpans)
	assert.True(t, cfg.Storm.Enabled)
	assert.Equal(t, time.Second, cfg.Storm.Interval)
	assert.Equal(t, 20, cfg.Storm.MaxPerInterval)
	assert.Equal(t, "llm-cache-miss", cfg.CacheMiss.Attribute)
	assert.Equal(t, 15*time.Minute, cfg.CacheMiss.Window)
	assert.Equal(t, "k8s.pod.cpu_request_utilization", cfg.CPU.Metric)
	assert.Equal(t, 15*time.Minute, cfg.CPU.Window)
	assert.Equal(t, 10_000, cfg.MaxPods)
	assert.True(t, cfg.Stamp.Traces)
	assert.False(t, cfg.Stamp.Metrics)
}

func TestCapabilities(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	set := processortest.NewNopSettings(componentType)

	traces, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	metrics, err := f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, traces.Capabilities().MutatesData)
	assert.False(t, metrics.Capabilities().MutatesData)
	require.NoError(t, traces.Shutdown(context.Background()))
	require.NoError(t, metrics.Shutdown(context.Background()))

	cfg.Stamp.Metrics = true
	metrics, err = f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, metrics.Capabilities().MutatesData)
	require.NoError(t, metrics.Shutdown(context.Background()))
}

func TestOneInstancePerComponentID(t *testing.T) {
	inner := newSharedFactory(newFakeClock().Now)
	f := inner.processorFactory()
	cfg := f.CreateDefaultConfig()

	first := processortest.NewNopSettings(componentType)
	first.ID = componentID("a")
	second := processortest.NewNopSettings(componentType)
	second.ID = componentID("b")

	tracesA, err := f.CreateTraces(context.Background(), first, cfg, consumertest.NewNop())
	require.NoError(t, err)
	metricsA, err := f.CreateMetrics(context.Background(), first, cfg, consumertest.NewNop())
	require.NoError(t, err)
	tracesB, err := f.CreateTraces(context.Background(), second, cfg, consumertest.NewNop())
	require.NoError(t, err)

	require.Len(t, inner.instances, 2)
	assert.Equal(t, 2, inner.instances[first.ID].refs)
	assert.Equal(t, 1, inner.instances[second.ID].refs)

	require.NoError(t, tracesA.Shutdown(context.Background()))
	require.NoError(t, tracesA.Shutdown(context.Background()))
	assert.Equal(t, 1, inner.instances[first.ID].refs)
	require.NoError(t, metricsA.Shutdown(context.Background()))
	require.NoError(t, tracesB.Shutdown(context.Background()))
	assert.Empty(t, inner.instances)
}

func TestRecreatedInstanceStartsEmpty(t *testing.T) {
	clock := newFakeClock()
	f := newFactory(clock.Now)
	cfg := f.CreateDefaultConfig()
	set := processortest.NewNopSettings(componentType)

	sink := new(consumertest.TracesSink)
	traces, err := f.CreateTraces(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, traces.ConsumeTraces(context.Background(),
		newTraces(t, podResource("pod-a"), spanSpec{id: 1, attrs: map[string]any{"llm-cache-miss": true}})))
	require.NoError(t, traces.Shutdown(context.Background()))

	traces, err = f.CreateTraces(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, traces.ConsumeTraces(context.Background(),
		newTraces(t, podResource("pod-a"), spanSpec{id: 1})))
	require.NoError(t, traces.Shutdown(context.Background()))

	all := sink.AllTraces()
	require.Len(t, all, 2)
	state, ok := podstate.StateFromResource(all[1].ResourceSpans().At(0).Resource().Attributes())
	require.True(t, ok)
	assert.Zero(t, state.CacheMisses)
}

func TestShutdownVerifier(t *testing.T) {
	// The verifier sends one generated span ten times and expects all ten,
	// so both drops are off.
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Dedup.Enabled = false
	cfg.Storm.Enabled = false
	processortest.VerifyShutdown(t, f, cfg)
}
