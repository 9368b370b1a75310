package admission

// Tests against a real kube-apiserver that calls the admission endpoint
// over HTTPS because a webhook configuration registers it, as in a cluster.

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/publisher"
	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/podstate"
)

// kubeTestTimeout bounds each test's work against the control plane.
const kubeTestTimeout = 2 * time.Minute

// pollInterval is how often a test looks again at the cluster or the cache.
const pollInterval = 100 * time.Millisecond

// webhookName names the webhook configurations, so kube-apiserver's error
// messages read as they would in a cluster.
const webhookName = "scale.veltrim.io"

// warningRecorder collects the warnings kube-apiserver returns to a client,
// where kubectl would print them as "Warning: ...".
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (r *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, text)
}

// take returns the warnings received since the last call.
func (r *warningRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.warnings
	r.warnings = nil
	return w
}

// kubeEnv is one namespace of a test cluster with an admission server
// registered for its scale requests.
type kubeEnv struct {
	t         *testing.T
	ctx       context.Context
	cluster   *k8stest.Cluster
	client    kubernetes.Interface
	warnings  *warningRecorder
	namespace string
	now       time.Time

	server *Server
	reader *sdkmetric.ManualReader
}

func newKubeEnv(t *testing.T, cluster *k8stest.Cluster, namespace string) *kubeEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubeTestTimeout)
	t.Cleanup(cancel)

	warnings := &warningRecorder{}
	config := cluster.Config()
	config.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(config)
	require.NoError(t, err)

	_, err = k8stest.CreateNamespace(ctx, client, namespace)
	require.NoError(t, err)
	return &kubeEnv{
		t: t, ctx: ctx, cluster: cluster, client: client, warnings: warnings, namespace: namespace,
		now: time.Now().UTC().Truncate(time.Second),
	}
}

// startServer starts an admission server on a loopback port, with the
// decision clock fixed at e.now, and registers it with kube-apiserver for
// the scale requests of e.namespace at path, with failurePolicy Ignore as
// the deploy manifests set it.
func (e *kubeEnv) startServer(cfg *Config, path string) {
	t := e.t
	t.Helper()

	cert, err := k8stest.WriteServingCert(t.TempDir())
	require.NoError(t, err)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.TLS = configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile}})
	require.NoError(t, cfg.Validate())

	e.reader = sdkmetric.NewManualReader()
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	s, err := New(cfg, e.cluster.Client(), "", set)
	require.NoError(t, err)
	s.now = func() time.Time { return e.now }
	require.NoError(t, s.Start(e.ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	e.server = s
	waitSynced(t, s)

	// One configuration per namespace, so subtests sharing a cluster never
	// call each other's servers.
	opts := k8stest.WebhookOptions{
		Name:              e.namespace + "." + webhookName,
		URL:               (&url.URL{Scheme: "https", Host: s.listener.Addr().String(), Path: path}).String(),
		CABundle:          cert.CA.CertPEM,
		Rules:             k8stest.ScaleRules(),
		FailurePolicy:     admissionregistrationv1.Ignore,
		TimeoutSeconds:    5,
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": e.namespace}},
	}
	if path == mutatePath {
		_, err = k8stest.RegisterMutatingWebhook(e.ctx, e.client, opts)
	} else {
		_, err = k8stest.RegisterValidatingWebhook(e.ctx, e.client, opts)
	}
	require.NoError(t, err)
}

// waitForWebhook sends dry-run scale-ups of deployment until one reaches
// the server, because kube-apiserver calls a webhook only once its informer
// has seen the configuration. The server allows a scale-up without
// evaluating the policy, so the wait leaves the breaker alone.
func (e *kubeEnv) waitForWebhook(deployment string) {
	t := e.t
	t.Helper()
	err := wait.PollUntilContextCancel(e.ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		scale, err := e.client.AppsV1().Deployments(e.namespace).GetScale(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		scale.Spec.Replicas++
		_, err = e.client.AppsV1().Deployments(e.namespace).UpdateScale(ctx, deployment, scale, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil && e.decisions(outcomeIgnored) > 0, nil
	})
	require.NoError(t, err, "kube-apiserver never called the webhook")
	e.warnings.take()
}

func (e *kubeEnv) decisions(o outcome) int64 {
	return decisionCount(e.t, &testServer{Server: e.server, reader: e.reader}, o)
}

// createPods creates pods labelled app=<app> directly, for tests without
// kube-controller-manager, and makes them Running and Ready.
func (e *kubeEnv) createPods(app string, names ...string) []corev1.Pod {
	t := e.t
	t.Helper()
	for _, name := range names {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.namespace, Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name:      "main",
				Image:     k8stest.DeploymentImage,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}},
			}}},
		}
		_, err := e.client.CoreV1().Pods(e.namespace).Create(e.ctx, pod, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	pods, err := k8stest.MakePodsReady(e.ctx, e.client, e.namespace, "app="+app, "", len(names))
	require.NoError(t, err)
	return pods
}

// annotate publishes a pod's state as the exporter does: warm pods had a
// cache miss 3 minutes ago, cold ones none in the last hour. withCost also
// sets the pod-deletion-cost the exporter publishes for that state.
func (e *kubeEnv) annotate(pod string, warm, withCost bool) {
	t := e.t
	t.Helper()
	prefix := podstate.DefaultAnnotationPrefix
	annotations := map[string]string{
		prefix + podstate.AnnotationCacheState:            podstate.CacheStateCold,
		prefix + podstate.AnnotationCacheMisses:           "0",
		prefix + podstate.AnnotationLastCacheMiss:         e.now.Add(-time.Hour).Format(time.RFC3339),
		prefix + podstate.AnnotationCPURequestUtilization: "0.05",
		prefix + podstate.AnnotationObservedAt:            e.now.Add(-20 * time.Second).Format(time.RFC3339),
	}
	cost := publisher.DeletionCostRemovable
	if warm {
		annotations[prefix+podstate.AnnotationCacheState] = podstate.CacheStateWarm
		annotations[prefix+podstate.AnnotationCacheMisses] = "12"
		annotations[prefix+podstate.AnnotationLastCacheMiss] = e.now.Add(-3 * time.Minute).Format(time.RFC3339)
		annotations[prefix+podstate.AnnotationCPURequestUtilization] = "0.12"
		cost = publisher.DeletionCostWarm
	}
	if withCost {
		annotations[podstate.DeletionCostAnnotation] = fmt.Sprint(cost)
	}

	patch := `{"metadata":{"annotations":{`
	first := true
	for key, value := range annotations {
		if !first {
			patch += ","
		}
		first = false
		patch += fmt.Sprintf("%q:%q", key, value)
	}
	patch += "}}}"
	_, err := e.client.CoreV1().Pods(e.namespace).Patch(e.ctx, pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err, "failed to annotate pod %s", pod)
}

// waitForCachedState waits until the server's pod cache holds count pods of
// app that carry the observed-at annotation.
func (e *kubeEnv) waitForCachedState(app string, count int) {
	t := e.t
	t.Helper()
	key := podstate.DefaultAnnotationPrefix + podstate.AnnotationObservedAt
	selector := labels.SelectorFromSet(labels.Set{"app": app})
	err := wait.PollUntilContextCancel(e.ctx, pollInterval, true, func(context.Context) (bool, error) {
		pods, err := e.server.pods.Pods(e.namespace).List(selector)
		if err != nil {
			return false, err
		}
		annotated := 0
		for _, pod := range pods {
			if pod.Annotations[key] != "" {
				annotated++
			}
		}
		return annotated == count, nil
	})
	require.NoError(t, err, "the server's pod cache never held %d annotated pods of %s", count, app)
}

func (e *kubeEnv) scale(deployment string, replicas int32) (*autoscalingv1.Scale, error) {
	return k8stest.ScaleDeployment(e.ctx, e.client, e.namespace, deployment, replicas)
}

func (e *kubeEnv) replicas(deployment string) int32 {
	scale, err := e.client.AppsV1().Deployments(e.namespace).GetScale(e.ctx, deployment, metav1.GetOptions{})
	require.NoError(e.t, err)
	return scale.Spec.Replicas
}

// newWarmColdWorkload creates Deployment web of 4 replicas and its 4 pods
// without kube-controller-manager: web-a and web-b warm, web-c and web-d cold.
func (e *kubeEnv) newWarmColdWorkload() {
	_, err := k8stest.CreateDeployment(e.ctx, e.client, e.namespace, "web", 4)
	require.NoError(e.t, err)
	e.createPods("web", "web-a", "web-b", "web-c", "web-d")
	for _, name := range []string{"web-a", "web-b", "web-c", "web-d"} {
		e.annotate(name, name == "web-a" || name == "web-b", false)
	}
	e.waitForCachedState("web", 4)
}

func TestKubeWebhook(t *testing.T) {
	cluster := k8stest.StartT(t, k8stest.Options{})

	t.Run("deny", func(t *testing.T) { testKubeDeny(t, cluster) })
	t.Run("clamp", func(t *testing.T) { testKubeClamp(t, cluster) })
	t.Run("looping policy", func(t *testing.T) { testKubeLoopingPolicy(t, cluster) })
	t.Run("endpoint stopped", func(t *testing.T) { testKubeEndpointStopped(t, cluster) })
}

// 4 replicas, 2 warm and 2 cold: scaling to 1 is denied naming the warm
// pods, to 2 is allowed, and scaling up always passes.
func testKubeDeny(t *testing.T, cluster *k8stest.Cluster) {
	e := newKubeEnv(t, cluster, "deny")
	e.startServer(testConfig(), validatePath)
	e.newWarmColdWorkload()
	e.waitForWebhook("web")

	_, err := e.scale("web", 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `admission webhook "deny.scale.veltrim.io" denied the request: `+
		"veltrim: scale-down of Deployment deny/web from 4 to 1 replicas needs 3 removable pods, 2 found; "+
		"protected: web-a (cache miss 3m ago), web-b (cache miss 3m ago)")
	assert.Equal(t, int32(4), e.replicas("web"))

	scale, err := e.scale("web", 2)
	require.NoError(t, err)
	assert.Equal(t, int32(2), scale.Spec.Replicas)
	assert.Empty(t, e.warnings.take())

	scale, err = e.scale("web", 6)
	require.NoError(t, err)
	assert.Equal(t, int32(6), scale.Spec.Replicas)
	assert.Equal(t, int64(1), e.decisions(outcomeDenied))
	assert.Equal(t, int64(1), e.decisions(outcomeAllowed))
}

// In clamp mode a request for 1 replica becomes 2, the number the cold
// pods allow, and the client sees why.
func testKubeClamp(t *testing.T, cluster *k8stest.Cluster) {
	e := newKubeEnv(t, cluster, "clamp")
	cfg := testConfig()
	cfg.Mode = "clamp"
	e.startServer(cfg, mutatePath)
	e.newWarmColdWorkload()
	e.waitForWebhook("web")

	scale, err := e.scale("web", 1)

	require.NoError(t, err)
	assert.Equal(t, int32(2), scale.Spec.Replicas)
	assert.Equal(t, int32(2), e.replicas("web"))
	assert.Equal(t, []string{
		"veltrim: scale-down of Deployment clamp/web to 1 replicas clamped to 2; protected: web-a (cache miss 3m ago), web-b (cache miss 3m ago)",
	}, e.warnings.take())

	scale, err = e.scale("web", 5)
	require.NoError(t, err)
	assert.Equal(t, int32(5), scale.Spec.Replicas)
	assert.Empty(t, e.warnings.take())
}

// A policy that never returns is cut at policy_timeout: every request is
// allowed with a warning, and after breaker.failures of them the breaker
// opens and requests are allowed without evaluating.
func testKubeLoopingPolicy(t *testing.T, cluster *k8stest.Cluster) {
	e := newKubeEnv(t, cluster, "looping")
	cfg := testConfig()
	cfg.PolicyFile = fixturePath("loop.lua")
	e.startServer(cfg, validatePath)
	e.newWarmColdWorkload()
	e.waitForWebhook("web")

	for i := range cfg.Breaker.Failures {
		_, err := e.scale("web", 3)
		require.NoError(t, err, "request %d", i)
		assert.Equal(t, []string{"veltrim: policy evaluation timed out after 20ms; scale-down allowed"}, e.warnings.take(), "request %d", i)
		_, err = e.scale("web", 4)
		require.NoError(t, err)
	}
	_, err := e.scale("web", 1)
	require.NoError(t, err)

	assert.Equal(t, []string{"veltrim: circuit breaker open after 5 failed policy evaluations; scale-down allowed without a decision"}, e.warnings.take())
	assert.Equal(t, int32(1), e.replicas("web"))
	assert.Equal(t, int64(5), e.decisions(outcomePolicyFailed))
	assert.Equal(t, int64(1), e.decisions(outcomeBreakerOpen))

	// The server responded to each timed-out request within 50 ms: the 20 ms
	// budget plus decoding and listing, measured by the server itself.
	hist, ok := findMetric(t, e.reader, "otelcol_exporter_veltrim_admission_duration").Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	var slowest float64
	for _, dp := range hist.DataPoints {
		if v, _ := dp.Attributes.Value("outcome"); v.AsString() == string(outcomePolicyFailed) {
			slowest, ok = dp.Max.Value()
			require.True(t, ok)
		}
	}
	assert.Positive(t, slowest)
	assert.LessOrEqual(t, slowest, 0.050, "slowest timed-out request in seconds")
}

// With failurePolicy Ignore, scaling works while the endpoint is down.
func testKubeEndpointStopped(t *testing.T, cluster *k8stest.Cluster) {
	e := newKubeEnv(t, cluster, "stopped")
	e.startServer(testConfig(), validatePath)
	e.newWarmColdWorkload()
	e.waitForWebhook("web")
	_, err := e.scale("web", 1)
	require.Error(t, err, "the running endpoint denies the scale-down")

	require.NoError(t, e.server.Shutdown(e.ctx))
	scale, err := e.scale("web", 1)

	require.NoError(t, err)
	assert.Equal(t, int32(1), scale.Spec.Replicas)
}

// Under kube-controller-manager, after an allowed scale-down the pods
// deleted are the cold ones, because the exporter gave them the lowest
// pod-deletion-cost.
func TestKubeScaleDownDeletesColdPods(t *testing.T) {
	cluster := k8stest.StartT(t, k8stest.Options{ControllerManager: true})
	e := newKubeEnv(t, cluster, "victims")
	e.startServer(testConfig(), validatePath)
	deployment, err := k8stest.CreateDeployment(e.ctx, e.client, e.namespace, "web", 4)
	require.NoError(t, err)

	// The state is published before the pods turn ready, so once the
	// ReplicaSet reports 4 ready replicas its pod cache holds the costs.
	pods, err := k8stest.WaitForPods(e.ctx, e.client, e.namespace, "app=web", func(p []corev1.Pod) bool { return len(p) == 4 })
	require.NoError(t, err)
	warm := []string{pods[0].Name, pods[2].Name}
	for _, pod := range pods {
		e.annotate(pod.Name, slices.Contains(warm, pod.Name), true)
	}
	_, err = k8stest.MakeDeploymentReady(e.ctx, e.client, deployment, "")
	require.NoError(t, err)
	e.waitForReadyReplicas("web", 4)
	e.waitForCachedState("web", 4)
	e.waitForWebhook("web")

	_, err = e.scale("web", 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("protected: %s (cache miss 3m ago), %s (cache miss 3m ago)", warm[0], warm[1]))

	_, err = e.scale("web", 2)
	require.NoError(t, err)
	remaining, err := k8stest.WaitForPods(e.ctx, e.client, e.namespace, "app=web", func(p []corev1.Pod) bool { return len(p) == 2 })
	require.NoError(t, err, "the ReplicaSet controller did not delete 2 pods")

	assert.Equal(t, warm, []string{remaining[0].Name, remaining[1].Name}, "the warm pods survive")
}

func (e *kubeEnv) waitForReadyReplicas(deployment string, want int32) {
	t := e.t
	t.Helper()
	var got int32
	err := wait.PollUntilContextCancel(e.ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		d, err := e.client.AppsV1().Deployments(e.namespace).Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		got = d.Status.ReadyReplicas
		return got == want, nil
	})
	require.NoError(t, err, "Deployment %s has %d ready replicas, want %d", deployment, got, want)
}
