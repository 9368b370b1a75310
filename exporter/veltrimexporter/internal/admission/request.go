package admission

import (
	"encoding/json"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// scaleDown is a request to lower a workload's replicas.
type scaleDown struct {
	namespace string
	// kind is the workload's kind: Deployment, StatefulSet or ReplicaSet.
	kind        string
	name        string
	oldReplicas int32
	newReplicas int32
	selector    labels.Selector
	// ordered is true for StatefulSets, which remove the highest ordinals first.
	ordered bool
}

// workloadKinds maps the apps/v1 resources whose scale-downs are decided to
// their kinds. fullObject marks the kinds whose own updates are decided too,
// not only updates of their scale subresource.
var workloadKinds = map[string]struct {
	kind       string
	fullObject bool
}{
	"deployments":  {kind: "Deployment", fullObject: true},
	"statefulsets": {kind: "StatefulSet", fullObject: true},
	"replicasets":  {kind: "ReplicaSet"},
}

// errUnreadableObject is returned for a request of a known kind whose
// object or old object does not decode or carries no selector.
var errUnreadableObject = errors.New("unreadable object")

// parseScaleDown returns the scale-down a request contains. ok is false for
// every request that is not one: another operation, resource or kind, or
// replicas that do not go down.
func parseScaleDown(req *admissionv1.AdmissionRequest) (sd scaleDown, ok bool, err error) {
	if req.Operation != admissionv1.Update || req.Resource.Group != "apps" {
		return scaleDown{}, false, nil
	}
	workload, known := workloadKinds[req.Resource.Resource]
	if !known {
		return scaleDown{}, false, nil
	}

	switch {
	case req.SubResource == "scale" && req.Kind.Group == "autoscaling" && req.Kind.Version == "v1" && req.Kind.Kind == "Scale":
		sd, err = readScale(req)
	case req.SubResource == "" && workload.fullObject && req.Kind.Group == "apps" && req.Kind.Version == "v1" && req.Kind.Kind == workload.kind:
		sd, err = readWorkload(req)
	default:
		return scaleDown{}, false, nil
	}
	if err != nil {
		return scaleDown{}, false, fmt.Errorf("%w: %s %s/%s: %w", errUnreadableObject, req.Resource.Resource, req.Namespace, req.Name, err)
	}

	sd.namespace = req.Namespace
	sd.name = req.Name
	sd.kind = workload.kind
	sd.ordered = req.Resource.Resource == "statefulsets"
	return sd, sd.newReplicas < sd.oldReplicas, nil
}

// scaleObject is the part of an autoscaling/v1 Scale the decision reads.
// spec.replicas is omitted from the JSON when it is 0.
type scaleObject struct {
	Spec struct {
		Replicas int32 `json:"replicas"`
	} `json:"spec"`
	Status struct {
		Selector string `json:"selector"`
	} `json:"status"`
}

func readScale(req *admissionv1.AdmissionRequest) (scaleDown, error) {
	var object, old scaleObject
	if err := decodeObject(req.Object.Raw, &object, "object"); err != nil {
		return scaleDown{}, err
	}
	if err := decodeObject(req.OldObject.Raw, &old, "oldObject"); err != nil {
		return scaleDown{}, err
	}

	// The new Scale is what the client sent, merged into the current one;
	// the old Scale always carries the selector the controller uses.
	selectorText := object.Status.Selector
	if selectorText == "" {
		selectorText = old.Status.Selector
	}
	if selectorText == "" {
		return scaleDown{}, errors.New("status.selector is empty")
	}
	selector, err := labels.Parse(selectorText)
	if err != nil {
		return scaleDown{}, fmt.Errorf("status.selector %q: %w", selectorText, err)
	}
	if selector.Empty() {
		return scaleDown{}, fmt.Errorf("status.selector %q matches every pod", selectorText)
	}
	sd := scaleDown{oldReplicas: old.Spec.Replicas, newReplicas: object.Spec.Replicas, selector: selector}
	return sd, sd.checkReplicas()
}

// workloadObject is the part of an apps/v1 Deployment or StatefulSet the
// decision reads.
type workloadObject struct {
	Spec struct {
		Replicas *int32                `json:"replicas"`
		Selector *metav1.LabelSelector `json:"selector"`
	} `json:"spec"`
}

// replicas returns spec.replicas, which defaults to 1 when it is unset.
func (w *workloadObject) replicas() int32 {
	if w.Spec.Replicas == nil {
		return 1
	}
	return *w.Spec.Replicas
}

func readWorkload(req *admissionv1.AdmissionRequest) (scaleDown, error) {
	var object, old workloadObject
	if err := decodeObject(req.Object.Raw, &object, "object"); err != nil {
		return scaleDown{}, err
	}
	if err := decodeObject(req.OldObject.Raw, &old, "oldObject"); err != nil {
		return scaleDown{}, err
	}

	// An empty selector would match every pod of the namespace, so it is
	// treated as unreadable; the API server rejects such workloads anyway.
	if object.Spec.Selector == nil || len(object.Spec.Selector.MatchLabels)+len(object.Spec.Selector.MatchExpressions) == 0 {
		return scaleDown{}, errors.New("spec.selector is empty")
	}
	selector, err := metav1.LabelSelectorAsSelector(object.Spec.Selector)
	if err != nil {
		return scaleDown{}, fmt.Errorf("spec.selector: %w", err)
	}
	sd := scaleDown{oldReplicas: old.replicas(), newReplicas: object.replicas(), selector: selector}
	return sd, sd.checkReplicas()
}

// checkReplicas rejects a negative replica count, which would otherwise be
// read as a scale-down below 0 pods. The API server's own validation rejects
// such a count, but mutating webhooks are called before it runs.
func (sd *scaleDown) checkReplicas() error {
	if sd.newReplicas < 0 {
		return fmt.Errorf("object: spec.replicas is negative, got \"%d\"", sd.newReplicas)
	}
	if sd.oldReplicas < 0 {
		return fmt.Errorf("oldObject: spec.replicas is negative, got \"%d\"", sd.oldReplicas)
	}
	return nil
}

func decodeObject(raw []byte, into any, field string) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s is missing", field)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}
