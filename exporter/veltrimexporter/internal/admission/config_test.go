package admission

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
)

func TestNewDefaultConfig(t *testing.T) {
	cfg := NewDefaultConfig()

	assert.Equal(t, "localhost:9443", cfg.NetAddr.Endpoint)
	assert.Equal(t, "deny", cfg.Mode)
	assert.Equal(t, 15*time.Minute, cfg.CacheWindow)
	assert.InDelta(t, 0.30, cfg.CPUThreshold, 1e-12)
	assert.Equal(t, 10*time.Minute, cfg.StaleAfter)
	assert.Equal(t, "removable", cfg.UnknownPods)
	assert.Empty(t, cfg.PolicyFile)
	assert.Equal(t, 20*time.Millisecond, cfg.PolicyTimeout)
	assert.Equal(t, BreakerConfig{Failures: 5, Cooldown: 30 * time.Second}, cfg.Breaker)
	assert.Equal(t, int64(7<<20), cfg.MaxRequestBodySize)
	assert.Equal(t, 10*time.Second, cfg.ReadTimeout)
	assert.Equal(t, 10*time.Second, cfg.ReadHeaderTimeout)
	assert.Equal(t, 30*time.Second, cfg.WriteTimeout)
	assert.False(t, cfg.TLS.HasValue())
}

func TestConfigUnmarshal(t *testing.T) {
	conf := confmap.NewFromStringMap(map[string]any{
		"endpoint":       "0.0.0.0:8443",
		"tls":            map[string]any{"cert_file": "/certs/tls.crt", "key_file": "/certs/tls.key", "min_version": "1.3"},
		"mode":           "clamp",
		"cache_window":   "20m",
		"cpu_threshold":  0.5,
		"stale_after":    "5m",
		"unknown_pods":   "protected",
		"policy_file":    "/etc/veltrim/policy.lua",
		"policy_timeout": "50ms",
		"breaker":        map[string]any{"failures": 3, "cooldown": "1m"},
	})
	cfg := NewDefaultConfig()

	require.NoError(t, conf.Unmarshal(&cfg))

	require.NoError(t, cfg.Validate())
	assert.Equal(t, "0.0.0.0:8443", cfg.NetAddr.Endpoint)
	require.True(t, cfg.TLS.HasValue())
	assert.Equal(t, "/certs/tls.crt", cfg.TLS.Get().CertFile)
	assert.Equal(t, "1.3", cfg.TLS.Get().MinVersion)
	assert.Equal(t, "clamp", cfg.Mode)
	assert.Equal(t, 20*time.Minute, cfg.CacheWindow)
	assert.InDelta(t, 0.5, cfg.CPUThreshold, 1e-12)
	assert.Equal(t, 5*time.Minute, cfg.StaleAfter)
	assert.Equal(t, "protected", cfg.UnknownPods)
	assert.Equal(t, "/etc/veltrim/policy.lua", cfg.PolicyFile)
	assert.Equal(t, 50*time.Millisecond, cfg.PolicyTimeout)
	assert.Equal(t, BreakerConfig{Failures: 3, Cooldown: time.Minute}, cfg.Breaker)
	assert.Equal(t, int64(7<<20), cfg.MaxRequestBodySize, "defaults survive a partial config")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		err  error
		want string
	}{
		{name: "valid", edit: func(*Config) {}},
		{name: "no tls", edit: func(c *Config) { c.TLS = NewDefaultConfig().TLS }, err: errMissingTLS, want: `"tls" is required`},
		{name: "no certificate", edit: func(c *Config) { c.TLS.Get().CertFile = "" }, err: errMissingTLS},
		{name: "no key", edit: func(c *Config) { c.TLS.Get().KeyFile = "" }, err: errMissingTLS},
		{name: "pem pair", edit: func(c *Config) {
			c.TLS.Get().Config = configtls.Config{CertPem: "cert", KeyPem: "key"}
		}},
		{name: "tls 1.1 minimum", edit: func(c *Config) { c.TLS.Get().MinVersion = "1.1" }, err: errInvalidTLSVersion, want: `"tls.min_version" is "1.1"`},
		{name: "tls 1.0 minimum", edit: func(c *Config) { c.TLS.Get().MinVersion = "1.0" }, err: errInvalidTLSVersion},
		{name: "tls 1.0 maximum", edit: func(c *Config) { c.TLS.Get().MaxVersion = "1.0" }, err: errInvalidTLSVersion, want: `"tls.max_version" is "1.0"`},
		{name: "tls 1.3 minimum", edit: func(c *Config) { c.TLS.Get().MinVersion = "1.3" }},
		{name: "no endpoint", edit: func(c *Config) { c.NetAddr.Endpoint = "" }, err: errMissingEndpoint},
		{name: "negative body size", edit: func(c *Config) { c.MaxRequestBodySize = -1 }, err: errInvalidBodySize, want: `"max_request_body_size" must not be negative, got "-1"`},
		{name: "mode", edit: func(c *Config) { c.Mode = "block" }, err: errInvalidMode, want: `got "block"`},
		{name: "unknown pods", edit: func(c *Config) { c.UnknownPods = "ignore" }, err: errInvalidUnknown, want: `got "ignore"`},
		{name: "cache window", edit: func(c *Config) { c.CacheWindow = 0 }, err: errInvalidWindow, want: `got "0s"`},
		{name: "cpu threshold", edit: func(c *Config) { c.CPUThreshold = -0.1 }, err: errInvalidThreshold, want: `"cpu_threshold" must be a finite number greater than 0, got "-0.1"`},
		{name: "cpu threshold zero", edit: func(c *Config) { c.CPUThreshold = 0 }, err: errInvalidThreshold, want: `got "0"`},
		{name: "cpu threshold NaN", edit: func(c *Config) { c.CPUThreshold = math.NaN() }, err: errInvalidThreshold, want: `got "NaN"`},
		{name: "cpu threshold infinite", edit: func(c *Config) { c.CPUThreshold = math.Inf(1) }, err: errInvalidThreshold, want: `got "+Inf"`},
		{name: "cpu threshold negative infinite", edit: func(c *Config) { c.CPUThreshold = math.Inf(-1) }, err: errInvalidThreshold, want: `got "-Inf"`},
		{name: "cpu threshold above request", edit: func(c *Config) { c.CPUThreshold = 1.5 }},
		{name: "stale after", edit: func(c *Config) { c.StaleAfter = -time.Second }, err: errInvalidStale, want: `got "-1s"`},
		{name: "policy timeout", edit: func(c *Config) { c.PolicyTimeout = 0 }, err: errInvalidTimeout, want: `"policy_timeout" must be positive, got "0s"`},
		{name: "breaker failures", edit: func(c *Config) { c.Breaker.Failures = 0 }, err: errInvalidFailures, want: `"breaker.failures" must be at least 1, got "0"`},
		{name: "breaker cooldown", edit: func(c *Config) { c.Breaker.Cooldown = 0 }, err: errInvalidCooldown, want: `"breaker.cooldown" must be positive, got "0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(cfg)

			err := cfg.Validate()

			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestConfigValidateReportsEveryError(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.NetAddr.Endpoint = ""
	cfg.MaxRequestBodySize = -1
	cfg.Mode = "block"
	cfg.UnknownPods = "ignore"
	cfg.CacheWindow = 0
	cfg.CPUThreshold = math.NaN()
	cfg.StaleAfter = 0
	cfg.PolicyTimeout = 0
	cfg.Breaker = BreakerConfig{Failures: 0, Cooldown: 0}

	err := cfg.Validate()

	for _, want := range []error{
		errMissingEndpoint, errInvalidBodySize, errMissingTLS, errInvalidMode, errInvalidUnknown,
		errInvalidWindow, errInvalidThreshold, errInvalidStale, errInvalidTimeout,
		errInvalidFailures, errInvalidCooldown,
	} {
		assert.ErrorIs(t, err, want)
	}
}

func TestConfigValidateReportsBothTLSVersions(t *testing.T) {
	cfg := testConfig()
	cfg.TLS.Get().MinVersion = "1.0"
	cfg.TLS.Get().MaxVersion = "1.1"

	err := cfg.Validate()

	assert.ErrorContains(t, err, `"tls.min_version" is "1.0"`)
	assert.ErrorContains(t, err, `"tls.max_version" is "1.1"`)
}
