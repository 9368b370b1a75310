//go:build e2e

package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// stormMaxPerInterval is storm.max_per_interval in testdata/collector/e2e.yaml,
// whose storm.interval spans the whole run.
const stormMaxPerInterval = 20

// testTimeout bounds the whole scenario.
const testTimeout = 10 * time.Minute

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestScaleDownEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startScenario(ctx, t)

	// The load generator's report is checked against its own manifest only;
	// everything after comes from the collector and kube-apiserver.
	load, sent, err := s.SendLoad(ctx)
	require.NoError(t, err)
	require.Len(t, sent, int(load.UniqueSpans))
	require.Positive(t, load.ResentSpans)
	require.Greater(t, load.StormSpans, int64(stormMaxPerInterval))

	counts, err := s.WaitForPipeline(ctx, load)
	require.NoError(t, err)
	checkPipeline(t, load, counts)

	views, err := s.WaitForAnnotations(ctx, load)
	require.NoError(t, err)
	warm, cold := checkAnnotations(t, load, views)

	checkScaleDenied(ctx, t, s, warm)
	checkScaleAllowed(ctx, t, s, warm, cold)

	exported, err := s.StopCollector()
	require.NoError(t, err)
	checkExportedSpans(t, sent, exported, counts)
}

func startScenario(ctx context.Context, t *testing.T) *Scenario {
	t.Helper()
	binaries, err := FindBinaries()
	require.NoError(t, err)
	config, err := RepositoryPath(DefaultConfig)
	require.NoError(t, err)

	s, err := Start(ctx, Options{Binaries: binaries, ConfigPath: config, WorkDir: t.TempDir(), Progress: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("collector log (%s):\n%s", s.Collector().LogPath(), s.Collector().LogTail(60))
			t.Logf("control-plane logs:\n%s", s.Cluster().LogTails())
		}
		assert.NoError(t, s.Stop())
	})
	require.Len(t, s.Pods, DefaultReplicas)
	return s
}

// checkPipeline checks the collector's own counts: every span sent arrived,
// exactly the second copies were dropped as duplicates, the storm was cut
// to its limit, and the rest was exported.
func checkPipeline(t *testing.T, load LoadReport, counts PipelineCounts) {
	t.Helper()
	assert.Equal(t, load.SpansSent, counts.Received, "spans accepted by the OTLP receiver")
	assert.Equal(t, load.SpansSent, counts.ProcessorIn, "spans into the veltrim processor")
	assert.Equal(t, load.ResentSpans, counts.Duplicates, "spans dropped as duplicates")
	assert.Equal(t, load.StormSpans-stormMaxPerInterval, counts.Storm, "spans dropped as storm")
	assert.Equal(t, load.CacheMissSpans, counts.CacheMisses, "cache misses counted")

	kept := load.UniqueSpans - counts.Storm
	assert.Equal(t, kept, counts.ExportedFile, "spans sent by the file exporter")
	assert.Equal(t, kept, counts.ExportedDebug, "spans sent by the debug exporter")
}

// checkAnnotations checks every pod's published state and returns the names
// of the warm and the cold pods.
func checkAnnotations(t *testing.T, load LoadReport, views []PodView) (warm, cold []string) {
	t.Helper()
	require.Len(t, views, len(load.Pods))
	sentByPod := map[string]LoadPodReport{}
	for _, p := range load.Pods {
		sentByPod[p.Name] = p
	}

	now := time.Now()
	for _, v := range views {
		sent, ok := sentByPod[v.Name]
		require.True(t, ok, "pod %s got no spans", v.Name)
		assert.Equal(t, sent.UID, v.UID, v.Name)
		assert.WithinDuration(t, now, v.ObservedTime(), 5*time.Minute, "observed-at of %s", v.Name)

		if sent.CacheMissSpans > 0 {
			warm = append(warm, v.Name)
			assert.Equal(t, "warm", v.CacheState, v.Name)
			assert.Equal(t, strconv.FormatInt(sent.CacheMissSpans, 10), v.CacheMisses, v.Name)
			lastMiss, err := time.Parse(time.RFC3339Nano, v.LastCacheMiss)
			if assert.NoError(t, err, "last-cache-miss of %s", v.Name) {
				assert.WithinDuration(t, now, lastMiss, 5*time.Minute, "last-cache-miss of %s", v.Name)
			}
		} else {
			cold = append(cold, v.Name)
			assert.Equal(t, "cold", v.CacheState, v.Name)
			assert.Empty(t, v.LastCacheMiss, v.Name)
		}
		assert.Empty(t, v.CPU, "no CPU metrics were sent, so %s has no CPU annotation", v.Name)
	}
	require.Len(t, warm, 2)
	require.Len(t, cold, 2)

	// The ReplicaSet controller deletes the pods of lowest cost first.
	for _, w := range warm {
		for _, c := range cold {
			assert.Greater(t, viewNamed(views, w).DeletionCostValue(), viewNamed(views, c).DeletionCostValue(),
				"%s must cost more to delete than %s", w, c)
		}
	}
	return warm, cold
}

func viewNamed(views []PodView, name string) PodView {
	for _, v := range views {
		if v.Name == name {
			return v
		}
	}
	return PodView{}
}

// checkScaleDenied scales to one replica, which needs three removable pods
// while two are warm.
func checkScaleDenied(ctx context.Context, t *testing.T, s *Scenario, warm []string) {
	t.Helper()
	before := admissionDecisions(ctx, t, s)

	result := s.Scale(ctx, 1)
	require.False(t, result.Accepted(), "scale to 1 was allowed: %s", result.Output)
	assert.Contains(t, result.Output, `admission webhook "`+WebhookName+`" denied the request`)
	for _, name := range warm {
		assert.Contains(t, result.Output, name, "the denial names the protected pods")
	}

	replicas, err := s.Replicas(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, DefaultReplicas, replicas, "spec.replicas after the denied scale")

	after := admissionDecisions(ctx, t, s)
	assert.Equal(t, before["denied"]+1, after["denied"], "denied admission decisions")
}

// checkScaleAllowed scales to two replicas, which needs the two cold pods,
// and checks that the ReplicaSet controller removed exactly those.
func checkScaleAllowed(ctx context.Context, t *testing.T, s *Scenario, warm, cold []string) {
	t.Helper()
	before := admissionDecisions(ctx, t, s)

	result := s.Scale(ctx, 2)
	require.True(t, result.Accepted(), "scale to 2 was denied: %s", result.Output)
	assert.NotContains(t, result.Output, "Warning:", "an allowed decision carries no warning")

	after := admissionDecisions(ctx, t, s)
	assert.Equal(t, before["allowed"]+1, after["allowed"], "allowed admission decisions")

	remaining, removed, err := s.WaitForReplicas(ctx, 2)
	require.NoError(t, err)
	assert.ElementsMatch(t, cold, removed, "pods the ReplicaSet controller removed")
	assert.ElementsMatch(t, warm, podNames(remaining), "pods left")
}

func admissionDecisions(ctx context.Context, t *testing.T, s *Scenario) map[string]int64 {
	t.Helper()
	metrics, err := s.Metrics(ctx)
	require.NoError(t, err)
	decisions := map[string]int64{}
	for _, sample := range metrics {
		if sample.Name == MetricAdmissionDecision || sample.Name == MetricAdmissionDecision+"_total" {
			decisions[sample.Labels["outcome"]] += int64(sample.Value)
		}
	}
	return decisions
}

// checkExportedSpans compares the file exporter's output with the manifest:
// each unique span outside the storm exactly once, the storm cut to its
// limit, and no span that was not sent.
func checkExportedSpans(t *testing.T, sent []SentSpan, exported []ExportedSpan, counts PipelineCounts) {
	t.Helper()
	require.Len(t, exported, int(counts.ExportedFile))

	sentByID := map[string]SentSpan{}
	for _, span := range sent {
		sentByID[span.TraceID+span.SpanID] = span
	}
	times := map[string]int{}
	storm := 0
	for _, span := range exported {
		id := span.TraceID + span.SpanID
		times[id]++
		original, ok := sentByID[id]
		if !assert.True(t, ok, "exported span %s was never sent", id) {
			continue
		}
		assert.Equal(t, original.Pod, span.Pod, "pod of span %s", id)
		if original.Category == CategoryStorm {
			storm++
		}
	}
	assert.Equal(t, stormMaxPerInterval, storm, "storm spans exported")

	lost, twice := 0, 0
	for _, span := range sent {
		if span.Category == CategoryStorm {
			continue
		}
		switch n := times[span.TraceID+span.SpanID]; {
		case n == 0:
			lost++
		case n > 1:
			twice++
		}
	}
	assert.Zero(t, lost, "unique spans lost")
	assert.Zero(t, twice, "spans exported more than once")
}
