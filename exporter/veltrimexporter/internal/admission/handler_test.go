package admission

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
)

func TestHandlerRejectsInvalidBodies(t *testing.T) {
	s := newTestServer(t, testConfig())
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "empty", body: "", want: "body is not valid JSON: unexpected end of JSON input"},
		{name: "not json", body: "apiVersion: admission.k8s.io/v1", want: "body is not valid JSON"},
		{name: "truncated", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"a"`, want: "body is not valid JSON"},
		{name: "wrong type", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}`, want: "body is not valid JSON"},
		{name: "array", body: `[]`, want: "body is not valid JSON"},
		{name: "no apiVersion", body: `{"kind":"AdmissionReview","request":{"uid":"a"}}`, want: `apiVersion is "", expected "admission.k8s.io/v1"`},
		{name: "wrong kind", body: `{"apiVersion":"admission.k8s.io/v1","kind":"Scale","request":{"uid":"a"}}`, want: `kind is "Scale", expected "AdmissionReview"`},
		{name: "no request", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, want: "request is missing"},
		{name: "no uid", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"UPDATE"}}`, want: "request.uid is empty"},
		{name: "v1beta1", body: string(readFixture(t, "admission-review-v1beta1.json")), want: `apiVersion is "admission.k8s.io/v1beta1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(t, s.Server, validatePath, []byte(tt.body))

			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Contains(t, rec.Body.String(), "invalid AdmissionReview: "+tt.want)
		})
	}
	assert.Equal(t, int64(len(tests)), decisionCount(t, s, outcomeInvalid))
}

func TestHandlerRejectsOversizedBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRequestBodySize = 1024
	s := newTestServer(t, cfg)
	body := marshalReview(t, scaleReview("deployments", "web", 2, 1, "app="+strings.Repeat("x", 2048)))

	rec := post(t, s.Server, validatePath, body)

	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "request body exceeds 1024 bytes\n", rec.Body.String())
}

func TestHandlerDefaultBodyLimit(t *testing.T) {
	s := newTestServer(t, testConfig())
	body := bytes.Repeat([]byte(" "), defaultMaxRequestBodySize+1)

	rec := post(t, s.Server, validatePath, body)

	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "request body exceeds 7340032 bytes")
}

func TestHandlerRejectsContentType(t *testing.T) {
	s := newTestServer(t, testConfig())
	for _, contentType := range []string{"", "text/plain", "application/json-patch+json", "application/json; charset"} {
		t.Run(contentType, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, validatePath, bytes.NewReader(readFixture(t, "scale-deployment.json")))
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()

			s.routes().ServeHTTP(rec, req)

			assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
			assert.Contains(t, rec.Body.String(), `expected "application/json"`)
		})
	}
}

func TestHandlerAcceptsCharset(t *testing.T) {
	s := newTestServer(t, testConfig())
	req := httptest.NewRequest(http.MethodPost, validatePath, bytes.NewReader(readFixture(t, "scale-deployment.json")))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	rec := httptest.NewRecorder()

	s.routes().ServeHTTP(rec, req)

	resp := decodeResponse(t, rec)
	assert.Equal(t, "705ab4f5-6393-11e8-b7cc-42010a800002", string(resp.UID))
}

func TestHandlerRejectsOtherMethods(t *testing.T) {
	s := newTestServer(t, testConfig())
	for _, path := range []string{validatePath, mutatePath} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		rec := httptest.NewRecorder()

		s.routes().ServeHTTP(rec, req)

		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, path)
	}
}

func TestHandlerEchoesUIDOfFixtures(t *testing.T) {
	s := newTestServer(t, testConfig(), coldPod("web-a"))
	fixtures := map[string]string{
		"scale-deployment.json":          "705ab4f5-6393-11e8-b7cc-42010a800002",
		"scale-statefulset-to-zero.json": "c2f7e1a4-3b59-4d1e-8f0a-6e2b9d4c7a30",
		"update-deployment.json":         "9a4d5e8b-1c2f-4a7e-b3d6-0f8e7c6b5a49",
		"create-pod.json":                "3e1f0a9c-7b6d-4c5e-8a2f-1d0c9b8a7f65",
	}
	for name, uid := range fixtures {
		for _, path := range []string{validatePath, mutatePath} {
			resp := decodeResponse(t, post(t, s.Server, path, readFixture(t, name)))
			assert.Equal(t, uid, string(resp.UID), "%s on %s", name, path)
		}
	}
}

// panickingLister panics on every call, standing in for a bug in the
// decision path.
type panickingLister struct{ corelisters.PodLister }

func (panickingLister) Pods(string) corelisters.PodNamespaceLister {
	panic("lister bug")
}

func (panickingLister) List(labels.Selector) ([]*corev1.Pod, error) {
	panic("lister bug")
}

func TestHandlerRecoversPanic(t *testing.T) {
	s := newTestServer(t, testConfig())
	s.pods = panickingLister{}
	review := scaleReview("deployments", "web", 2, 1, "app=web")

	resp := admit(t, s.Server, validatePath, review)

	assert.True(t, resp.Allowed)
	assert.Equal(t, []string{"veltrim: internal error; request allowed"}, resp.Warnings)
	assert.Equal(t, int64(1), decisionCount(t, s, outcomePanic))
}

func TestHealthz(t *testing.T) {
	unsynced := newUnstartedServer(t, testConfig())
	synced := newTestServer(t, testConfig())

	for _, tt := range []struct {
		name   string
		server *Server
		code   int
		body   string
	}{
		{name: "before sync", server: unsynced, code: http.StatusServiceUnavailable, body: "pod cache not synced\n"},
		{name: "after sync", server: synced.Server, code: http.StatusOK, body: "ok\n"},
	} {
		rec := httptest.NewRecorder()
		tt.server.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, healthzPath, nil))

		assert.Equal(t, tt.code, rec.Code, tt.name)
		assert.Equal(t, tt.body, rec.Body.String(), tt.name)
	}
}

func TestDurationRecordedPerOutcome(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)
	admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 1, "app=web"))
	admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 2, "app=web"))

	m := findMetric(t, s.reader, "otelcol_exporter_veltrim_admission_duration")

	assert.Equal(t, "s", m.Unit)
	hist, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	counts := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		v, _ := dp.Attributes.Value("outcome")
		counts[v.AsString()] = dp.Count
		assert.Equal(t, durationBuckets, dp.Bounds)
	}
	assert.Equal(t, map[string]uint64{"denied": 1, "allowed": 1}, counts)
}
