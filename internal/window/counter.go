package window

// Counter counts events in a sliding window. The zero value is an empty
// counter. Counter is not safe for concurrent use.
type Counter struct {
	epochs [ringSize]int64
	counts [ringSize]int64
}

// Add adds n events at now, in Unix nanoseconds.
func (c *Counter) Add(s Spec, now, n int64) {
	e := s.epoch(now)
	i := slot(e)
	if c.epochs[i] != e {
		c.epochs[i] = e
		c.counts[i] = 0
	}
	c.counts[i] += n
}

// Sum returns the number of events within the window at now.
func (c *Counter) Sum(s Spec, now int64) int64 {
	current := s.epoch(now)
	var sum int64
	for i := range c.counts {
		if inWindow(c.epochs[i], current) {
			sum += c.counts[i]
		}
	}
	return sum
}

// Reset empties the counter.
func (c *Counter) Reset() {
	*c = Counter{}
}
