package admission

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// twoWarmTwoCold is the workload of the acceptance scenario: 4 replicas of
// which web-a and web-b had a cache miss 3 minutes ago.
func twoWarmTwoCold() []*corev1.Pod {
	return []*corev1.Pod{warmPod("web-a"), warmPod("web-b"), coldPod("web-c"), coldPod("web-d")}
}

func TestDecisionAllowsWithEnoughRemovable(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 2, "app=web"))

	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)
	assert.Nil(t, resp.Patch)
}

func TestDecisionDeniesAndNamesProtectedPods(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 1, "app=web"))

	assert.False(t, resp.Allowed)
	require.NotNil(t, resp.Result)
	assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
	assert.Equal(t, metav1.StatusReasonForbidden, resp.Result.Reason)
	assert.Equal(t,
		"veltrim: scale-down of Deployment llm/web from 4 to 1 replicas needs 3 removable pods, 2 found; "+
			"protected: web-a (cache miss 3m ago), web-b (cache miss 3m ago)",
		resp.Result.Message)
}

func TestDecisionClampsOnMutate(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)

	resp := admit(t, s.Server, mutatePath, scaleReview("deployments", "web", 4, 1, "app=web"))

	assert.True(t, resp.Allowed)
	require.NotNil(t, resp.PatchType)
	assert.Equal(t, admissionv1.PatchTypeJSONPatch, *resp.PatchType)
	assert.JSONEq(t, `[{"op":"add","path":"/spec/replicas","value":2}]`, string(resp.Patch))
	assert.Equal(t, []string{
		"veltrim: scale-down of Deployment llm/web to 1 replicas clamped to 2; protected: web-a (cache miss 3m ago), web-b (cache miss 3m ago)",
	}, resp.Warnings)
}

func TestDecisionMutateAllowsWithEnoughRemovable(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)

	resp := admit(t, s.Server, mutatePath, scaleReview("deployments", "web", 4, 2, "app=web"))

	assert.True(t, resp.Allowed)
	assert.Nil(t, resp.Patch)
	assert.Nil(t, resp.PatchType)
}

func TestDecisionScaleUpAndSameAlwaysPass(t *testing.T) {
	s := newTestServer(t, testConfig(), warmPod("web-a"))

	for _, path := range []string{validatePath, mutatePath} {
		for _, replicas := range []int32{1, 4} {
			resp := admit(t, s.Server, path, scaleReview("deployments", "web", 1, replicas, "app=web"))
			assert.True(t, resp.Allowed, "%s to %d", path, replicas)
			assert.Empty(t, resp.Warnings, "%s to %d", path, replicas)
			assert.Nil(t, resp.Patch, "%s to %d", path, replicas)
		}
	}
}

func TestDecisionNamesAtMostFivePods(t *testing.T) {
	var pods []*corev1.Pod
	for i := range 8 {
		pods = append(pods, busyPod(fmt.Sprintf("web-%d", i)))
	}
	s := newTestServer(t, testConfig(), pods...)

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 8, 7, "app=web"))

	require.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message,
		"protected: web-0 (CPU 64 % of request), web-1 (CPU 64 % of request), web-2 (CPU 64 % of request), "+
			"web-3 (CPU 64 % of request), web-4 (CPU 64 % of request) and 3 more")
}

func TestDecisionIgnoresTerminatingAndFinishedPods(t *testing.T) {
	terminating := coldPod("web-c")
	deleted := metav1.NewTime(testNow)
	terminating.DeletionTimestamp = &deleted
	terminating.Finalizers = []string{"example.com/hold"}
	succeeded := coldPod("web-d")
	succeeded.Status.Phase = corev1.PodSucceeded
	s := newTestServer(t, testConfig(), warmPod("web-a"), warmPod("web-b"), terminating, succeeded)

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 2, 1, "app=web"))

	assert.False(t, resp.Allowed, "the only removable pods are terminating or finished")
}

func TestDecisionCountsNotReadyPodsRemovable(t *testing.T) {
	notReady := warmPod("web-b")
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	pending := warmPod("web-c")
	pending.Status.Phase = corev1.PodPending
	unscheduled := warmPod("web-d")
	unscheduled.Spec.NodeName = ""
	s := newTestServer(t, testConfig(), warmPod("web-a"), notReady, pending, unscheduled)

	allowed := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 1, "app=web"))
	denied := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 4, 0, "app=web"))

	assert.True(t, allowed.Allowed)
	assert.False(t, denied.Allowed)
	assert.Contains(t, denied.Result.Message, "protected: web-a (cache miss 3m ago)")
}

func TestDecisionMatchesSelectorAndNamespace(t *testing.T) {
	otherApp := coldPod("api-a")
	otherApp.Labels = map[string]string{"app": "api"}
	otherNamespace := coldPod("web-z")
	otherNamespace.Namespace = "other"
	s := newTestServer(t, testConfig(), warmPod("web-a"), warmPod("web-b"), otherApp, otherNamespace)

	resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 2, 1, "app=web"))

	assert.False(t, resp.Allowed)
}

func TestDecisionUnknownPods(t *testing.T) {
	stale := coldPod("web-a")
	stale.Annotations["veltrim.io/observed-at"] = testNow.Add(-time.Hour).Format(time.RFC3339)
	missing := coldPod("web-b")
	missing.Annotations = nil
	invalid := coldPod("web-c")
	invalid.Annotations["veltrim.io/observed-at"] = "yesterday"

	tests := []struct {
		unknownPods string
		allowed     bool
	}{
		{unknownPods: "removable", allowed: true},
		{unknownPods: "protected", allowed: false},
	}
	for _, tt := range tests {
		t.Run(tt.unknownPods, func(t *testing.T) {
			cfg := testConfig()
			cfg.UnknownPods = tt.unknownPods
			s := newTestServer(t, cfg, stale.DeepCopy(), missing.DeepCopy(), invalid.DeepCopy())

			resp := admit(t, s.Server, validatePath, scaleReview("deployments", "web", 3, 2, "app=web"))

			assert.Equal(t, tt.allowed, resp.Allowed)
			if !tt.allowed {
				assert.Contains(t, resp.Result.Message,
					"web-a (state stale, observed 1h0m ago), web-b (no state published), web-c (no state published)")
			}
		})
	}
}

func TestDecisionEvaluatesAtDecisionTime(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)
	review := scaleReview("deployments", "web", 4, 1, "app=web")

	before := admit(t, s.Server, validatePath, review)
	// The warm pods' last miss was 3 minutes before testNow; 13 minutes
	// later it is outside the 15-minute cache window, but the published
	// state is then 13.5 minutes old and stale, which counts as removable.
	s.now = func() time.Time { return testNow.Add(13 * time.Minute) }
	after := admit(t, s.Server, validatePath, review)

	assert.False(t, before.Allowed)
	assert.True(t, after.Allowed)
}

func TestDecisionStatefulSetOrdinals(t *testing.T) {
	pod := func(ordinal int, warm bool) *corev1.Pod {
		var p *corev1.Pod
		if warm {
			p = warmPod(fmt.Sprintf("db-%d", ordinal))
		} else {
			p = coldPod(fmt.Sprintf("db-%d", ordinal))
		}
		p.Labels = map[string]string{"app": "db", "apps.kubernetes.io/pod-index": fmt.Sprint(ordinal)}
		return p
	}
	// The warm pods hold the highest ordinals, which a StatefulSet removes first.
	s := newTestServer(t, testConfig(), pod(0, false), pod(1, false), pod(2, true), pod(3, true))

	deny := admit(t, s.Server, validatePath, scaleReview("statefulsets", "db", 4, 2, "app=db"))
	clamp := admit(t, s.Server, mutatePath, scaleReview("statefulsets", "db", 4, 2, "app=db"))

	assert.False(t, deny.Allowed)
	assert.Contains(t, deny.Result.Message, "StatefulSet llm/db from 4 to 2 replicas needs 2 removable pods, 0 found; protected: db-3 (cache miss 3m ago), db-2 (cache miss 3m ago)")
	assert.JSONEq(t, `[{"op":"add","path":"/spec/replicas","value":4}]`, string(clamp.Patch))
}

func TestDecisionDeploymentUpdate(t *testing.T) {
	canary := coldPod("web-canary")
	canary.Labels["tier"] = "canary"
	s := newTestServer(t, testConfig(), warmPod("web-a"), warmPod("web-b"), coldPod("web-c"), canary)
	body := readFixture(t, "update-deployment.json")

	resp := decodeResponse(t, post(t, s.Server, validatePath, body))

	// 5 to 2 needs 3 removable: web-c and the two replicas without a pod.
	// The canary pod is outside the selector.
	assert.True(t, resp.Allowed)

	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(body, &review))
	review.Request.Object.Raw = []byte(`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}}}}`)
	denied := admit(t, s.Server, validatePath, &review)
	assert.False(t, denied.Allowed)
}

func TestDecisionIgnoresOtherRequests(t *testing.T) {
	s := newTestServer(t, testConfig(), warmPod("web-a"))

	resp := decodeResponse(t, post(t, s.Server, validatePath, readFixture(t, "create-pod.json")))

	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)
	assert.Equal(t, int64(1), decisionCount(t, s, outcomeIgnored))
}

func TestDecisionUnreadableScaleAllowedWithWarning(t *testing.T) {
	s := newTestServer(t, testConfig(), warmPod("web-a"))
	review := scaleReview("deployments", "web", 2, 1, "")

	resp := admit(t, s.Server, validatePath, review)

	assert.True(t, resp.Allowed)
	require.Len(t, resp.Warnings, 1)
	assert.Contains(t, resp.Warnings[0], "status.selector is empty")
}

func TestDecisionNegativeReplicasAllowedWithWarning(t *testing.T) {
	s := newTestServer(t, testConfig(), twoWarmTwoCold()...)
	review := scaleReview("deployments", "web", 4, -3, "app=web")

	resp := admit(t, s.Server, validatePath, review)

	assert.True(t, resp.Allowed)
	require.Len(t, resp.Warnings, 1)
	assert.Contains(t, resp.Warnings[0], `spec.replicas is negative, got "-3"`)
	assert.Nil(t, resp.Patch)
	assert.Equal(t, int64(1), decisionCount(t, s, outcomeIgnored))
}

func TestDecisionBeforeSync(t *testing.T) {
	s := newUnstartedServer(t, testConfig())

	resp := admit(t, s, validatePath, scaleReview("deployments", "web", 2, 1, "app=web"))

	assert.True(t, resp.Allowed)
	assert.Equal(t, []string{"veltrim: pod cache not synced yet; scale-down allowed without a decision"}, resp.Warnings)
}
