package k8stest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

const podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// testTimeout bounds each wait of a test on the control plane.
const testTimeout = 2 * time.Minute

// The ReplicaSet controller of a real kube-controller-manager removes the pod
// with the lowest pod-deletion-cost when a Deployment is scaled down through
// its scale subresource. veltrim's scale-down protection relies on this.
func TestScaleDownDeletesLowestCostPod(t *testing.T) {
	cluster := StartT(t, Options{ControllerManager: true})
	client := cluster.Client()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	const namespace = "deletion-cost"
	_, err := CreateNamespace(ctx, client, namespace)
	require.NoError(t, err)
	deployment, err := CreateDeployment(ctx, client, namespace, "llm", 3)
	require.NoError(t, err)

	pending, err := WaitForPods(ctx, client, namespace, "app=llm", func(pods []corev1.Pod) bool { return len(pods) == 3 })
	require.NoError(t, err, "the ReplicaSet controller did not create 3 pods")

	// The costs are set before the pods turn ready. The ReplicaSet controller
	// counts ready pods from its pod cache, so once it reports 3 ready
	// replicas its cache also holds the annotations written before.
	costs := []int{100, -50, 200}
	victim := pending[1].Name
	for i, pod := range pending {
		setDeletionCost(ctx, t, client, pod, costs[i])
	}

	ready, err := MakeDeploymentReady(ctx, client, deployment, "")
	require.NoError(t, err)
	require.Len(t, ready, 3)
	for _, pod := range ready {
		assert.Equal(t, corev1.PodRunning, pod.Status.Phase, "phase of pod %s", pod.Name)
		assert.True(t, isPodReady(&pod), "pod %s is not Ready", pod.Name)
		assert.Equal(t, DefaultNodeName, pod.Spec.NodeName, "node of pod %s", pod.Name)
		assert.NotEmpty(t, pod.Status.PodIP, "IP of pod %s", pod.Name)
	}
	waitForReadyReplicas(ctx, t, client, namespace, "llm", 3)

	_, err = ScaleDeployment(ctx, client, namespace, "llm", 2)
	require.NoError(t, err)

	remaining, err := WaitForPods(ctx, client, namespace, "app=llm", func(pods []corev1.Pod) bool { return len(pods) == 2 })
	require.NoError(t, err, "the ReplicaSet controller did not delete a pod")
	require.Equal(t, []string{pending[0].Name, pending[2].Name}, []string{remaining[0].Name, remaining[1].Name},
		"expected pod %s (cost -50) to be deleted", victim)

	// The harness finishes the deletion a kubelet would finish.
	err = wait.PollUntilContextCancel(ctx, podPollInterval, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Pods(namespace).Get(ctx, victim, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	assert.NoError(t, err, "pod %s still exists", victim)
}

func setDeletionCost(ctx context.Context, t *testing.T, client kubernetes.Interface, pod corev1.Pod, cost int) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"%d"}}}`, podDeletionCostAnnotation, cost)
	_, err := client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err, "failed to set the deletion cost of pod %s", pod.Name)
}

// waitForReadyReplicas waits until the Deployment's ReplicaSet reports want
// ready replicas.
func waitForReadyReplicas(ctx context.Context, t *testing.T, client kubernetes.Interface, namespace, name string, want int32) {
	t.Helper()
	var got int32
	err := wait.PollUntilContextCancel(ctx, podPollInterval, true, func(ctx context.Context) (bool, error) {
		sets, err := client.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil || len(sets.Items) != 1 {
			return false, nil
		}
		got = sets.Items[0].Status.ReadyReplicas
		return got == want, nil
	})
	require.NoError(t, err, "ReplicaSet of %s has %d ready replicas, want %d", name, got, want)
}
