package k8stest

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultNodeName is the Node that MakePodsReady binds pods to when the
// caller names none.
const DefaultNodeName = "veltrim-node-0"

// Capacity of a Node made by CreateNode, sized so that tests never hit it.
const (
	nodeCPU    = "64"
	nodeMemory = "256Gi"
	nodePods   = "500"
)

// CreateNode registers a Ready Node with address 127.0.0.1. No kubelet runs
// behind it, and nothing marks it NotReady later since the node lifecycle
// controller is not among DefaultControllers.
func CreateNode(ctx context.Context, client kubernetes.Interface, name string) (*corev1.Node, error) {
	// Unlike most resources, a Node keeps the status given on create.
	return client.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelOSStable: "linux"},
		},
		Status: nodeStatus(time.Now()),
	}, metav1.CreateOptions{})
}

func nodeStatus(now time.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(nodeCPU),
		corev1.ResourceMemory: resource.MustParse(nodeMemory),
		corev1.ResourcePods:   resource.MustParse(nodePods),
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type:               corev1.NodeReady,
			Status:             corev1.ConditionTrue,
			Reason:             "KubeletReady",
			Message:            "no kubelet runs: the k8stest harness reports this node ready",
			LastHeartbeatTime:  metav1.NewTime(now),
			LastTransitionTime: metav1.NewTime(now),
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: "localhost"},
		},
	}
}
