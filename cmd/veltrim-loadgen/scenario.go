package main

import (
	"errors"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Span categories, as they appear in the report and the manifest.
const (
	categoryRequest   = "request"
	categoryCacheMiss = "cache-miss"
	categoryStorm     = "storm"
)

// scenario sets how many spans of each kind the generator sends. Every count
// is exact: the generator sends no span that the report does not list.
type scenario struct {
	// RequestSpansPerPod is the number of unique completion-request spans
	// each pod sends.
	RequestSpansPerPod int
	// BatchSize is the maximum number of spans in one export request.
	BatchSize int
	// ResendEvery makes every n-th export request of request spans go out a
	// second time right after the first, as an at-least-once pipeline does
	// when an acknowledgement is lost. Zero sends nothing twice.
	ResendEvery int
	// StormSpans is the number of identical busy-loop spans StormPod sends.
	StormSpans int
	// StormPod is the index of the pod that sends the storm.
	StormPod int
	// CacheMissPods is the number of pods, from the first, that send
	// cache-miss spans.
	CacheMissPods int
	// CacheMissesPerPod is the number of cache-miss spans each of them sends.
	CacheMissesPerPod int
}

func (s scenario) validate(podCount int) error {
	var errs []error
	if s.RequestSpansPerPod < 0 || s.StormSpans < 0 || s.CacheMissesPerPod < 0 || s.ResendEvery < 0 {
		errs = append(errs, errors.New("span counts and -resend-every must not be negative"))
	}
	if s.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("invalid -batch-size %d: must be at least 1", s.BatchSize))
	}
	if s.StormSpans > 0 && (s.StormPod < 0 || s.StormPod >= podCount) {
		errs = append(errs, fmt.Errorf("invalid -storm-pod %d: there are %d pods", s.StormPod, podCount))
	}
	if s.CacheMissPods < 0 || s.CacheMissPods > podCount {
		errs = append(errs, fmt.Errorf("invalid -cache-miss-pods %d: there are %d pods", s.CacheMissPods, podCount))
	}
	return errors.Join(errs...)
}

// batch is one export request.
type batch struct {
	category string
	pod      int
	spans    []sdktrace.ReadOnlySpan
	// resend is true when the same batch is exported a second time.
	resend bool
}

// plan creates every span of the scenario and splits them into export
// requests, in the order they are sent: request spans with their resends,
// then the cache misses, then the storm.
func (s scenario) plan(g *generator) []batch {
	var batches []batch
	requestBatches := 0
	for podIndex := range g.pods {
		for first := 0; first < s.RequestSpansPerPod; first += s.BatchSize {
			count := min(s.BatchSize, s.RequestSpansPerPod-first)
			requestBatches++
			batches = append(batches, batch{
				category: categoryRequest,
				pod:      podIndex,
				spans:    g.requestSpans(podIndex, first, count),
				resend:   s.ResendEvery > 0 && requestBatches%s.ResendEvery == 0,
			})
		}
	}

	for podIndex := range s.CacheMissPods {
		if s.CacheMissesPerPod > 0 {
			spans := g.cacheMissSpans(podIndex, s.CacheMissesPerPod)
			batches = append(batches, batch{category: categoryCacheMiss, pod: podIndex, spans: spans})
		}
	}

	// The storm spans are created in one busy loop and only then split into
	// export requests, as a batching exporter inside the pod would send them.
	storm := g.stormSpans(s.StormPod, s.StormSpans)
	for first := 0; first < len(storm); first += s.BatchSize {
		end := min(first+s.BatchSize, len(storm))
		batches = append(batches, batch{category: categoryStorm, pod: s.StormPod, spans: storm[first:end]})
	}
	return batches
}
