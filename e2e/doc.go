// Package e2e runs veltrim the way a user does, on one machine. It starts a
// local Kubernetes control plane (internal/k8stest) with a Deployment of four
// Ready pods, and the otelcol-veltrim collector built by
// hack/build-collector.sh with testdata/collector/e2e.yaml. The collector's
// admission endpoint is registered as a validating webhook, and
// veltrim-loadgen sends it OTLP/gRPC spans.
//
// cmd/veltrim-demo runs the steps and prints what it observes. The test in
// this folder (build tag e2e, run by `make e2e`) runs the same steps and
// checks every observation against the apiserver and the collector's own
// metrics.
package e2e
