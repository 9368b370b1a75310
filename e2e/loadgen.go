package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	corev1 "k8s.io/api/core/v1"
)

// LoadReport is veltrim-loadgen's JSON report (-report json).
type LoadReport struct {
	Endpoint       string          `json:"endpoint"`
	SpansSent      int64           `json:"spansSent"`
	UniqueSpans    int64           `json:"uniqueSpans"`
	ResentSpans    int64           `json:"resentSpans"`
	ResentRequests int64           `json:"resentRequests"`
	ExportRequests int64           `json:"exportRequests"`
	RequestSpans   int64           `json:"requestSpans"`
	CacheMissSpans int64           `json:"cacheMissSpans"`
	StormSpans     int64           `json:"stormSpans"`
	StormSpanName  string          `json:"stormSpanName"`
	Pods           []LoadPodReport `json:"pods"`
}

// LoadPodReport is what the load generator sent for one pod.
type LoadPodReport struct {
	Namespace      string `json:"namespace"`
	Name           string `json:"name"`
	UID            string `json:"uid"`
	RequestSpans   int64  `json:"requestSpans"`
	ResentSpans    int64  `json:"resentSpans"`
	CacheMissSpans int64  `json:"cacheMissSpans"`
	StormSpans     int64  `json:"stormSpans"`
}

// SentSpan is one unique span of the load generator's manifest.
type SentSpan struct {
	TraceID  string `json:"traceId"`
	SpanID   string `json:"spanId"`
	Pod      string `json:"pod"`
	Category string `json:"category"`
	Resent   bool   `json:"resent"`
}

// Span categories of the manifest.
const (
	CategoryRequest   = "request"
	CategoryCacheMiss = "cache-miss"
	CategoryStorm     = "storm"
)

// RunLoadgen sends the load generator's default scenario for pods to the
// OTLP/gRPC endpoint, and returns its report and the spans of its manifest.
func RunLoadgen(ctx context.Context, binary, endpoint, manifestPath string, pods []corev1.Pod) (LoadReport, []SentSpan, error) {
	args := []string{"-endpoint", endpoint, "-report", "json", "-manifest", manifestPath}
	for _, pod := range pods {
		args = append(args, "-pod", pod.Namespace+"/"+pod.Name+"/"+string(pod.UID))
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return LoadReport{}, nil, fmt.Errorf("veltrim-loadgen failed: %w: %s", err, stderr.String())
	}

	var report LoadReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		return LoadReport{}, nil, fmt.Errorf("failed to read the veltrim-loadgen report: %w", err)
	}
	spans, err := readManifest(manifestPath)
	return report, spans, err
}

func readManifest(path string) ([]SentSpan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the veltrim-loadgen manifest: %w", err)
	}
	var spans []SentSpan
	if err := json.Unmarshal(data, &spans); err != nil {
		return nil, fmt.Errorf("failed to decode the veltrim-loadgen manifest %s: %w", path, err)
	}
	return spans, nil
}
