package k8stest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAPIServerRestartKeepsData(t *testing.T) {
	c := StartT(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	_, err := CreateNamespace(ctx, c.Client(), "restart")
	require.NoError(t, err)

	c.StopAPIServer()
	_, err = c.Client().CoreV1().Namespaces().Get(ctx, "restart", metav1.GetOptions{})
	require.Error(t, err, "the API must be unreachable while kube-apiserver is stopped")

	require.NoError(t, c.StartAPIServer(ctx))
	_, err = c.Client().CoreV1().Namespaces().Get(ctx, "restart", metav1.GetOptions{})
	require.NoError(t, err, "a client built before the stop must reach the restarted kube-apiserver")
}
