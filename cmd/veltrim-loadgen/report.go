package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// report is the record of what one scenario run sent. The demo and the
// end-to-end test read its JSON form, so the field names are part of the
// program's output contract.
type report struct {
	Endpoint string `json:"endpoint"`
	// SpansSent counts every span put on the wire, resends included.
	SpansSent int `json:"spansSent"`
	// UniqueSpans counts distinct trace ID and span ID pairs.
	UniqueSpans int `json:"uniqueSpans"`
	// ResentSpans counts the second copies of resent export requests.
	ResentSpans    int `json:"resentSpans"`
	ResentRequests int `json:"resentRequests"`
	ExportRequests int `json:"exportRequests"`
	RequestSpans   int `json:"requestSpans"`
	CacheMissSpans int `json:"cacheMissSpans"`
	StormSpans     int `json:"stormSpans"`
	// StormSpanName is the name shared by every storm span.
	StormSpanName string      `json:"stormSpanName"`
	Pods          []podReport `json:"pods"`
}

type podReport struct {
	pod
	RequestSpans   int `json:"requestSpans"`
	ResentSpans    int `json:"resentSpans"`
	CacheMissSpans int `json:"cacheMissSpans"`
	StormSpans     int `json:"stormSpans"`
}

// manifestSpan is one unique span in the manifest file, with hex IDs as in
// OTLP/JSON.
type manifestSpan struct {
	TraceID  string `json:"traceId"`
	SpanID   string `json:"spanId"`
	Pod      string `json:"pod"`
	Category string `json:"category"`
	// Resent is true when the span was sent twice.
	Resent bool `json:"resent"`
}

func newReport(endpoint string, pods []pod, batches []batch, requests int) report {
	r := report{Endpoint: endpoint, ExportRequests: requests, StormSpanName: stormSpanName}
	for _, p := range pods {
		r.Pods = append(r.Pods, podReport{pod: p})
	}

	for _, b := range batches {
		count := len(b.spans)
		perPod := &r.Pods[b.pod]
		r.UniqueSpans += count
		switch b.category {
		case categoryRequest:
			r.RequestSpans += count
			perPod.RequestSpans += count
		case categoryCacheMiss:
			r.CacheMissSpans += count
			perPod.CacheMissSpans += count
		case categoryStorm:
			r.StormSpans += count
			perPod.StormSpans += count
		}
		if b.resend {
			r.ResentSpans += count
			r.ResentRequests++
			perPod.ResentSpans += count
		}
	}
	r.SpansSent = r.UniqueSpans + r.ResentSpans
	return r
}

func writeManifest(path string, pods []pod, batches []batch) error {
	var spans []manifestSpan
	for _, b := range batches {
		for _, s := range b.spans {
			sc := s.SpanContext()
			spans = append(spans, manifestSpan{
				TraceID:  sc.TraceID().String(),
				SpanID:   sc.SpanID().String(),
				Pod:      pods[b.pod].Name,
				Category: b.category,
				Resent:   b.resend,
			})
		}
	}

	data, err := json.MarshalIndent(spans, "", " ")
	if err != nil {
		return fmt.Errorf("failed to encode the manifest: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("failed to write the manifest: %w", err)
	}
	return nil
}

func (r report) writeJSON(w io.Writer) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	return encoder.Encode(r)
}

func (r report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sent %d spans in %d OTLP/gRPC export requests to %s\n", r.SpansSent, r.ExportRequests, r.Endpoint)
	fmt.Fprintf(&b, "  unique spans       %5d\n", r.UniqueSpans)
	fmt.Fprintf(&b, "  sent twice         %5d  (%d export requests resent)\n", r.ResentSpans, r.ResentRequests)
	fmt.Fprintf(&b, "  storm spans        %5d  (%q in a busy loop)\n", r.StormSpans, r.StormSpanName)
	fmt.Fprintf(&b, "  cache-miss spans   %5d\n\n", r.CacheMissSpans)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(table, "pod\trequests\tsent twice\tcache misses\tstorm\t")
	for _, p := range r.Pods {
		fmt.Fprintf(table, "%s\t%d\t%d\t%d\t%d\t\n", p.Name, p.RequestSpans, p.ResentSpans, p.CacheMissSpans, p.StormSpans)
	}
	return table.Flush()
}
