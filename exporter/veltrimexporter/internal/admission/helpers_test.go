package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/veltrix/veltrim/internal/podstate"
)

// testNow is the decision clock of the unit tests.
var testNow = time.Date(2025, time.June, 1, 10, 0, 0, 0, time.UTC)

// syncTimeout bounds the wait for a fake informer to sync.
const syncTimeout = 10 * time.Second

const testNamespace = "llm"

// fixturePath returns a file in the repository's testdata/admission folder.
func fixturePath(name string) string {
	return filepath.Join("..", "..", "..", "..", "testdata", "admission", name)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixturePath(name))
	require.NoError(t, err)
	return data
}

// testConfig returns the default config with a placeholder certificate,
// enough for Validate; servers that really listen use tlsConfig.
func testConfig() *Config {
	cfg := NewDefaultConfig()
	cfg.TLS = configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: "tls.crt", KeyFile: "tls.key"}})
	return &cfg
}

// statePod returns a Running, Ready pod of app=web with published state.
// lastMiss 0 means no cache miss is known.
func statePod(name string, lastMiss time.Duration, cpu string) *corev1.Pod {
	annotations := map[string]string{
		podstate.DefaultAnnotationPrefix + podstate.AnnotationCacheState:            podstate.CacheStateCold,
		podstate.DefaultAnnotationPrefix + podstate.AnnotationCacheMisses:           "0",
		podstate.DefaultAnnotationPrefix + podstate.AnnotationCPURequestUtilization: cpu,
		podstate.DefaultAnnotationPrefix + podstate.AnnotationObservedAt:            testNow.Add(-30 * time.Second).Format(time.RFC3339),
	}
	if lastMiss != 0 {
		annotations[podstate.DefaultAnnotationPrefix+podstate.AnnotationCacheState] = podstate.CacheStateWarm
		annotations[podstate.DefaultAnnotationPrefix+podstate.AnnotationCacheMisses] = "4"
		annotations[podstate.DefaultAnnotationPrefix+podstate.AnnotationLastCacheMiss] = testNow.Add(-lastMiss).Format(time.RFC3339)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       testNamespace,
			UID:             types.UID("uid-" + name),
			ResourceVersion: "1",
			Labels:          map[string]string{"app": "web"},
			Annotations:     annotations,
		},
		Spec: corev1.PodSpec{NodeName: "node-1"},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
}

func warmPod(name string) *corev1.Pod { return statePod(name, 3*time.Minute, "0.10") }
func busyPod(name string) *corev1.Pod { return statePod(name, 0, "0.64") }
func coldPod(name string) *corev1.Pod { return statePod(name, 0, "0.05") }

// testServer is a Server with a fake clientset whose informer has synced,
// and a metric reader over its metrics. Its HTTPS server is not started.
type testServer struct {
	*Server
	reader *sdkmetric.ManualReader
}

func newTestServer(t *testing.T, cfg *Config, pods ...*corev1.Pod) *testServer {
	t.Helper()
	objects := make([]runtime.Object, len(pods))
	for i, p := range pods {
		objects[i] = p
	}
	client := fake.NewClientset(objects...)

	reader := sdkmetric.NewManualReader()
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	s, err := New(cfg, client, "", set)
	require.NoError(t, err)
	s.now = func() time.Time { return testNow }
	s.startInformer()
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })

	select {
	case <-s.synced:
	case <-time.After(syncTimeout):
		t.Fatalf("pod informer did not sync within %s", syncTimeout)
	}
	return &testServer{Server: s, reader: reader}
}

// scaleReview returns an AdmissionReview for an UPDATE of the scale
// subresource of resource (deployments, statefulsets or replicasets).
func scaleReview(resource, name string, oldReplicas, newReplicas int32, selector string) *admissionv1.AdmissionReview {
	scale := func(replicas int32) runtime.RawExtension {
		raw := fmt.Sprintf(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":%q,"namespace":%q},"spec":{"replicas":%d},"status":{"replicas":%d,"selector":%q}}`,
			name, testNamespace, replicas, oldReplicas, selector)
		return runtime.RawExtension{Raw: []byte(raw)}
	}
	return &admissionv1.AdmissionReview{
		TypeMeta: reviewTypeMeta,
		Request: &admissionv1.AdmissionRequest{
			UID:         types.UID(fmt.Sprintf("uid-%s-%d-%d", name, oldReplicas, newReplicas)),
			Kind:        metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
			Resource:    metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource},
			SubResource: "scale",
			Name:        name,
			Namespace:   testNamespace,
			Operation:   admissionv1.Update,
			Object:      scale(newReplicas),
			OldObject:   scale(oldReplicas),
		},
	}
}

func marshalReview(t testing.TB, review *admissionv1.AdmissionReview) []byte {
	t.Helper()
	body, err := json.Marshal(review)
	require.NoError(t, err)
	return body
}

// post sends body to path through the server's routes, without TLS.
func post(t testing.TB, s *Server, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.routes().ServeHTTP(rec, req)
	return rec
}

// decodeResponse reads the AdmissionReview of a 200 response.
func decodeResponse(t testing.TB, rec *httptest.ResponseRecorder) *admissionv1.AdmissionResponse {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))

	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review))
	require.Equal(t, reviewTypeMeta, review.TypeMeta)
	require.NotNil(t, review.Response)
	return review.Response
}

// admit posts a scale review and returns the decoded response.
func admit(t testing.TB, s *Server, path string, review *admissionv1.AdmissionReview) *admissionv1.AdmissionResponse {
	t.Helper()
	resp := decodeResponse(t, post(t, s, path, marshalReview(t, review)))
	require.Equal(t, review.Request.UID, resp.UID)
	return resp
}

// newUnstartedServer returns a Server whose informer never starts, so its
// pod cache never syncs.
func newUnstartedServer(t *testing.T, cfg *Config) *Server {
	t.Helper()
	s, err := New(cfg, fake.NewClientset(), "", componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	s.now = func() time.Time { return testNow }
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s
}

// collectMetrics returns the metrics recorded so far.
func collectMetrics(t testing.TB, reader *sdkmetric.ManualReader) []metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var all []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		all = append(all, sm.Metrics...)
	}
	return all
}

func findMetric(t testing.TB, reader *sdkmetric.ManualReader, name string) metricdata.Metrics {
	t.Helper()
	for _, m := range collectMetrics(t, reader) {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("metric %s not recorded", name)
	return metricdata.Metrics{}
}

// decisionCount returns otelcol_exporter_veltrim_admission_decisions for one outcome.
func decisionCount(t testing.TB, s *testServer, o outcome) int64 {
	t.Helper()
	sum, ok := findMetric(t, s.reader, "otelcol_exporter_veltrim_admission_decisions").Data.(metricdata.Sum[int64])
	require.True(t, ok)
	for _, dp := range sum.DataPoints {
		if v, _ := dp.Attributes.Value("outcome"); v.AsString() == string(o) {
			return dp.Value
		}
	}
	return 0
}

// breakerStateValue returns the last recorded otelcol_exporter_veltrim_admission_breaker_state.
func breakerStateValue(t testing.TB, s *testServer) breakerState {
	t.Helper()
	gauge, ok := findMetric(t, s.reader, "otelcol_exporter_veltrim_admission_breaker_state").Data.(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, gauge.DataPoints, 1)
	return breakerState(gauge.DataPoints[0].Value)
}
