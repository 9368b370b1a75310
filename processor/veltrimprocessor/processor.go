package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/veltrix/veltrim/internal/dedup"
	"github.com/veltrix/veltrim/internal/podtracker"
	"github.com/veltrix/veltrim/internal/storm"
)

// veltrimProcessor is the state shared by the traces and metrics processors
// of one component ID.
type veltrimProcessor struct {
	cfg       *Config
	logger    *zap.Logger
	clock     func() time.Time
	telemetry *telemetry

	// mu guards everything below. Batches of both signals take it in turn.
	mu sync.Mutex
	// dedup is nil when dedup.enabled is false.
	dedup *dedup.Table
	// storm is nil when storm.enabled is false.
	storm  *storm.Detector
	hasher storm.Hasher
	pods   *podtracker.Tracker
	// plans is planSpans' buffer, reused across scopes so that steady
	// traffic does not allocate. It keeps the size of the largest scope seen.
	plans []spanPlan
	// dedupEvicted and stormLost are the values of dedup.Evicted and
	// storm.Lost already added to the counters.
	dedupEvicted int64
	stormLost    int64
}

func newVeltrimProcessor(set processor.Settings, cfg *Config, clock func() time.Time) (*veltrimProcessor, error) {
	p := &veltrimProcessor{
		cfg:    cfg,
		logger: set.Logger,
		clock:  clock,
		hasher: storm.NewHasher(),
		pods: podtracker.New(podtracker.Settings{
			MaxPods:         cfg.MaxPods,
			CacheMissWindow: cfg.CacheMiss.Window,
			CPUWindow:       cfg.CPU.Window,
		}),
	}
	if cfg.Dedup.Enabled {
		p.dedup = dedup.New(cfg.Dedup.MaxSpans, cfg.Dedup.Window)
	}
	if cfg.Storm.Enabled {
		p.storm = storm.New(cfg.Storm.Interval, cfg.Storm.MaxPerInterval, storm.DefaultCapacity)
	}

	var err error
	p.telemetry, err = newTelemetry(set.TelemetrySettings, p)
	if err != nil {
		return nil, err
	}

	set.Logger.Info("veltrim processor created",
		zap.Bool("dedup.enabled", cfg.Dedup.Enabled),
		zap.Stringer("dedup.window", cfg.Dedup.Window),
		zap.Int("dedup.max_spans", cfg.Dedup.MaxSpans),
		zap.Bool("storm.enabled", cfg.Storm.Enabled),
		zap.Stringer("storm.interval", cfg.Storm.Interval),
		zap.Int("storm.max_per_interval", cfg.Storm.MaxPerInterval),
		zap.String("cache_miss.attribute", cfg.CacheMiss.Attribute),
		zap.Stringer("cache_miss.window", cfg.CacheMiss.Window),
		zap.String("cpu.metric", cfg.CPU.Metric),
		zap.Stringer("cpu.window", cfg.CPU.Window),
		zap.Int("max_pods", cfg.MaxPods),
		zap.Bool("stamp.traces", cfg.Stamp.Traces),
		zap.Bool("stamp.metrics", cfg.Stamp.Metrics),
	)
	return p, nil
}

// shutdown stops the internal metrics callbacks. The state is dropped with
// the processor.
func (p *veltrimProcessor) shutdown() {
	if err := p.telemetry.shutdown(); err != nil {
		p.logger.Warn("failed to unregister internal metrics callback", zap.Error(err))
	}
	p.logger.Info("veltrim processor stopped")
}

// now returns the processor's clock in Unix nanoseconds.
func (p *veltrimProcessor) now() int64 {
	return p.clock().UnixNano()
}

func (p *veltrimProcessor) podsTracked() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.pods.Len())
}

// dedupFill returns the fraction of the dedup table's slots that hold a
// span, expired or not (dedup.Table.Occupied). It costs O(1), so the
// telemetry collection holds the lock only briefly.
func (p *veltrimProcessor) dedupFill() (float64, bool) {
	if p.dedup == nil {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(p.dedup.Occupied()) / float64(p.dedup.Capacity()), true
}
