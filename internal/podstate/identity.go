package podstate

import "go.opentelemetry.io/collector/pdata/pcommon"

// Resource attributes that identify a pod, as set by the k8sattributes processor.
const (
	AttrPodUID        = "k8s.pod.uid"
	AttrPodName       = "k8s.pod.name"
	AttrNamespaceName = "k8s.namespace.name"
	AttrServiceName   = "service.name"
)

// Identity names one pod. UID is preferred; Namespace and Name are the
// fallback when the UID is unknown.
type Identity struct {
	UID       string
	Namespace string
	Name      string
}

// Key returns a string that is unique per pod: the UID when known, else
// "namespace/name".
func (id Identity) Key() string {
	if id.UID != "" {
		return id.UID
	}
	return id.Namespace + "/" + id.Name
}

// IdentityFromResource reads the pod identity from resource attributes. It
// reports false when the resource carries neither k8s.pod.uid nor both
// k8s.namespace.name and k8s.pod.name.
func IdentityFromResource(attrs pcommon.Map) (Identity, bool) {
	id := Identity{
		UID:       stringAttr(attrs, AttrPodUID),
		Namespace: stringAttr(attrs, AttrNamespaceName),
		Name:      stringAttr(attrs, AttrPodName),
	}
	if id.UID == "" && (id.Namespace == "" || id.Name == "") {
		return Identity{}, false
	}
	return id, true
}

func stringAttr(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}
