package veltrimprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/xconfmap"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		id       component.ID
		expected component.Config
	}{
		{
			id:       component.NewID(componentType),
			expected: createDefaultConfig(),
		},
		{
			id: component.NewIDWithName(componentType, "custom"),
			expected: &Config{
				Dedup:     DedupConfig{Enabled: false, Window: time.Minute, MaxSpans: 50_000},
				Storm:     StormConfig{Enabled: true, Interval: 10 * time.Second, MaxPerInterval: 100},
				CacheMiss: CacheMissConfig{Attribute: "gen_ai.cache.miss", Window: 30 * time.Minute},
				CPU:       CPUConfig{Metric: "container.cpu.utilization", Window: 5 * time.Minute},
				MaxPods:   500,
				Stamp:     StampConfig{Traces: false, Metrics: true},
			},
		},
	}

	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))

			assert.NoError(t, xconfmap.Validate(cfg))
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(componentType, "invalid").String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))

	err = xconfmap.Validate(cfg)
	require.ErrorIs(t, err, errDedupWindow)
	assert.ErrorContains(t, err, `dedup.window must be greater than 0, got "0s"`)
}

func TestDefaultConfigValid(t *testing.T) {
	cfg := createDefaultConfig()
	assert.NoError(t, xconfmap.Validate(cfg))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		err     error
		message string
	}{
		{
			name:    "dedup window zero",
			mutate:  func(c *Config) { c.Dedup.Window = 0 },
			err:     errDedupWindow,
			message: `dedup.window must be greater than 0, got "0s"`,
		},
		{
			name:    "dedup window negative",
			mutate:  func(c *Config) { c.Dedup.Window = -time.Second },
			err:     errDedupWindow,
			message: `dedup.window must be greater than 0, got "-1s"`,
		},
		{
			name:    "dedup max spans zero",
			mutate:  func(c *Config) { c.Dedup.MaxSpans = 0 },
			err:     errDedupMaxSpans,
			message: `dedup.max_spans must be greater than 0, got "0"`,
		},
		{
			name:    "dedup max spans negative",
			mutate:  func(c *Config) { c.Dedup.MaxSpans = -5 },
			err:     errDedupMaxSpans,
			message: `dedup.max_spans must be greater than 0, got "-5"`,
		},
		{
			name:   "dedup max spans too large",
			mutate: func(c *Config) { c.Dedup.MaxSpans = 100_000_000_000 },
			err:    errDedupMaxSpansLarge,
			message: `dedup.max_spans must be at most 100000000, got "100000000000", ` +
				`which would allocate 1.6 TB at start; lower dedup.max_spans`,
		},
		{
			name:    "storm interval zero",
			mutate:  func(c *Config) { c.Storm.Interval = 0 },
			err:     errStormInterval,
			message: `storm.interval must be greater than 0, got "0s"`,
		},
		{
			name:    "storm max per interval zero",
			mutate:  func(c *Config) { c.Storm.MaxPerInterval = 0 },
			err:     errStormMaxPerInterval,
			message: `storm.max_per_interval must be greater than 0, got "0"`,
		},
		{
			name:    "cache miss attribute empty",
			mutate:  func(c *Config) { c.CacheMiss.Attribute = "" },
			err:     errCacheMissAttribute,
			message: `cache_miss.attribute must not be empty, got ""`,
		},
		{
			name:    "cache miss window short",
			mutate:  func(c *Config) { c.CacheMiss.Window = 500 * time.Millisecond },
			err:     errCacheMissWindow,
			message: `cache_miss.window must be at least 1s, got "500ms"`,
		},
		{
			name:    "cpu metric empty",
			mutate:  func(c *Config) { c.CPU.Metric = "" },
			err:     errCPUMetric,
			message: `cpu.metric must not be empty, got ""`,
		},
		{
			name:    "cpu window zero",
			mutate:  func(c *Config) { c.CPU.Window = 0 },
			err:     errCPUWindow,
			message: `cpu.window must be at least 1s, got "0s"`,
		},
		{
			name:    "max pods zero",
			mutate:  func(c *Config) { c.MaxPods = 0 },
			err:     errMaxPods,
			message: `max_pods must be greater than 0, got "0"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.mutate(cfg)

			err := cfg.Validate()
			require.ErrorIs(t, err, tt.err)
			assert.EqualError(t, err, tt.message)
		})
	}
}

func TestValidateMaxSpansAtLimit(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Dedup.MaxSpans = maxDedupSpans
	assert.NoError(t, cfg.Validate())
}

func TestValidateReportsAllErrors(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Dedup.MaxSpans = 0
	cfg.MaxPods = -1

	err := cfg.Validate()
	assert.ErrorIs(t, err, errDedupMaxSpans)
	assert.ErrorIs(t, err, errMaxPods)
}
