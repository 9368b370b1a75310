package admission

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestPodTrimmerKeepsDecisionFields(t *testing.T) {
	pod := warmPod("web-a")
	pod.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
	pod.Spec.Containers = []corev1.Container{{Name: "main", Image: "vllm"}}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
	trim := podTrimmer(newAnnotationKeys(""))

	obj, err := trim(pod.DeepCopy())
	require.NoError(t, err)
	trimmed, ok := obj.(*corev1.Pod)
	require.True(t, ok)

	assert.Equal(t, pod.Name, trimmed.Name)
	assert.Equal(t, pod.Namespace, trimmed.Namespace)
	assert.Equal(t, pod.UID, trimmed.UID)
	assert.Equal(t, pod.ResourceVersion, trimmed.ResourceVersion)
	assert.Equal(t, pod.Labels, trimmed.Labels)
	assert.Equal(t, "node-1", trimmed.Spec.NodeName)
	assert.Empty(t, trimmed.Spec.Containers)
	assert.Equal(t, corev1.PodRunning, trimmed.Status.Phase)
	assert.Equal(t, []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}, trimmed.Status.Conditions)
	assert.Len(t, trimmed.Annotations, 5)
	assert.NotContains(t, trimmed.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	assert.Equal(t, toPolicyPod(pod, newAnnotationKeys("")), toPolicyPod(trimmed, newAnnotationKeys("")))

	again, err := trim(trimmed)
	require.NoError(t, err)
	assert.Equal(t, trimmed, again, "trimming is idempotent")
}

func TestPodTrimmerPassesTombstones(t *testing.T) {
	tombstone := cache.DeletedFinalStateUnknown{Key: "llm/web-a", Obj: warmPod("web-a")}

	obj, err := podTrimmer(newAnnotationKeys(""))(tombstone)

	require.NoError(t, err)
	assert.Equal(t, tombstone, obj)
}
