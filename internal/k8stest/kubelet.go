package k8stest

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// kubeletResync is the period at which the informer delivers every cached
// pod to the kubelet stand-in again, so a failed action is retried.
const kubeletResync = 5 * time.Second

// kubeletStandIn does, for every pod in the cluster, the parts of the
// scheduler's and the kubelet's work that the API shows.
//
// kube-apiserver only sets a deletionTimestamp on a pod bound to a node, and
// the kubelet removes the pod once its containers stop. Without a kubelet
// the pod would stay Terminating, so the stand-in deletes it with grace
// period 0. If readyNode is set, it also binds each new pod to that Node and
// reports it Running and Ready, as MakePodsReady does.
type kubeletStandIn struct {
	factory informers.SharedInformerFactory
	cancel  context.CancelFunc
}

// startKubeletStandIn watches pods in every namespace until stop is called.
func startKubeletStandIn(client kubernetes.Interface, finishDeletions bool, readyNode string) (*kubeletStandIn, error) {
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(client, kubeletResync)
	informer := factory.Core().V1().Pods().Informer()

	handle := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		switch {
		case !ok:
		case pod.DeletionTimestamp != nil:
			if finishDeletions {
				_ = forceDeletePod(ctx, client, pod)
			}
		case readyNode != "" && !isPodReady(pod):
			_, _ = makePodReady(ctx, client, pod, readyNode)
		}
	}
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	if err != nil {
		cancel()
		return nil, err
	}

	factory.Start(ctx.Done())
	return &kubeletStandIn{factory: factory, cancel: cancel}, nil
}

// stop ends the watch and waits for the informer goroutines to return.
func (k *kubeletStandIn) stop() {
	k.cancel()
	k.factory.Shutdown()
}

// forceDeletePod deletes pod with grace period 0. The UID precondition keeps
// a new pod of the same name, as a StatefulSet creates, from being deleted.
// A pod that is already gone counts as deleted.
func forceDeletePod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod) error {
	var zero int64
	err := client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// DeleteTerminatingPods force-deletes every pod in namespace that carries a
// deletionTimestamp and returns how many it deleted. A Cluster does this on
// its own unless Options.KeepTerminatingPods is set.
func DeleteTerminatingPods(ctx context.Context, client kubernetes.Interface, namespace string) (int, error) {
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}

	deleted := 0
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.DeletionTimestamp == nil {
			continue
		}
		if err := forceDeletePod(ctx, client, pod); err != nil {
			return deleted, err
		}
		deleted++
	}
	return deleted, nil
}
