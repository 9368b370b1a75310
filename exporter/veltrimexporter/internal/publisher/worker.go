package publisher

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/veltrix/veltrim/internal/podstate"
)

// patchTimeout bounds one patch request, so that an API server that accepts
// connections but does not respond holds a worker no longer than this.
const patchTimeout = 10 * time.Second

func (p *Publisher) runWorker(ctx context.Context) {
	defer p.wg.Done()
	for p.processNextItem(ctx) {
	}
}

// processNextItem patches the newest state of the next queued pod. It
// returns false once the queue is shut down.
func (p *Publisher) processNextItem(ctx context.Context) bool {
	uid, shutdown := p.queue.Get()
	if shutdown {
		return false
	}
	defer p.queue.Done(uid)

	// Copy the state under the lock: newer states may arrive while the patch
	// is in flight, and the queue hands the UID out again after Done.
	p.mu.Lock()
	entry, ok := p.pods[uid]
	var (
		id         podstate.Identity
		want       snapshot
		generation uint64
	)
	if ok && entry.pending {
		id, want, generation = entry.id, entry.want, entry.generation
	}
	p.mu.Unlock()
	if !ok || generation == 0 {
		// The entry was swept, dropped as gone, or its state is published.
		p.queue.Forget(uid)
		return true
	}

	patchCtx, cancel := context.WithTimeout(ctx, patchTimeout)
	err := p.patch(patchCtx, id, want)
	cancel()
	p.handleResult(ctx, uid, id, generation, err)
	return true
}

// handleResult records the outcome of patching generation of a pod's state.
func (p *Publisher) handleResult(ctx context.Context, uid string, id podstate.Identity, generation uint64, err error) {
	if err == nil {
		p.queue.Forget(uid)
		p.telemetry.recordSent(ctx)
		if p.markPublished(uid, generation) {
			// A newer state arrived during the patch while the pod was
			// backing off, so nothing queued it.
			p.queue.Add(uid)
		}
		return
	}

	if reason := goneReason(err); reason != "" {
		p.queue.Forget(uid)
		p.markGone(uid)
		p.telemetry.recordGone(ctx, reason)
		p.logger.Debug("Dropped the state of a pod that no longer exists",
			zap.String("pod", id.Namespace+"/"+id.Name),
			zap.String("uid", id.UID),
			zap.String("reason", reason),
			zap.Error(err))
		return
	}

	if ctx.Err() != nil {
		// Shutdown cancelled the patch: neither a failure nor a retry.
		return
	}

	class := failureClass(err)
	p.telemetry.recordFailed(ctx, class)
	p.failures.record(class, id.Namespace+"/"+id.Name, err)
	if retryable(class) {
		p.queue.AddRateLimited(uid)
		return
	}
	p.queue.Forget(uid)
	if p.markPublished(uid, generation) {
		p.queue.Add(uid)
	}
}

// markPublished clears the pending flag when generation is still the pod's
// newest state. It reports whether a newer state is still pending.
func (p *Publisher) markPublished(uid string, generation uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()

	entry, ok := p.pods[uid]
	if !ok || !entry.pending {
		return false
	}
	if entry.generation != generation {
		return true
	}
	entry.pending = false
	p.pending--
	return false
}

// markGone keeps a tombstone for the pod so that telemetry still in flight
// for it triggers no more patches.
func (p *Publisher) markGone(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()

	entry, ok := p.pods[uid]
	if !ok {
		return
	}
	if entry.pending {
		entry.pending = false
		p.pending--
	}
	entry.gone = true
}
