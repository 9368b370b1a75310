package veltrimexporter

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/admission"
	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/publisher"
	"github.com/veltrix/veltrim/internal/kubeclient"
)

// userAgent identifies the exporter's requests to the API server.
const userAgent = "veltrim-exporter"

// veltrimExporter reads pod state from telemetry and publishes it.
type veltrimExporter struct {
	cfg       *Config
	set       exporter.Settings
	opts      factoryOptions
	publisher *publisher.Publisher
	// admission is the admission endpoint, nil when it is off or not started.
	admission *admission.Server
	// started is set by start; shutdown logs only after a start.
	started bool
}

func newExporter(set exporter.Settings, cfg *Config, opts factoryOptions) (*veltrimExporter, error) {
	pub, err := publisher.New(publisher.Settings{
		AnnotationPrefix:   cfg.AnnotationPrefix,
		DeletionCost:       cfg.DeletionCost.Enabled,
		CPUThreshold:       cfg.CPUThreshold,
		CPUChangeThreshold: cfg.CPUChangeThreshold,
		RefreshInterval:    cfg.RefreshInterval,
		Clock:              opts.clock,
		Telemetry:          set.TelemetrySettings,
	})
	if err != nil {
		return nil, err
	}
	return &veltrimExporter{cfg: cfg, set: set, opts: opts, publisher: pub}, nil
}

func (e *veltrimExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.opts.newClient(kubeclient.Options{
		AuthType:       e.cfg.AuthType,
		KubeConfigPath: e.cfg.KubeConfigPath,
		Context:        e.cfg.Context,
		QPS:            e.cfg.QPS,
		Burst:          e.cfg.Burst,
		UserAgent:      userAgent,
	})
	if err != nil {
		return err
	}
	if err := e.publisher.Start(client); err != nil {
		return err
	}
	if err := e.startAdmission(ctx, host, client); err != nil {
		return err
	}

	e.started = true
	// Durations are logged as strings such as "5m0s", because the
	// collector's logger writes a zap.Duration as a bare number of seconds.
	e.set.Logger.Info("Started the veltrim exporter",
		zap.String("auth_type", string(e.cfg.AuthType)),
		zap.Float32("qps", e.cfg.QPS),
		zap.Int("burst", e.cfg.Burst),
		zap.String("annotation_prefix", e.cfg.AnnotationPrefix),
		zap.Bool("deletion_cost.enabled", e.cfg.DeletionCost.Enabled),
		zap.Float64("cpu_threshold", e.cfg.CPUThreshold),
		zap.Float64("cpu_change_threshold", e.cfg.CPUChangeThreshold),
		zap.Stringer("refresh_interval", e.cfg.RefreshInterval),
		zap.Bool("admission.enabled", e.cfg.Admission.HasValue()))
	return nil
}

// startAdmission starts the admission endpoint when it is configured. It
// shares the exporter's client, so its pod informer uses the same QPS budget.
func (e *veltrimExporter) startAdmission(ctx context.Context, host component.Host, client kubernetes.Interface) error {
	if !e.cfg.Admission.HasValue() {
		return nil
	}
	srv, err := admission.New(e.cfg.Admission.Get(), client, e.cfg.AnnotationPrefix, e.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("failed to create the admission endpoint: %w", err)
	}
	e.admission = srv
	if err := srv.Start(ctx, host); err != nil {
		return fmt.Errorf("failed to start the admission endpoint: %w", err)
	}
	return nil
}

func (e *veltrimExporter) shutdown(ctx context.Context) error {
	var err error
	if e.admission != nil {
		err = e.admission.Shutdown(ctx)
	}
	pending := e.publisher.Pending()
	err = errors.Join(err, e.publisher.Shutdown())
	if e.started {
		e.set.Logger.Info("Stopped the veltrim exporter", zap.Int("unpublished_pods", pending))
	}
	return err
}

// consumeTraces queues the pod state stamped on each resource. It returns
// before any patch is sent and never fails.
func (e *veltrimExporter) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	resources := td.ResourceSpans()
	for i := 0; i < resources.Len(); i++ {
		e.publisher.OfferResource(ctx, resources.At(i).Resource().Attributes())
	}
	return nil
}

// consumeMetrics queues the pod state stamped on each resource. It returns
// before any patch is sent and never fails.
func (e *veltrimExporter) consumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	resources := md.ResourceMetrics()
	for i := 0; i < resources.Len(); i++ {
		e.publisher.OfferResource(ctx, resources.At(i).Resource().Attributes())
	}
	return nil
}
