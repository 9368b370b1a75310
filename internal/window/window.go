// Package window keeps sliding-window sums in a fixed ring of time buckets,
// so a per-pod window costs the same memory however many events it counts.
//
// A window of length W is split into Buckets buckets of W/Buckets each. The
// ring holds one bucket more than that, so an event stays counted for at
// least W and at most W + W/Buckets after it was added. So the window errs
// on the side of remembering and keeps a pod warm slightly longer, never
// shorter. With the default 15-minute windows a bucket is 30 seconds.
package window

import "time"

// Buckets is the number of buckets one window spans.
const Buckets = 30

// ringSize holds the current, partly filled bucket in addition to Buckets
// full ones.
const ringSize = Buckets + 1

// Spec is the bucket arithmetic of one window length, shared by every
// window of that length.
type Spec struct {
	resolution int64
}

// NewSpec returns the spec of a window of the given length. Lengths below
// Buckets nanoseconds get 1-nanosecond buckets.
func NewSpec(length time.Duration) Spec {
	return Spec{resolution: max(int64(length)/Buckets, 1)}
}

// Resolution returns the length of one bucket.
func (s Spec) Resolution() time.Duration {
	return time.Duration(s.resolution)
}

// epoch returns the number of the bucket that contains now, counted from
// the Unix epoch. Floor division keeps times before 1970 consistent.
func (s Spec) epoch(now int64) int64 {
	e := now / s.resolution
	if now%s.resolution < 0 {
		e--
	}
	return e
}

// slot returns the ring index of a bucket number.
func slot(epoch int64) int {
	i := int(epoch % ringSize)
	if i < 0 {
		i += ringSize
	}
	return i
}

// inWindow reports whether bucket epoch still counts at bucket current.
// Buckets ahead of current, left by a clock that stepped back, count too.
func inWindow(epoch, current int64) bool {
	return current-epoch < ringSize
}
