package k8stest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReadyPodsMakesNewPodsReady(t *testing.T) {
	cluster := StartT(t, Options{ControllerManager: true, ReadyPods: true})
	client := cluster.Client()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	const namespace = "ready-pods"
	_, err := CreateNamespace(ctx, client, namespace)
	require.NoError(t, err)
	_, err = CreateDeployment(ctx, client, namespace, "llm", 2)
	require.NoError(t, err)

	pods, err := WaitForPods(ctx, client, namespace, "app=llm", func(pods []corev1.Pod) bool {
		ready := 0
		for i := range pods {
			if isPodReady(&pods[i]) {
				ready++
			}
		}
		return ready == 2
	})
	require.NoError(t, err, "the pods did not turn ready")
	for _, pod := range pods {
		assert.Equal(t, DefaultNodeName, pod.Spec.NodeName, "node of pod %s", pod.Name)
		assert.Equal(t, corev1.PodRunning, pod.Status.Phase, "phase of pod %s", pod.Name)
	}
	assert.NotEqual(t, pods[0].Status.PodIP, pods[1].Status.PodIP, "both pods got the same IP")
}

func TestKeepTerminatingPodsLeavesDeletionToCaller(t *testing.T) {
	cluster := StartT(t, Options{KeepTerminatingPods: true})
	client := cluster.Client()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	const namespace = "terminating"
	_, err := CreateNamespace(ctx, client, namespace)
	require.NoError(t, err)
	pod := NewDeployment(namespace, "solo", 1).Spec.Template
	_, err = client.CoreV1().Pods(namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "solo", Labels: pod.Labels},
		Spec:       pod.Spec,
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = MakePodsReady(ctx, client, namespace, "app=solo", "", 1)
	require.NoError(t, err)

	// A pod bound to a node is only marked for deletion: the kubelet would
	// remove it once its containers stopped.
	require.NoError(t, client.CoreV1().Pods(namespace).Delete(ctx, "solo", metav1.DeleteOptions{}))
	terminating, err := client.CoreV1().Pods(namespace).Get(ctx, "solo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotNil(t, terminating.DeletionTimestamp)

	deleted, err := DeleteTerminatingPods(ctx, client, namespace)
	require.NoError(t, err)
	assert.Equal(t, 1, deleted)
	list, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, list.Items)
}
