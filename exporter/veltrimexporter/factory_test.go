package veltrimexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pipeline"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/veltrix/veltrim/internal/kubeclient"
	"github.com/veltrix/veltrim/internal/podstate"
)

func TestNewFactory(t *testing.T) {
	f := NewFactory()

	assert.Equal(t, "veltrim", f.Type().String())
	assert.Equal(t, component.StabilityLevelAlpha, f.TracesStability())
	assert.Equal(t, component.StabilityLevelAlpha, f.MetricsStability())
	_, err := f.CreateLogs(context.Background(), settingsFor(component.NewID(typeStr)), f.CreateDefaultConfig())
	assert.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
}

func TestStartFailsOutsideClusterWithServiceAccount(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	f := NewFactory()

	exp, err := f.CreateTraces(context.Background(), settingsFor(component.NewIDWithName(typeStr, "nocluster")), f.CreateDefaultConfig())
	require.NoError(t, err)
	shutdownOnCleanup(t, exp)

	err = exp.Start(context.Background(), componenttest.NewNopHost())
	assert.ErrorContains(t, err, "serviceAccount")
}

func TestPipelinesShareOneExporterPerID(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "llm", Name: "serve-0", UID: "uid-0"}}
	client := fake.NewClientset(pod)
	f, recorder := testFactory(client)
	cfg := f.CreateDefaultConfig()
	id := component.NewIDWithName(typeStr, "shared")
	ctx := context.Background()
	host := componenttest.NewNopHost()

	traces, err := f.CreateTraces(ctx, settingsFor(id), cfg)
	require.NoError(t, err)
	metrics, err := f.CreateMetrics(ctx, settingsFor(id), cfg)
	require.NoError(t, err)
	require.NoError(t, traces.Start(ctx, host))
	require.NoError(t, metrics.Start(ctx, host))
	assert.Equal(t, 1, recorder.calls(), "one client for both pipelines")
	assert.Equal(t, kubeclient.Options{
		AuthType:  kubeclient.AuthTypeServiceAccount,
		QPS:       defaultQPS,
		Burst:     defaultBurst,
		UserAgent: userAgent,
	}, recorder.options[0])

	exporters.mu.Lock()
	shared := exporters.byID[id]
	exporters.mu.Unlock()
	require.NotNil(t, shared)
	assert.Equal(t, 2, shared.users)

	// The first pipeline's shutdown leaves the exporter running for the other.
	require.NoError(t, traces.Shutdown(ctx))
	require.NoError(t, traces.Shutdown(ctx), "a second shutdown releases nothing more")
	assert.Equal(t, 1, shared.users)
	observed := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	state := podstate.State{CacheState: podstate.CacheStateCold, ObservedAt: observed}
	require.NoError(t, metrics.ConsumeMetrics(ctx, stampedMetrics(podResource{"uid-0", "llm", "serve-0"}, state)))
	waitForAnnotation(t, podAnnotations(client, "llm", "serve-0"), "veltrim.io/cache-state", "cold")

	require.NoError(t, metrics.Shutdown(ctx))
	exporters.mu.Lock()
	_, stillShared := exporters.byID[id]
	exporters.mu.Unlock()
	assert.False(t, stillShared, "the last shutdown removes the shared exporter")
}

func TestDistinctIDsGetDistinctExporters(t *testing.T) {
	f, recorder := testFactory(fake.NewClientset())
	cfg := f.CreateDefaultConfig()
	ctx := context.Background()
	host := componenttest.NewNopHost()

	first, err := f.CreateTraces(ctx, settingsFor(component.NewIDWithName(typeStr, "a")), cfg)
	require.NoError(t, err)
	shutdownOnCleanup(t, first)
	second, err := f.CreateTraces(ctx, settingsFor(component.NewIDWithName(typeStr, "b")), cfg)
	require.NoError(t, err)
	shutdownOnCleanup(t, second)

	require.NoError(t, first.Start(ctx, host))
	require.NoError(t, second.Start(ctx, host))
	assert.Equal(t, 2, recorder.calls())
}

func TestShutdownWithoutStart(t *testing.T) {
	f, recorder := testFactory(fake.NewClientset())
	exp, err := f.CreateMetrics(context.Background(), settingsFor(component.NewIDWithName(typeStr, "unstarted")), f.CreateDefaultConfig())
	require.NoError(t, err)

	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, 0, recorder.calls())
}

func podAnnotations(client *fake.Clientset, namespace, name string) func() (map[string]string, error) {
	return func() (map[string]string, error) {
		pod, err := client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return pod.Annotations, nil
	}
}
