package veltrimexporter

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/veltrix/veltrim/internal/k8stest"
	"github.com/veltrix/veltrim/internal/podstate"
)

// Shape of the outage test: outagePods pods each send outageBatches batches
// while kube-apiserver is down.
const (
	outagePods    = 20
	outageBatches = 50
	// outageRetries is how many failed patches per pod the outage lasts.
	// The backoff doubles from 0.5 s, so 3 failures take about 3.5 s.
	outageRetries = 3
	// convergeTimeout bounds how long the annotations may take to converge
	// after the API server returns: the longest retry backoff (30 s) plus
	// room for a busy machine.
	convergeTimeout = 90 * time.Second
)

func TestAPIServerOutage(t *testing.T) {
	cluster := startCluster(t)
	client := cluster.Client()
	ctx := context.Background()
	_, err := k8stest.CreateNamespace(ctx, client, "outage")
	require.NoError(t, err)
	pods := make([]*corev1.Pod, outagePods)
	for i := range pods {
		pods[i] = createPod(t, client, "outage", fmt.Sprintf("serve-%d", i), nil)
	}
	exp := startAPIServerExporter(t, cluster, "outage")

	// Every pod is published cold before the outage.
	start := time.Now().UTC().Truncate(time.Second)
	for _, pod := range pods {
		state := podstate.State{CacheState: podstate.CacheStateCold, ObservedAt: start}
		require.NoError(t, exp.metrics.ConsumeMetrics(ctx, stampedMetrics(resourceOf(pod), state)))
	}
	exp.waitIdle()

	cluster.StopAPIServer()

	// The pods turn warm while the API server is down. Consuming goes on,
	// and the publisher fails its patches in the background.
	consumeStart := time.Now()
	for batch := 1; batch <= outageBatches; batch++ {
		for _, pod := range pods {
			require.NoError(t, exp.traces.ConsumeTraces(ctx, stampedTraces(resourceOf(pod), outageState(start, batch))))
		}
	}
	t.Logf("consumed %d batches in %v with kube-apiserver down", outageBatches*outagePods, time.Since(consumeStart))
	// The outage lasts until every pod's patch failed outageRetries times,
	// so the retries with backoff run against the stopped API server too.
	require.Eventually(t, func() bool {
		return exp.counter("otelcol_exporter_veltrim_patches_failed", "failure_class", "unreachable") >= outageRetries*outagePods
	}, waitTimeout, 10*time.Millisecond, "patches did not fail as often as expected while the API server was down")
	assert.Equal(t, outagePods, exp.pending(), "each pod keeps one pending state")

	require.NoError(t, cluster.StartAPIServer(ctx))

	final := outageState(start, outageBatches)
	for _, pod := range pods {
		get := getAnnotations(client, "outage", pod.Name)
		require.Eventually(t, func() bool {
			annotations, err := get()
			return err == nil &&
				annotations["veltrim.io/cache-state"] == podstate.CacheStateWarm &&
				annotations["veltrim.io/cache-misses"] == strconv.FormatInt(final.CacheMisses, 10) &&
				annotations["veltrim.io/observed-at"] == final.ObservedAt.Format(time.RFC3339)
		}, convergeTimeout, 50*time.Millisecond, "pod %s did not converge", pod.Name)
	}
	exp.waitIdle()
	failed := exp.counter("otelcol_exporter_veltrim_patches_failed", "", "")
	t.Logf("converged after %d failed patches", failed)

}

// outageState is the state of the batch-th batch during the outage: one more
// cache miss per batch, one second apart.
func outageState(start time.Time, batch int) podstate.State {
	observed := start.Add(time.Duration(batch) * time.Second)
	return podstate.State{
		CacheState:    podstate.CacheStateWarm,
		CacheMisses:   int64(batch),
		LastCacheMiss: observed,
		ObservedAt:    observed,
	}
}
