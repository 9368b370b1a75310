package veltrimexporter

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/veltrix/veltrim/internal/kubeclient"
	"github.com/veltrix/veltrim/internal/podstate"
)

// waitTimeout bounds how long a test waits for asynchronous work.
const waitTimeout = 30 * time.Second

// clientRecorder hands out one client and records every request for one.
type clientRecorder struct {
	client kubernetes.Interface

	mu      sync.Mutex
	options []kubeclient.Options
}

func (r *clientRecorder) newClient(opts kubeclient.Options) (kubernetes.Interface, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.options = append(r.options, opts)
	return r.client, nil
}

func (r *clientRecorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.options)
}

// testFactory returns a factory whose exporters use client.
func testFactory(client kubernetes.Interface) (exporter.Factory, *clientRecorder) {
	recorder := &clientRecorder{client: client}
	return newFactory(factoryOptions{newClient: recorder.newClient, clock: clock.RealClock{}}), recorder
}

func settingsFor(id component.ID) exporter.Settings {
	set := exportertest.NewNopSettings(typeStr)
	set.ID = id
	return set
}

// podResource describes a pod on a resource as k8sattributes does.
type podResource struct {
	uid, namespace, name string
}

func (p podResource) stamp(attrs pcommon.Map, state podstate.State) {
	attrs.PutStr(podstate.AttrPodUID, p.uid)
	attrs.PutStr(podstate.AttrNamespaceName, p.namespace)
	attrs.PutStr(podstate.AttrPodName, p.name)
	state.Stamp(attrs)
}

// stampedTraces returns one span on a resource stamped with state.
func stampedTraces(pod podResource, state podstate.State) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	pod.stamp(rs.Resource().Attributes(), state)
	rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("generate")
	return td
}

// stampedMetrics returns one CPU gauge point on a resource stamped with state.
func stampedMetrics(pod podResource, state podstate.State) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	pod.stamp(rm.Resource().Attributes(), state)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("k8s.pod.cpu_request_utilization")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(state.CPURequestUtilization)
	return md
}

// waitForAnnotation waits until get returns a pod whose annotation key is expected.
func waitForAnnotation(t *testing.T, get func() (map[string]string, error), key, expected string) {
	t.Helper()
	var last map[string]string
	require.Eventually(t, func() bool {
		annotations, err := get()
		if err != nil {
			return false
		}
		last = annotations
		return annotations[key] == expected
	}, waitTimeout, 10*time.Millisecond, "annotation %s never became %q; last annotations: %v", key, expected, &last)
}

func shutdownOnCleanup(t *testing.T, c component.Component) {
	t.Cleanup(func() { require.NoError(t, c.Shutdown(context.Background())) })
}
