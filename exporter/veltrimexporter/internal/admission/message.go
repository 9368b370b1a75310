package admission

import (
	"fmt"
	"strings"

	"github.com/veltrix/veltrim/internal/policy"
)

// maxNamedPods bounds how many protected pods a message names, so the
// message stays readable in `kubectl scale` output and in the HPA's
// FailedRescale event.
const maxNamedPods = 5

// warningPrefix starts every admission warning, which kubectl prints as
// "Warning: <text>", so a reader knows which webhook wrote it.
const warningPrefix = "veltrim: "

// denyMessage explains a denied scale-down. A policy's own message wins.
func denyMessage(sd *scaleDown, result *policy.Result) string {
	if result.Message != "" {
		return result.Message
	}
	return fmt.Sprintf("veltrim: scale-down of %s %s/%s from %d to %d replicas needs %d removable pods, %d found; protected: %s",
		sd.kind, sd.namespace, sd.name, sd.oldReplicas, sd.newReplicas,
		sd.oldReplicas-sd.newReplicas, result.Removable, formatProtected(result.Protected))
}

// clampWarning explains a lowered scale-down.
func clampWarning(sd *scaleDown, result *policy.Result, replicas int32) string {
	if result.Message != "" {
		return warningPrefix + result.Message
	}
	return fmt.Sprintf("%sscale-down of %s %s/%s to %d replicas clamped to %d; protected: %s",
		warningPrefix, sd.kind, sd.namespace, sd.name, sd.newReplicas, replicas, formatProtected(result.Protected))
}

// formatProtected lists up to maxNamedPods pods with their reasons.
func formatProtected(protected []policy.ProtectedPod) string {
	if len(protected) == 0 {
		return "none named by the policy"
	}

	var b strings.Builder
	for i, pod := range protected {
		if i == maxNamedPods {
			fmt.Fprintf(&b, " and %d more", len(protected)-maxNamedPods)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", pod.Name, pod.Reason)
	}
	return b.String()
}

// firstLine drops the Lua stack traceback from a policy error, because an
// admission warning is one line.
func firstLine(err error) string {
	text, _, _ := strings.Cut(err.Error(), "\n")
	return text
}
