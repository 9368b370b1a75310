package veltrimexporter

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/admission"
	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/podstate"
)

var observedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestConsumeTracesAndMetricsPublish(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "llm", Name: "serve-0", UID: "uid-0"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "llm", Name: "serve-1", UID: "uid-1"}},
	)
	f, _ := testFactory(client)
	id := component.NewIDWithName(typeStr, "consume")
	ctx := context.Background()

	traces, err := f.CreateTraces(ctx, settingsFor(id), f.CreateDefaultConfig())
	require.NoError(t, err)
	shutdownOnCleanup(t, traces)
	metrics, err := f.CreateMetrics(ctx, settingsFor(id), f.CreateDefaultConfig())
	require.NoError(t, err)
	shutdownOnCleanup(t, metrics)
	require.NoError(t, traces.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, metrics.Start(ctx, componenttest.NewNopHost()))

	warm := podstate.State{
		CacheState:    podstate.CacheStateWarm,
		CacheMisses:   2,
		LastCacheMiss: observedAt.Add(-time.Minute),
		ObservedAt:    observedAt,
	}
	busy := podstate.State{
		CacheState:            podstate.CacheStateCold,
		CPURequestUtilization: 0.55,
		HasCPU:                true,
		ObservedAt:            observedAt,
	}
	require.NoError(t, traces.ConsumeTraces(ctx, stampedTraces(podResource{"uid-0", "llm", "serve-0"}, warm)))
	require.NoError(t, metrics.ConsumeMetrics(ctx, stampedMetrics(podResource{"uid-1", "llm", "serve-1"}, busy)))

	waitForAnnotation(t, podAnnotations(client, "llm", "serve-0"), "veltrim.io/last-cache-miss", "2025-03-01T11:59:00Z")
	waitForAnnotation(t, podAnnotations(client, "llm", "serve-0"), podstate.DeletionCostAnnotation, "10000")
	waitForAnnotation(t, podAnnotations(client, "llm", "serve-1"), "veltrim.io/cpu-request-utilization", "0.55")
	waitForAnnotation(t, podAnnotations(client, "llm", "serve-1"), podstate.DeletionCostAnnotation, "1000")
}

func TestConsumeNeverWaitsOnTheAPI(t *testing.T) {
	client := fake.NewClientset()
	release := make(chan struct{})
	client.PrependReactor("patch", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return true, &corev1.Pod{}, nil
	})
	f, _ := testFactory(client)
	ctx := context.Background()

	exp, err := f.CreateTraces(ctx, settingsFor(component.NewIDWithName(typeStr, "blocked")), f.CreateDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() {
		close(release)
		require.NoError(t, exp.Shutdown(context.Background()))
	})

	// Every patch hangs, yet 1,000 batches for 100 pods are consumed.
	for i := range 1000 {
		pod := podResource{fmt.Sprintf("uid-%d", i%100), "llm", fmt.Sprintf("serve-%d", i%100)}
		state := podstate.State{CacheState: podstate.CacheStateWarm, CacheMisses: int64(i), ObservedAt: observedAt.Add(time.Duration(i) * time.Second)}
		require.NoError(t, exp.ConsumeTraces(ctx, stampedTraces(pod, state)))
	}
}

func TestConsumeCountsUnidentifiedResources(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	f, _ := testFactory(fake.NewClientset())
	set := settingsFor(component.NewIDWithName(typeStr, "unidentified"))
	set.TelemetrySettings = tel.NewTelemetrySettings()
	ctx := context.Background()

	exp, err := f.CreateTraces(ctx, set, f.CreateDefaultConfig())
	require.NoError(t, err)
	shutdownOnCleanup(t, exp)

	// A pod name without namespace cannot be patched.
	td := stampedTraces(podResource{"uid-0", "", "serve-0"}, podstate.State{CacheState: podstate.CacheStateCold, ObservedAt: observedAt})
	require.NoError(t, exp.ConsumeTraces(ctx, td))

	m, err := tel.GetMetric("otelcol_exporter_veltrim_resources_unidentified")
	require.NoError(t, err)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok)
	require.Len(t, sum.DataPoints, 1)
	assert.Equal(t, int64(1), sum.DataPoints[0].Value)
	assert.Equal(t, "{resource}", m.Unit)
}

func TestStartsAdmissionEndpoint(t *testing.T) {
	cert, err := k8stest.WriteServingCert(t.TempDir())
	require.NoError(t, err)
	endpoint := freeLoopbackAddress(t)

	adm := admission.NewDefaultConfig()
	adm.NetAddr.Endpoint = endpoint
	tlsConfig := configtls.NewDefaultServerConfig()
	tlsConfig.CertFile = cert.CertFile
	tlsConfig.KeyFile = cert.KeyFile
	adm.TLS = configoptional.Some(tlsConfig)
	cfg := createDefaultConfig().(*Config)
	cfg.Admission = configoptional.Some(adm)
	require.NoError(t, cfg.Validate())

	f, _ := testFactory(fake.NewClientset())
	ctx := context.Background()
	set := settingsFor(component.NewIDWithName(typeStr, "admission"))
	logs := &lockedBuffer{}
	set.Logger = newCollectorLogger(logs)
	exp, err := f.CreateMetrics(ctx, set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	assert.Contains(t, logs.String(), `"refresh_interval":"5m0s"`)
	assert.Contains(t, logs.String(), `"policy_timeout":"20ms"`)

	httpClient := &http.Client{Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: cert.CA.CertPool(), MinVersion: tls.VersionTLS12},
	}}
	require.Eventually(t, func() bool {
		resp, err := httpClient.Get("https://" + endpoint + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, waitTimeout, 10*time.Millisecond, "the admission endpoint never reported healthy")

	require.NoError(t, exp.Shutdown(ctx))
	_, err = httpClient.Get("https://" + endpoint + "/healthz")
	assert.Error(t, err, "shutdown stops the admission endpoint")
}

// freeLoopbackAddress returns a loopback address with a port that was free a
// moment ago.
func freeLoopbackAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// newCollectorLogger returns a logger that writes JSON to w with the
// encoder configuration of the collector's own logger, which writes a
// zap.Duration field as a bare number of seconds.
func newCollectorLogger(w io.Writer) *zap.Logger {
	encoder := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(encoder, zapcore.AddSync(w), zapcore.DebugLevel))
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
