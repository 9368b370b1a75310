package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/veltrix/veltrim/internal/k8stest"
)

// httpsServer is a started Server on a loopback port and a client that
// trusts its certificate.
type httpsServer struct {
	*Server
	client  *http.Client
	baseURL string
	ca      *k8stest.CA
}

// startHTTPSServer starts s on 127.0.0.1 with a throwaway serving certificate.
func startHTTPSServer(t testing.TB, cfg *Config, client kubernetes.Interface) *httpsServer {
	t.Helper()
	cert, err := k8stest.WriteServingCert(t.TempDir())
	require.NoError(t, err)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.TLS = configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile}})
	require.NoError(t, cfg.Validate())

	s, err := New(cfg, client, "", componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	s.now = func() time.Time { return testNow }
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))

	httpClient := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.CA.CertPool(), MinVersion: tls.VersionTLS12}},
	}
	t.Cleanup(func() {
		httpClient.CloseIdleConnections()
		require.NoError(t, s.Shutdown(context.Background()))
	})
	return &httpsServer{Server: s, client: httpClient, baseURL: "https://" + s.listener.Addr().String(), ca: cert.CA}
}

// waitSynced waits for the pod cache of a started server.
func waitSynced(t testing.TB, s *Server) {
	t.Helper()
	select {
	case <-s.synced:
	case <-time.After(syncTimeout):
		t.Fatalf("pod informer did not sync within %s", syncTimeout)
	}
}

func (h *httpsServer) post(t testing.TB, path string, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, err := h.client.Post(h.baseURL+path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))

	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(data, &review))
	require.NotNil(t, review.Response)
	return review.Response
}

func TestServerDecidesOverHTTPS(t *testing.T) {
	s := startHTTPSServer(t, testConfig(), fake.NewClientset(warmPod("web-a"), warmPod("web-b"), coldPod("web-c"), coldPod("web-d")))
	waitSynced(t, s.Server)

	resp := s.post(t, validatePath, marshalReview(t, scaleReview("deployments", "web", 4, 1, "app=web")))

	assert.Equal(t, "uid-web-4-1", string(resp.UID))
	assert.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "web-a (cache miss 3m ago), web-b (cache miss 3m ago)")
}

func TestServerHealthzOverHTTPS(t *testing.T) {
	s := startHTTPSServer(t, testConfig(), fake.NewClientset())
	waitSynced(t, s.Server)

	resp, err := s.client.Get(s.baseURL + healthzPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
}

func TestServerRejectsOldTLS(t *testing.T) {
	s := startHTTPSServer(t, testConfig(), fake.NewClientset())
	oldClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:    s.ca.CertPool(),
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS11,
	}}}
	defer oldClient.CloseIdleConnections()

	_, err := oldClient.Get(s.baseURL + healthzPath)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "protocol version")
}

func TestServerRejectsPlainHTTP(t *testing.T) {
	s := startHTTPSServer(t, testConfig(), fake.NewClientset())
	plain := &http.Client{Timeout: 10 * time.Second}
	defer plain.CloseIdleConnections()

	resp, err := plain.Get("http://" + s.listener.Addr().String() + healthzPath)
	require.NoError(t, err)
	defer resp.Body.Close()

	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "Go's TLS server answers plain HTTP with 400")
}

func TestServerShutdownWithoutStart(t *testing.T) {
	s, err := New(testConfig(), fake.NewClientset(), "", componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)

	assert.NoError(t, s.Shutdown(t.Context()))
	assert.NoError(t, s.Shutdown(t.Context()))
}

func TestServerStartFailsOnBusyPort(t *testing.T) {
	first := startHTTPSServer(t, testConfig(), fake.NewClientset())
	cfg := testConfig()
	cfg.NetAddr.Endpoint = first.listener.Addr().String()
	s, err := New(cfg, fake.NewClientset(), "", componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()

	err = s.Start(t.Context(), componenttest.NewNopHost())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed to listen on")
}

func TestServerRejectsBadBodiesOverHTTPS(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRequestBodySize = 4096
	s := startHTTPSServer(t, cfg, fake.NewClientset())
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{name: "malformed", body: []byte(`{"apiVersion":`), want: "invalid AdmissionReview: body is not valid JSON"},
		{name: "oversized", body: bytes.Repeat([]byte(" "), 4097), want: "request body exceeds 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.client.Post(s.baseURL+validatePath, "application/json", bytes.NewReader(tt.body))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, string(body), tt.want)
		})
	}
}

func TestServerClosesSlowBodyConnection(t *testing.T) {
	// closeBound bounds the wait for the server to close the connection. It
	// is far above the injected read timeout, so only a server that never
	// times out the read makes the test fail.
	const closeBound = 10 * time.Second
	cfg := testConfig()
	cfg.ReadTimeout = 200 * time.Millisecond
	s := startHTTPSServer(t, cfg, fake.NewClientset())
	conn, err := tls.Dial("tcp", s.listener.Addr().String(), &tls.Config{RootCAs: s.ca.CertPool(), MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer conn.Close()

	// The request announces 1000 bytes of body and sends 5.
	_, err = io.WriteString(conn, "POST "+validatePath+" HTTP/1.1\r\nHost: veltrim\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(closeBound)))
	_, err = io.ReadAll(conn)

	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("server kept the connection open for %s with read_timeout %s", closeBound, cfg.ReadTimeout)
	}
}
