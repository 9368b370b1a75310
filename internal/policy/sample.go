package policy

import (
	"context"
	"fmt"
	"time"
)

// sampleNow is the fixed clock of the sample request, so a policy gets the
// same input at every start.
var sampleNow = time.Date(2025, time.January, 1, 12, 0, 0, 0, time.UTC)

// SampleRequest returns the request every policy must decide at startup: a
// Deployment scaled from 4 to 1 replicas whose pods are warm, busy, cold and
// pending, so the default policy walks each of its rules once.
func SampleRequest() *Request {
	fresh := sampleNow.Add(-time.Minute)
	return &Request{
		Namespace:   "default",
		Kind:        "Deployment",
		Name:        "sample",
		OldReplicas: 4,
		NewReplicas: 1,
		Mode:        ModeDeny,
		Now:         sampleNow,
		Pods: []Pod{
			{
				Name: "sample-warm", Phase: "Running", Scheduled: true, Ready: true,
				CacheState: "warm", LastCacheMiss: sampleNow.Add(-3 * time.Minute),
				CacheMisses: 7, HasCacheMisses: true,
				CPURequestUtilization: 0.12, HasCPU: true, ObservedAt: fresh,
			},
			{
				Name: "sample-busy", Phase: "Running", Scheduled: true, Ready: true,
				CacheState: "cold", CPURequestUtilization: 0.64, HasCPU: true, ObservedAt: fresh,
			},
			{
				Name: "sample-cold", Phase: "Running", Scheduled: true, Ready: true,
				CacheState: "cold", LastCacheMiss: sampleNow.Add(-time.Hour),
				CPURequestUtilization: 0.05, HasCPU: true, ObservedAt: fresh,
			},
			{Name: "sample-pending", Phase: "Pending"},
		},
	}
}

// checkSample evaluates SampleRequest once. The state it creates stays in
// the pool for the first real request.
func (e *Engine) checkSample() error {
	if _, err := e.Evaluate(context.Background(), SampleRequest()); err != nil {
		return fmt.Errorf("%w: %w", ErrSample, err)
	}
	return nil
}
