// Package veltrimexporter publishes the pod state that the veltrim processor
// stamps on telemetry as pod annotations and pod-deletion-cost, for the
// admission endpoint and the ReplicaSet controller to act on.
package veltrimexporter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/admission"
	"github.com/veltrix/veltrim/internal/kubeclient"
	"github.com/veltrix/veltrim/internal/podstate"
)

// typeStr is the component type of the exporter.
var typeStr = component.MustNewType("veltrim")

const stability = component.StabilityLevelAlpha

// Defaults of the configuration.
const (
	defaultAuthType = kubeclient.AuthTypeServiceAccount
	// defaultQPS and defaultBurst leave room for one patch per pod per
	// refresh interval in clusters of a few thousand pods.
	defaultQPS                 = 10
	defaultBurst               = 20
	defaultAnnotationPrefix    = podstate.DefaultAnnotationPrefix
	defaultDeletionCostEnabled = true
	defaultCPUThreshold        = 0.30
	defaultCPUChangeThreshold  = 0.05
	defaultRefreshInterval     = 5 * time.Minute
)

// factoryOptions are the dependencies tests replace.
type factoryOptions struct {
	newClient func(kubeclient.Options) (kubernetes.Interface, error)
	clock     clock.WithTicker
}

// NewFactory returns the factory of the veltrim exporter.
func NewFactory() exporter.Factory {
	return newFactory(factoryOptions{newClient: kubeclient.NewClientset, clock: clock.RealClock{}})
}

func newFactory(opts factoryOptions) exporter.Factory {
	f := &veltrimFactory{opts: opts}
	return exporter.NewFactory(
		typeStr,
		createDefaultConfig,
		exporter.WithTraces(f.createTraces, stability),
		exporter.WithMetrics(f.createMetrics, stability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		AuthType:           defaultAuthType,
		QPS:                defaultQPS,
		Burst:              defaultBurst,
		AnnotationPrefix:   defaultAnnotationPrefix,
		DeletionCost:       DeletionCostConfig{Enabled: defaultDeletionCostEnabled},
		CPUThreshold:       defaultCPUThreshold,
		CPUChangeThreshold: defaultCPUChangeThreshold,
		RefreshInterval:    defaultRefreshInterval,
		Admission:          configoptional.Default(admission.NewDefaultConfig()),
	}
}

type veltrimFactory struct {
	opts factoryOptions
}

func (f *veltrimFactory) createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	handle, err := acquireExporter(set, cfg.(*Config), f.opts)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewTraces(ctx, set, cfg, handle.exporter.consumeTraces, handle.options()...)
	if err != nil {
		return nil, errors.Join(err, handle.shutdown(ctx))
	}
	return exp, nil
}

func (f *veltrimFactory) createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	handle, err := acquireExporter(set, cfg.(*Config), f.opts)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewMetrics(ctx, set, cfg, handle.exporter.consumeMetrics, handle.options()...)
	if err != nil {
		return nil, errors.Join(err, handle.shutdown(ctx))
	}
	return exp, nil
}

// options are the exporterhelper options of one pipeline's exporter. Consume
// only queues states and never fails, so no exporterhelper queue, retry or
// timeout is needed.
func (h *exporterHandle) options() []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(h.start),
		exporterhelper.WithShutdown(h.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
	}
}
