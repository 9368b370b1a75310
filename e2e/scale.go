package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// ScaleResult is the outcome of one `kubectl scale`.
type ScaleResult struct {
	Command string
	// Output is what kubectl printed, standard output and error together.
	Output string
	// Err is kubectl's exit error; nil when the scale was accepted.
	Err error
}

// Accepted reports whether kubectl exited with status 0.
func (r ScaleResult) Accepted() bool {
	return r.Err == nil
}

// kubectlScale runs `kubectl scale deployment/<name> --replicas=<replicas>`,
// with --dry-run=server when dryRun is set: the apiserver runs the admission
// webhooks but stores nothing.
func kubectlScale(ctx context.Context, kubectl, kubeconfig, namespace, deployment string, replicas int32, dryRun bool) ScaleResult {
	args := []string{
		"--kubeconfig", kubeconfig, "--namespace", namespace,
		"scale", "deployment/" + deployment, fmt.Sprintf("--replicas=%d", replicas),
	}
	if dryRun {
		args = append(args, "--dry-run=server")
	}

	var output bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Stdout = &output
	cmd.Stderr = &output
	err := cmd.Run()
	return ScaleResult{
		Command: "kubectl " + strings.Join(args[4:], " "),
		Output:  strings.TrimSpace(output.String()),
		Err:     err,
	}
}
