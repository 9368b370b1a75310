package podtracker

import (
	"math"
	"time"

	"github.com/veltrix/veltrim/internal/podstate"
	"github.com/veltrix/veltrim/internal/window"
)

// Pod is the state of one pod.
type Pod struct {
	key podstate.Identity
	// lastSeen is the time of the newest span or data point, in Unix
	// nanoseconds.
	lastSeen int64
	// lastMiss is the time of the newest cache miss in Unix nanoseconds,
	// 0 when none is known.
	lastMiss int64
	misses   window.Counter
	cpu      window.Mean

	prev, next *Pod
}

// Identity returns the identity the pod is tracked under: the UID alone
// when it is known, else namespace and name.
func (p *Pod) Identity() podstate.Identity {
	return p.key
}

func (p *Pod) reset() {
	*p = Pod{}
}

// RecordCacheMiss adds one cache miss at now, in Unix nanoseconds.
func (t *Tracker) RecordCacheMiss(p *Pod, now int64) {
	p.misses.Add(t.missSpec, now, 1)
	// A lastMiss of 0 means none, so a clock at the Unix epoch records 1 ns.
	p.lastMiss = max(p.lastMiss, now, 1)
}

// RecordCPU adds one CPU request utilization sample at now. It reports
// false, and ignores the sample, when v is NaN, infinite or negative.
func (t *Tracker) RecordCPU(p *Pod, now int64, v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return false
	}
	p.cpu.Add(t.cpuSpec, now, v)
	return true
}

// State returns the pod's state at now, in Unix nanoseconds.
func (t *Tracker) State(p *Pod, now int64) podstate.State {
	s := podstate.State{
		CacheState:  podstate.CacheStateCold,
		CacheMisses: p.misses.Sum(t.missSpec, now),
		ObservedAt:  time.Unix(0, now).UTC(),
	}
	if p.lastMiss != 0 {
		s.LastCacheMiss = time.Unix(0, p.lastMiss).UTC()
		if now-p.lastMiss <= t.missWindow {
			s.CacheState = podstate.CacheStateWarm
		}
	}
	s.CPURequestUtilization, s.HasCPU = p.cpu.Value(t.cpuSpec, now)
	return s
}
