package k8stest

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// DeploymentImage is the container image of pods made by NewDeployment. No
// kubelet runs, so it is never pulled.
const DeploymentImage = "registry.k8s.io/pause:3.10"

// Resource requests of the container made by NewDeployment. veltrim compares
// CPU usage to the CPU request, so the pods carry one.
const (
	deploymentCPURequest    = "500m"
	deploymentMemoryRequest = "64Mi"
)

// NewDeployment returns a Deployment whose pods are labelled app=name and
// run one container named "main" with CPU and memory requests.
func NewDeployment(namespace, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "main",
						Image: DeploymentImage,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse(deploymentCPURequest),
							corev1.ResourceMemory: resource.MustParse(deploymentMemoryRequest),
						}},
					}},
				},
			},
		},
	}
}

// CreateDeployment creates NewDeployment(namespace, name, replicas). The
// Deployment gets pods only when the Cluster runs kube-controller-manager.
func CreateDeployment(ctx context.Context, client kubernetes.Interface, namespace, name string, replicas int32) (*appsv1.Deployment, error) {
	return client.AppsV1().Deployments(namespace).Create(ctx, NewDeployment(namespace, name, replicas), metav1.CreateOptions{})
}

// ScaleDeployment sets the replicas of a Deployment through its scale
// subresource with a merge patch, as kubectl scale does. A patch carries no
// resourceVersion, so it does not conflict with the deployment controller's
// status updates. Admission webhooks see the request as an UPDATE of
// deployments/scale.
func ScaleDeployment(ctx context.Context, client kubernetes.Interface, namespace, name string, replicas int32) (*autoscalingv1.Scale, error) {
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	scale := &autoscalingv1.Scale{}
	err := client.AppsV1().RESTClient().Patch(types.MergePatchType).
		Namespace(namespace).Resource("deployments").Name(name).SubResource("scale").
		Body([]byte(patch)).Do(ctx).Into(scale)
	if err != nil {
		return nil, fmt.Errorf("failed to scale Deployment %s/%s to %d: %w", namespace, name, replicas, err)
	}
	return scale, nil
}

// MakeDeploymentReady waits until the Deployment has as many pods as its
// replicas, then makes them Running and Ready on nodeName as MakePodsReady does.
func MakeDeploymentReady(ctx context.Context, client kubernetes.Interface, deployment *appsv1.Deployment, nodeName string) ([]corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(deployment.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector of Deployment %s/%s: %w", deployment.Namespace, deployment.Name, err)
	}

	replicas := int32(1)
	if deployment.Spec.Replicas != nil {
		replicas = *deployment.Spec.Replicas
	}
	return MakePodsReady(ctx, client, deployment.Namespace, selector.String(), nodeName, int(replicas))
}
