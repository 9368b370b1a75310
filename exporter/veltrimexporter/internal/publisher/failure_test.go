package publisher

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8stesting "k8s.io/client-go/testing"
)

var podsResource = schema.GroupResource{Resource: "pods"}

// failPatches makes the fake clientset return err for the next n patches.
func (f *fixture) failPatches(n int, err error) {
	remaining := n
	f.client.PrependReactor("patch", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if remaining == 0 {
			return false, nil, nil
		}
		remaining--
		return true, nil, err
	})
}

func TestPatchOfMissingPodDropsState(t *testing.T) {
	f := newFixture(t, defaultSettings())
	ctx := context.Background()
	id := identity(newPod("llm", "serve-0", "uid-0", nil))

	f.publisher.Offer(ctx, id, coldState(0.1, testStart))
	f.drain()

	assert.Len(t, f.patches(), 1)
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_pods_gone", "reason", "not_found"))
	assert.Equal(t, int64(0), f.sum("otelcol_exporter_veltrim_patches_failed", "", ""))
	assert.Equal(t, 0, f.publisher.Pending())
	assert.Equal(t, 1, f.logs.FilterMessage("Dropped the state of a pod that no longer exists").FilterLevelExact(zapcore.DebugLevel).Len())

	// Telemetry still in flight for the deleted pod triggers no patch.
	f.publisher.Offer(ctx, id, coldState(0.9, testStart.Add(time.Minute)))
	f.drain()
	assert.Len(t, f.patches(), 1)
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_patches_skipped", "reason", "pod_gone"))
}

func TestPatchWithStaleUIDDropsState(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{
			name: "immutable uid",
			err: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "serve-0", field.ErrorList{
				field.Invalid(field.NewPath("metadata", "uid"), "uid-old", "field is immutable"),
			}),
		},
		{
			name: "uid precondition",
			err:  apierrors.NewConflict(podsResource, "serve-0", errors.New("Precondition failed: UID in precondition: uid-old, UID in object meta: uid-new")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := newPod("llm", "serve-0", "uid-new", nil)
			f := newFixture(t, defaultSettings(), pod)
			f.failPatches(1, tt.err)

			stale := identity(pod)
			stale.UID = "uid-old"
			f.publisher.Offer(context.Background(), stale, coldState(0.1, testStart))
			f.drain()

			assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_pods_gone", "reason", "uid_mismatch"))
			assert.Equal(t, 0, f.publisher.Pending())
			assert.Equal(t, 0, f.publisher.queue.Len())
		})
	}
}

func TestPatchFailureRetriedWithBackoff(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	f.failPatches(2, apierrors.NewServiceUnavailable("etcd is down"))

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))
	f.drain()
	assert.Equal(t, 1, f.publisher.Pending())
	assert.Equal(t, 0, f.publisher.queue.Len(), "the retry waits for its backoff")

	f.clock.Step(retryBaseDelay)
	f.waitQueued(1)
	f.drain()
	assert.Equal(t, 0, f.publisher.queue.Len(), "the second retry waits twice as long")

	f.clock.Step(2 * retryBaseDelay)
	f.waitQueued(1)
	f.drain()

	assert.Len(t, f.patches(), 3)
	assert.Equal(t, int64(2), f.sum("otelcol_exporter_veltrim_patches_failed", "failure_class", "server_error"))
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_patches_sent", "", ""))
	assert.Equal(t, 0, f.publisher.Pending())
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-state", "cold")
}

func TestOfferDuringBackoffWaitsForRetry(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	f.failPatches(1, apierrors.NewServiceUnavailable("etcd is down"))
	ctx := context.Background()

	f.publisher.Offer(ctx, identity(pod), coldState(0.1, testStart))
	f.drain()
	f.publisher.Offer(ctx, identity(pod), warmState(1, testStart, testStart.Add(time.Second)))
	assert.Equal(t, 0, f.publisher.queue.Len(), "a new state does not cut the backoff short")

	f.clock.Step(retryBaseDelay)
	f.waitQueued(1)
	f.drain()

	assert.Len(t, f.patches(), 2)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-state", "warm")
	assert.Equal(t, 0, f.publisher.Pending())
}

func TestStateArrivingDuringPatchIsPublished(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	ctx := context.Background()

	// The first retry is in flight when the new state arrives: the pod is in
	// backoff, so Offer does not queue it, and success must queue it again.
	f.failPatches(1, apierrors.NewServiceUnavailable("etcd is down"))
	f.publisher.Offer(ctx, identity(pod), coldState(0.1, testStart))
	f.drain()
	offered := false
	f.client.PrependReactor("patch", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if !offered {
			offered = true
			f.publisher.Offer(ctx, identity(pod), warmState(2, testStart, testStart.Add(time.Second)))
		}
		return false, nil, nil
	})
	f.clock.Step(retryBaseDelay)
	f.waitQueued(1)
	f.drain()

	assert.Len(t, f.patches(), 3)
	assertAnnotation(t, f.pod("llm", "serve-0"), "veltrim.io/cache-misses", "2")
	assert.Equal(t, 0, f.publisher.Pending())
}

func TestInvalidPatchNotRetried(t *testing.T) {
	pod := newPod("llm", "serve-0", "uid-0", nil)
	f := newFixture(t, defaultSettings(), pod)
	f.failPatches(1, apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "serve-0", field.ErrorList{
		field.TooLong(field.NewPath("metadata", "annotations"), "", 262144),
	}))

	f.publisher.Offer(context.Background(), identity(pod), coldState(0.1, testStart))
	f.drain()
	f.clock.Step(retryMaxDelay)

	assert.Len(t, f.patches(), 1)
	assert.Equal(t, int64(1), f.sum("otelcol_exporter_veltrim_patches_failed", "failure_class", "invalid"))
	assert.Equal(t, int64(0), f.sum("otelcol_exporter_veltrim_pods_gone", "", ""))
	assert.Equal(t, 0, f.publisher.Pending())
}

func TestFailureLogRateLimitedPerClass(t *testing.T) {
	f := newFixture(t, defaultSettings())
	log := f.publisher.failures
	refused := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")

	for range 5 {
		log.record(failureUnreachable, "llm/serve-0", refused)
	}
	log.record(failureForbidden, "llm/serve-0", apierrors.NewForbidden(podsResource, "serve-0", errors.New("no RBAC")))
	assert.Equal(t, 2, f.logs.Len(), "first failure of each class")

	f.clock.Step(failureLogInterval)
	log.record(failureUnreachable, "llm/serve-1", refused)

	entries := f.logs.FilterField(zapFieldString("failure_class", failureUnreachable)).All()
	require.Len(t, entries, 2)
	assert.Equal(t, int64(4), entries[1].ContextMap()["failures_not_logged"])
	assert.Equal(t, zapcore.WarnLevel, entries[1].Level)
}

func TestFailureClass(t *testing.T) {
	tests := []struct {
		err   error
		class string
	}{
		{err: context.DeadlineExceeded, class: failureTimeout},
		{err: apierrors.NewTimeoutError("slow", 1), class: failureTimeout},
		{err: apierrors.NewTooManyRequests("slow down", 1), class: failureThrottled},
		{err: apierrors.NewForbidden(podsResource, "serve-0", errors.New("no RBAC")), class: failureForbidden},
		{err: apierrors.NewUnauthorized("bad token"), class: failureForbidden},
		{err: apierrors.NewBadRequest("bad"), class: failureInvalid},
		{err: apierrors.NewInternalError(errors.New("boom")), class: failureServer},
		{err: apierrors.NewServiceUnavailable("down"), class: failureServer},
		{err: &plainNetError{}, class: failureUnreachable},
		{err: errors.New("something else"), class: failureOther},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.class, failureClass(tt.err))
		})
	}
}

func TestGoneReason(t *testing.T) {
	assert.Equal(t, goneNotFound, goneReason(apierrors.NewNotFound(podsResource, "serve-0")))
	assert.Empty(t, goneReason(apierrors.NewConflict(podsResource, "serve-0", errors.New("the object has been modified"))))
	assert.Empty(t, goneReason(apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "serve-0", field.ErrorList{
		field.Invalid(field.NewPath("metadata", "annotations"), "x", "bad"),
	})))
	assert.Empty(t, goneReason(&apierrors.StatusError{ErrStatus: metav1.Status{Reason: metav1.StatusReasonInvalid}}))
}

// plainNetError is a net.Error that is not a timeout, such as an unreachable network.
type plainNetError struct{}

func (*plainNetError) Error() string   { return "network unreachable" }
func (*plainNetError) Timeout() bool   { return false }
func (*plainNetError) Temporary() bool { return false }

// errNetworkDown is what a patch returns while the API server is unreachable.
var errNetworkDown error = &plainNetError{}
