package publisher

// runSweep removes idle pods once per refresh interval until Shutdown.
func (p *Publisher) runSweep() {
	defer p.wg.Done()

	ticker := p.clock.NewTicker(p.settings.RefreshInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case <-ticker.C():
			p.sweepIdle()
		}
	}
}

// sweepIdle removes the entries of pods that sent no state for idleRefreshIntervals refresh
// intervals: deleted pods, and tombstones of pods reported gone. A pod that
// sends state again later is published afresh.
func (p *Publisher) sweepIdle() {
	cutoff := p.clock.Now().Add(-idleRefreshIntervals * p.settings.RefreshInterval)

	p.mu.Lock()
	defer p.mu.Unlock()
	for uid, entry := range p.pods {
		if !entry.lastSeen.Before(cutoff) {
			continue
		}
		if entry.pending {
			p.pending--
		}
		delete(p.pods, uid)
	}
}
