package policy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2025, time.June, 1, 10, 0, 0, 0, time.UTC)

// runningPod is a scheduled, ready pod observed a minute ago with no cache
// miss and low CPU: removable under the default settings.
func runningPod(name string) Pod {
	return Pod{
		Name: name, Phase: "Running", Scheduled: true, Ready: true,
		CacheState: "cold", CPURequestUtilization: 0.10, HasCPU: true,
		ObservedAt: testNow.Add(-time.Minute),
	}
}

func evaluateDefault(t *testing.T, settings Settings, req *Request) Result {
	t.Helper()
	e, err := New(DefaultName, DefaultSource, settings, time.Second)
	require.NoError(t, err)
	t.Cleanup(e.Close)

	result, err := e.Evaluate(context.Background(), req)
	require.NoError(t, err)
	return result
}

func TestDefaultPolicySample(t *testing.T) {
	result := evaluateDefault(t, testSettings, SampleRequest())

	assert.Equal(t, 2, result.Removable)
	assert.Equal(t, []ProtectedPod{
		{Name: "sample-warm", Reason: "cache miss 3m ago"},
		{Name: "sample-busy", Reason: "CPU 64 % of request"},
	}, result.Protected)
	assert.Empty(t, result.Message)
}

func TestDefaultPolicyPodRules(t *testing.T) {
	tests := []struct {
		name        string
		unknownPods string
		edit        func(p *Pod)
		// reason is "" when the pod is removable.
		reason string
	}{
		{name: "idle and cold", edit: func(*Pod) {}},
		{name: "recent cache miss", edit: func(p *Pod) { p.LastCacheMiss = testNow.Add(-3 * time.Minute) }, reason: "cache miss 3m ago"},
		{name: "cache miss seconds ago", edit: func(p *Pod) { p.LastCacheMiss = testNow.Add(-42 * time.Second) }, reason: "cache miss 42s ago"},
		{name: "cache miss in the future", edit: func(p *Pod) { p.LastCacheMiss = testNow.Add(time.Minute) }, reason: "cache miss 0s ago"},
		{name: "cache miss outside window", edit: func(p *Pod) { p.LastCacheMiss = testNow.Add(-16 * time.Minute) }},
		{name: "cache miss at window edge", edit: func(p *Pod) { p.LastCacheMiss = testNow.Add(-15 * time.Minute) }, reason: "cache miss 15m ago"},
		{name: "warm without time", edit: func(p *Pod) { p.CacheState = "warm" }, reason: "cache warm"},
		{name: "cpu at threshold", edit: func(p *Pod) { p.CPURequestUtilization = 0.30 }, reason: "CPU 30 % of request"},
		{name: "cpu above threshold", edit: func(p *Pod) { p.CPURequestUtilization = 0.644 }, reason: "CPU 64 % of request"},
		{name: "cpu below threshold", edit: func(p *Pod) { p.CPURequestUtilization = 0.29 }},
		{name: "no cpu removable", edit: func(p *Pod) { p.HasCPU = false }},
		{name: "no cpu protected", unknownPods: UnknownPodsProtected, edit: func(p *Pod) { p.HasCPU = false }, reason: "no CPU data"},
		{name: "no state removable", edit: func(p *Pod) { *p = Pod{Name: p.Name, Phase: "Running", Scheduled: true, Ready: true} }},
		{name: "no state protected", unknownPods: UnknownPodsProtected, edit: func(p *Pod) { p.ObservedAt = time.Time{} }, reason: "no state published"},
		{name: "stale removable", edit: func(p *Pod) { p.ObservedAt = testNow.Add(-11 * time.Minute); p.CPURequestUtilization = 0.9 }},
		{name: "stale protected", unknownPods: UnknownPodsProtected, edit: func(p *Pod) { p.ObservedAt = testNow.Add(-72 * time.Minute) }, reason: "state stale, observed 1h12m ago"},
		{name: "stale at edge is fresh", edit: func(p *Pod) { p.ObservedAt = testNow.Add(-10 * time.Minute); p.CPURequestUtilization = 0.9 }, reason: "CPU 90 % of request"},
		{name: "pending warm", edit: func(p *Pod) { p.Phase = "Pending"; p.CPURequestUtilization = 0.9 }},
		{name: "unscheduled warm", edit: func(p *Pod) { p.Scheduled = false; p.LastCacheMiss = testNow }},
		{name: "not ready warm", edit: func(p *Pod) { p.Ready = false; p.LastCacheMiss = testNow }},
		{name: "not ready unknown protected", unknownPods: UnknownPodsProtected, edit: func(p *Pod) { p.Ready = false; p.ObservedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := testSettings
			if tt.unknownPods != "" {
				settings.UnknownPods = tt.unknownPods
			}
			pod := runningPod("web-0")
			tt.edit(&pod)
			req := &Request{Kind: "Deployment", Name: "web", OldReplicas: 1, NewReplicas: 0, Now: testNow, Pods: []Pod{pod}}

			result := evaluateDefault(t, settings, req)

			if tt.reason == "" {
				assert.Equal(t, 1, result.Removable)
				assert.Empty(t, result.Protected)
				return
			}
			assert.Equal(t, 0, result.Removable)
			assert.Equal(t, []ProtectedPod{{Name: "web-0", Reason: tt.reason}}, result.Protected)
		})
	}
}

func TestDefaultPolicyMissingPodsAreRemovable(t *testing.T) {
	warm := runningPod("web-0")
	warm.LastCacheMiss = testNow
	req := &Request{Kind: "Deployment", Name: "web", OldReplicas: 3, NewReplicas: 1, Now: testNow, Pods: []Pod{warm}}

	result := evaluateDefault(t, testSettings, req)

	assert.Equal(t, 2, result.Removable)
	assert.Empty(t, result.Protected, "an allowed request lists no protected pods")
}

func TestDefaultPolicyListsProtectedOnlyWhenShort(t *testing.T) {
	warm := runningPod("web-0")
	warm.LastCacheMiss = testNow
	pods := []Pod{warm, runningPod("web-1"), runningPod("web-2")}
	allowed := &Request{Kind: "Deployment", Name: "web", OldReplicas: 3, NewReplicas: 1, Now: testNow, Pods: pods}
	short := &Request{Kind: "Deployment", Name: "web", OldReplicas: 3, NewReplicas: 0, Now: testNow, Pods: pods}

	allowedResult := evaluateDefault(t, testSettings, allowed)
	shortResult := evaluateDefault(t, testSettings, short)

	assert.Equal(t, 2, allowedResult.Removable)
	assert.Empty(t, allowedResult.Protected)
	assert.Equal(t, 2, shortResult.Removable)
	assert.Equal(t, []ProtectedPod{{Name: "web-0", Reason: "cache miss 0s ago"}}, shortResult.Protected)
}

func TestDefaultPolicySurgePodsCapped(t *testing.T) {
	pods := []Pod{runningPod("a"), runningPod("b"), runningPod("c"), runningPod("d")}
	req := &Request{Kind: "Deployment", Name: "web", OldReplicas: 3, NewReplicas: 1, Now: testNow, Pods: pods}

	result := evaluateDefault(t, testSettings, req)

	assert.Equal(t, 3, result.Removable)
}

func TestDefaultPolicyOrdered(t *testing.T) {
	statefulPod := func(ordinal int, warm bool) Pod {
		p := runningPod(fmt.Sprintf("db-%d", ordinal))
		p.Ordinal, p.HasOrdinal = ordinal, true
		if warm {
			p.LastCacheMiss = testNow.Add(-2 * time.Minute)
		}
		return p
	}
	tests := []struct {
		name      string
		warm      []bool
		newCount  int32
		removable int
		protected []string
	}{
		{name: "top cold", warm: []bool{true, true, false, false}, newCount: 2, removable: 2},
		{name: "top warm", warm: []bool{false, false, false, true}, newCount: 2, removable: 0, protected: []string{"db-3"}},
		{name: "run stops at warm", warm: []bool{false, true, false, false}, newCount: 0, removable: 2, protected: []string{"db-1"}},
		{name: "warm below victims", warm: []bool{true, false, false, false}, newCount: 1, removable: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods := make([]Pod, len(tt.warm))
			for i, warm := range tt.warm {
				pods[i] = statefulPod(i, warm)
			}
			req := &Request{Kind: "StatefulSet", Name: "db", OldReplicas: int32(len(pods)), NewReplicas: tt.newCount, Ordered: true, Now: testNow, Pods: pods}

			result := evaluateDefault(t, testSettings, req)

			assert.Equal(t, tt.removable, result.Removable)
			var names []string
			for _, p := range result.Protected {
				names = append(names, p.Name)
			}
			assert.Equal(t, tt.protected, names)
		})
	}
}

func TestDefaultPolicyOrderedMissingPod(t *testing.T) {
	top := runningPod("db-2")
	top.Ordinal, top.HasOrdinal = 2, true
	top.LastCacheMiss = testNow
	req := &Request{Kind: "StatefulSet", Name: "db", OldReplicas: 4, NewReplicas: 2, Ordered: true, Now: testNow, Pods: []Pod{top}}

	result := evaluateDefault(t, testSettings, req)

	assert.Equal(t, 1, result.Removable, "the missing db-3 is removable, the warm db-2 is not")
	assert.Equal(t, []ProtectedPod{{Name: "db-2", Reason: "cache miss 0s ago"}}, result.Protected)
}
