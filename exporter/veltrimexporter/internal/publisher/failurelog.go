package publisher

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// failureLogInterval is the least time between two log lines of one failure
// class. While the API server is down every pod fails each retry, and a line
// per patch would flood the collector's log.
const failureLogInterval = time.Minute

// failureLog logs the first patch failure of each class at once and the next
// ones at most once per interval, with the number it left out in between.
type failureLog struct {
	logger   *zap.Logger
	clock    clock.PassiveClock
	interval time.Duration

	mu      sync.Mutex
	classes map[string]*classLog
}

// classLog tracks the log lines of one failure class.
type classLog struct {
	lastLogged time.Time
	suppressed int
}

func newFailureLog(logger *zap.Logger, clk clock.PassiveClock, interval time.Duration) *failureLog {
	return &failureLog{logger: logger, clock: clk, interval: interval, classes: map[string]*classLog{}}
}

// record logs a failed patch of pod unless its class was logged within the interval.
func (l *failureLog) record(class, pod string, err error) {
	now := l.clock.Now()

	l.mu.Lock()
	entry, ok := l.classes[class]
	if !ok {
		entry = &classLog{}
		l.classes[class] = entry
	}
	if ok && now.Sub(entry.lastLogged) < l.interval {
		entry.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := entry.suppressed
	entry.lastLogged = now
	entry.suppressed = 0
	l.mu.Unlock()

	l.logger.Warn("Failed to patch pod annotations; later failures of this class are logged at most once per interval",
		zap.String("failure_class", class),
		zap.String("pod", pod),
		zap.Int("failures_not_logged", suppressed),
		zap.Stringer("interval", l.interval),
		zap.Error(err))
}
