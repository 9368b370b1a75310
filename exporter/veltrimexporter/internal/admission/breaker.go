package admission

import (
	"sync"
	"time"
)

// breakerState is the state of the circuit breaker; its value is what the
// breaker state metric records.
type breakerState int64

const (
	breakerClosed   breakerState = 0
	breakerOpen     breakerState = 1
	breakerHalfOpen breakerState = 2
)

func (s breakerState) String() string {
	switch s {
	case breakerClosed:
		return "closed"
	case breakerOpen:
		return "open"
	default:
		return "half-open"
	}
}

// breaker stops evaluating the policy after consecutive failures. Closed, it
// lets every request evaluate. After failures consecutive failed or
// timed-out evaluations it opens and lets none evaluate for cooldown. Then it
// is half-open: one request probes the policy, and its outcome closes or
// reopens the breaker; other requests are not evaluated meanwhile.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	// onChange is called with the new state after each transition, with the
	// breaker's lock held; it must not call the breaker.
	onChange func(from, to breakerState, consecutive int)

	mu          sync.Mutex
	state       breakerState
	consecutive int
	openedAt    time.Time
	probing     bool
}

// allow reports whether a request may evaluate the policy. A true result
// must be followed by exactly one call to record.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	switch b.state {
	case breakerClosed:
		return true
	case breakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.transition(breakerHalfOpen)
		b.probing = true
		return true
	default:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
}

// record reports the outcome of an evaluation that allow permitted.
func (b *breaker) record(success bool) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state == breakerHalfOpen {
		b.probing = false
	}
	if success {
		b.consecutive = 0
		if b.state != breakerClosed {
			b.transition(breakerClosed)
		}
		return
	}

	b.consecutive++
	if b.state == breakerHalfOpen || (b.state == breakerClosed && b.consecutive >= b.failures) {
		b.openedAt = b.now()
		b.transition(breakerOpen)
	}
}

func (b *breaker) current() breakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *breaker) transition(to breakerState) {
	from := b.state
	b.state = to
	if b.onChange != nil {
		b.onChange(from, to, b.consecutive)
	}
}
