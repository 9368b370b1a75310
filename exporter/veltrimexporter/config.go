package veltrimexporter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/veltrix/veltrim/exporter/veltrimexporter/internal/admission"
	"github.com/veltrix/veltrim/internal/kubeclient"
	"github.com/veltrix/veltrim/internal/podstate"
)

// Config is the configuration of the veltrim exporter.
type Config struct {
	// AuthType selects how to reach the Kubernetes API: "serviceAccount"
	// uses the pod's service account (in cluster), "kubeConfig" reads a
	// kubeconfig file.
	AuthType kubeclient.AuthType `mapstructure:"auth_type"`
	// KubeConfigPath is the kubeconfig file for auth_type "kubeConfig";
	// empty means $KUBECONFIG or ~/.kube/config.
	KubeConfigPath string `mapstructure:"kube_config_path"`
	// Context is the kubeconfig context for auth_type "kubeConfig"; empty
	// means the file's current context.
	Context string `mapstructure:"context"`
	// QPS is the sustained rate of Kubernetes API requests, per second.
	QPS float32 `mapstructure:"qps"`
	// Burst is how many requests may exceed QPS for a short time.
	Burst int `mapstructure:"burst"`

	// AnnotationPrefix is prepended to the veltrim annotation names, for
	// example "veltrim.io/" gives "veltrim.io/cache-state".
	AnnotationPrefix string `mapstructure:"annotation_prefix"`
	// DeletionCost controls the controller.kubernetes.io/pod-deletion-cost
	// annotation.
	DeletionCost DeletionCostConfig `mapstructure:"deletion_cost"`
	// CPUThreshold is the CPU request utilization at and above which a cold
	// pod is busy rather than removable.
	CPUThreshold float64 `mapstructure:"cpu_threshold"`
	// CPUChangeThreshold is how far CPU request utilization must move, in
	// absolute terms, before the move alone triggers a patch.
	CPUChangeThreshold float64 `mapstructure:"cpu_change_threshold"`
	// RefreshInterval is how often an unchanged state is published again so
	// that observed-at shows the state is current.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`

	// Admission configures the admission endpoint that decides scale-down
	// requests from the published annotations. It is off unless the
	// `admission` section is present; `enabled: false` turns a present
	// section off.
	Admission configoptional.Optional[admission.Config] `mapstructure:"admission"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeletionCostConfig controls the pod-deletion-cost annotation.
type DeletionCostConfig struct {
	// Enabled publishes the annotation. When false the exporter neither
	// writes nor removes it.
	Enabled bool `mapstructure:"enabled"`
}

// Errors returned by Config.Validate, each wrapped with the bad value.
var (
	errInvalidAuthType         = errors.New("invalid auth_type")
	errKubeConfigOnly          = errors.New("set only with auth_type \"kubeConfig\"")
	errInvalidQPS              = errors.New("invalid qps")
	errInvalidBurst            = errors.New("invalid burst")
	errInvalidAnnotationPrefix = errors.New("invalid annotation_prefix")
	errInvalidCPUThreshold     = errors.New("invalid cpu_threshold")
	errInvalidCPUChange        = errors.New("invalid cpu_change_threshold")
	errInvalidRefreshInterval  = errors.New("invalid refresh_interval")
	errAdmissionCPUThreshold   = errors.New("admission::cpu_threshold differs from cpu_threshold")
	errAdmissionStaleAfter     = errors.New("refresh_interval is not shorter than admission::stale_after")
)

// Validate checks the configuration and returns every problem it finds.
func (c *Config) Validate() error {
	return errors.Join(
		c.validateClient(),
		validateAnnotationPrefix(c.AnnotationPrefix),
		c.validateThresholds(),
		c.validateRefreshInterval(),
		c.validateAdmissionConsistency(),
	)
}

func (c *Config) validateClient() error {
	var errs error
	switch c.AuthType {
	case kubeclient.AuthTypeServiceAccount:
		if c.KubeConfigPath != "" {
			errs = errors.Join(errs, fmt.Errorf("kube_config_path %q is %w, not %q", c.KubeConfigPath, errKubeConfigOnly, c.AuthType))
		}
		if c.Context != "" {
			errs = errors.Join(errs, fmt.Errorf("context %q is %w, not %q", c.Context, errKubeConfigOnly, c.AuthType))
		}
	case kubeclient.AuthTypeKubeConfig:
	default:
		errs = errors.Join(errs, fmt.Errorf("%w %q: use %q or %q",
			errInvalidAuthType, c.AuthType, kubeclient.AuthTypeServiceAccount, kubeclient.AuthTypeKubeConfig))
	}

	qps := float64(c.QPS)
	if !(qps > 0) || math.IsInf(qps, 0) {
		errs = errors.Join(errs, fmt.Errorf("%w %q: must be a number greater than 0", errInvalidQPS, formatFloat(qps)))
	}
	if c.Burst < 1 {
		errs = errors.Join(errs, fmt.Errorf("%w %q: must be at least 1", errInvalidBurst, strconv.Itoa(c.Burst)))
	}
	return errs
}

// validateAnnotationPrefix checks that prefix followed by each veltrim
// annotation name is a valid annotation key.
func validateAnnotationPrefix(prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w %q: must not be empty, for example %q", errInvalidAnnotationPrefix, prefix, podstate.DefaultAnnotationPrefix)
	}
	key := prefix + podstate.AnnotationCPURequestUtilization
	if problems := validation.IsQualifiedName(key); len(problems) > 0 {
		return fmt.Errorf("%w %q: annotation key %q is invalid: %s",
			errInvalidAnnotationPrefix, prefix, key, strings.Join(problems, "; "))
	}
	return nil
}

func (c *Config) validateThresholds() error {
	var errs error
	if !admission.ValidCPUThreshold(c.CPUThreshold) {
		errs = errors.Join(errs, fmt.Errorf("%w %q: must be a finite number greater than 0", errInvalidCPUThreshold, formatFloat(c.CPUThreshold)))
	}
	if !(c.CPUChangeThreshold >= 0) || math.IsInf(c.CPUChangeThreshold, 0) {
		errs = errors.Join(errs, fmt.Errorf("%w %q: must be a number of at least 0", errInvalidCPUChange, formatFloat(c.CPUChangeThreshold)))
	}
	return errs
}

func (c *Config) validateRefreshInterval() error {
	if c.RefreshInterval <= 0 {
		return fmt.Errorf("%w %q: must be greater than 0", errInvalidRefreshInterval, c.RefreshInterval.String())
	}
	return nil
}

// validateAdmissionConsistency checks the settings the admission endpoint
// shares with the publisher. The collector validates the admission section
// itself, as a nested configuration.
func (c *Config) validateAdmissionConsistency() error {
	if !c.Admission.HasValue() {
		return nil
	}
	adm := c.Admission.Get()

	var errs error
	// The deletion cost must rank pods the way the endpoint decides, or the
	// ReplicaSet controller deletes a pod the endpoint counted as protected.
	// An invalid value on either side is already reported on its own.
	if admission.ValidCPUThreshold(adm.CPUThreshold) && admission.ValidCPUThreshold(c.CPUThreshold) &&
		adm.CPUThreshold != c.CPUThreshold {
		errs = errors.Join(errs, fmt.Errorf("%w: %q and %q; set both to the same value",
			errAdmissionCPUThreshold, formatFloat(adm.CPUThreshold), formatFloat(c.CPUThreshold)))
	}
	// An unchanged state is republished once per refresh interval; a longer
	// interval lets the endpoint see live pods as stale.
	if adm.StaleAfter > 0 && c.RefreshInterval >= adm.StaleAfter {
		errs = errors.Join(errs, fmt.Errorf("%w: refresh_interval %q, admission::stale_after %q",
			errAdmissionStaleAfter, c.RefreshInterval.String(), adm.StaleAfter.String()))
	}
	return errs
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
