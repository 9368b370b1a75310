package k8stest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// DefaultWaitTimeout bounds WaitForPods and MakePodsReady when ctx has no deadline.
const DefaultWaitTimeout = time.Minute

// podPollInterval is how often WaitForPods lists the pods again.
const podPollInterval = 100 * time.Millisecond

// WaitForPods lists the pods in namespace that match selector and have no
// deletionTimestamp until done returns true for them, and returns that list
// sorted by name. It gives up when ctx ends, or after DefaultWaitTimeout if
// ctx has no deadline.
func WaitForPods(ctx context.Context, client kubernetes.Interface, namespace, selector string, done func([]corev1.Pod) bool) ([]corev1.Pod, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWaitTimeout)
		defer cancel()
	}

	var pods []corev1.Pod
	var listErr error
	err := wait.PollUntilContextCancel(ctx, podPollInterval, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			// A failed list is retried until the deadline.
			listErr = err
			return false, nil
		}
		pods = activePods(list.Items)
		return done(pods), nil
	})
	if err != nil {
		return pods, fmt.Errorf("timed out waiting for pods %q in namespace %s (last seen: %s, last list error: %v): %w",
			selector, namespace, podNames(pods), listErr, err)
	}
	return pods, nil
}

// activePods returns the pods without a deletionTimestamp, sorted by name.
func activePods(pods []corev1.Pod) []corev1.Pod {
	active := make([]corev1.Pod, 0, len(pods))
	for _, pod := range pods {
		if pod.DeletionTimestamp == nil {
			active = append(active, pod)
		}
	}
	slices.SortFunc(active, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return active
}

func podNames(pods []corev1.Pod) string {
	names := make([]string, len(pods))
	for i, pod := range pods {
		names[i] = pod.Name
	}
	return "[" + strings.Join(names, " ") + "]"
}
