package veltrimexporter

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/veltrix/veltrim/internal/kubeclient"
)

func loadConfig(t *testing.T, id component.ID) *Config {
	t.Helper()
	conf, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := conf.Sub(id.String())
	require.NoError(t, err)

	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestLoadConfigDefault(t *testing.T) {
	cfg := loadConfig(t, component.NewID(typeStr))

	assert.Equal(t, createDefaultConfig(), cfg)
	assert.False(t, cfg.Admission.HasValue(), "admission is off without its section")
	assert.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfigCustom(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "custom"))

	expected := createDefaultConfig().(*Config)
	expected.AuthType = kubeclient.AuthTypeKubeConfig
	expected.KubeConfigPath = "/etc/veltrim/kubeconfig"
	expected.Context = "staging"
	expected.QPS = 25
	expected.Burst = 50
	expected.AnnotationPrefix = "scaling.example.com/"
	expected.DeletionCost = DeletionCostConfig{Enabled: false}
	expected.CPUThreshold = 0.5
	expected.CPUChangeThreshold = 0.1
	expected.RefreshInterval = 2 * time.Minute
	assert.Equal(t, expected, cfg)
	assert.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfigAdmission(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission"))
	require.NoError(t, confmap.Validate(cfg))

	require.True(t, cfg.Admission.HasValue())
	adm := cfg.Admission.Get()
	assert.Equal(t, "0.0.0.0:9443", adm.NetAddr.Endpoint)
	assert.Equal(t, "clamp", adm.Mode)
	require.True(t, adm.TLS.HasValue())
	assert.Equal(t, "/etc/veltrim/tls/tls.crt", adm.TLS.Get().CertFile)
	assert.Equal(t, 10*time.Minute, adm.StaleAfter, "unset keys keep their defaults")
}

func TestLoadConfigAdmissionDisabled(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission_disabled"))

	assert.False(t, cfg.Admission.HasValue())
	assert.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfigAdmissionCPUMismatch(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission_cpu_mismatch"))

	err := confmap.Validate(cfg)
	assert.ErrorIs(t, err, errAdmissionCPUThreshold)
	assert.ErrorContains(t, err, `"0.3" and "0.5"`)
}

func TestConfigValidateAdmissionCPUSkipsInvalid(t *testing.T) {
	tests := []struct {
		name      string
		exporter  float64
		admission float64
	}{
		{name: "both NaN", exporter: math.NaN(), admission: math.NaN()},
		{name: "admission NaN", exporter: 0.3, admission: math.NaN()},
		{name: "exporter infinite", exporter: math.Inf(1), admission: 0.3},
		{name: "admission negative", exporter: 0.3, admission: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission"))
			cfg.CPUThreshold = tt.exporter
			cfg.Admission.Get().CPUThreshold = tt.admission

			err := cfg.Validate()
			assert.NotErrorIs(t, err, errAdmissionCPUThreshold)
		})
	}
}

func TestLoadConfigAdmissionWithoutTLS(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission_without_tls"))

	err := confmap.Validate(cfg)
	assert.ErrorContains(t, err, "admission")
	assert.ErrorContains(t, err, "tls")
}

func TestConfigValidateAdmissionStaleAfter(t *testing.T) {
	cfg := loadConfig(t, component.NewIDWithName(typeStr, "admission"))
	cfg.RefreshInterval = 10 * time.Minute

	err := cfg.Validate()
	assert.ErrorIs(t, err, errAdmissionStaleAfter)
	assert.ErrorContains(t, err, `refresh_interval "10m0s", admission::stale_after "10m0s"`)
}

func TestConfigStruct(t *testing.T) {
	assert.NoError(t, componenttest.CheckConfigStruct(createDefaultConfig()))
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)

	assert.Equal(t, kubeclient.AuthTypeServiceAccount, cfg.AuthType)
	assert.Equal(t, "veltrim.io/", cfg.AnnotationPrefix)
	assert.True(t, cfg.DeletionCost.Enabled)
	assert.InDelta(t, 0.30, cfg.CPUThreshold, 0)
	assert.InDelta(t, 0.05, cfg.CPUChangeThreshold, 0)
	assert.Equal(t, 5*time.Minute, cfg.RefreshInterval)
	assert.NoError(t, cfg.Validate())
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*Config)
		err     error
		message string
	}{
		{
			name:    "unknown auth type",
			modify:  func(c *Config) { c.AuthType = "token" },
			err:     errInvalidAuthType,
			message: `invalid auth_type "token"`,
		},
		{
			name:    "kube_config_path with service account",
			modify:  func(c *Config) { c.KubeConfigPath = "/tmp/kubeconfig" },
			err:     errKubeConfigOnly,
			message: `kube_config_path "/tmp/kubeconfig"`,
		},
		{
			name:    "context with service account",
			modify:  func(c *Config) { c.Context = "prod" },
			err:     errKubeConfigOnly,
			message: `context "prod"`,
		},
		{
			name:    "zero qps",
			modify:  func(c *Config) { c.QPS = 0 },
			err:     errInvalidQPS,
			message: `invalid qps "0"`,
		},
		{
			name:    "negative qps",
			modify:  func(c *Config) { c.QPS = -2.5 },
			err:     errInvalidQPS,
			message: `invalid qps "-2.5"`,
		},
		{
			name:    "infinite qps",
			modify:  func(c *Config) { c.QPS = float32(math.Inf(1)) },
			err:     errInvalidQPS,
			message: `invalid qps "+Inf"`,
		},
		{
			name:    "zero burst",
			modify:  func(c *Config) { c.Burst = 0 },
			err:     errInvalidBurst,
			message: `invalid burst "0"`,
		},
		{
			name:    "empty annotation prefix",
			modify:  func(c *Config) { c.AnnotationPrefix = "" },
			err:     errInvalidAnnotationPrefix,
			message: `invalid annotation_prefix ""`,
		},
		{
			name:    "annotation prefix with invalid characters",
			modify:  func(c *Config) { c.AnnotationPrefix = "Veltrim_IO/" },
			err:     errInvalidAnnotationPrefix,
			message: `invalid annotation_prefix "Veltrim_IO/"`,
		},
		{
			name:    "annotation prefix with two slashes",
			modify:  func(c *Config) { c.AnnotationPrefix = "veltrim.io/team/" },
			err:     errInvalidAnnotationPrefix,
			message: `invalid annotation_prefix "veltrim.io/team/"`,
		},
		{
			name:    "zero cpu threshold",
			modify:  func(c *Config) { c.CPUThreshold = 0 },
			err:     errInvalidCPUThreshold,
			message: `invalid cpu_threshold "0"`,
		},
		{
			name:    "NaN cpu threshold",
			modify:  func(c *Config) { c.CPUThreshold = math.NaN() },
			err:     errInvalidCPUThreshold,
			message: `invalid cpu_threshold "NaN"`,
		},
		{
			name:    "infinite cpu threshold",
			modify:  func(c *Config) { c.CPUThreshold = math.Inf(1) },
			err:     errInvalidCPUThreshold,
			message: `invalid cpu_threshold "+Inf": must be a finite number greater than 0`,
		},
		{
			name:    "negative cpu change threshold",
			modify:  func(c *Config) { c.CPUChangeThreshold = -0.01 },
			err:     errInvalidCPUChange,
			message: `invalid cpu_change_threshold "-0.01"`,
		},
		{
			name:    "zero refresh interval",
			modify:  func(c *Config) { c.RefreshInterval = 0 },
			err:     errInvalidRefreshInterval,
			message: `invalid refresh_interval "0s"`,
		},
		{
			name:    "negative refresh interval",
			modify:  func(c *Config) { c.RefreshInterval = -time.Minute },
			err:     errInvalidRefreshInterval,
			message: `invalid refresh_interval "-1m0s"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.modify(cfg)

			err := cfg.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			assert.ErrorContains(t, err, tt.message)
		})
	}
}

func TestConfigValidateKubeConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.AuthType = kubeclient.AuthTypeKubeConfig
	cfg.KubeConfigPath = "/tmp/kubeconfig"
	cfg.Context = "prod"

	assert.NoError(t, cfg.Validate())
}

func TestConfigValidateReportsEveryError(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.QPS = 0
	cfg.RefreshInterval = 0

	err := cfg.Validate()
	assert.ErrorIs(t, err, errInvalidQPS)
	assert.ErrorIs(t, err, errInvalidRefreshInterval)
}
