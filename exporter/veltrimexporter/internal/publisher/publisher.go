// Package publisher publishes each pod's newest veltrim state as pod
// annotations. It keeps one pending state per pod, patches only on a
// meaningful change, and retries failed patches with backoff from a client-go
// workqueue, so callers never wait on the Kubernetes API.
package publisher

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/veltrix/veltrim/internal/podstate"
)

// Retry backoff of a failed patch, per pod: the delay doubles from
// retryBaseDelay up to retryMaxDelay. After the API server returns, every pod
// converges within retryMaxDelay plus the time its patch waits for the client
// rate limit.
const (
	retryBaseDelay = 500 * time.Millisecond
	retryMaxDelay  = 30 * time.Second
)

// workers is how many patches may be in flight at once. The client's QPS
// limit, not this number, sets the patch rate.
const workers = 4

// idleRefreshIntervals is how many refresh intervals a pod may send no state
// before its entry is forgotten, so that deleted pods do not stay in memory.
const idleRefreshIntervals = 3

// Settings configure a Publisher.
type Settings struct {
	// AnnotationPrefix is prepended to the veltrim annotation names.
	AnnotationPrefix string
	// DeletionCost enables the pod-deletion-cost annotation.
	DeletionCost bool
	// CPUThreshold is the CPU request utilization at and above which a cold
	// pod counts as busy rather than removable.
	CPUThreshold float64
	// CPUChangeThreshold is how far CPU request utilization must move before
	// the move alone triggers a patch.
	CPUChangeThreshold float64
	// RefreshInterval is the least time between two patches of an otherwise
	// unchanged state, measured on the states' observed-at times.
	RefreshInterval time.Duration
	// Clock drives retries, the idle sweep and the failure log; nil means
	// the real clock.
	Clock clock.WithTicker
	// Telemetry provides the logger and the meter provider.
	Telemetry component.TelemetrySettings
}

// Publisher coalesces pod states and patches them onto pods.
type Publisher struct {
	settings Settings
	rules    changeRules
	clock    clock.WithTicker
	logger   *zap.Logger

	// queue holds the UIDs of pods with a state to patch. A UID is queued at
	// most once however many states arrive, so its length is bounded by the
	// number of pods.
	queue     workqueue.TypedRateLimitingInterface[string]
	telemetry *telemetry
	failures  *failureLog

	mu sync.Mutex
	// pods holds the newest accepted state per pod UID.
	pods map[string]*podEntry
	// pending counts entries whose newest state is not published yet.
	pending int

	client   kubernetes.Interface
	cancel   context.CancelFunc
	stopped  chan struct{}
	wg       sync.WaitGroup
	startMu  sync.Mutex
	started  bool
	shutdown bool
}

// podEntry is the publishing state of one pod.
type podEntry struct {
	id podstate.Identity
	// want is the newest state accepted for publishing, whether or not it
	// has reached the pod yet. New states are compared against it.
	want snapshot
	// generation counts accepted states, so that a worker can tell whether
	// the state it patched is still the newest.
	generation uint64
	pending    bool
	// gone marks a pod the API server reported as deleted or replaced.
	gone bool
	// lastSeen is when the pod's newest state arrived, by the publisher's clock.
	lastSeen time.Time
}

// New creates a Publisher. It patches nothing until Start.
func New(settings Settings) (*Publisher, error) {
	if settings.Clock == nil {
		settings.Clock = clock.RealClock{}
	}

	p := &Publisher{
		settings: settings,
		rules: changeRules{
			cpuChangeThreshold: settings.CPUChangeThreshold,
			refreshInterval:    settings.RefreshInterval,
			deletionCost:       settings.DeletionCost,
		},
		clock:    settings.Clock,
		logger:   settings.Telemetry.Logger,
		failures: newFailureLog(settings.Telemetry.Logger, settings.Clock, failureLogInterval),
		pods:     map[string]*podEntry{},
		stopped:  make(chan struct{}),
	}
	p.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](retryBaseDelay, retryMaxDelay),
		workqueue.TypedRateLimitingQueueConfig[string]{Clock: settings.Clock},
	)

	var err error
	p.telemetry, err = newTelemetry(settings.Telemetry, p.queueDepth)
	if err != nil {
		p.queue.ShutDown()
		return nil, err
	}
	return p, nil
}

// Start starts the workers that patch pods through client and the sweep of
// idle entries.
func (p *Publisher) Start(client kubernetes.Interface) error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if p.started || p.shutdown {
		return errors.New("publisher already started or shut down")
	}
	p.started = true
	p.client = client

	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for range workers {
		p.wg.Add(1)
		go p.runWorker(ctx)
	}
	p.wg.Add(1)
	go p.runSweep()
	return nil
}

// Shutdown stops the workers and returns once they have exited. Patches in
// flight are cancelled and states not yet published are dropped: the next
// collector publishes them again from fresh telemetry.
func (p *Publisher) Shutdown() error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if p.shutdown {
		return nil
	}
	p.shutdown = true

	p.queue.ShutDown()
	if p.started {
		close(p.stopped)
		p.cancel()
		p.wg.Wait()
	}
	return p.telemetry.shutdown()
}

// Pending returns how many pods have a state that is not published yet.
func (p *Publisher) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending
}

func (p *Publisher) queueDepth() int64 {
	return int64(p.Pending())
}

// OfferResource reads the pod identity and the stamped state from resource
// attributes and queues the state for publishing when it changed
// meaningfully. It never blocks on the Kubernetes API. A resource without
// veltrim state is ignored, one without a full pod identity is counted.
func (p *Publisher) OfferResource(ctx context.Context, attrs pcommon.Map) {
	state, ok := podstate.StateFromResource(attrs)
	if !ok {
		return
	}
	id, ok := podstate.IdentityFromResource(attrs)
	if !ok || id.UID == "" || id.Namespace == "" || id.Name == "" {
		p.telemetry.recordUnidentified(ctx)
		return
	}
	p.Offer(ctx, id, state)
}

// Offer queues state for the pod id when it changed meaningfully since the
// newest state accepted for that pod. id must carry UID, namespace and name.
func (p *Publisher) Offer(ctx context.Context, id podstate.Identity, state podstate.State) {
	next := newSnapshot(state, p.settings.CPUThreshold)
	now := p.clock.Now()

	p.mu.Lock()
	reason := p.acceptLocked(id, next, now)
	p.mu.Unlock()

	if reason != "" {
		p.telemetry.recordSkipped(ctx, reason)
		return
	}

	// A pod in retry backoff is already scheduled, and its retry patches the
	// newest state. Adding it here would skip the backoff while the API
	// server is failing.
	if p.queue.NumRequeues(id.UID) == 0 {
		p.queue.Add(id.UID)
	}
}

// acceptLocked stores next as the pod's newest state, or returns the reason
// it was skipped.
func (p *Publisher) acceptLocked(id podstate.Identity, next snapshot, now time.Time) string {
	entry, ok := p.pods[id.UID]
	if !ok {
		entry = &podEntry{id: id}
		p.pods[id.UID] = entry
	}
	entry.lastSeen = now

	switch {
	case entry.gone:
		return skipPodGone
	case ok && next.observedAt.Before(entry.want.observedAt):
		return skipOutOfOrder
	case ok && !p.rules.changed(entry.want, next):
		return skipUnchanged
	}

	entry.want = next
	entry.generation++
	if !entry.pending {
		entry.pending = true
		p.pending++
	}
	return ""
}
