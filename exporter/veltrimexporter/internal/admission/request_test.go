package admission

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func decodeFixture(t *testing.T, name string) *admissionv1.AdmissionRequest {
	t.Helper()
	review, err := decodeReview(readFixture(t, name))
	require.NoError(t, err)
	return review.Request
}

func TestParseScaleDownFixtures(t *testing.T) {
	tests := []struct {
		fixture  string
		kind     string
		old, new int32
		selector string
		ordered  bool
	}{
		{fixture: "scale-deployment.json", kind: "Deployment", old: 4, new: 1, selector: "app=web"},
		{fixture: "scale-statefulset-to-zero.json", kind: "StatefulSet", old: 3, new: 0, selector: "app=db,tier in (cache)", ordered: true},
		{fixture: "update-deployment.json", kind: "Deployment", old: 5, new: 2, selector: "app=web,tier notin (canary)"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			sd, ok, err := parseScaleDown(decodeFixture(t, tt.fixture))

			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, "llm", sd.namespace)
			assert.Equal(t, tt.kind, sd.kind)
			assert.Equal(t, tt.old, sd.oldReplicas)
			assert.Equal(t, tt.new, sd.newReplicas)
			assert.Equal(t, tt.selector, sd.selector.String())
			assert.Equal(t, tt.ordered, sd.ordered)
		})
	}
}

func TestParseScaleDownIgnores(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *admissionv1.AdmissionRequest)
	}{
		{name: "create", edit: func(r *admissionv1.AdmissionRequest) { r.Operation = admissionv1.Create }},
		{name: "delete", edit: func(r *admissionv1.AdmissionRequest) { r.Operation = admissionv1.Delete }},
		{name: "core group", edit: func(r *admissionv1.AdmissionRequest) { r.Resource.Group = "" }},
		{name: "daemonsets", edit: func(r *admissionv1.AdmissionRequest) { r.Resource.Resource = "daemonsets" }},
		{name: "status subresource", edit: func(r *admissionv1.AdmissionRequest) { r.SubResource = "status" }},
		{name: "scale of another version", edit: func(r *admissionv1.AdmissionRequest) { r.Kind.Version = "v2" }},
		{name: "scale as deployment kind", edit: func(r *admissionv1.AdmissionRequest) {
			r.Kind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
		}},
		{name: "scale up", edit: func(r *admissionv1.AdmissionRequest) {
			r.Object.Raw = []byte(`{"spec":{"replicas":9},"status":{"selector":"app=web"}}`)
		}},
		{name: "same replicas", edit: func(r *admissionv1.AdmissionRequest) {
			r.Object.Raw = []byte(`{"spec":{"replicas":4},"status":{"selector":"app=web"}}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := decodeFixture(t, "scale-deployment.json")
			tt.edit(req)

			_, ok, err := parseScaleDown(req)

			assert.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

func TestParseScaleDownReplicaSetUpdateIgnored(t *testing.T) {
	req := decodeFixture(t, "update-deployment.json")
	req.Resource.Resource = "replicasets"
	req.Kind.Kind = "ReplicaSet"

	_, ok, err := parseScaleDown(req)

	assert.NoError(t, err)
	assert.False(t, ok, "the Deployment controller updates ReplicaSets directly; only their scale subresource is decided")
}

func TestParseScaleDownSelectorFromOldObject(t *testing.T) {
	req := decodeFixture(t, "scale-deployment.json")
	req.Object.Raw = []byte(`{"spec":{"replicas":2},"status":{}}`)

	sd, ok, err := parseScaleDown(req)

	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "app=web", sd.selector.String())
}

func TestParseScaleDownDeploymentReplicasDefault(t *testing.T) {
	req := decodeFixture(t, "update-deployment.json")
	req.OldObject.Raw = []byte(`{"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}}}}`)
	req.Object.Raw = []byte(`{"spec":{"selector":{"matchLabels":{"app":"web"}}}}`)

	sd, ok, err := parseScaleDown(req)

	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int32(1), sd.newReplicas, "an unset spec.replicas means 1")
}

func TestParseScaleDownUnreadable(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		object  string
		old     string
		want    string
	}{
		{name: "scale object missing", fixture: "scale-deployment.json", object: "", want: "object is missing"},
		{name: "scale old object missing", fixture: "scale-deployment.json", object: `{"spec":{"replicas":1}}`, old: "-", want: "oldObject is missing"},
		{name: "scale object not json", fixture: "scale-deployment.json", object: `{"spec":`, want: "object: unexpected end of JSON input"},
		{name: "scale replicas string", fixture: "scale-deployment.json", object: `{"spec":{"replicas":"1"}}`, want: "object: json: cannot unmarshal string"},
		{name: "scale replicas negative", fixture: "scale-deployment.json",
			object: `{"spec":{"replicas":-3},"status":{"selector":"app=web"}}`, want: `object: spec.replicas is negative, got "-3"`},
		{name: "scale old replicas negative", fixture: "scale-deployment.json", object: `{"spec":{"replicas":1},"status":{"selector":"app=web"}}`,
			old: `{"spec":{"replicas":-1},"status":{"selector":"app=web"}}`, want: `oldObject: spec.replicas is negative, got "-1"`},
		{name: "deployment replicas negative", fixture: "update-deployment.json",
			object: `{"spec":{"replicas":-3,"selector":{"matchLabels":{"app":"web"}}}}`, want: `object: spec.replicas is negative, got "-3"`},
		{name: "no selector", fixture: "scale-deployment.json", object: `{"spec":{"replicas":1}}`, old: `{"spec":{"replicas":4}}`, want: "status.selector is empty"},
		{name: "bad selector", fixture: "scale-deployment.json", object: `{"spec":{"replicas":1},"status":{"selector":"app in web"}}`, want: `status.selector "app in web"`},
		{name: "deployment without selector", fixture: "update-deployment.json", object: `{"spec":{"replicas":1}}`, want: "spec.selector is empty"},
		{name: "deployment empty selector", fixture: "update-deployment.json", object: `{"spec":{"replicas":1,"selector":{}}}`, want: "spec.selector is empty"},
		{name: "deployment bad selector", fixture: "update-deployment.json",
			object: `{"spec":{"replicas":1,"selector":{"matchExpressions":[{"key":"app","operator":"Near"}]}}}`, want: "spec.selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := decodeFixture(t, tt.fixture)
			req.Object.Raw = []byte(tt.object)
			switch tt.old {
			case "-":
				req.OldObject.Raw = nil
			case "":
			default:
				req.OldObject.Raw = []byte(tt.old)
			}

			_, ok, err := parseScaleDown(req)

			require.ErrorIs(t, err, errUnreadableObject)
			assert.False(t, ok)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "llm/")
		})
	}
}
