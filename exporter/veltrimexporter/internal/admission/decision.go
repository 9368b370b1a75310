package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/veltrix/veltrim/internal/policy"
)

// decide returns the response to one admission request. mode is policy.ModeDeny on
// /validate and policy.ModeClamp on /mutate. The response has no UID yet.
func (s *Server) decide(ctx context.Context, req *admissionv1.AdmissionRequest, mode string) (*admissionv1.AdmissionResponse, outcome) {
	sd, ok, err := parseScaleDown(req)
	if err != nil {
		s.logger.Warn("Failed to read a scale request; allowing it unchanged", zap.String("uid", string(req.UID)), zap.Error(err))
		return allowWithWarning(warningPrefix + err.Error()), outcomeIgnored
	}
	if !ok {
		return allow(), outcomeIgnored
	}

	if !s.podsSynced() {
		return allowWithWarning(warningPrefix + "pod cache not synced yet; scale-down allowed without a decision"), outcomeNotSynced
	}

	buf := getPodBuffer()
	pods, err := listPods(s.pods, s.keys, &sd, *buf)
	defer func() { putPodBuffer(buf, pods) }()
	if err != nil {
		s.logger.Warn("Failed to list pods; allowing the scale-down", zap.String("uid", string(req.UID)), zap.Error(err))
		return allowWithWarning(warningPrefix + "failed to list pods; scale-down allowed: " + err.Error()), outcomePolicyFailed
	}

	if !s.breaker.allow() {
		return allowWithWarning(fmt.Sprintf("%scircuit breaker open after %d failed policy evaluations; scale-down allowed without a decision",
			warningPrefix, s.cfg.Breaker.Failures)), outcomeBreakerOpen
	}
	result, err := s.engine.Evaluate(ctx, s.policyRequest(&sd, pods, mode))
	s.breaker.record(err == nil)
	if err != nil {
		return s.allowAfterPolicyFailure(req, err), outcomePolicyFailed
	}

	return s.apply(&sd, &result, mode)
}

func (s *Server) policyRequest(sd *scaleDown, pods []policy.Pod, mode string) *policy.Request {
	return &policy.Request{
		Namespace:   sd.namespace,
		Kind:        sd.kind,
		Name:        sd.name,
		OldReplicas: sd.oldReplicas,
		NewReplicas: sd.newReplicas,
		Ordered:     sd.ordered,
		Mode:        mode,
		Now:         s.now(),
		Pods:        pods,
	}
}

func (s *Server) allowAfterPolicyFailure(req *admissionv1.AdmissionRequest, err error) *admissionv1.AdmissionResponse {
	s.logger.Warn("Policy evaluation failed; allowing the scale-down",
		zap.String("uid", string(req.UID)),
		zap.String("namespace", req.Namespace),
		zap.String("name", req.Name),
		zap.Bool("timeout", errors.Is(err, policy.ErrTimeout)),
		zap.Error(err))
	return allowWithWarning(warningPrefix + firstLine(err) + "; scale-down allowed")
}

// apply turns the policy's result into the response: allow when enough
// pods are removable, else deny or clamp as the mode selects.
func (s *Server) apply(sd *scaleDown, result *policy.Result, mode string) (*admissionv1.AdmissionResponse, outcome) {
	if int32(result.Removable) >= sd.oldReplicas-sd.newReplicas {
		return allow(), outcomeAllowed
	}

	if mode == policy.ModeClamp {
		replicas := sd.oldReplicas - int32(result.Removable)
		resp := allowWithWarning(clampWarning(sd, result, replicas))
		patchType := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &patchType
		resp.Patch = replicasPatch(replicas)
		return resp, outcomeClamped
	}

	return &admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: denyMessage(sd, result),
		},
	}, outcomeDenied
}

// replicasPatch sets spec.replicas. It uses "add" rather than "replace"
// because a Scale of 0 replicas omits spec.replicas, and "add" replaces a
// member that exists.
func replicasPatch(replicas int32) []byte {
	return fmt.Appendf(nil, `[{"op":"add","path":"/spec/replicas","value":%d}]`, replicas)
}

func allow() *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: true}
}

func allowWithWarning(warning string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: true, Warnings: []string{warning}}
}
