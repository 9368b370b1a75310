package deploytest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/processor/veltrimprocessor"
)

const dashboardPath = "dashboards/grafana/veltrim-spans.json"

// tracesTableColumns are the columns of the clickhouse exporter's traces
// table, from internal/sqltemplates/traces_table.sql of
// opentelemetry-collector-contrib exporter/clickhouseexporter v0.155.0.
var tracesTableColumns = []string{
	"Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
	"ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes",
	"Duration", "StatusCode", "StatusMessage", "Events", "Links",
}

var (
	// camelCaseWord matches column names. SQL keywords are upper case, and
	// ClickHouse functions start lower case.
	camelCaseWord   = regexp.MustCompile(`\b[A-Z][a-z][A-Za-z0-9]*\b`)
	resourceAttrKey = regexp.MustCompile(`ResourceAttributes\['([^']+)'\]`)
	spanAttrKey     = regexp.MustCompile(`SpanAttributes\['([^']+)'\]`)
	veltrimMetric   = regexp.MustCompile(`\botelcol_processor_veltrim_[a-z_]+\b`)
)

type dashboard struct {
	Panels     []dashboardPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource struct {
		Type string `json:"type"`
	} `json:"datasource"`
	Targets []struct {
		RawSQL string `json:"rawSql"`
		Expr   string `json:"expr"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, dashboardPath))
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(data, &d))
	return d
}

// dashboardQueries returns the SQL and PromQL of every panel, keyed by panel title.
func dashboardQueries(t *testing.T) (sql, promql map[string][]string) {
	t.Helper()

	sql, promql = map[string][]string{}, map[string][]string{}
	for _, panel := range loadDashboard(t).Panels {
		if panel.Type == "row" {
			continue
		}
		require.NotEmpty(t, panel.Targets, "panel %q has no query", panel.Title)
		for _, target := range panel.Targets {
			switch panel.Datasource.Type {
			case "grafana-clickhouse-datasource":
				sql[panel.Title] = append(sql[panel.Title], target.RawSQL)
			case "prometheus":
				promql[panel.Title] = append(promql[panel.Title], target.Expr)
			default:
				require.Failf(t, "unknown data source", "panel %q uses %q", panel.Title, panel.Datasource.Type)
			}
		}
	}
	return sql, promql
}

func TestDashboardPanels(t *testing.T) {
	sql, promql := dashboardQueries(t)

	for _, title := range []string{
		"Cache-miss spans per pod", "Cache state per pod", "Cache state over time",
		"Spans suppressed by storm collapsing, per pod", "Largest storms",
	} {
		assert.Contains(t, sql, title, "ClickHouse panel missing")
	}
	assert.Contains(t, promql, "Duplicate spans dropped", "duplicates never reach ClickHouse, so this panel reads Prometheus")
}

func TestDashboardSQLUsesTracesTable(t *testing.T) {
	sql, _ := dashboardQueries(t)
	resourceKeys := []string{
		"k8s.pod.name", "k8s.namespace.name",
		podstate.AttrCacheState, podstate.AttrCacheMisses, podstate.AttrCacheLastMiss,
		podstate.AttrCPURequestUtilization, podstate.AttrObservedAt,
	}
	spanKeys := []string{podstate.AttrStormSuppressed, cacheMissAttribute(t)}

	for title, queries := range sql {
		for _, query := range queries {
			assert.Contains(t, query, "FROM ${database}.otel_traces", "panel %q", title)
			for _, word := range camelCaseWord.FindAllString(query, -1) {
				assert.Contains(t, tracesTableColumns, word, "panel %q uses a column the traces table lacks", title)
			}
			for _, match := range resourceAttrKey.FindAllStringSubmatch(query, -1) {
				assert.Contains(t, resourceKeys, match[1], "panel %q reads a resource attribute nothing writes", title)
			}
			for _, match := range spanAttrKey.FindAllStringSubmatch(query, -1) {
				assert.Contains(t, spanKeys, match[1], "panel %q reads a span attribute nothing writes", title)
			}
		}
	}
}

// cacheMissAttribute returns cache_miss.attribute of the agent configuration.
func cacheMissAttribute(t *testing.T) string {
	t.Helper()
	conf := resolveCollectorConfig(t, "base/collector/agent.yaml")
	attribute, ok := conf.Get("processors::veltrim::cache_miss::attribute").(string)
	require.True(t, ok, "the agent configuration must name cache_miss.attribute")
	return attribute
}

func TestDashboardPromQLNamesProcessorMetrics(t *testing.T) {
	_, promql := dashboardQueries(t)
	registered := processorMetricNames(t)

	var used int
	for title, exprs := range promql {
		for _, expr := range exprs {
			names := veltrimMetric.FindAllString(expr, -1)
			assert.NotEmpty(t, names, "panel %q queries no veltrim metric", title)
			for _, name := range names {
				used++
				// The collector's Prometheus exporter adds no unit or type
				// suffix by default, so the series name is the instrument name.
				assert.Contains(t, registered, name, "panel %q queries a metric the processor does not register", title)
			}
		}
	}
	assert.Positive(t, used)
}

// processorMetricNames creates a veltrim processor and returns the names of
// the instruments it registers.
func processorMetricNames(t *testing.T) []string {
	t.Helper()

	provider := &recordingMeterProvider{}
	set := processortest.NewNopSettings(veltrimprocessor.NewFactory().Type())
	set.MeterProvider = provider
	factory := veltrimprocessor.NewFactory()
	proc, err := factory.CreateTraces(context.Background(), set, factory.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, proc.Shutdown(context.Background()))

	slices.Sort(provider.names)
	return provider.names
}

// recordingMeterProvider records the name of every instrument created
// through it. The instruments themselves are no-ops.
type recordingMeterProvider struct {
	noop.MeterProvider
	names []string
}

func (p *recordingMeterProvider) Meter(string, ...metric.MeterOption) metric.Meter {
	return &recordingMeter{provider: p}
}

type recordingMeter struct {
	noop.Meter
	provider *recordingMeterProvider
}

func (m *recordingMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	m.provider.names = append(m.provider.names, name)
	return m.Meter.Int64Counter(name, opts...)
}

func (m *recordingMeter) Int64ObservableGauge(name string, opts ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	m.provider.names = append(m.provider.names, name)
	return m.Meter.Int64ObservableGauge(name, opts...)
}

func (m *recordingMeter) Float64ObservableGauge(name string, opts ...metric.Float64ObservableGaugeOption) (metric.Float64ObservableGauge, error) {
	m.provider.names = append(m.provider.names, name)
	return m.Meter.Float64ObservableGauge(name, opts...)
}

func TestPrometheusScrapeConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "dashboards/prometheus/scrape-config.yaml"))
	require.NoError(t, err)
	var config struct {
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			RelabelConfigs []struct {
				SourceLabels []string `yaml:"source_labels"`
				Regex        string   `yaml:"regex"`
				Action       string   `yaml:"action"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(data, &config))
	require.Len(t, config.ScrapeConfigs, 1)
	job := config.ScrapeConfigs[0]
	assert.Equal(t, "30s", job.ScrapeInterval)

	var keepsMetricsPort bool
	for _, relabel := range job.RelabelConfigs {
		if relabel.Action == "keep" && slices.Equal(relabel.SourceLabels, []string{"__meta_kubernetes_pod_container_port_name"}) {
			keepsMetricsPort = relabel.Regex == metricsPortName
		}
	}
	assert.True(t, keepsMetricsPort, "the job must keep the container port named %q", metricsPortName)
}

// metricsPortName is the container port of the collectors' internal metrics.
const metricsPortName = "metrics"

func TestCollectorsExposeMetricsPort(t *testing.T) {
	objects := buildObjects(t, "base")
	var agent appsv1.DaemonSet
	convert(t, findObject(t, objects, "DaemonSet", agentName), &agent)
	containers := append(agent.Spec.Template.Spec.Containers, admissionDeployment(t, objects).Spec.Template.Spec.Containers...)
	for _, c := range containers {
		assert.Contains(t, containerPorts(c), metricsPortName+":8888", "container %s", c.Name)
	}

	for _, path := range collectorConfigs {
		conf := resolveCollectorConfig(t, path)
		readers, ok := conf.Get("service::telemetry::metrics::readers").([]any)
		require.True(t, ok, "%s must configure a metrics reader", path)
		require.Len(t, readers, 1)
		prometheus, err := confmap.NewFromStringMap(readers[0].(map[string]any)).Sub("pull::exporter::prometheus")
		require.NoError(t, err)
		assert.Equal(t, collectorEnv["POD_IP"], prometheus.Get("host"), "%s: Prometheus must reach the metrics on the pod IP", path)
		assert.EqualValues(t, 8888, prometheus.Get("port"), path)
	}
}

// containerPorts returns the container's ports as "name:port".
func containerPorts(c corev1.Container) []string {
	ports := make([]string, 0, len(c.Ports))
	for _, p := range c.Ports {
		ports = append(ports, p.Name+":"+strconv.Itoa(int(p.ContainerPort)))
	}
	return ports
}
