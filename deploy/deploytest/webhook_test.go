package deploytest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/podstate"
)

// Namespaces of the webhook checks. Only guardedNamespace carries the
// veltrim.io/guard=enabled label.
const (
	guardedNamespace   = "guarded"
	unguardedNamespace = "unguarded"
)

// testWebhooks registers the webhook configurations of deploy/ in front of
// the veltrim admission endpoint and scales Deployments through them. The
// steps run in order: each relies on the configurations the previous left.
func testWebhooks(t *testing.T, cluster *k8stest.Cluster) {
	endpoint := startAdmissionEndpoint(t, cluster)
	client := cluster.Client()
	createTestNamespace(t, client, guardedNamespace, map[string]string{guardLabel: guardValue})
	createTestNamespace(t, client, unguardedNamespace, nil)

	registerValidatingWebhook(t, client, endpoint)

	t.Run("validating denies warm pods", func(t *testing.T) {
		pods := createWorkload(t, client, guardedNamespace, "warm", 3)
		setPodStates(t, client, pods, true, true, true)

		err := waitForScaleDenied(t, client, guardedNamespace, "warm", 1)
		assert.Contains(t, err.Error(), `admission webhook "scale.veltrim.io" denied the request`)
		for _, pod := range pods {
			assert.Contains(t, err.Error(), pod.Name, "the denial names each protected pod")
		}

		_, err = scaleDeployment(client, guardedNamespace, "warm", 1, false)
		assert.Error(t, err, "the real request must be denied as the dry run was")
		assert.Equal(t, int32(3), deploymentReplicas(t, client, guardedNamespace, "warm"))
	})

	t.Run("unlabelled namespace is not guarded", func(t *testing.T) {
		pods := createWorkload(t, client, unguardedNamespace, "warm", 3)
		setPodStates(t, client, pods, true, true, true)
		before := endpoint.decisions(t, "")

		_, err := scaleDeployment(client, unguardedNamespace, "warm", 1, false)
		require.NoError(t, err)
		assert.Equal(t, int32(1), deploymentReplicas(t, client, unguardedNamespace, "warm"))
		assert.Equal(t, before, endpoint.decisions(t, ""), "the namespaceSelector must keep the request from the endpoint")
	})

	t.Run("validating admits cold pods", func(t *testing.T) {
		pods := createWorkload(t, client, guardedNamespace, "cold", 3)
		setPodStates(t, client, pods, false, false, false)

		// The endpoint's pod cache may still hold no state for these pods,
		// which counts as removable too, so an allow alone proves little:
		// only the endpoint's own count of allowed decisions does.
		before := endpoint.decisions(t, "allowed")
		waitForScale(t, "allowed by the endpoint", func() bool {
			_, err := scaleDeployment(client, guardedNamespace, "cold", 1, true)
			return err == nil && endpoint.decisions(t, "allowed") > before
		})

		_, err := scaleDeployment(client, guardedNamespace, "cold", 1, false)
		require.NoError(t, err)
		assert.Equal(t, int32(1), deploymentReplicas(t, client, guardedNamespace, "cold"))
	})

	t.Run("deleting the configuration rolls back", func(t *testing.T) {
		_, err := scaleDeployment(client, guardedNamespace, "warm", 1, true)
		require.Error(t, err, "the warm pods must still be protected before the deletion")

		err = client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(
			context.Background(), webhookConfigName, metav1.DeleteOptions{})
		require.NoError(t, err)

		// The warm pods would be denied by the endpoint, so an accepted
		// request shows that kube-apiserver no longer calls it.
		waitForScale(t, "allowed without the webhook", func() bool {
			_, err := scaleDeployment(client, guardedNamespace, "warm", 1, true)
			return err == nil
		})
	})

	t.Run("mutating clamps to removable pods", func(t *testing.T) {
		registerMutatingWebhook(t, client, endpoint)
		pods := createWorkload(t, client, guardedNamespace, "clamped", 4)
		setPodStates(t, client, pods, true, true, false, false)

		// 4 -> 1 would remove three pods, but only two are cold.
		before := endpoint.decisions(t, "clamped")
		waitForScale(t, "clamped to 2", func() bool {
			scale, err := scaleDeployment(client, guardedNamespace, "clamped", 1, true)
			return err == nil && scale.Spec.Replicas == 2
		})
		assert.Greater(t, endpoint.decisions(t, "clamped"), before)

		scale, err := scaleDeployment(client, guardedNamespace, "clamped", 1, false)
		require.NoError(t, err)
		assert.Equal(t, int32(2), scale.Spec.Replicas)
		assert.Equal(t, int32(2), deploymentReplicas(t, client, guardedNamespace, "clamped"))
	})
}

// loopbackClientConfig points a webhook from deploy/ at the test endpoint:
// the Service reference becomes a URL with the same path, and the test CA
// replaces what cert-manager would inject.
func loopbackClientConfig(t *testing.T, config admissionregistrationv1.WebhookClientConfig, endpoint *admissionEndpoint) admissionregistrationv1.WebhookClientConfig {
	t.Helper()
	require.NotNil(t, config.Service, "the deploy/ webhook must reference the admission Service")
	require.NotNil(t, config.Service.Path)

	url := endpoint.path(*config.Service.Path)
	return admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: endpoint.caBundle}
}

func registerValidatingWebhook(t *testing.T, client kubernetes.Interface, endpoint *admissionEndpoint) {
	t.Helper()

	var config admissionregistrationv1.ValidatingWebhookConfiguration
	convert(t, findObject(t, buildObjects(t, "base"), "ValidatingWebhookConfiguration", webhookConfigName), &config)
	for i := range config.Webhooks {
		config.Webhooks[i].ClientConfig = loopbackClientConfig(t, config.Webhooks[i].ClientConfig, endpoint)
	}
	_, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(
		context.Background(), &config, metav1.CreateOptions{})
	require.NoError(t, err)
}

func registerMutatingWebhook(t *testing.T, client kubernetes.Interface, endpoint *admissionEndpoint) {
	t.Helper()

	var config admissionregistrationv1.MutatingWebhookConfiguration
	convert(t, findObject(t, buildObjects(t, "overlays/clamp"), "MutatingWebhookConfiguration", webhookConfigName), &config)
	for i := range config.Webhooks {
		config.Webhooks[i].ClientConfig = loopbackClientConfig(t, config.Webhooks[i].ClientConfig, endpoint)
	}
	_, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(
		context.Background(), &config, metav1.CreateOptions{})
	require.NoError(t, err)
}

func createTestNamespace(t *testing.T, client kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()

	_, err := client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = k8stest.CreateNamespace(context.Background(), client, name)
	require.NoError(t, err)
}

// createWorkload creates a Deployment and returns its pods once they are
// Running and Ready; the endpoint counts only ready pods as protected.
func createWorkload(t *testing.T, client kubernetes.Interface, namespace, name string, replicas int32) []corev1.Pod {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), controlPlaneTimeout)
	defer cancel()
	deployment, err := k8stest.CreateDeployment(ctx, client, namespace, name, replicas)
	require.NoError(t, err)
	pods, err := k8stest.MakeDeploymentReady(ctx, client, deployment, "")
	require.NoError(t, err)
	require.Len(t, pods, int(replicas))
	return pods
}

// setPodStates writes the annotations the exporter would publish, one pod
// per entry of warm: warm pods had a cache miss a minute ago, cold ones an
// hour ago. Every pod is idle (CPU at 5 % of its request) and observed now.
func setPodStates(t *testing.T, client kubernetes.Interface, pods []corev1.Pod, warm ...bool) {
	t.Helper()
	require.Len(t, warm, len(pods))

	now := time.Now().UTC()
	for i, pod := range pods {
		state, lastMiss := podstate.CacheStateCold, now.Add(-time.Hour)
		if warm[i] {
			state, lastMiss = podstate.CacheStateWarm, now.Add(-time.Minute)
		}
		prefix := podstate.DefaultAnnotationPrefix
		patch := map[string]any{"metadata": map[string]any{
			"uid": pod.UID,
			"annotations": map[string]string{
				prefix + podstate.AnnotationCacheState:            state,
				prefix + podstate.AnnotationLastCacheMiss:         lastMiss.Format(time.RFC3339Nano),
				prefix + podstate.AnnotationCacheMisses:           strconv.Itoa(i),
				prefix + podstate.AnnotationCPURequestUtilization: "0.05",
				prefix + podstate.AnnotationObservedAt:            now.Format(time.RFC3339Nano),
			},
		}}
		data, err := json.Marshal(patch)
		require.NoError(t, err)
		_, err = client.CoreV1().Pods(pod.Namespace).Patch(context.Background(), pod.Name,
			types.MergePatchType, data, metav1.PatchOptions{})
		require.NoError(t, err)
	}
}

// scaleDeployment sets the Deployment's replicas through the scale
// subresource, as the HPA and kubectl scale do, and returns the stored
// scale, or with dryRun the scale kube-apiserver would store. It retries
// when the deployment controller updated the Deployment in between.
func scaleDeployment(client kubernetes.Interface, namespace, name string, replicas int32, dryRun bool) (*autoscalingv1.Scale, error) {
	ctx, cancel := context.WithTimeout(context.Background(), controlPlaneTimeout)
	defer cancel()

	opts := metav1.UpdateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var updated *autoscalingv1.Scale
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := client.AppsV1().Deployments(namespace).GetScale(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = replicas
		updated, err = client.AppsV1().Deployments(namespace).UpdateScale(ctx, name, scale, opts)
		return err
	})
	return updated, err
}

func deploymentReplicas(t *testing.T, client kubernetes.Interface, namespace, name string) int32 {
	t.Helper()
	deployment, err := client.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotNil(t, deployment.Spec.Replicas)
	return *deployment.Spec.Replicas
}

// waitForScale polls done, which sends dry-run scale requests, until it
// returns true. kube-apiserver calls a webhook only after its informer has
// seen the configuration, and the endpoint decides from its own pod cache,
// so the first requests may still see the old state.
func waitForScale(t *testing.T, what string, done func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, controlPlaneTimeout, true,
		func(context.Context) (bool, error) { return done(), nil })
	require.NoError(t, err, "scale request never %s", what)
}

// waitForScaleDenied sends dry-run scale requests until one is denied by the
// webhook and returns that denial.
func waitForScaleDenied(t *testing.T, client kubernetes.Interface, namespace, name string, replicas int32) error {
	t.Helper()

	var denial error
	waitForScale(t, "denied by the webhook", func() bool {
		_, err := scaleDeployment(client, namespace, name, replicas, true)
		if err != nil && strings.Contains(err.Error(), "denied the request") {
			denial = err
			return true
		}
		return false
	})
	return denial
}
