package publisher

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/veltrix/veltrim/internal/podstate"
)

// Steady traffic of the benchmark: every pod sends one batch every
// benchBatchInterval for one simulated hour, cold, with CPU request
// utilization wandering within ±benchCPUNoise around 0.15. Time is simulated
// through the states' observed-at, so the benchmark takes no hour.
const (
	benchPods          = 50
	benchBatchInterval = 10 * time.Second
	benchDuration      = time.Hour
	benchCPUNoise      = 0.02
)

// BenchmarkSteadyHour compares the patches of one simulated hour of steady
// traffic: "veltrim" is this publisher, "naive" patches on every batch.
func BenchmarkSteadyHour(b *testing.B) {
	batches := int(benchDuration / benchBatchInterval)

	b.Run("veltrim", func(b *testing.B) {
		b.ReportAllocs()
		var patches int
		for b.Loop() {
			patches = runSteadyHour(b, batches)
		}
		perPodHour := float64(patches) / benchPods
		b.ReportMetric(perPodHour, "patches/pod/h")
		b.ReportMetric(float64(batches)/perPodHour, "naive/veltrim")
	})

	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		var patches int
		for b.Loop() {
			patches = runNaiveHour(b, batches)
		}
		b.ReportMetric(float64(patches)/benchPods, "patches/pod/h")
	})
}

// runSteadyHour feeds one hour of batches for every pod through a publisher
// and returns the patches it sent.
func runSteadyHour(b *testing.B, batches int) int {
	pods := benchPodList()
	f := newFixture(b, defaultSettings())
	patches := f.countPatches()
	states := steadyStates(batches)
	ctx := context.Background()

	for i := range batches {
		for _, pod := range pods {
			f.publisher.Offer(ctx, identity(pod), states[i])
		}
		f.drain()
	}
	return *patches
}

// runNaiveHour sends the same batches as runSteadyHour, one patch per batch.
func runNaiveHour(b *testing.B, batches int) int {
	pods := benchPodList()
	f := newFixture(b, defaultSettings())
	patches := f.countPatches()
	states := steadyStates(batches)
	ctx := context.Background()

	for i := range batches {
		for _, pod := range pods {
			body, err := f.publisher.patchBody(identity(pod), newSnapshot(states[i], 0.30))
			require.NoError(b, err)
			_, err = f.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, body, metav1.PatchOptions{})
			require.NoError(b, err)
		}
	}
	return *patches
}

// countPatches makes the fake clientset accept every pod patch without
// applying it, so that the benchmark measures the publisher rather than the
// fake's object tracker, and returns the number of patches received.
func (f *fixture) countPatches() *int {
	count := new(int)
	f.client.PrependReactor("patch", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		*count++
		return true, &corev1.Pod{}, nil
	})
	return count
}

func benchPodList() []*corev1.Pod {
	pods := make([]*corev1.Pod, benchPods)
	for i := range pods {
		name := "serve-" + strconv.Itoa(i)
		pods[i] = newPod("llm", name, "uid-"+name, nil)
	}
	return pods
}

// steadyStates returns one cold state per batch with CPU noise from a fixed
// seed, so every run gets the same traffic.
func steadyStates(batches int) []podstate.State {
	rng := rand.New(rand.NewPCG(1, 2))
	states := make([]podstate.State, batches)
	for i := range states {
		cpu := 0.15 + (rng.Float64()*2-1)*benchCPUNoise
		states[i] = coldState(cpu, testStart.Add(time.Duration(i)*benchBatchInterval))
	}
	return states
}

// BenchmarkOfferUnchanged measures the consume path for a state that leads
// to no patch, the common case under steady traffic.
func BenchmarkOfferUnchanged(b *testing.B) {
	f := newFixture(b, defaultSettings())
	f.countPatches()
	pod := newPod("llm", "serve-0", "uid-serve-0", nil)
	ctx := context.Background()
	f.publisher.Offer(ctx, identity(pod), coldState(0.15, testStart))
	f.drain()
	state := coldState(0.16, testStart.Add(time.Second))

	b.ReportAllocs()
	for b.Loop() {
		f.publisher.Offer(ctx, identity(pod), state)
	}
}
