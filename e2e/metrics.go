package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metric names of the collector's own telemetry, as its Prometheus endpoint
// writes them. A counter may also appear with a _total suffix; Sum accepts both.
const (
	MetricReceiverAccepted  = "otelcol_receiver_accepted_spans"
	MetricExporterSent      = "otelcol_exporter_sent_spans"
	MetricVeltrimSpansIn    = "otelcol_processor_veltrim_spans_in"
	MetricVeltrimDuplicates = "otelcol_processor_veltrim_spans_dropped_duplicate"
	MetricVeltrimStorm      = "otelcol_processor_veltrim_spans_dropped_storm"
	MetricVeltrimCacheMiss  = "otelcol_processor_veltrim_cache_misses"
	MetricAdmissionDecision = "otelcol_exporter_veltrim_admission_decisions"
)

// Sample is one line of the Prometheus text format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics are the samples of one scrape.
type Metrics []Sample

// Sum adds up the samples of name (or name_total) whose labels include every
// label in match. It reports false when no sample matched.
func (m Metrics) Sum(name string, match map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range m {
		if s.Name != name && s.Name != name+"_total" {
			continue
		}
		if !labelsMatch(s.Labels, match) {
			continue
		}
		sum += s.Value
		found = true
	}
	return sum, found
}

// Value is Sum without the flag: 0 when nothing matched.
func (m Metrics) Value(name string, match map[string]string) int64 {
	sum, _ := m.Sum(name, match)
	return int64(sum)
}

func labelsMatch(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ScrapeMetrics reads the Prometheus endpoint at url.
func ScrapeMetrics(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := loopbackClient(nil).Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to scrape %s: HTTP %d", url, resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text exposition format: one sample per
// line as name{label="value",...} value [timestamp]; # lines are comments.
func parseMetrics(r io.Reader) (Metrics, error) {
	var metrics Metrics
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sample, err := parseSample(line)
		if err != nil {
			return nil, err
		}
		metrics = append(metrics, sample)
	}
	return metrics, scanner.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	rest := line
	if open := strings.IndexByte(line, '{'); open >= 0 {
		end := strings.LastIndexByte(line, '}')
		if end < open {
			return s, fmt.Errorf("invalid metrics line %q: unbalanced braces", line)
		}
		s.Name = line[:open]
		if err := parseLabels(line[open+1:end], s.Labels); err != nil {
			return s, fmt.Errorf("invalid metrics line %q: %w", line, err)
		}
		rest = strings.TrimSpace(line[end+1:])
	} else {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			return s, fmt.Errorf("invalid metrics line %q: no value", line)
		}
		s.Name, rest = name, strings.TrimSpace(value)
	}

	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("invalid metrics line %q: no value", line)
	}
	value, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("invalid metrics line %q: %w", line, err)
	}
	s.Value = value
	return s, nil
}

// parseLabels reads label="value" pairs separated by commas. Values may
// contain escaped quotes and commas.
func parseLabels(text string, labels map[string]string) error {
	for text != "" {
		name, rest, ok := strings.Cut(text, "=")
		if !ok || len(rest) == 0 || rest[0] != '"' {
			return fmt.Errorf("invalid label list %q", text)
		}
		value, n, err := readQuoted(rest)
		if err != nil {
			return err
		}
		labels[strings.TrimSpace(name)] = value
		text = strings.TrimPrefix(strings.TrimSpace(rest[n:]), ",")
	}
	return nil
}

// readQuoted reads a double-quoted string with backslash escapes from the
// start of text and returns it unquoted with the number of bytes read.
func readQuoted(text string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(text); i++ {
		switch c := text[i]; c {
		case '\\':
			if i+1 == len(text) {
				return "", 0, fmt.Errorf("unterminated label value %q", text)
			}
			i++
			if text[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(text[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated label value %q", text)
}
