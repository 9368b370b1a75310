package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const (
	stability = component.StabilityLevelDevelopment

	defaultDedupEnabled        = true
	defaultDedupWindow         = 5 * time.Minute
	defaultDedupMaxSpans       = 1_000_000
	defaultStormEnabled        = true
	defaultStormInterval       = time.Second
	defaultStormMaxPerInterval = 20
	defaultCacheMissAttribute  = "llm-cache-miss"
	defaultCacheMissWindow     = 15 * time.Minute
	defaultCPUMetric           = "k8s.pod.cpu_request_utilization"
	defaultCPUWindow           = 15 * time.Minute
	defaultMaxPods             = 10_000
	defaultStampTraces         = true
	defaultStampMetrics        = false
)

var componentType = component.MustNewType("veltrim")

// NewFactory returns the factory of the veltrim processor. The traces and
// metrics processors created for one component ID share one instance, so
// stamped spans carry the CPU state learned from metrics and stamped
// metrics carry the cache state learned from spans.
func NewFactory() processor.Factory {
	return newFactory(time.Now)
}

// factory creates processors that read the time from clock, which tests
// replace with a fake clock.
type factory struct {
	clock func() time.Time

	mu        sync.Mutex
	instances map[component.ID]*sharedInstance
}

// sharedInstance is one processor with the number of pipeline processors
// that use it.
type sharedInstance struct {
	proc *veltrimProcessor
	refs int
}

func newFactory(clock func() time.Time) processor.Factory {
	return newSharedFactory(clock).processorFactory()
}

func newSharedFactory(clock func() time.Time) *factory {
	return &factory{clock: clock, instances: map[component.ID]*sharedInstance{}}
}

func (f *factory) processorFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		createDefaultConfig,
		processor.WithTraces(f.createTraces, stability),
		processor.WithMetrics(f.createMetrics, stability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Dedup: DedupConfig{
			Enabled:  defaultDedupEnabled,
			Window:   defaultDedupWindow,
			MaxSpans: defaultDedupMaxSpans,
		},
		Storm: StormConfig{
			Enabled:        defaultStormEnabled,
			Interval:       defaultStormInterval,
			MaxPerInterval: defaultStormMaxPerInterval,
		},
		CacheMiss: CacheMissConfig{
			Attribute: defaultCacheMissAttribute,
			Window:    defaultCacheMissWindow,
		},
		CPU: CPUConfig{
			Metric: defaultCPUMetric,
			Window: defaultCPUWindow,
		},
		MaxPods: defaultMaxPods,
		Stamp: StampConfig{
			Traces:  defaultStampTraces,
			Metrics: defaultStampMetrics,
		},
	}
}

func (f *factory) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	proc, err := f.acquire(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	traces, err := processorhelper.NewTraces(ctx, set, cfg, next, proc.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithShutdown(f.releaseFunc(set.ID)),
	)
	if err != nil {
		f.release(set.ID)
		return nil, err
	}
	return traces, nil
}

func (f *factory) createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	oCfg := cfg.(*Config)
	proc, err := f.acquire(set, oCfg)
	if err != nil {
		return nil, err
	}
	metrics, err := processorhelper.NewMetrics(ctx, set, cfg, next, proc.processMetrics,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: oCfg.Stamp.Metrics}),
		processorhelper.WithShutdown(f.releaseFunc(set.ID)),
	)
	if err != nil {
		f.release(set.ID)
		return nil, err
	}
	return metrics, nil
}

// acquire returns the instance of set.ID, creating it on first use.
func (f *factory) acquire(set processor.Settings, cfg *Config) (*veltrimProcessor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if shared, ok := f.instances[set.ID]; ok {
		shared.refs++
		return shared.proc, nil
	}
	proc, err := newVeltrimProcessor(set, cfg, f.clock)
	if err != nil {
		return nil, err
	}
	f.instances[set.ID] = &sharedInstance{proc: proc, refs: 1}
	return proc, nil
}

// release drops one reference to the instance of id and shuts it down when
// no processor uses it any more, so a reloaded configuration starts fresh.
func (f *factory) release(id component.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()

	shared, ok := f.instances[id]
	if !ok {
		return
	}
	shared.refs--
	if shared.refs > 0 {
		return
	}
	delete(f.instances, id)
	shared.proc.shutdown()
}

// releaseFunc returns a shutdown function that releases id once, however
// often the collector calls it.
func (f *factory) releaseFunc(id component.ID) component.ShutdownFunc {
	var once sync.Once
	return func(context.Context) error {
		once.Do(func() { f.release(id) })
		return nil
	}
}
