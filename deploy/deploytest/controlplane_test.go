package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/veltrix/veltrim/internal/k8stest"
)

// controlPlaneTimeout bounds the steps of a control-plane test that wait
// for controllers or for kube-apiserver to pick up a webhook configuration.
const controlPlaneTimeout = time.Minute

// crdGroups are the API groups of deploy/ objects whose CRDs the local
// control plane does not have: cert-manager and the OpenTelemetry Operator.
var crdGroups = []string{"cert-manager.io", "opentelemetry.io"}

// TestControlPlane runs the checks that need a kube-apiserver on one
// control plane, since starting one costs seconds.
func TestControlPlane(t *testing.T) {
	cluster := k8stest.StartT(t, k8stest.Options{ControllerManager: true})

	t.Run("server dry-run", func(t *testing.T) { testServerDryRun(t, cluster) })
	t.Run("example workload applies", func(t *testing.T) { testExampleWorkloadApplies(t, cluster) })
	t.Run("webhooks from deploy", func(t *testing.T) { testWebhooks(t, cluster) })
}

// testServerDryRun sends every built object whose API group kube-apiserver
// serves through `kubectl apply --dry-run=server`. Namespaces are dry-run
// first, then created for real, because a namespaced object cannot be
// dry-run into a namespace that does not exist.
func testServerDryRun(t *testing.T, cluster *k8stest.Cluster) {
	served := servedGroups(t, cluster)
	for _, dir := range kustomizationDirs(t) {
		t.Run(dir, func(t *testing.T) {
			objects, skipped := splitByServedGroup(buildObjects(t, dir), served)
			for _, group := range skipped {
				assert.Contains(t, crdGroups, group, "deploy/%s has objects of group %q that the server does not serve", dir, group)
			}

			var namespaces []*unstructured.Unstructured
			for _, obj := range objects {
				if obj.GetKind() == "Namespace" {
					namespaces = append(namespaces, obj)
				}
			}
			if len(namespaces) > 0 {
				dryRunApply(t, cluster, namespaces)
			}
			createNamespaces(t, cluster, objects)
			dryRunApply(t, cluster, objects)
		})
	}
}

// servedGroups returns the API groups kube-apiserver serves, "" for core.
func servedGroups(t *testing.T, cluster *k8stest.Cluster) map[string]bool {
	t.Helper()

	groups, err := cluster.Client().Discovery().ServerGroups()
	require.NoError(t, err)
	served := map[string]bool{}
	for _, group := range groups.Groups {
		served[group.Name] = true
	}
	require.True(t, served[""] && served["apps"], "the core and apps groups must be served")
	return served
}

// splitByServedGroup returns the objects of served groups and the sorted
// groups of the others.
func splitByServedGroup(objects []*unstructured.Unstructured, served map[string]bool) ([]*unstructured.Unstructured, []string) {
	var servedObjects []*unstructured.Unstructured
	var skipped []string
	for _, obj := range objects {
		group := obj.GroupVersionKind().Group
		if served[group] {
			servedObjects = append(servedObjects, obj)
		} else if !slices.Contains(skipped, group) {
			skipped = append(skipped, group)
		}
	}
	slices.Sort(skipped)
	return servedObjects, skipped
}

// createNamespaces creates every namespace the objects name or are, with
// the namespace's default ServiceAccount.
func createNamespaces(t *testing.T, cluster *k8stest.Cluster, objects []*unstructured.Unstructured) {
	t.Helper()

	for _, obj := range objects {
		name := obj.GetNamespace()
		if obj.GetKind() == "Namespace" {
			name = obj.GetName()
		}
		if name == "" {
			continue
		}
		_, err := k8stest.CreateNamespace(context.Background(), cluster.Client(), name)
		require.NoError(t, err)
	}
}

// dryRunApply runs `kubectl apply --dry-run=server` on the objects and
// checks that kubectl reports each of them.
func dryRunApply(t *testing.T, cluster *k8stest.Cluster, objects []*unstructured.Unstructured) {
	t.Helper()

	out, err := kubectl(context.Background(), encodeObjects(t, objects),
		"--kubeconfig", cluster.KubeconfigPath(), "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Len(t, lines, len(objects), "kubectl output:\n%s", out)
	for _, obj := range objects {
		assert.Contains(t, string(out), kubectlRef(obj), "kubectl did not report the object")
	}
	for _, line := range lines {
		assert.True(t, strings.HasSuffix(line, "(server dry run)"), "not a server dry run: %q", line)
	}
}

// kubectlRef returns the name kubectl prints for an object, such as
// deployment.apps/veltrim-admission.
func kubectlRef(obj *unstructured.Unstructured) string {
	resource := strings.ToLower(obj.GetKind())
	if group := obj.GroupVersionKind().Group; group != "" {
		resource += "." + group
	}
	return resource + "/" + obj.GetName()
}

// encodeObjects returns the objects as a YAML stream of JSON documents.
func encodeObjects(t *testing.T, objects []*unstructured.Unstructured) []byte {
	t.Helper()

	var buf bytes.Buffer
	for _, obj := range objects {
		data, err := json.Marshal(obj.Object)
		require.NoError(t, err)
		buf.WriteString("---\n")
		buf.Write(data)
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// testExampleWorkloadApplies applies examples/llm-workload for real and
// checks what kube-apiserver stored and that the Deployment gets its pods.
func testExampleWorkloadApplies(t *testing.T, cluster *k8stest.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), controlPlaneTimeout)
	defer cancel()
	client := cluster.Client()

	out, err := kubectl(ctx, nil, "--kubeconfig", cluster.KubeconfigPath(),
		"apply", "-k", filepath.Join(deployDir, "examples/llm-workload"))
	require.NoError(t, err)
	for _, ref := range []string{"namespace/" + exampleNamespace, "deployment.apps/" + exampleWorkload,
		"horizontalpodautoscaler.autoscaling/" + exampleWorkload} {
		assert.Contains(t, string(out), ref)
	}

	ns, err := client.CoreV1().Namespaces().Get(ctx, exampleNamespace, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, guardValue, ns.Labels[guardLabel])

	hpa, err := client.AutoscalingV2().HorizontalPodAutoscalers(exampleNamespace).Get(ctx, exampleWorkload, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotNil(t, hpa.Spec.Behavior)
	require.NotNil(t, hpa.Spec.Behavior.ScaleDown)
	require.NotNil(t, hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds)
	assert.Equal(t, int32(1800), *hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds)

	deployment, err := client.AppsV1().Deployments(exampleNamespace).Get(ctx, exampleWorkload, metav1.GetOptions{})
	require.NoError(t, err)
	pods, err := k8stest.MakeDeploymentReady(ctx, client, deployment, "")
	require.NoError(t, err)
	require.Len(t, pods, int(*deployment.Spec.Replicas))
	for _, pod := range pods {
		requests := pod.Spec.Containers[0].Resources.Requests
		assert.True(t, requests.Cpu().Equal(resource.MustParse("500m")), "pod %s requests.cpu %s", pod.Name, requests.Cpu())
		assert.True(t, requests.Memory().Equal(resource.MustParse("1200Mi")), "pod %s requests.memory %s", pod.Name, requests.Memory())
		assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
	}
}
