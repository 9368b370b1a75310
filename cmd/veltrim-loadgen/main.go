// Command veltrim-loadgen sends OpenTelemetry spans over OTLP/gRPC the way
// LLM-serving pods do, with the faults veltrim exists for: export requests
// sent twice by an at-least-once pipeline, a busy-loop span storm, and KV
// cache misses on some pods. Every count it sends is fixed by its flags and
// printed as a report.
//
// In -mode bench it sends a fixed number of unique spans as fast as the
// collector accepts them, for throughput measurements.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
)

const (
	defaultEndpoint          = "127.0.0.1:4317"
	defaultSyntheticPods     = 4
	defaultRequestSpans      = 100
	defaultBatchSize         = 25
	defaultResendEvery       = 4
	defaultStormSpans        = 500
	defaultCacheMissPods     = 2
	defaultCacheMissesPerPod = 3
	defaultBenchSpans        = 1_000_000
	defaultBenchBatchSize    = 500
	defaultBenchWorkers      = 2
)

type options struct {
	endpoint     string
	mode         string
	reportFormat string
	manifestPath string
	seed         uint64
	pods         podList
	scenario     scenario
	bench        benchmark
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("veltrim-loadgen", flag.ContinueOnError)
	fs.StringVar(&o.endpoint, "endpoint", defaultEndpoint, "OTLP/gRPC endpoint of the collector, host:port")
	fs.StringVar(&o.mode, "mode", "scenario", "what to send: scenario or bench")
	fs.StringVar(&o.reportFormat, "report", "text", "report format on standard output: text or json")
	fs.StringVar(&o.manifestPath, "manifest", "", "file to write every unique span sent (trace ID, span ID, pod, category) as JSON")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the trace and span IDs")
	fs.Var(&o.pods, "pod", "pod whose spans to send, as namespace/name/uid; repeat for each pod (default: 4 made-up pods)")
	fs.IntVar(&o.scenario.RequestSpansPerPod, "request-spans-per-pod", defaultRequestSpans, "unique request spans per pod")
	fs.IntVar(&o.scenario.BatchSize, "batch-size", defaultBatchSize, "maximum spans per export request")
	fs.IntVar(&o.scenario.ResendEvery, "resend-every", defaultResendEvery, "send every n-th export request of request spans twice; 0 sends none twice")
	fs.IntVar(&o.scenario.StormSpans, "storm-spans", defaultStormSpans, "identical busy-loop spans sent by the storm pod")
	fs.IntVar(&o.scenario.StormPod, "storm-pod", -1, "index of the pod that sends the storm; -1 is the last pod")
	fs.IntVar(&o.scenario.CacheMissPods, "cache-miss-pods", defaultCacheMissPods, "number of pods, from the first, that send cache-miss spans")
	fs.IntVar(&o.scenario.CacheMissesPerPod, "cache-misses-per-pod", defaultCacheMissesPerPod, "cache-miss spans per such pod")
	fs.IntVar(&o.bench.Spans, "bench-spans", defaultBenchSpans, "spans to send in -mode bench")
	fs.IntVar(&o.bench.BatchSize, "bench-batch-size", defaultBenchBatchSize, "spans per export request in -mode bench")
	fs.IntVar(&o.bench.Workers, "bench-workers", defaultBenchWorkers, "concurrent export requests in -mode bench")
	if err := fs.Parse(args); err != nil {
		return o, err
	}

	if len(o.pods) == 0 {
		o.pods = syntheticPods(defaultSyntheticPods)
	}
	if o.scenario.StormPod == -1 {
		o.scenario.StormPod = len(o.pods) - 1
	}
	o.bench.Seed = o.seed
	return o, o.validate()
}

func (o options) validate() error {
	if o.reportFormat != "text" && o.reportFormat != "json" {
		return fmt.Errorf("invalid -report %q: expected text or json", o.reportFormat)
	}
	switch o.mode {
	case "scenario":
		return o.scenario.validate(len(o.pods))
	case "bench":
		return o.bench.validate()
	default:
		return fmt.Errorf("invalid -mode %q: expected scenario or bench", o.mode)
	}
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "veltrim-loadgen:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "veltrim-loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	exporter, err := newOTLPExporter(ctx, o.endpoint)
	if err != nil {
		return err
	}
	defer exporter.Shutdown(context.Background())

	if o.mode == "bench" {
		return runBench(ctx, o, exporter)
	}
	return runScenario(ctx, o, exporter)
}

func runScenario(ctx context.Context, o options, exporter *otlptrace.Exporter) error {
	g := newGenerator(o.pods, o.seed)
	defer g.shutdown(context.Background())

	batches := o.scenario.plan(g)
	requests, err := sendBatches(ctx, exporter, batches)
	if err != nil {
		return err
	}

	if o.manifestPath != "" {
		if err := writeManifest(o.manifestPath, o.pods, batches); err != nil {
			return err
		}
	}
	r := newReport(o.endpoint, o.pods, batches, requests)
	if o.reportFormat == "json" {
		return r.writeJSON(os.Stdout)
	}
	return r.writeText(os.Stdout)
}

func runBench(ctx context.Context, o options, exporter *otlptrace.Exporter) error {
	r, err := o.bench.run(ctx, exporter, o.pods, o.endpoint)
	if err != nil {
		return err
	}
	if o.reportFormat == "json" {
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	return r.writeText(os.Stdout)
}
