package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleExposition = `# HELP otelcol_exporter_sent_spans Number of spans successfully sent to destination.
# TYPE otelcol_exporter_sent_spans counter
otelcol_exporter_sent_spans{exporter="debug",service_name="otelcol-veltrim"} 426
otelcol_exporter_sent_spans{exporter="file",service_name="otelcol-veltrim"} 426
otelcol_exporter_veltrim_admission_decisions_total{outcome="denied",note="a \"quoted\", value"} 1
otelcol_exporter_veltrim_admission_decisions_total{outcome="allowed"} 2
process_uptime 12.5 1700000000
`

func TestParseMetrics(t *testing.T) {
	metrics, err := parseMetrics(strings.NewReader(sampleExposition))
	require.NoError(t, err)
	require.Len(t, metrics, 5)

	assert.Equal(t, "a \"quoted\", value", metrics[2].Labels["note"])
	assert.Equal(t, int64(426), metrics.Value(MetricExporterSent, map[string]string{"exporter": "file"}))
	assert.Equal(t, int64(852), metrics.Value(MetricExporterSent, nil))
	assert.Equal(t, int64(1), metrics.Value(MetricAdmissionDecision, map[string]string{"outcome": "denied"}))
	assert.Equal(t, int64(3), metrics.Value(MetricAdmissionDecision, nil))
	assert.Equal(t, int64(12), metrics.Value("process_uptime", nil))

	_, found := metrics.Sum(MetricExporterSent, map[string]string{"exporter": "otlp"})
	assert.False(t, found)
}

func TestParseMetricsInvalid(t *testing.T) {
	for _, line := range []string{
		`name{label="x" 1`,
		`name{label=x} 1`,
		`name{label="x"}`,
		`name notanumber`,
	} {
		_, err := parseMetrics(strings.NewReader(line))
		assert.Error(t, err, line)
	}
}
