package admission

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/veltrix/veltrim/internal/policy"
)

// Defaults of Config.
const (
	// defaultEndpoint listens on loopback only; a cluster deployment sets the
	// pod IP or 0.0.0.0 so the kube-apiserver can reach it.
	defaultEndpoint        = "localhost:9443"
	defaultMode            = policy.ModeDeny
	defaultCacheWindow     = 15 * time.Minute
	defaultCPUThreshold    = 0.30
	defaultStaleAfter      = 10 * time.Minute
	defaultUnknownPods     = policy.UnknownPodsRemovable
	defaultPolicyTimeout   = 20 * time.Millisecond
	defaultBreakerFailures = 5
	defaultBreakerCooldown = 30 * time.Second

	// defaultMaxRequestBodySize bounds an AdmissionReview body. The
	// kube-apiserver accepts request bodies up to 3 MiB (its
	// --max-request-body-bytes default), and a review of an update carries
	// the object and the old object, so 2 × 3 MiB plus 1 MiB for the rest of
	// the review is the largest body a valid review can have.
	defaultMaxRequestBodySize = 7 << 20

	// defaultReadTimeout bounds reading a whole request, headers and body,
	// so that a client sending a body slowly or not at all cannot hold a
	// connection open. The kube-apiserver gives up on a webhook call after
	// its timeoutSeconds, at most 30 s (the deploy manifests set 2 s), and
	// sends the body at once, so 10 s leaves a wide margin.
	defaultReadTimeout = 10 * time.Second
	// defaultReadHeaderTimeout bounds reading the request headers. It equals
	// defaultReadTimeout because confighttp's 1m default would let a client
	// that sends headers slowly hold a connection longer than a slow body.
	defaultReadHeaderTimeout = defaultReadTimeout
	// defaultWriteTimeout bounds the time from the end of the request
	// headers to the end of the response. The kube-apiserver reads no
	// response after 30 s, the largest webhook timeoutSeconds, so a longer
	// write only holds the connection.
	defaultWriteTimeout = 30 * time.Second
)

// minTLSVersion is the lowest TLS version the server accepts.
const minTLSVersion = "1.2"

// Config configures the admission endpoint. It is the exporter's
// `admission:` section.
type Config struct {
	// ServerConfig holds endpoint, tls and the other HTTP server settings.
	// tls is required: the kube-apiserver calls webhooks over HTTPS only.
	confighttp.ServerConfig `mapstructure:",squash"`

	// Mode selects the webhook the deploy manifests register: "deny" a
	// validating webhook at /validate, "clamp" a mutating webhook at
	// /mutate. The server serves both paths whatever the mode.
	Mode string `mapstructure:"mode"`
	// CacheWindow protects a pod whose last cache miss is this recent.
	CacheWindow time.Duration `mapstructure:"cache_window"`
	// CPUThreshold protects a pod whose CPU usage is at or above this share
	// of its CPU request.
	CPUThreshold float64 `mapstructure:"cpu_threshold"`
	// StaleAfter is the age after which a pod's published state counts as unknown.
	StaleAfter time.Duration `mapstructure:"stale_after"`
	// UnknownPods sets how pods with missing or stale state count:
	// "removable", so a telemetry outage does not block scaling, or "protected".
	UnknownPods string `mapstructure:"unknown_pods"`
	// PolicyFile is a Lua policy that replaces the embedded default policy.
	PolicyFile string `mapstructure:"policy_file"`
	// PolicyTimeout bounds one policy evaluation; a longer one is allowed
	// with a warning and counts as a failure for the breaker.
	PolicyTimeout time.Duration `mapstructure:"policy_timeout"`
	// Breaker configures the circuit breaker around policy evaluation.
	Breaker BreakerConfig `mapstructure:"breaker"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// BreakerConfig configures the circuit breaker.
type BreakerConfig struct {
	// Failures is how many consecutive failed or timed-out evaluations open
	// the breaker.
	Failures int `mapstructure:"failures"`
	// Cooldown is how long an open breaker allows scale-downs without
	// evaluating before it lets one request probe the policy.
	Cooldown time.Duration `mapstructure:"cooldown"`
}

// NewDefaultConfig returns the default configuration. It has no TLS
// certificate, so it does not pass Validate until one is set.
func NewDefaultConfig() Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.MaxRequestBodySize = defaultMaxRequestBodySize
	server.ReadTimeout = defaultReadTimeout
	server.ReadHeaderTimeout = defaultReadHeaderTimeout
	server.WriteTimeout = defaultWriteTimeout
	server.TLS = configoptional.Default(configtls.NewDefaultServerConfig())

	return Config{
		ServerConfig:  server,
		Mode:          defaultMode,
		CacheWindow:   defaultCacheWindow,
		CPUThreshold:  defaultCPUThreshold,
		StaleAfter:    defaultStaleAfter,
		UnknownPods:   defaultUnknownPods,
		PolicyTimeout: defaultPolicyTimeout,
		Breaker: BreakerConfig{
			Failures: defaultBreakerFailures,
			Cooldown: defaultBreakerCooldown,
		},
	}
}

// Configuration errors, one per rule of Validate.
var (
	errMissingTLS        = errors.New(`"tls" is required with "cert_file" and "key_file" (or "cert_pem" and "key_pem"): the kube-apiserver calls admission webhooks over HTTPS only`)
	errMissingEndpoint   = errors.New(`"endpoint" must not be empty`)
	errInvalidMode       = errors.New(`"mode" must be "deny" or "clamp"`)
	errInvalidUnknown    = errors.New(`"unknown_pods" must be "removable" or "protected"`)
	errInvalidWindow     = errors.New(`"cache_window" must be positive`)
	errInvalidThreshold  = errors.New(`"cpu_threshold" must be a finite number greater than 0`)
	errInvalidStale      = errors.New(`"stale_after" must be positive`)
	errInvalidTimeout    = errors.New(`"policy_timeout" must be positive`)
	errInvalidFailures   = errors.New(`"breaker.failures" must be at least 1`)
	errInvalidCooldown   = errors.New(`"breaker.cooldown" must be positive`)
	errInvalidBodySize   = errors.New(`"max_request_body_size" must not be negative`)
	errInvalidTLSVersion = errors.New(`TLS versions below ` + minTLSVersion + ` are not allowed`)
)

// Validate checks the configuration and returns every problem it finds. It
// does not read the policy file: New compiles it and reports its errors.
func (c *Config) Validate() error {
	return errors.Join(
		c.validateServer(),
		c.validatePolicy(),
		c.validateBreaker(),
	)
}

func (c *Config) validateServer() error {
	var errs []error
	if c.NetAddr.Endpoint == "" {
		errs = append(errs, errMissingEndpoint)
	}
	if c.MaxRequestBodySize < 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidBodySize, strconv.FormatInt(c.MaxRequestBodySize, 10)))
	}
	return errors.Join(append(errs, c.validateTLS())...)
}

func (c *Config) validateTLS() error {
	if !c.TLS.HasValue() {
		return errMissingTLS
	}
	tls := c.TLS.Get()
	var errs []error
	if (tls.CertFile == "" && tls.CertPem == "") || (tls.KeyFile == "" && tls.KeyPem == "") {
		errs = append(errs, errMissingTLS)
	}
	if isBelowMinTLS(tls.MinVersion) {
		errs = append(errs, fmt.Errorf("%w: \"tls.min_version\" is %q", errInvalidTLSVersion, tls.MinVersion))
	}
	if isBelowMinTLS(tls.MaxVersion) {
		errs = append(errs, fmt.Errorf("%w: \"tls.max_version\" is %q", errInvalidTLSVersion, tls.MaxVersion))
	}
	return errors.Join(errs...)
}

func (c *Config) validatePolicy() error {
	var errs []error
	if c.Mode != policy.ModeDeny && c.Mode != policy.ModeClamp {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidMode, c.Mode))
	}
	if c.UnknownPods != policy.UnknownPodsRemovable && c.UnknownPods != policy.UnknownPodsProtected {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidUnknown, c.UnknownPods))
	}
	if c.CacheWindow <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidWindow, c.CacheWindow))
	}
	if !ValidCPUThreshold(c.CPUThreshold) {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidThreshold, strconv.FormatFloat(c.CPUThreshold, 'g', -1, 64)))
	}
	if c.StaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidStale, c.StaleAfter))
	}
	if c.PolicyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidTimeout, c.PolicyTimeout))
	}
	return errors.Join(errs...)
}

func (c *Config) validateBreaker() error {
	var errs []error
	if c.Breaker.Failures < 1 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidFailures, strconv.Itoa(c.Breaker.Failures)))
	}
	if c.Breaker.Cooldown <= 0 {
		errs = append(errs, fmt.Errorf("%w, got %q", errInvalidCooldown, c.Breaker.Cooldown))
	}
	return errors.Join(errs...)
}

// ValidCPUThreshold reports whether v is a valid cpu_threshold: a finite
// number greater than 0. NaN fails because every comparison with it is false.
func ValidCPUThreshold(v float64) bool {
	return v > 0 && !math.IsInf(v, 1)
}

// isBelowMinTLS reports whether a configtls version string names a version
// below minTLSVersion. An empty string means the configtls default, TLS 1.2.
func isBelowMinTLS(version string) bool {
	return version == "1.0" || version == "1.1"
}

// maxRequestBodySize returns the configured body limit, or the default when
// the configuration leaves it 0.
func (c *Config) maxRequestBodySize() int64 {
	if c.MaxRequestBodySize > 0 {
		return c.MaxRequestBodySize
	}
	return defaultMaxRequestBodySize
}

// settings returns the thresholds the policy receives.
func (c *Config) settings() policy.Settings {
	return policy.Settings{
		CacheWindow:  c.CacheWindow,
		CPUThreshold: c.CPUThreshold,
		StaleAfter:   c.StaleAfter,
		UnknownPods:  c.UnknownPods,
	}
}
