package kubeclient

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: first
  cluster:
    server: https://127.0.0.1:6443
- name: second
  cluster:
    server: https://127.0.0.1:7443
users:
- name: tester
  user:
    token: test-token
contexts:
- name: first
  context: {cluster: first, user: tester}
- name: second
  context: {cluster: second, user: tester}
current-context: first
`

func writeKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(testKubeconfig), 0o600))
	return path
}

func TestRESTConfigKubeconfigCurrentContext(t *testing.T) {
	cfg, err := RESTConfig(Options{
		AuthType:       AuthTypeKubeConfig,
		KubeConfigPath: writeKubeconfig(t),
		QPS:            7,
		Burst:          9,
		UserAgent:      "veltrim-test",
	})
	require.NoError(t, err)

	assert.Equal(t, "https://127.0.0.1:6443", cfg.Host)
	assert.Equal(t, "test-token", cfg.BearerToken)
	assert.InDelta(t, 7, cfg.QPS, 0)
	assert.Equal(t, 9, cfg.Burst)
	assert.Equal(t, "veltrim-test", cfg.UserAgent)
}

func TestRESTConfigKubeconfigNamedContext(t *testing.T) {
	cfg, err := RESTConfig(Options{
		AuthType:       AuthTypeKubeConfig,
		KubeConfigPath: writeKubeconfig(t),
		Context:        "second",
	})
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:7443", cfg.Host)
}

func TestRESTConfigKubeconfigUnknownContext(t *testing.T) {
	_, err := RESTConfig(Options{
		AuthType:       AuthTypeKubeConfig,
		KubeConfigPath: writeKubeconfig(t),
		Context:        "missing",
	})
	assert.ErrorContains(t, err, "missing")
}

func TestRESTConfigKubeconfigMissingFile(t *testing.T) {
	_, err := RESTConfig(Options{
		AuthType:       AuthTypeKubeConfig,
		KubeConfigPath: filepath.Join(t.TempDir(), "absent"),
	})
	assert.Error(t, err)
}

func TestRESTConfigServiceAccountOutsideCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")

	_, err := RESTConfig(Options{AuthType: AuthTypeServiceAccount})
	assert.ErrorIs(t, err, rest.ErrNotInCluster)
}

func TestRESTConfigUnsupportedAuthType(t *testing.T) {
	_, err := RESTConfig(Options{AuthType: "tls"})
	assert.ErrorContains(t, err, `unsupported auth type "tls"`)
}

func TestNewClientset(t *testing.T) {
	client, err := NewClientset(Options{
		AuthType:       AuthTypeKubeConfig,
		KubeConfigPath: writeKubeconfig(t),
		QPS:            5,
		Burst:          10,
	})
	require.NoError(t, err)
	assert.NotNil(t, client.CoreV1())
}
