package deploytest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/veltrix/veltrim/exporter/veltrimexporter"
	"github.com/veltrix/veltrim/internal/k8stest"
)

// decisionsMetric is the exporter's counter of admission requests, with the
// decision in the attribute outcome.
const decisionsMetric = "otelcol_exporter_veltrim_admission_decisions"

// pollInterval is how often a condition on the control plane is checked again.
const pollInterval = 100 * time.Millisecond

// admissionEndpoint is the veltrim exporter serving its admission endpoint
// on loopback, configured from deploy/base/collector/admission.yaml.
type admissionEndpoint struct {
	// url is the endpoint's base address, https://127.0.0.1:<port>.
	url string
	// caBundle is the PEM CA that signed the serving certificate.
	caBundle []byte
	reader   *sdkmetric.ManualReader
}

// startAdmissionEndpoint starts the exporter with the exporter section of the
// deploy configuration, changed only where a loopback test must: the
// kubeconfig of the local control plane instead of the in-cluster service
// account, a loopback port, and a test certificate. It waits until /healthz
// reports the pod cache synced.
func startAdmissionEndpoint(t *testing.T, cluster *k8stest.Cluster) *admissionEndpoint {
	t.Helper()

	certs, err := k8stest.WriteServingCert(t.TempDir())
	require.NoError(t, err)
	address := freeLoopbackAddress(t)

	section, err := resolveCollectorConfig(t, "base/collector/admission.yaml").Sub("exporters::veltrim")
	require.NoError(t, err)
	require.NoError(t, section.Merge(confmap.NewFromStringMap(map[string]any{
		"auth_type":        "kubeConfig",
		"kube_config_path": cluster.KubeconfigPath(),
		"admission": map[string]any{
			"endpoint": address,
			"tls":      map[string]any{"cert_file": certs.CertFile, "key_file": certs.KeyFile},
		},
	})))

	factory := veltrimexporter.NewFactory()
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, section.Unmarshal(cfg))
	require.NoError(t, xconfmap.Validate(cfg))

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	set := exportertest.NewNopSettings(factory.Type())
	set.MeterProvider = provider

	exp, err := factory.CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { shutdownExporter(t, exp, provider) })

	endpoint := &admissionEndpoint{url: "https://" + address, caBundle: certs.CA.CertPEM, reader: reader}
	endpoint.waitHealthy(t, certs.CA)
	return endpoint
}

func shutdownExporter(t *testing.T, exp exporter.Metrics, provider *sdkmetric.MeterProvider) {
	assert.NoError(t, exp.Shutdown(context.Background()))
	assert.NoError(t, provider.Shutdown(context.Background()))
}

// freeLoopbackAddress returns a 127.0.0.1 address whose port was free. The
// port is released before the endpoint binds it; another process taking it
// in between makes Start fail, not the test pass.
func freeLoopbackAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	address := listener.Addr().String()
	require.NoError(t, listener.Close())
	return address
}

// waitHealthy polls /healthz until it returns 200, which the endpoint does
// once its pod cache has synced.
func (e *admissionEndpoint) waitHealthy(t *testing.T, ca *k8stest.CA) {
	t.Helper()

	client := &http.Client{Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: ca.CertPool(), MinVersion: tls.VersionTLS12},
	}}
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, controlPlaneTimeout, true,
		func(ctx context.Context) (bool, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/healthz", nil)
			if err != nil {
				return false, err
			}
			resp, err := client.Do(req)
			if err != nil {
				last = err.Error()
				return false, nil
			}
			resp.Body.Close()
			last = resp.Status
			return resp.StatusCode == http.StatusOK, nil
		})
	require.NoError(t, err, "%s/healthz never returned 200 (last: %s)", e.url, last)
}

// decisions returns how many admission requests the endpoint decided with
// outcome, or with any outcome when outcome is empty.
func (e *admissionEndpoint) decisions(t *testing.T, outcome string) int64 {
	t.Helper()

	var rm metricdata.ResourceMetrics
	require.NoError(t, e.reader.Collect(context.Background(), &rm))
	var total int64
	for _, scope := range rm.ScopeMetrics {
		for _, m := range scope.Metrics {
			if m.Name != decisionsMetric {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is not an int64 sum", decisionsMetric)
			for _, point := range sum.DataPoints {
				value, _ := point.Attributes.Value("outcome")
				if outcome == "" || value.AsString() == outcome {
					total += point.Value
				}
			}
		}
	}
	return total
}

// path returns the address of one of the endpoint's paths.
func (e *admissionEndpoint) path(p string) string {
	return fmt.Sprintf("%s%s", e.url, p)
}
