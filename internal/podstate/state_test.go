package podstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestStateRoundTrip(t *testing.T) {
	observed := time.Date(2026, 3, 1, 12, 0, 0, 123, time.UTC)
	tests := []struct {
		name  string
		state State
	}{
		{
			name: "warm with cpu",
			state: State{
				CacheState:            CacheStateWarm,
				CacheMisses:           3,
				LastCacheMiss:         observed.Add(-time.Minute),
				CPURequestUtilization: 0.27,
				HasCPU:                true,
				ObservedAt:            observed,
			},
		},
		{
			name:  "cold without optional values",
			state: State{CacheState: CacheStateCold, ObservedAt: observed},
		},
		{
			name:  "zero cpu is a sample",
			state: State{CacheState: CacheStateCold, HasCPU: true, ObservedAt: observed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			tt.state.Stamp(attrs)

			got, ok := StateFromResource(attrs)
			require.True(t, ok)
			assert.Equal(t, tt.state, got)
		})
	}
}

func TestStampTypes(t *testing.T) {
	attrs := pcommon.NewMap()
	State{
		CacheState:    CacheStateWarm,
		CacheMisses:   1,
		LastCacheMiss: time.Unix(0, 5),
		HasCPU:        true,
		ObservedAt:    time.Unix(0, 9),
	}.Stamp(attrs)

	types := map[string]pcommon.ValueType{
		AttrCacheState:            pcommon.ValueTypeStr,
		AttrCacheMisses:           pcommon.ValueTypeInt,
		AttrCacheLastMiss:         pcommon.ValueTypeInt,
		AttrCPURequestUtilization: pcommon.ValueTypeDouble,
		AttrObservedAt:            pcommon.ValueTypeInt,
	}
	assert.Equal(t, len(types), attrs.Len())
	for key, want := range types {
		v, ok := attrs.Get(key)
		require.True(t, ok, key)
		assert.Equal(t, want, v.Type(), key)
	}
	lastMiss, _ := attrs.Get(AttrCacheLastMiss)
	assert.Equal(t, int64(5), lastMiss.Int())
}

func TestStampRemovesStaleOptionalValues(t *testing.T) {
	attrs := pcommon.NewMap()
	attrs.PutStr("k8s.pod.uid", "uid-1")
	State{CacheState: CacheStateWarm, LastCacheMiss: time.Unix(10, 0), HasCPU: true, CPURequestUtilization: 0.5, ObservedAt: time.Unix(20, 0)}.Stamp(attrs)
	State{CacheState: CacheStateCold, ObservedAt: time.Unix(30, 0)}.Stamp(attrs)

	_, ok := attrs.Get(AttrCacheLastMiss)
	assert.False(t, ok)
	_, ok = attrs.Get(AttrCPURequestUtilization)
	assert.False(t, ok)
	uid, _ := attrs.Get("k8s.pod.uid")
	assert.Equal(t, "uid-1", uid.Str())
}

func TestStateFromResourceMissing(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
	}{
		{"empty", map[string]any{}},
		{"no observed_at", map[string]any{AttrCacheState: CacheStateWarm}},
		{"no cache state", map[string]any{AttrObservedAt: int64(1)}},
		{"observed_at string", map[string]any{AttrCacheState: CacheStateWarm, AttrObservedAt: "1"}},
		{"cache state int", map[string]any{AttrCacheState: int64(1), AttrObservedAt: int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			require.NoError(t, attrs.FromRaw(tt.attrs))
			_, ok := StateFromResource(attrs)
			assert.False(t, ok)
		})
	}
}

func TestStateFromResourceIgnoresWrongOptionalTypes(t *testing.T) {
	attrs := pcommon.NewMap()
	require.NoError(t, attrs.FromRaw(map[string]any{
		AttrCacheState:            CacheStateCold,
		AttrObservedAt:            int64(7),
		AttrCacheMisses:           "3",
		AttrCacheLastMiss:         1.5,
		AttrCPURequestUtilization: int64(1),
	}))
	s, ok := StateFromResource(attrs)
	require.True(t, ok)
	assert.Zero(t, s.CacheMisses)
	assert.True(t, s.LastCacheMiss.IsZero())
	assert.False(t, s.HasCPU)
}

func TestIdentityFromResource(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
		want  Identity
		ok    bool
	}{
		{"uid", map[string]any{AttrPodUID: "u"}, Identity{UID: "u"}, true},
		{"uid and name", map[string]any{AttrPodUID: "u", AttrNamespaceName: "ns", AttrPodName: "p"}, Identity{UID: "u", Namespace: "ns", Name: "p"}, true},
		{"namespace and name", map[string]any{AttrNamespaceName: "ns", AttrPodName: "p"}, Identity{Namespace: "ns", Name: "p"}, true},
		{"name only", map[string]any{AttrPodName: "p"}, Identity{}, false},
		{"namespace only", map[string]any{AttrNamespaceName: "ns"}, Identity{}, false},
		{"uid not a string", map[string]any{AttrPodUID: int64(1)}, Identity{}, false},
		{"service only", map[string]any{AttrServiceName: "svc"}, Identity{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			require.NoError(t, attrs.FromRaw(tt.attrs))
			got, ok := IdentityFromResource(attrs)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestIdentityKey(t *testing.T) {
	assert.Equal(t, "u", Identity{UID: "u", Namespace: "ns", Name: "p"}.Key())
	assert.Equal(t, "ns/p", Identity{Namespace: "ns", Name: "p"}.Key())
}
