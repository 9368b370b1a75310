package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veltrix/veltrim/e2e"
)

// Replica counts of the two scale-downs: the first needs three removable pods
// of four and two are warm, the second needs two.
const (
	tooFarReplicas  = 1
	allowedReplicas = 2
)

// report holds everything the demo observed, read from kube-apiserver, the
// collector's metrics and the file exporter's output.
type report struct {
	scenario *e2e.Scenario
	started  time.Time

	load       e2e.LoadReport
	pipeline   e2e.PipelineCounts
	pods       []e2e.PodView
	tooFar     e2e.ScaleResult
	allowed    e2e.ScaleResult
	replicas   int32
	removed    []string
	remaining  []string
	exported   []e2e.ExportedSpan
	uniqueKept bool
	elapsed    time.Duration
}

// collect runs the load and the scale-downs and records what happened.
func (r *report) collect(ctx context.Context) error {
	s := r.scenario
	var sent []e2e.SentSpan
	var err error
	if r.load, sent, err = s.SendLoad(ctx); err != nil {
		return err
	}
	if r.pipeline, err = s.WaitForPipeline(ctx, r.load); err != nil {
		return err
	}
	if r.pods, err = s.WaitForAnnotations(ctx, r.load); err != nil {
		return err
	}

	r.tooFar = s.Scale(ctx, tooFarReplicas)
	if r.replicas, err = s.Replicas(ctx); err != nil {
		return err
	}
	r.allowed = s.Scale(ctx, allowedReplicas)
	if r.allowed.Accepted() {
		remaining, removed, err := s.WaitForReplicas(ctx, allowedReplicas)
		if err != nil {
			return err
		}
		r.removed = removed
		for _, pod := range remaining {
			r.remaining = append(r.remaining, pod.Name)
		}
	}

	progress("stopping the collector to flush the file exporter")
	if r.exported, err = s.StopCollector(); err != nil {
		return err
	}
	r.uniqueKept = everyUniqueSpanOnce(sent, r.exported)
	r.elapsed = time.Since(r.started)
	return nil
}

// everyUniqueSpanOnce reports whether each sent span that is not part of
// the storm was exported exactly once.
func everyUniqueSpanOnce(sent []e2e.SentSpan, exported []e2e.ExportedSpan) bool {
	seen := map[string]int{}
	for _, span := range exported {
		seen[span.TraceID+span.SpanID]++
	}
	for _, span := range sent {
		if span.Category != e2e.CategoryStorm && seen[span.TraceID+span.SpanID] != 1 {
			return false
		}
	}
	return true
}

func (r *report) print(w io.Writer) {
	s := r.scenario
	opts := s.Options()
	fmt.Fprintf(w, "\nveltrim demo: Deployment %s/%s, %d replicas, collector PID %d\n\n", opts.Namespace, opts.Deployment, len(s.Pods), s.Collector().PID())

	fmt.Fprintf(w, "veltrim-loadgen sent %d spans over OTLP/gRPC in %d export requests:\n", r.load.SpansSent, r.load.ExportRequests)
	fmt.Fprintf(w, "  %d unique spans from %d pods, %d of them sent twice (%d requests resent),\n", r.load.UniqueSpans, len(r.load.Pods), r.load.ResentSpans, r.load.ResentRequests)
	fmt.Fprintf(w, "  a storm of %d identical %q spans, and %d cache-miss spans from %s\n\n", r.load.StormSpans, r.load.StormSpanName, r.load.CacheMissSpans, joinNames(r.cacheMissPods()))

	fmt.Fprintln(w, "The collector (its own metrics):")
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(table, "  spans received\t%d\t\n", r.pipeline.Received)
	fmt.Fprintf(table, "  dropped as duplicates\t%d\t\n", r.pipeline.Duplicates)
	fmt.Fprintf(table, "  dropped as storm\t%d\t\n", r.pipeline.Storm)
	fmt.Fprintf(table, "  cache misses counted\t%d\t\n", r.pipeline.CacheMisses)
	fmt.Fprintf(table, "  exported\t%d\t\n", r.pipeline.ExportedFile)
	table.Flush()
	fmt.Fprintf(w, "  every unique span outside the storm exported exactly once: %s\n\n", yesNo(r.uniqueKept))

	r.printPods(w)
	r.printScale(w)
	fmt.Fprintf(w, "\nfinished in %s\n", r.elapsed.Round(100*time.Millisecond))
}

func (r *report) printPods(w io.Writer) {
	fmt.Fprintln(w, "Pod annotations published by the veltrim exporter (read from kube-apiserver):")
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "  pod\tcache-state\tcache-misses\tlast-cache-miss\tcpu-request-utilization\tpod-deletion-cost")
	for _, p := range r.pods {
		fmt.Fprintf(table, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.CacheState, p.CacheMisses, orDash(p.LastCacheMiss), orDash(p.CPU), p.DeletionCost)
	}
	table.Flush()
	fmt.Fprintln(w)
}

func (r *report) printScale(w io.Writer) {
	fmt.Fprintf(w, "$ %s\n", r.tooFar.Command)
	fmt.Fprintf(w, "%s\n", indent(r.tooFar.Output))
	if r.tooFar.Accepted() {
		fmt.Fprintf(w, "  -> ALLOWED, but veltrim should have denied it\n\n")
	} else {
		fmt.Fprintf(w, "  -> denied; the Deployment still has %d replicas\n\n", r.replicas)
	}

	fmt.Fprintf(w, "$ %s\n", r.allowed.Command)
	fmt.Fprintf(w, "%s\n", indent(r.allowed.Output))
	if !r.allowed.Accepted() {
		fmt.Fprintf(w, "  -> DENIED, but two pods are removable\n")
		return
	}
	fmt.Fprintf(w, "  -> allowed; the ReplicaSet controller removed %s and kept %s\n", joinNames(r.removed), joinNames(r.remaining))
}

// verdict returns an error when an outcome differs from what veltrim
// promises for this load.
func (r *report) verdict() error {
	var errs []error
	if r.pipeline.Duplicates != r.load.ResentSpans {
		errs = append(errs, fmt.Errorf("%d spans dropped as duplicates, %d were sent twice", r.pipeline.Duplicates, r.load.ResentSpans))
	}
	if !r.uniqueKept {
		errs = append(errs, errors.New("a unique span outside the storm was lost or exported twice"))
	}
	if r.tooFar.Accepted() {
		errs = append(errs, fmt.Errorf("the scale-down to %d replicas was allowed", tooFarReplicas))
	}
	if !r.allowed.Accepted() {
		errs = append(errs, fmt.Errorf("the scale-down to %d replicas was denied", allowedReplicas))
	}
	cold := r.coldPods()
	slices.Sort(r.removed)
	if r.allowed.Accepted() && !slices.Equal(r.removed, cold) {
		errs = append(errs, fmt.Errorf("the ReplicaSet controller removed %s, not the cold pods %s", joinNames(r.removed), joinNames(cold)))
	}
	return errors.Join(errs...)
}

func (r *report) cacheMissPods() []string {
	var names []string
	for _, p := range r.load.Pods {
		if p.CacheMissSpans > 0 {
			names = append(names, p.Name)
		}
	}
	return names
}

func (r *report) coldPods() []string {
	var names []string
	for _, p := range r.pods {
		if p.CacheState == "cold" {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}

func indent(text string) string {
	if text == "" {
		return "  (no output)"
	}
	return "  " + strings.ReplaceAll(text, "\n", "\n  ")
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
