package e2e

import (
	"bufio"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/veltrix/veltrim/internal/podstate"
)

// ExportedSpan is one span the file exporter wrote.
type ExportedSpan struct {
	TraceID string
	SpanID  string
	Pod     string
	Name    string
	// StormSuppressed is the span's veltrim.storm.suppressed attribute, or 0.
	StormSuppressed int64
}

// ReadExportedSpans reads the file exporter's output: one OTLP/JSON traces
// request per line.
func ReadExportedSpans(path string) ([]ExportedSpan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open the file exporter's output: %w", err)
	}
	defer f.Close()

	var spans []ExportedSpan
	var unmarshaler ptrace.JSONUnmarshaler
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for line := 1; scanner.Scan(); line++ {
		traces, err := unmarshaler.UnmarshalTraces(scanner.Bytes())
		if err != nil {
			return nil, fmt.Errorf("invalid OTLP/JSON on line %d of %s: %w", line, path, err)
		}
		spans = appendSpans(spans, traces)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	return spans, nil
}

func appendSpans(spans []ExportedSpan, traces ptrace.Traces) []ExportedSpan {
	for _, rs := range traces.ResourceSpans().All() {
		pod := ""
		if v, ok := rs.Resource().Attributes().Get(podstate.AttrPodName); ok {
			pod = v.Str()
		}
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				exported := ExportedSpan{
					TraceID: span.TraceID().String(),
					SpanID:  span.SpanID().String(),
					Pod:     pod,
					Name:    span.Name(),
				}
				if v, ok := span.Attributes().Get(podstate.AttrStormSuppressed); ok {
					exported.StormSuppressed = v.Int()
				}
				spans = append(spans, exported)
			}
		}
	}
	return spans
}
