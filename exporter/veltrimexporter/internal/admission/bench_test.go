package admission

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// BenchmarkAdmission measures one decision as the kube-apiserver makes it: a
// POST of an AdmissionReview over a kept-alive HTTPS connection on loopback
// to the running server, which lists the workload's pods from its informer
// cache, runs the default policy and responds. A quarter of the pods are
// warm, and the request halves the replicas, so every request is allowed
// after a full evaluation.
func BenchmarkAdmission(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			benchmarkAdmission(b, n, int32(n/2), true)
		})
	}
}

// BenchmarkAdmissionDenied measures the slower path of a denial: the request
// removes every replica, so the policy also lists the warm pods with
// their reasons and the server writes the denial message.
func BenchmarkAdmissionDenied(b *testing.B) {
	b.Run("pods=100", func(b *testing.B) {
		benchmarkAdmission(b, 100, 0, false)
	})
}

func benchmarkAdmission(b *testing.B, n int, replicas int32, allowed bool) {
	objects := make([]runtime.Object, n)
	for i := range n {
		name := fmt.Sprintf("web-%04d", i)
		if i%4 == 0 {
			objects[i] = warmPod(name)
		} else {
			objects[i] = coldPod(name)
		}
	}
	s := startHTTPSServer(b, testConfig(), fake.NewClientset(objects...))
	waitSynced(b, s.Server)
	body := marshalReview(b, scaleReview("deployments", "web", int32(n), replicas, "app=web"))

	// A first request opens the connection, so the handshake is not measured.
	if resp := s.post(b, validatePath, body); resp.Allowed != allowed {
		b.Fatalf("benchmark request allowed = %v, expected %v: %+v", resp.Allowed, allowed, resp.Result)
	}

	latencies := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		resp, err := s.client.Post(s.baseURL+validatePath, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()

	slices.Sort(latencies)
	b.ReportMetric(float64(percentile(latencies, 0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(percentile(latencies, 0.99).Nanoseconds()), "p99-ns")
}

// percentile returns the q-quantile of sorted latencies by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}
