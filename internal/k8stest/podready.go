package k8stest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// nodeIP is the host IP of every pod that MakePodsReady binds.
const nodeIP = "127.0.0.1"

// podIPCounter numbers the pod IPs handed out by this process.
var podIPCounter atomic.Uint32

// MakePodsReady does the scheduler's and the kubelet's visible work for the
// pods in namespace that match selector. It waits until at least count of
// them exist without a deletionTimestamp. It creates Node nodeName if it is
// missing (DefaultNodeName when nodeName is empty) and binds each unbound pod
// to it through the binding subresource. It then sets each pod's status to
// Running, with the PodScheduled, Initialized, ContainersReady and Ready
// conditions true, a pod IP and running container statuses.
//
// Each pod gets its own IP in 127.0.0.0/8, so anything that dials one stays
// on this machine. Pods that are already Ready keep their status. The pods
// are returned sorted by name, as kube-apiserver stored them.
func MakePodsReady(ctx context.Context, client kubernetes.Interface, namespace, selector, nodeName string, count int) ([]corev1.Pod, error) {
	if nodeName == "" {
		nodeName = DefaultNodeName
	}
	if err := ensureNode(ctx, client, nodeName); err != nil {
		return nil, err
	}

	pods, err := WaitForPods(ctx, client, namespace, selector, func(pods []corev1.Pod) bool {
		return len(pods) >= count
	})
	if err != nil {
		return nil, err
	}

	ready := make([]corev1.Pod, 0, len(pods))
	for i := range pods {
		pod, err := makePodReady(ctx, client, &pods[i], nodeName)
		if err != nil {
			return nil, fmt.Errorf("failed to make pod %s/%s ready: %w", namespace, pods[i].Name, err)
		}
		ready = append(ready, *pod)
	}
	return ready, nil
}

func ensureNode(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = CreateNode(ctx, client, name)
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
	}
	return err
}

// makePodReady binds pod to nodeName unless it is bound, then writes a
// Running and Ready status, retrying when another writer got there first.
func makePodReady(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, nodeName string) (*corev1.Pod, error) {
	if pod.Spec.NodeName == "" {
		err := client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: nodeName},
		}, metav1.CreateOptions{})
		// A conflict means the pod was bound since it was listed.
		if err != nil && !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("failed to bind to node %s: %w", nodeName, err)
		}
	}

	var updated *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if current.UID != pod.UID {
			return fmt.Errorf("pod was replaced by one with UID %s", current.UID)
		}
		if isPodReady(current) {
			updated = current
			return nil
		}

		current.Status = runningStatus(current, metav1.Now())
		updated, err = client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
	return updated, err
}

func isPodReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// runningStatus returns the status a kubelet reports for pod once all its
// containers run and pass their readiness probes. It keeps the pod's QoS
// class and any pod IP it already has.
func runningStatus(pod *corev1.Pod, now metav1.Time) corev1.PodStatus {
	podIP := pod.Status.PodIP
	if podIP == "" {
		podIP = nextPodIP()
	}

	status := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		QOSClass:  pod.Status.QOSClass,
		HostIP:    nodeIP,
		HostIPs:   []corev1.HostIP{{IP: nodeIP}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &now,
	}
	for _, condition := range []corev1.PodConditionType{
		corev1.PodReadyToStartContainers, corev1.PodScheduled, corev1.PodInitialized,
		corev1.ContainersReady, corev1.PodReady,
	} {
		status.Conditions = append(status.Conditions, corev1.PodCondition{
			Type: condition, Status: corev1.ConditionTrue, LastTransitionTime: now,
		})
	}
	for _, c := range pod.Spec.InitContainers {
		status.InitContainerStatuses = append(status.InitContainerStatuses, completedContainerStatus(c, now))
	}
	for _, c := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, runningContainerStatus(c, now))
	}
	return status
}

func runningContainerStatus(c corev1.Container, now metav1.Time) corev1.ContainerStatus {
	started := true
	return corev1.ContainerStatus{
		Name:        c.Name,
		Image:       c.Image,
		ImageID:     c.Image,
		ContainerID: newContainerID(),
		Ready:       true,
		Started:     &started,
		State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
	}
}

// completedContainerStatus reports an init container that exited with 0.
func completedContainerStatus(c corev1.Container, now metav1.Time) corev1.ContainerStatus {
	started := false
	containerID := newContainerID()
	return corev1.ContainerStatus{
		Name:        c.Name,
		Image:       c.Image,
		ImageID:     c.Image,
		ContainerID: containerID,
		Ready:       true,
		Started:     &started,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: containerID,
		}},
	}
}

// nextPodIP returns a loopback address no earlier call returned, from 127.1.0.1 on.
func nextPodIP() string {
	n := podIPCounter.Add(1)
	return fmt.Sprintf("127.%d.%d.%d", 1+(n>>16)&0xff, (n>>8)&0xff, n&0xff)
}

func newContainerID() string {
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return "containerd://" + hex.EncodeToString(id)
}
