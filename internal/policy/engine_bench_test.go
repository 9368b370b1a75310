package policy

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchmarkRequest returns a Deployment of n pods, a quarter of them warm,
// scaled to half its replicas.
func benchmarkRequest(n int) *Request {
	pods := make([]Pod, n)
	for i := range pods {
		pods[i] = runningPod(fmt.Sprintf("web-%04d", i))
		pods[i].UID, pods[i].Version = pods[i].Name, "1"
		pods[i].HasCacheMisses = true
		if i%4 == 0 {
			pods[i].CacheState = "warm"
			pods[i].LastCacheMiss = testNow.Add(-3 * time.Minute)
			pods[i].CacheMisses = 4
		}
	}
	return &Request{Kind: "Deployment", Name: "web", OldReplicas: int32(n), NewReplicas: int32(n / 2), Now: testNow, Pods: pods}
}

// BenchmarkEvaluate measures the default policy alone: building the Lua
// request table, running decide and reading its result.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e, err := New(DefaultName, DefaultSource, testSettings, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			req := benchmarkRequest(n)

			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Evaluate(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
