package admission

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// podTrimmer returns an informer transform that keeps only what a decision
// reads, because the informer caches every pod of the cluster. The
// transform is idempotent and passes anything that is not a pod through.
func podTrimmer(keys annotationKeys) cache.TransformFunc {
	stateKeys := []string{keys.cacheState, keys.lastCacheMiss, keys.cacheMisses, keys.cpu, keys.observedAt}

	return func(obj any) (any, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}

		trimmed := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:              pod.Name,
				Namespace:         pod.Namespace,
				UID:               pod.UID,
				ResourceVersion:   pod.ResourceVersion,
				Labels:            pod.Labels,
				DeletionTimestamp: pod.DeletionTimestamp,
			},
			Spec:   corev1.PodSpec{NodeName: pod.Spec.NodeName},
			Status: corev1.PodStatus{Phase: pod.Status.Phase},
		}
		for _, key := range stateKeys {
			if value, ok := pod.Annotations[key]; ok {
				if trimmed.Annotations == nil {
					trimmed.Annotations = make(map[string]string, len(stateKeys))
				}
				trimmed.Annotations[key] = value
			}
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady {
				trimmed.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status}}
				break
			}
		}
		return trimmed, nil
	}
}
