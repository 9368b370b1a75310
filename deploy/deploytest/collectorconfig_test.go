package deploytest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.yaml.in/yaml/v3"

	"github.com/veltrix/veltrim/exporter/veltrimexporter"
	"github.com/veltrix/veltrim/processor/veltrimprocessor"
)

// repoRoot is the repository root, relative to this package's folder.
const repoRoot = "../.."

// collectorConfigs are the collector configurations the base's ConfigMap
// holds, relative to deploy/.
var collectorConfigs = []string{"base/collector/agent.yaml", "base/collector/admission.yaml"}

// collectorEnv is what the pods' downward API sets, with loopback values.
var collectorEnv = map[string]string{"POD_IP": "127.0.0.1", "K8S_NODE_NAME": "node-1"}

// componentModules maps each component type the configurations use to the Go
// package that provides it. builder-config.yaml must list every one of them,
// or the otelcol-veltrim binary would reject the configuration.
var componentModules = map[string]string{
	"receivers/otlp":            "go.opentelemetry.io/collector/receiver/otlpreceiver",
	"receivers/kubeletstats":    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kubeletstatsreceiver",
	"processors/memory_limiter": "go.opentelemetry.io/collector/processor/memorylimiterprocessor",
	"processors/batch":          "go.opentelemetry.io/collector/processor/batchprocessor",
	"processors/k8sattributes":  "github.com/open-telemetry/opentelemetry-collector-contrib/processor/k8sattributesprocessor",
	"processors/veltrim":        "github.com/veltrix/veltrim/processor/veltrimprocessor",
	"exporters/veltrim":         "github.com/veltrix/veltrim/exporter/veltrimexporter",
	"exporters/clickhouse":      "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/clickhouseexporter",
	"extensions/health_check":   "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension",
}

// resolveCollectorConfig reads a configuration the way the collector does,
// with ${env:...} expanded from collectorEnv.
func resolveCollectorConfig(t *testing.T, path string) *confmap.Conf {
	t.Helper()

	for name, value := range collectorEnv {
		t.Setenv(name, value)
	}
	abs, err := filepath.Abs(filepath.Join(deployDir, path))
	require.NoError(t, err)

	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + abs},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	require.NoError(t, err)
	conf, err := resolver.Resolve(context.Background())
	require.NoError(t, err, "failed to resolve %s", path)
	require.NoError(t, resolver.Shutdown(context.Background()))
	return conf
}

// unmarshalComponent decodes section (for example "processors::veltrim")
// over the factory's defaults and validates it as the collector would.
func unmarshalComponent(t *testing.T, conf *confmap.Conf, section string, factory component.Factory) component.Config {
	t.Helper()

	sub, err := conf.Sub(section)
	require.NoError(t, err)
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg), "%s does not decode", section)
	require.NoError(t, xconfmap.Validate(cfg), "%s is invalid", section)
	return cfg
}

func TestCollectorConfigsValidateVeltrimComponents(t *testing.T) {
	agent := resolveCollectorConfig(t, "base/collector/agent.yaml")
	processorCfg := unmarshalComponent(t, agent, "processors::veltrim", veltrimprocessor.NewFactory()).(*veltrimprocessor.Config)
	assert.True(t, processorCfg.Stamp.Traces, "span-level dashboards read the stamped cache state")
	agentExporter := unmarshalComponent(t, agent, "exporters::veltrim", veltrimexporter.NewFactory()).(*veltrimexporter.Config)

	admission := resolveCollectorConfig(t, "base/collector/admission.yaml")
	admissionExporter := unmarshalComponent(t, admission, "exporters::veltrim", veltrimexporter.NewFactory()).(*veltrimexporter.Config)

	checkAdmissionSettings(t, processorCfg, agentExporter, admissionExporter)
}

func TestCollectorConfigsUseBuiltComponents(t *testing.T) {
	built := builderModules(t)
	for _, path := range collectorConfigs {
		conf := resolveCollectorConfig(t, path)
		for _, kind := range []string{"receivers", "processors", "exporters", "extensions"} {
			section, ok := conf.ToStringMap()[kind].(map[string]any)
			if !ok {
				continue
			}
			for id := range section {
				componentType, _, _ := strings.Cut(id, "/")
				module, known := componentModules[kind+"/"+componentType]
				if assert.True(t, known, "%s: %s %q has no entry in componentModules", path, kind, id) {
					assert.True(t, built[module], "%s: %s %q comes from %s, which builder-config.yaml does not list", path, kind, id, module)
				}
			}
		}
	}
}

// builderModules returns the Go module paths and import paths that
// builder-config.yaml lists.
func builderModules(t *testing.T) map[string]bool {
	t.Helper()

	data, err := os.ReadFile(filepath.Join(repoRoot, "builder-config.yaml"))
	require.NoError(t, err)
	var manifest map[string]any
	require.NoError(t, yaml.Unmarshal(data, &manifest))

	modules := map[string]bool{}
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions"} {
		entries, _ := manifest[kind].([]any)
		for _, entry := range entries {
			fields, _ := entry.(map[string]any)
			if gomod, ok := fields["gomod"].(string); ok {
				modules[strings.Fields(gomod)[0]] = true
			}
			if imp, ok := fields["import"].(string); ok {
				modules[imp] = true
			}
		}
	}
	return modules
}

func TestOperatorExampleMatchesAgentConfig(t *testing.T) {
	collector := findObject(t, buildObjects(t, "examples/opentelemetry-operator"), "OpenTelemetryCollector", agentName)
	config, ok := collector.Object["spec"].(map[string]any)["config"].(map[string]any)
	require.True(t, ok, "spec.config must be an object")

	// The operator passes spec.config to the collector unchanged, so the
	// ${env:...} references expand in the pod; compare unexpanded files.
	raw, err := os.ReadFile(filepath.Join(deployDir, "base/collector/agent.yaml"))
	require.NoError(t, err)
	var want map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &want))
	assert.JSONEq(t, mustJSON(t, want), mustJSON(t, config),
		"spec.config of the OpenTelemetryCollector drifted from base/collector/agent.yaml")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// validateOverrides are --set flags that `otelcol-veltrim validate` needs
// outside a pod. validate creates every component, and the kubeletstats
// receiver with auth_type serviceAccount reads the pod's service account
// files when it is created, so the test switches it to the read-only port.
var validateOverrides = map[string][]string{
	"base/collector/agent.yaml": {
		"--set=receivers::kubeletstats::auth_type=none",
		"--set=receivers::kubeletstats::endpoint=http://node-1:10255",
	},
}

// TestCollectorBinaryValidatesConfigs runs `otelcol-veltrim validate`, which
// decodes and validates every component's configuration, creates the
// components and checks the pipelines. It needs `make build`.
func TestCollectorBinaryValidatesConfigs(t *testing.T) {
	binary, err := filepath.Abs(filepath.Join(repoRoot, "_build", "otelcol-veltrim"))
	require.NoError(t, err)
	if _, err := os.Stat(binary); err != nil {
		t.Skipf("%s not found: run `make build` to validate the configurations with the collector itself", binary)
	}

	for _, path := range collectorConfigs {
		t.Run(path, func(t *testing.T) {
			abs, err := filepath.Abs(filepath.Join(deployDir, path))
			require.NoError(t, err)
			args := append([]string{"validate", "--config=file:" + abs}, validateOverrides[path]...)

			ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, args...)
			cmd.Env = []string{"HOME=" + t.TempDir()}
			for name, value := range collectorEnv {
				cmd.Env = append(cmd.Env, name+"="+value)
			}
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "otelcol-veltrim %s:\n%s", strings.Join(args, " "), out)
		})
	}
}

// checkAdmissionSettings checks the settings that the agent and admission
// configurations must agree on.
func checkAdmissionSettings(t *testing.T, processorCfg *veltrimprocessor.Config, agentExporter, admissionExporter *veltrimexporter.Config) {
	t.Helper()

	assert.False(t, agentExporter.Admission.HasValue(), "the node agents only publish")
	require.True(t, admissionExporter.Admission.HasValue(), "the admission replicas must serve the endpoint")
	admission := admissionExporter.Admission.Get()
	assert.Equal(t, processorCfg.CacheMiss.Window, admission.CacheWindow,
		"a pod the processor stamps warm must count as protected for as long")
	assert.Equal(t, agentExporter.CPUThreshold, admission.CPUThreshold,
		"deletion cost and admission must agree on what busy means")
	assert.Greater(t, admission.StaleAfter, agentExporter.RefreshInterval,
		"the agents refresh unchanged state before the admission endpoint calls it stale")
	assert.Equal(t, "deny", admission.Mode, "deny is the default without VELTRIM_ADMISSION_MODE")
	assert.Equal(t, "127.0.0.1:9443", admission.NetAddr.Endpoint, "the pod IP and the container port named webhook")
}
