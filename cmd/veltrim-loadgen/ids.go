package main

import (
	"context"
	"math/rand/v2"
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// seededIDs generates trace and span IDs from a fixed seed, so two runs with
// the same seed and scenario send the same IDs. It implements the SDK's
// sdktrace.IDGenerator.
type seededIDs struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newSeededIDs(seed uint64) *seededIDs {
	return &seededIDs{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *seededIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()

	var traceID trace.TraceID
	for !traceID.IsValid() {
		putUint64(traceID[:8], g.rng.Uint64())
		putUint64(traceID[8:], g.rng.Uint64())
	}
	return traceID, g.spanIDLocked()
}

func (g *seededIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spanIDLocked()
}

func (g *seededIDs) spanIDLocked() trace.SpanID {
	var spanID trace.SpanID
	for !spanID.IsValid() {
		putUint64(spanID[:], g.rng.Uint64())
	}
	return spanID
}

func putUint64(dst []byte, v uint64) {
	for i := range 8 {
		dst[i] = byte(v >> (56 - 8*i))
	}
}
