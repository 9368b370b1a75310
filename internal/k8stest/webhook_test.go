package k8stest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

const denyMessage = "scale-down denied by the test webhook"

// kube-apiserver calls a webhook registered with RegisterValidatingWebhook over
// TLS, trusting the caBundle, for a request on the scale subresource.
func TestValidatingWebhookDeniesScale(t *testing.T) {
	cluster := StartT(t, Options{})
	client := cluster.Client()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	var calls atomic.Int32
	server := startDenyingWebhook(t, &calls)

	const namespace = "webhook"
	_, err := CreateNamespace(ctx, client, namespace)
	require.NoError(t, err)
	_, err = CreateDeployment(ctx, client, namespace, "llm", 3)
	require.NoError(t, err)

	_, err = RegisterValidatingWebhook(ctx, client, WebhookOptions{
		Name:     "scale.k8stest.veltrim.io",
		URL:      server.URL + "/validate",
		CABundle: server.caPEM,
		Rules:    ScaleRules(),
	})
	require.NoError(t, err)

	// The apiserver applies the configuration once its informer has
	// received it, so scale requests are retried until one is denied.
	replicas := int32(3)
	var lastErr error
	err = wait.PollUntilContextCancel(ctx, podPollInterval, true, func(ctx context.Context) (bool, error) {
		replicas = 5 - replicas // alternate between 2 and 3
		_, lastErr = ScaleDeployment(ctx, client, namespace, "llm", replicas)
		return lastErr != nil && strings.Contains(lastErr.Error(), denyMessage), nil
	})
	require.NoError(t, err, "no scale request was denied, last error: %v", lastErr)
	assert.Positive(t, calls.Load(), "the webhook was never called")

	scale, err := client.AppsV1().Deployments(namespace).GetScale(ctx, "llm", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEqual(t, replicas, scale.Spec.Replicas, "the denied scale request was applied")
}

type webhookServer struct {
	*httptest.Server
	caPEM []byte
}

// startDenyingWebhook serves a validating webhook on 127.0.0.1 that denies
// every request, with a certificate from a throwaway CA.
func startDenyingWebhook(t *testing.T, calls *atomic.Int32) *webhookServer {
	t.Helper()
	ca, err := NewCA("webhook-ca")
	require.NoError(t, err)
	pair, err := ca.IssueServingCert(LoopbackHosts...)
	require.NoError(t, err)
	cert, err := pair.TLSCertificate()
	require.NoError(t, err)

	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "invalid AdmissionReview", http.StatusBadRequest)
			return
		}
		review.Response = &admissionv1.AdmissionResponse{
			UID:     review.Request.UID,
			Allowed: false,
			Result:  &metav1.Status{Message: denyMessage},
		}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server.StartTLS()
	t.Cleanup(server.Close)

	require.True(t, strings.HasPrefix(server.URL, "https://127.0.0.1:"), "webhook URL %s", server.URL)
	return &webhookServer{Server: server, caPEM: ca.CertPEM}
}
