package publisher

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/veltrix/veltrim/internal/podstate"
)

// testStart is the fake clock's start and the first state's observed-at.
var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// waitTimeout bounds how long a test waits for asynchronous work.
const waitTimeout = 10 * time.Second

// fixture is a publisher wired to a fake clientset, a fake clock and
// in-memory telemetry, without worker goroutines unless a test starts them.
type fixture struct {
	t         testing.TB
	publisher *Publisher
	client    *fake.Clientset
	clock     *clocktesting.FakeClock
	telemetry *componenttest.Telemetry
	logs      *observer.ObservedLogs
}

func defaultSettings() Settings {
	return Settings{
		AnnotationPrefix:   podstate.DefaultAnnotationPrefix,
		DeletionCost:       true,
		CPUThreshold:       0.30,
		CPUChangeThreshold: 0.05,
		RefreshInterval:    5 * time.Minute,
	}
}

func newFixture(t testing.TB, settings Settings, pods ...*corev1.Pod) *fixture {
	t.Helper()
	objects := make([]runtime.Object, 0, len(pods))
	for _, pod := range pods {
		objects = append(objects, pod)
	}

	core, logs := observer.New(zap.DebugLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := tel.NewTelemetrySettings()
	set.Logger = zap.New(core)

	fakeClock := clocktesting.NewFakeClock(testStart)
	settings.Clock = fakeClock
	settings.Telemetry = set
	p, err := New(settings)
	require.NoError(t, err)

	f := &fixture{
		t:         t,
		publisher: p,
		client:    fake.NewClientset(objects...),
		clock:     fakeClock,
		telemetry: tel,
		logs:      logs,
	}
	// Tests drive the workers by hand through drain; Start is tested apart.
	p.client = f.client
	t.Cleanup(func() { require.NoError(t, p.Shutdown()) })
	return f
}

// drain patches every queued pod in the test goroutine.
func (f *fixture) drain() {
	f.t.Helper()
	for f.publisher.queue.Len() > 0 {
		require.True(f.t, f.publisher.processNextItem(context.Background()))
	}
}

// waitQueued waits until n items are ready in the queue, for example after
// the fake clock released a retry.
func (f *fixture) waitQueued(n int) {
	f.t.Helper()
	require.Eventually(f.t, func() bool { return f.publisher.queue.Len() == n },
		waitTimeout, time.Millisecond, "expected %d queued pods", n)
}

// patches returns the patch actions the fake clientset received.
func (f *fixture) patches() []k8stesting.PatchAction {
	var patches []k8stesting.PatchAction
	for _, action := range f.client.Actions() {
		if patch, ok := action.(k8stesting.PatchAction); ok {
			patches = append(patches, patch)
		}
	}
	return patches
}

func (f *fixture) pod(namespace, name string) *corev1.Pod {
	f.t.Helper()
	pod, err := f.client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(f.t, err)
	return pod
}

// sum returns the sum of a counter's data points whose attribute key has
// value; an empty key sums every point.
func (f *fixture) sum(metricName, key, value string) int64 {
	f.t.Helper()
	m, err := f.telemetry.GetMetric(metricName)
	if err != nil {
		return 0
	}
	data, ok := m.Data.(metricdata.Sum[int64])
	require.True(f.t, ok, "%s is not an int64 sum", metricName)

	var total int64
	for _, point := range data.DataPoints {
		if key == "" {
			total += point.Value
			continue
		}
		if v, ok := point.Attributes.Value(attribute.Key(key)); ok && v.AsString() == value {
			total += point.Value
		}
	}
	return total
}

func (f *fixture) gauge(metricName string) int64 {
	f.t.Helper()
	m, err := f.telemetry.GetMetric(metricName)
	require.NoError(f.t, err)
	data, ok := m.Data.(metricdata.Gauge[int64])
	require.True(f.t, ok, "%s is not an int64 gauge", metricName)
	require.Len(f.t, data.DataPoints, 1)
	return data.DataPoints[0].Value
}

func newPod(namespace, name, uid string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace:   namespace,
		Name:        name,
		UID:         types.UID(uid),
		Annotations: annotations,
	}}
}

func identity(pod *corev1.Pod) podstate.Identity {
	return podstate.Identity{UID: string(pod.UID), Namespace: pod.Namespace, Name: pod.Name}
}

// coldState is a cold pod with the given CPU utilization observed at.
func coldState(cpu float64, observedAt time.Time) podstate.State {
	return podstate.State{
		CacheState:            podstate.CacheStateCold,
		CPURequestUtilization: cpu,
		HasCPU:                true,
		ObservedAt:            observedAt,
	}
}

func warmState(misses int64, lastMiss, observedAt time.Time) podstate.State {
	return podstate.State{
		CacheState:            podstate.CacheStateWarm,
		CacheMisses:           misses,
		LastCacheMiss:         lastMiss,
		CPURequestUtilization: 0.12,
		HasCPU:                true,
		ObservedAt:            observedAt,
	}
}

func assertAnnotation(t *testing.T, pod *corev1.Pod, key, expected string) {
	t.Helper()
	value, ok := pod.Annotations[key]
	if assert.True(t, ok, "annotation %s missing", key) {
		assert.Equal(t, expected, value, "annotation %s", key)
	}
}

func zapFieldString(key, value string) zapcore.Field {
	return zap.String(key, value)
}
