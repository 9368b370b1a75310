package window

// Mean averages samples in a sliding window. The zero value holds no
// samples. Mean is not safe for concurrent use.
type Mean struct {
	epochs [ringSize]int64
	sums   [ringSize]float64
	counts [ringSize]int64
}

// Add adds one sample at now, in Unix nanoseconds.
func (m *Mean) Add(s Spec, now int64, v float64) {
	e := s.epoch(now)
	i := slot(e)
	if m.epochs[i] != e {
		m.epochs[i] = e
		m.sums[i] = 0
		m.counts[i] = 0
	}
	m.sums[i] += v
	m.counts[i]++
}

// Value returns the mean of the samples within the window at now, and
// false when there are none.
func (m *Mean) Value(s Spec, now int64) (float64, bool) {
	current := s.epoch(now)
	var sum float64
	var count int64
	for i := range m.counts {
		if m.counts[i] > 0 && inWindow(m.epochs[i], current) {
			sum += m.sums[i]
			count += m.counts[i]
		}
	}
	if count == 0 {
		return 0, false
	}
	return sum / float64(count), true
}

// Reset removes all samples.
func (m *Mean) Reset() {
	*m = Mean{}
}
