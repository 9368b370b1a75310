package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"errors"
	"fmt"
	"time"
)

// minWindow is the shortest cache-miss or CPU window. Windows are kept in
// a fixed number of time buckets, and a shorter window would make buckets
// shorter than the interval at which kubelet stats arrive.
const minWindow = time.Second

// maxDedupSpans is the largest dedup.max_spans. At dedupBytesPerSpan bytes
// per span, allocated at start, the table then takes 1.6 GB, 100 times the
// default. Without the limit a typo such as an extra 000 ends the collector
// with an out-of-memory crash before it reports which value is wrong.
const maxDedupSpans = 100_000_000

// dedupBytesPerSpan is the size of one dedup table slot.
const dedupBytesPerSpan = 16

// Config defines the configuration of the veltrim processor.
type Config struct {
	// Dedup drops exact duplicate spans.
	Dedup DedupConfig `mapstructure:"dedup"`
	// Storm collapses storms of identical spans.
	Storm StormConfig `mapstructure:"storm"`
	// CacheMiss names the span attribute that marks an LLM cache miss.
	CacheMiss CacheMissConfig `mapstructure:"cache_miss"`
	// CPU names the metric that carries a pod's CPU request utilization.
	CPU CPUConfig `mapstructure:"cpu"`
	// MaxPods is the maximum number of pods whose state is kept. When a new
	// pod arrives at the limit, the least recently seen pod is forgotten.
	MaxPods int `mapstructure:"max_pods"`
	// Stamp selects the signals whose resources get the pod state attributes.
	Stamp StampConfig `mapstructure:"stamp"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DedupConfig configures the exact duplicate check.
type DedupConfig struct {
	// Enabled turns the check on. Default true.
	Enabled bool `mapstructure:"enabled"`
	// Window is how long a span is remembered after it is first seen.
	// Default 5m.
	Window time.Duration `mapstructure:"window"`
	// MaxSpans is the number of spans remembered. The table takes 16 bytes
	// per span, allocated at start. Default 1000000.
	MaxSpans int `mapstructure:"max_spans"`
}

// StormConfig configures storm collapsing.
type StormConfig struct {
	// Enabled turns storm collapsing on. Default true.
	Enabled bool `mapstructure:"enabled"`
	// Interval is the length of one counting interval. Default 1s.
	Interval time.Duration `mapstructure:"interval"`
	// MaxPerInterval is how many identical spans pass per interval. The
	// rest are dropped and counted. Default 20.
	MaxPerInterval int `mapstructure:"max_per_interval"`
}

// CacheMissConfig configures cache-miss counting.
type CacheMissConfig struct {
	// Attribute is the span attribute whose value true (bool, or the
	// string "true" in any letter case) marks a cache miss.
	// Default "llm-cache-miss".
	Attribute string `mapstructure:"attribute"`
	// Window is how long a cache miss keeps its pod warm. Default 15m.
	Window time.Duration `mapstructure:"window"`
}

// CPUConfig configures the CPU average.
type CPUConfig struct {
	// Metric is the gauge whose data points are averaged per pod.
	// Default "k8s.pod.cpu_request_utilization".
	Metric string `mapstructure:"metric"`
	// Window is the span of time the average covers. Default 15m.
	Window time.Duration `mapstructure:"window"`
}

// StampConfig selects the signals whose resources are stamped.
type StampConfig struct {
	// Traces stamps span resources. Default true.
	Traces bool `mapstructure:"traces"`
	// Metrics stamps metric resources. Default false, because a changing
	// resource attribute splits a metric series in most backends.
	Metrics bool `mapstructure:"metrics"`
}

var (
	errDedupWindow         = errors.New("dedup.window must be greater than 0")
	errDedupMaxSpans       = errors.New("dedup.max_spans must be greater than 0")
	errDedupMaxSpansLarge  = fmt.Errorf("dedup.max_spans must be at most %d", maxDedupSpans)
	errStormInterval       = errors.New("storm.interval must be greater than 0")
	errStormMaxPerInterval = errors.New("storm.max_per_interval must be greater than 0")
	errCacheMissAttribute  = errors.New("cache_miss.attribute must not be empty")
	errCacheMissWindow     = fmt.Errorf("cache_miss.window must be at least %s", minWindow)
	errCPUMetric           = errors.New("cpu.metric must not be empty")
	errCPUWindow           = fmt.Errorf("cpu.window must be at least %s", minWindow)
	errMaxPods             = errors.New("max_pods must be greater than 0")
)

// Validate checks the configuration. Every error names the YAML key and
// quotes the rejected value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Dedup.Window <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errDedupWindow, cfg.Dedup.Window.String()))
	}
	if cfg.Dedup.MaxSpans <= 0 {
		errs = append(errs, fmt.Errorf("%w, got \"%d\"", errDedupMaxSpans, cfg.Dedup.MaxSpans))
	}
	if cfg.Dedup.MaxSpans > maxDedupSpans {
		errs = append(errs, fmt.Errorf("%w, got \"%d\", which would allocate %s at start; lower dedup.max_spans",
			errDedupMaxSpansLarge, cfg.Dedup.MaxSpans, formatBytes(float64(cfg.Dedup.MaxSpans)*dedupBytesPerSpan)))
	}
	if cfg.Storm.Interval <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errStormInterval, cfg.Storm.Interval.String()))
	}
	if cfg.Storm.MaxPerInterval <= 0 {
		errs = append(errs, fmt.Errorf("%w, got \"%d\"", errStormMaxPerInterval, cfg.Storm.MaxPerInterval))
	}
	if cfg.CacheMiss.Attribute == "" {
		errs = append(errs, fmt.Errorf("%w, got %q", errCacheMissAttribute, cfg.CacheMiss.Attribute))
	}
	if cfg.CacheMiss.Window < minWindow {
		errs = append(errs, fmt.Errorf("%w, got %q", errCacheMissWindow, cfg.CacheMiss.Window.String()))
	}
	if cfg.CPU.Metric == "" {
		errs = append(errs, fmt.Errorf("%w, got %q", errCPUMetric, cfg.CPU.Metric))
	}
	if cfg.CPU.Window < minWindow {
		errs = append(errs, fmt.Errorf("%w, got %q", errCPUWindow, cfg.CPU.Window.String()))
	}
	if cfg.MaxPods <= 0 {
		errs = append(errs, fmt.Errorf("%w, got \"%d\"", errMaxPods, cfg.MaxPods))
	}
	return errors.Join(errs...)
}

// formatBytes returns n bytes as a decimal size such as "1.6 TB". It takes
// a float64 so that a size beyond the int64 range still prints.
func formatBytes(n float64) string {
	const units = "kMGTPEZY"
	if n < 1000 {
		return fmt.Sprintf("%.0f B", n)
	}
	exp := -1
	for n >= 1000 && exp < len(units)-1 {
		n /= 1000
		exp++
	}
	return fmt.Sprintf("%.1f %cB", n, units[exp])
}
