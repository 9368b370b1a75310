package publisher

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"k8s.io/apimachinery/pkg/types"

	"github.com/veltrix/veltrim/internal/podstate"
)

func TestOfferPublishesAnnotations(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", map[string]string{"team": "inference"})
	f := newFixture(t, defaultSettings(), pod)

	lastMiss := testStart.Add(-90*time.Second + 400*time.Millisecond)
	f.publisher.Offer(context.Background(), identity(pod), warmState(3, lastMiss, testStart.Add(250*time.Millisecond)))
	f.drain()

	got := f.pod("llm", "serve-0")
	assertAnnotation(t, got, "veltrim.io/cache-state", "warm")
	assertAnnotation(t, got, "veltrim.io/cache-misses", "3")
	assertAnnotation(t, got, "veltrim.io/last-cache-miss", "2025-03-01T11:58:30Z")
	assertAnnotation(t, got, "veltrim.io/cpu-request-utilization", "0.12")
	assertAnnotation(t, got, "veltrim.io/observed-at", "2025-03-01T12:00:00Z")
	assertAnnotation(t, got, podstate.DeletionCostAnnotation, "10000")
	assertAnnotation(t, got, "team", "inference")
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_patches_sent", "", ""))
	assert.Equal(t, 0, f.publisher.Pending())
}

func TestPatchCarriesUIDAndOnlyOwnKeys(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))
	f.drain()

	patches := f.patches()
	require.Len(t, patches, 1)
	assert.Equal(t, types.MergePatchType, patches[0].GetPatchType())

	var body struct {
		Metadata struct {
			UID         string             `json:"uid"`
			Annotations map[string]*string `json:"annotations"`
		} `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(patches[0].GetPatch(), &body))
	assert.Equal(t, "uid-0", body.Metadata.UID)
	assert.ElementsMatch(t, []string{
		"veltrim.io/cache-state",
		"veltrim.io/cache-misses",
		"veltrim.io/last-cache-miss",
		"veltrim.io/cpu-request-utilization",
		"veltrim.io/observed-at",
		podstate.DeletionCostAnnotation,
	}, keys(body.Metadata.Annotations))
	assert.Nil(t, body.Metadata.Annotations["veltrim.io/last-cache-miss"], "a missing last miss removes the annotation")
}

func TestOfferRemovesAnnotationsOfMissingValues(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", map[string]string{
		"veltrim.io/last-cache-miss":         "2025-03-01T11:00:00Z",
		"veltrim.io/cpu-request-utilization": "0.5",
	})
	f := newFixture(t, defaultSettings(), pod)

	f.publisher.Offer(context.Background(), identity(pod), podstate.State{
		CacheState: podstate.CacheStateCold,
		ObservedAt: testStart,
	})
	f.drain()

	got := f.pod("llm", "serve-0")
	assert.NotContains(t, got.Annotations, "veltrim.io/last-cache-miss")
	assert.NotContains(t, got.Annotations, "veltrim.io/cpu-request-utilization")
	assertAnnotation(t, got, podstate.DeletionCostAnnotation, "-1000")
}

func TestOfferCustomPrefixWithoutDeletionCost(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", map[string]string{podstate.DeletionCostAnnotation: "7"})
	settings := defaultSettings()
	settings.AnnotationPrefix = "scaling.example.com/"
	settings.DeletionCost = false
	f := newFixture(t, settings, pod)

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))
	f.drain()

	got := f.pod("llm", "serve-0")
	assertAnnotation(t, got, "scaling.example.com/cache-state", "cold")
	assertAnnotation(t, got, podstate.DeletionCostAnnotation, "7")
	assert.NotContains(t, got.Annotations, "veltrim.io/cache-state")
}

func TestOfferCoalescesPerPod(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)

	for i := range 50 {
		f.publisher.Offer(context.Background(), identity(pod), warmState(int64(i+1), testStart, testStart.Add(time.Duration(i)*time.Second)))
	}
	assert.Equal(t, 1, f.publisher.queue.Len(), "one queue item per pod")
	assert.Equal(t, 1, f.publisher.Pending())
	assert.Equal(t, int64(1), f.gauge("otelcol_exporter_veltrim_queue_depth"))
	f.drain()

	require.Len(t, f.patches(), 1)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-misses", "50")
	assert.Equal(t, int64(0), f.gauge("otelcol_exporter_veltrim_queue_depth"))
}

func TestOfferResourceReadsStampedState(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)

	attrs := pcommon.NewMap()
	attrs.PutStr(podstate.AttrPodUID, "uid-0")
	attrs.PutStr(podstate.AttrNamespaceName, "llm")
	attrs.PutStr(podstate.AttrPodName, "serve-0")
	coldState(0.42, testStart).Stamp(attrs)
	f.publisher.OfferResource(context.Background(), attrs)
	f.drain()

	got := f.pod("llm", "serve-0")
	assertAnnotation(t, got, "veltrim.io/cpu-request-utilization", "0.42")
	assertAnnotation(t, got, podstate.DeletionCostAnnotation, "1000")
}

func TestOfferResourceWithoutStateIgnored(t *testing.T) {
	f := newFixture(t, defaultSettings())

	attrs := pcommon.NewMap()
	attrs.PutStr(podstate.AttrPodUID, "uid-0")
	attrs.PutStr(podstate.AttrNamespaceName, "llm")
	attrs.PutStr(podstate.AttrPodName, "serve-0")
	f.publisher.OfferResource(context.Background(), attrs)

	assert.Equal(t, 0, f.publisher.queue.Len())
	assert.Equal(t, int64(0), f.sum("otelcol_exporter_veltrim_resources_unidentified", "", ""))
}

func TestOfferResourceWithoutIdentityCounted(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
	}{
		{name: "no attributes", attrs: map[string]string{}},
		{name: "uid only", attrs: map[string]string{podstate.AttrPodUID: "uid-0"}},
		{name: "name without namespace", attrs: map[string]string{podstate.AttrPodUID: "uid-0", podstate.AttrPodName: "serve-0"}},
		{name: "no uid", attrs: map[string]string{podstate.AttrNamespaceName: "llm", podstate.AttrPodName: "serve-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultSettings())

			attrs := pcommon.NewMap()
			for k, v := range tt.attrs {
				attrs.PutStr(k, v)
			}
			coldState(0.1, testStart).Stamp(attrs)
			f.publisher.OfferResource(context.Background(), attrs)

			assert.Equal(t, 0, f.publisher.queue.Len())
			assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_resources_unidentified", "", ""))
		})
	}
}

func keys(m map[string]*string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
