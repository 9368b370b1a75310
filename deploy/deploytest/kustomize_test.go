package deploytest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKustomizationsAreAllKnown(t *testing.T) {
	assert.Equal(t, expectedKustomizations, kustomizationDirs(t),
		"a kustomization was added or removed under deploy/: update expectedKustomizations")
}

func TestKustomizeBuildsEveryOverlay(t *testing.T) {
	for _, dir := range kustomizationDirs(t) {
		t.Run(dir, func(t *testing.T) {
			objects := buildObjects(t, dir)
			require.NotEmpty(t, objects, "deploy/%s built no objects", dir)
			for _, obj := range objects {
				assert.NotEmpty(t, obj.GetAPIVersion(), "object %q has no apiVersion", obj.GetName())
				assert.NotEmpty(t, obj.GetKind(), "object %q has no kind", obj.GetName())
				assert.NotEmpty(t, obj.GetName(), "a %s has no name", obj.GetKind())
			}
		})
	}
}

func TestBaseObjectsAreInVeltrimNamespace(t *testing.T) {
	clusterScoped := map[string]bool{
		"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true,
		"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	}
	for _, obj := range buildObjects(t, "base") {
		if clusterScoped[obj.GetKind()] {
			assert.Empty(t, obj.GetNamespace(), "%s %s is cluster-scoped", obj.GetKind(), obj.GetName())
			continue
		}
		assert.Equal(t, veltrimNamespace, obj.GetNamespace(), "%s %s", obj.GetKind(), obj.GetName())
	}
}

func TestClampOverlaySwapsWebhookKind(t *testing.T) {
	objects := buildObjects(t, "overlays/clamp")

	assert.False(t, hasObject(objects, "ValidatingWebhookConfiguration", webhookConfigName),
		"the clamp overlay must remove the validating webhook")
	assert.True(t, hasObject(objects, "MutatingWebhookConfiguration", webhookConfigName))

	deployment := admissionDeployment(t, objects)
	assert.Equal(t, "clamp", containerEnv(t, deployment.Spec.Template.Spec.Containers[0], modeEnv))
}

func TestOperatorExampleReplacesAgentDaemonSet(t *testing.T) {
	objects := buildObjects(t, "examples/opentelemetry-operator")

	assert.False(t, hasObject(objects, "DaemonSet", agentName), "the operator creates the agent DaemonSet")
	assert.True(t, hasObject(objects, "OpenTelemetryCollector", agentName))
	assert.True(t, hasObject(objects, "Deployment", admissionName), "the admission replicas still come from the base")
}
