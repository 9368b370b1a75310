package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/veltrix/veltrim/internal/k8stest"
)

// PipelineCounts are the collector's own metrics once it has handled a load.
type PipelineCounts struct {
	// Received counts the spans the OTLP receiver accepted.
	Received int64
	// ProcessorIn counts the spans that reached the veltrim processor.
	ProcessorIn int64
	Duplicates  int64
	Storm       int64
	CacheMisses int64
	// ExportedFile and ExportedDebug count the spans each exporter sent.
	ExportedFile  int64
	ExportedDebug int64
}

// SendLoad runs veltrim-loadgen against the collector with the
// Deployment's pods and returns its report and manifest.
func (s *Scenario) SendLoad(ctx context.Context) (LoadReport, []SentSpan, error) {
	s.opts.Progress("sending OTLP spans with veltrim-loadgen")
	manifest := filepath.Join(s.workDir, "loadgen-manifest.json")
	return RunLoadgen(ctx, s.opts.Binaries.Loadgen, s.OTLPEndpoint(), manifest, s.Pods)
}

// WaitForPipeline waits until the veltrim processor has seen every span of
// load and the file exporter has sent every span the processor kept, then
// returns the counts. It reads only the collector's metrics.
func (s *Scenario) WaitForPipeline(ctx context.Context, load LoadReport) (PipelineCounts, error) {
	var counts PipelineCounts
	err := pollUntil(ctx, "the collector to export the load", func(ctx context.Context) (bool, error) {
		if err := s.collector.exited(); err != nil {
			return false, err
		}
		metrics, err := s.Metrics(ctx)
		if err != nil {
			return false, nil
		}
		counts = pipelineCounts(metrics)
		kept := counts.ProcessorIn - counts.Duplicates - counts.Storm
		return counts.ProcessorIn >= load.SpansSent && counts.ExportedFile >= kept && counts.ExportedDebug >= kept, nil
	})
	return counts, err
}

func pipelineCounts(m Metrics) PipelineCounts {
	return PipelineCounts{
		Received:      m.Value(MetricReceiverAccepted, map[string]string{"receiver": "otlp"}),
		ProcessorIn:   m.Value(MetricVeltrimSpansIn, nil),
		Duplicates:    m.Value(MetricVeltrimDuplicates, nil),
		Storm:         m.Value(MetricVeltrimStorm, nil),
		CacheMisses:   m.Value(MetricVeltrimCacheMiss, nil),
		ExportedFile:  m.Value(MetricExporterSent, map[string]string{"exporter": "file"}),
		ExportedDebug: m.Value(MetricExporterSent, map[string]string{"exporter": "debug"}),
	}
}

// WaitForAnnotations waits until the exporter has published every pod's
// state with the cache state the load implies: warm for the pods that sent
// cache-miss spans, with their number of misses, cold for the others. It
// returns the pods' annotations as kube-apiserver stores them.
func (s *Scenario) WaitForAnnotations(ctx context.Context, load LoadReport) ([]PodView, error) {
	expected := map[string]LoadPodReport{}
	for _, p := range load.Pods {
		expected[p.Name] = p
	}

	var views []PodView
	err := pollUntil(ctx, "the pod annotations", func(ctx context.Context) (bool, error) {
		var err error
		if views, err = s.PodViews(ctx); err != nil {
			return false, nil
		}
		for _, v := range views {
			if !annotationsMatch(v, expected[v.Name]) {
				return false, nil
			}
		}
		return len(views) == len(expected), nil
	})
	return views, err
}

func annotationsMatch(v PodView, sent LoadPodReport) bool {
	if !v.Published() || v.DeletionCost == "" {
		return false
	}
	if sent.CacheMissSpans > 0 {
		return v.CacheState == "warm" && v.CacheMisses == strconv.FormatInt(sent.CacheMissSpans, 10)
	}
	return v.CacheState == "cold"
}

// PodViews reads the annotations of the Deployment's pods that have no
// deletionTimestamp, sorted by name.
func (s *Scenario) PodViews(ctx context.Context) ([]PodView, error) {
	pods, err := s.activePods(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]PodView, len(pods))
	for i := range pods {
		views[i] = viewPod(&pods[i], AnnotationPrefix)
	}
	return views, nil
}

func (s *Scenario) activePods(ctx context.Context) ([]corev1.Pod, error) {
	return k8stest.WaitForPods(ctx, s.Client(), s.opts.Namespace, s.selector(), func([]corev1.Pod) bool { return true })
}

func (s *Scenario) selector() string {
	return "app=" + s.opts.Deployment
}

// Scale runs `kubectl scale` on the Deployment, for real.
func (s *Scenario) Scale(ctx context.Context, replicas int32) ScaleResult {
	s.opts.Progress("kubectl scale deployment/%s --replicas=%d", s.opts.Deployment, replicas)
	return kubectlScale(ctx, s.opts.Binaries.Kubectl, s.cluster.KubeconfigPath(), s.opts.Namespace, s.opts.Deployment, replicas, false)
}

// Replicas returns the Deployment's spec.replicas as kube-apiserver stores it.
func (s *Scenario) Replicas(ctx context.Context) (int32, error) {
	d, err := s.Client().AppsV1().Deployments(s.opts.Namespace).Get(ctx, s.opts.Deployment, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

// WaitForReplicas waits until the Deployment has exactly replicas pods
// without a deletionTimestamp, and returns them with the names of the pods
// that were there at the start and are gone now.
func (s *Scenario) WaitForReplicas(ctx context.Context, replicas int) (remaining []corev1.Pod, removed []string, err error) {
	remaining, err = k8stest.WaitForPods(ctx, s.Client(), s.opts.Namespace, s.selector(), func(pods []corev1.Pod) bool {
		return len(pods) == replicas
	})
	if err != nil {
		return nil, nil, err
	}
	return remaining, missing(podNames(s.Pods), podNames(remaining)), nil
}

// StopCollector stops the collector, which flushes the file exporter, and
// returns the spans it exported.
func (s *Scenario) StopCollector() ([]ExportedSpan, error) {
	if err := s.collector.Stop(); err != nil {
		return nil, fmt.Errorf("the collector did not stop cleanly: %w; last lines of its log:\n%s", err, s.collector.LogTail(30))
	}
	return ReadExportedSpans(s.SpansFile())
}
