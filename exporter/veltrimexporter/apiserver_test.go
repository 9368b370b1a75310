package veltrimexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/kubeclient"
	"github.com/veltrix/veltrim/internal/podstate"
)

// apiserverExporter is an exporter built by NewFactory against a real
// kube-apiserver, with in-memory telemetry to read its internal metrics.
type apiserverExporter struct {
	t         *testing.T
	id        component.ID
	traces    exporter.Traces
	metrics   exporter.Metrics
	telemetry *componenttest.Telemetry
}

// startAPIServerExporter builds the exporter the way a user configures it:
// auth_type kubeConfig with the cluster's kubeconfig file.
func startAPIServerExporter(t *testing.T, cluster *k8stest.Cluster, name string) *apiserverExporter {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.AuthType = kubeclient.AuthTypeKubeConfig
	cfg.KubeConfigPath = cluster.KubeconfigPath()
	cfg.QPS = 50
	cfg.Burst = 100
	require.NoError(t, cfg.Validate())

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	id := component.NewIDWithName(typeStr, name)
	set := settingsFor(id)
	set.TelemetrySettings = tel.NewTelemetrySettings()

	f := NewFactory()
	ctx := context.Background()
	traces, err := f.CreateTraces(ctx, set, cfg)
	require.NoError(t, err)
	shutdownOnCleanup(t, traces)
	metrics, err := f.CreateMetrics(ctx, set, cfg)
	require.NoError(t, err)
	shutdownOnCleanup(t, metrics)
	require.NoError(t, traces.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, metrics.Start(ctx, componenttest.NewNopHost()))

	return &apiserverExporter{t: t, id: id, traces: traces, metrics: metrics, telemetry: tel}
}

// pending returns how many pods wait for a patch in the shared exporter.
func (e *apiserverExporter) pending() int {
	exporters.mu.Lock()
	defer exporters.mu.Unlock()
	return exporters.byID[e.id].exporter.publisher.Pending()
}

func (e *apiserverExporter) waitIdle() {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return e.pending() == 0 }, waitTimeout, 5*time.Millisecond,
		"pods still wait for a patch")
}

// counter returns the sum of the points of an internal counter whose
// attribute key has value; an empty key sums every point.
func (e *apiserverExporter) counter(name, key, value string) int64 {
	e.t.Helper()
	m, err := e.telemetry.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(e.t, ok, "%s is not an int64 sum", name)
	var total int64
	for _, point := range sum.DataPoints {
		if v, ok := point.Attributes.Value(attribute.Key(key)); key == "" || (ok && v.AsString() == value) {
			total += point.Value
		}
	}
	return total
}

func createPod(t *testing.T, client kubernetes.Interface, namespace, name string, annotations map[string]string) *corev1.Pod {
	t.Helper()
	pod, err := client.CoreV1().Pods(namespace).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations, Labels: map[string]string{"app": "serve"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "model", Image: "registry.invalid/llm:1"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return pod
}

func getAnnotations(client kubernetes.Interface, namespace, name string) func() (map[string]string, error) {
	return func() (map[string]string, error) {
		pod, err := client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return pod.Annotations, nil
	}
}

func resourceOf(pod *corev1.Pod) podResource {
	return podResource{uid: string(pod.UID), namespace: pod.Namespace, name: pod.Name}
}

func startCluster(t *testing.T) *k8stest.Cluster {
	t.Helper()
	return k8stest.StartT(t, k8stest.Options{})
}

func TestAPIServerPublishing(t *testing.T) {
	cluster := startCluster(t)
	client := cluster.Client()

	t.Run("annotations from traces and metrics", func(t *testing.T) {
		testAPIServerAnnotations(t, cluster, client)
	})
	t.Run("uid precondition protects a recreated pod", func(t *testing.T) {
		testAPIServerRecreatedPod(t, cluster, client)
	})
	t.Run("write amplification in steady state", func(t *testing.T) {
		testAPIServerWriteAmplification(t, cluster, client)
	})
}

func testAPIServerAnnotations(t *testing.T, cluster *k8stest.Cluster, client kubernetes.Interface) {
	ctx := context.Background()
	_, err := k8stest.CreateNamespace(ctx, client, "annotations")
	require.NoError(t, err)
	warmPod := createPod(t, client, "annotations", "serve-0", map[string]string{"team": "inference"})
	busyPod := createPod(t, client, "annotations", "serve-1", nil)
	idlePod := createPod(t, client, "annotations", "serve-2", nil)
	exp := startAPIServerExporter(t, cluster, "annotations")

	now := time.Now().UTC().Truncate(time.Second)
	warm := podstate.State{CacheState: podstate.CacheStateWarm, CacheMisses: 3, LastCacheMiss: now.Add(-2 * time.Minute), CPURequestUtilization: 0.1, HasCPU: true, ObservedAt: now}
	busy := podstate.State{CacheState: podstate.CacheStateCold, CPURequestUtilization: 0.72, HasCPU: true, ObservedAt: now}
	idle := podstate.State{CacheState: podstate.CacheStateCold, CPURequestUtilization: 0.04, HasCPU: true, ObservedAt: now}
	require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(warmPod), warm)))
	require.NoError(t, exp.metrics.ConsumeMetrics(ctx, stampedMetrics(resourceOf(busyPod), busy)))
	require.NoError(t, exp.metrics.ConsumeMetrics(ctx, stampedMetrics(resourceOf(idlePod), idle)))
	exp.waitIdle()

	got, err := getAnnotations(client, "annotations", "serve-0")()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"team":                               "inference",
		"veltrim.io/cache-state":             "warm",
		"veltrim.io/cache-misses":            "3",
		"veltrim.io/last-cache-miss":         now.Add(-2 * time.Minute).Format(time.RFC3339),
		"veltrim.io/cpu-request-utilization": "0.1",
		"veltrim.io/observed-at":             now.Format(time.RFC3339),
		podstate.DeletionCostAnnotation:      "10000",
	}, got)
	waitForAnnotation(t, getAnnotations(client, "annotations", "serve-1"), podstate.DeletionCostAnnotation, "1000")
	waitForAnnotation(t, getAnnotations(client, "annotations", "serve-1"), "veltrim.io/cpu-request-utilization", "0.72")
	waitForAnnotation(t, getAnnotations(client, "annotations", "serve-2"), podstate.DeletionCostAnnotation, "-1000")

	// Someone else annotates the pod, then the cache turns cold: the next
	// patch changes only veltrim's keys.
	_, err = client.CoreV1().Pods("annotations").Patch(ctx, "serve-0", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"owner.example.com/note":"keep me"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	cold := podstate.State{CacheState: podstate.CacheStateCold, CPURequestUtilization: 0.1, HasCPU: true, ObservedAt: now.Add(time.Minute)}
	require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(warmPod), cold)))
	exp.waitIdle()

	got, err = getAnnotations(client, "annotations", "serve-0")()
	require.NoError(t, err)
	assert.Equal(t, "keep me", got["owner.example.com/note"])
	assert.Equal(t, "inference", got["team"])
	assert.Equal(t, "cold", got["veltrim.io/cache-state"])
	assert.Equal(t, "0", got["veltrim.io/cache-misses"])
	assert.NotContains(t, got, "veltrim.io/last-cache-miss")
	assert.Equal(t, "-1000", got[podstate.DeletionCostAnnotation])
}

func testAPIServerRecreatedPod(t *testing.T, cluster *k8stest.Cluster, client kubernetes.Interface) {
	ctx := context.Background()
	_, err := k8stest.CreateNamespace(ctx, client, "recreated")
	require.NoError(t, err)
	old := createPod(t, client, "recreated", "serve-0", nil)
	exp := startAPIServerExporter(t, cluster, "recreated")

	// The pod is deleted and a new one takes its name, as a StatefulSet does.
	require.NoError(t, client.CoreV1().Pods("recreated").Delete(ctx, "serve-0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Pods("recreated").Get(ctx, "serve-0", metav1.GetOptions{})
		return err != nil
	}, waitTimeout, 10*time.Millisecond)
	current := createPod(t, client, "recreated", "serve-0", map[string]string{"team": "inference"})
	require.NotEqual(t, old.UID, current.UID)

	// Telemetry of the old pod arrives late.
	now := time.Now().UTC()
	stale := podstate.State{CacheState: podstate.CacheStateWarm, CacheMisses: 9, ObservedAt: now}
	require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(old), stale)))
	exp.waitIdle()

	got, err := getAnnotations(client, "recreated", "serve-0")()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "inference"}, got, "the new pod must not get the old pod's state")
	assert.Equal(t, int64(1), exp.counter("otelcol_exporter_veltrim_pods_gone", "reason", "uid_mismatch"))
	assert.Equal(t, int64(0), exp.counter("otelcol_exporter_veltrim_patches_failed", "", ""))

	// A deleted pod without a replacement is gone too.
	require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(podResource{"uid-missing", "recreated", "serve-9"}, stale)))
	exp.waitIdle()
	assert.Equal(t, int64(1), exp.counter("otelcol_exporter_veltrim_pods_gone", "reason", "not_found"))

	// The new pod's own telemetry is published.
	fresh := podstate.State{CacheState: podstate.CacheStateCold, ObservedAt: now}
	require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(current), fresh)))
	waitForAnnotation(t, getAnnotations(client, "recreated", "serve-0"), "veltrim.io/cache-state", "cold")
}

// steadyBatches is how many batches the write-amplification test sends for
// one pod. Each is one simulated second after the previous one.
const steadyBatches = 1000

// maxSteadyPatches bounds the patches for steadyBatches in steady state: the
// first publish, plus one observed-at refresh per five-minute refresh
// interval, at 300 s, 600 s and 900 s.
const maxSteadyPatches = 4

func testAPIServerWriteAmplification(t *testing.T, cluster *k8stest.Cluster, client kubernetes.Interface) {
	ctx := context.Background()
	_, err := k8stest.CreateNamespace(ctx, client, "steady")
	require.NoError(t, err)
	pod := createPod(t, client, "steady", "serve-0", nil)
	exp := startAPIServerExporter(t, cluster, "steady")

	// The pod is cold and its CPU wanders within the change threshold. The
	// test waits for the queue after each batch, so coalescing does not hide
	// a patch the change rules would send.
	start := time.Now().UTC()
	for i := range steadyBatches {
		state := podstate.State{
			CacheState:            podstate.CacheStateCold,
			CPURequestUtilization: 0.20 + 0.02*float64(i%3-1),
			HasCPU:                true,
			ObservedAt:            start.Add(time.Duration(i) * time.Second),
		}
		if i%2 == 0 {
			require.NoError(t, exp.metrics.ConsumeMetrics(ctx, stampedMetrics(resourceOf(pod), state)))
		} else {
			require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(pod), state)))
		}
		exp.waitIdle()
	}

	sent := exp.counter("otelcol_exporter_veltrim_patches_sent", "", "")
	skipped := exp.counter("otelcol_exporter_veltrim_patches_skipped", "reason", "unchanged")
	t.Logf("write amplification: %d batches in steady state led to %d patches (%d skipped as unchanged)", steadyBatches, sent, skipped)
	assert.LessOrEqual(t, sent, int64(maxSteadyPatches))
	assert.GreaterOrEqual(t, sent, int64(1))
	assert.Equal(t, int64(steadyBatches)-sent, skipped)

	// Refreshes went out at 300 s, 600 s and 900 s.
	lastRefresh := start.Add(900 * time.Second).Truncate(time.Second)
	got, err := getAnnotations(client, "steady", "serve-0")()
	require.NoError(t, err)
	assert.Equal(t, lastRefresh.Format(time.RFC3339), got["veltrim.io/observed-at"])
}
