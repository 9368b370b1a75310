package policy

import lua "github.com/yuin/gopher-lua"

// podCacheSweepInterval is how many evaluations a state runs between
// sweeps of its pod table cache, and how many evaluations an unused entry
// survives. It bounds the cache to the pods of the recent evaluations.
const podCacheSweepInterval = 256

// podCache keeps the Lua tables of pods between evaluations of one state,
// keyed by Pod.UID and Pod.Version. Building a pod's table costs more than running the
// default policy on it, and a pod's published state changes far less often
// than scale requests arrive.
type podCache struct {
	entries     map[podCacheKey]*podCacheEntry
	evaluations uint64
}

type podCacheKey struct {
	uid     string
	version string
}

type podCacheEntry struct {
	table    *lua.LTable
	lastUsed uint64
}

func newPodCache() *podCache {
	return &podCache{entries: make(map[podCacheKey]*podCacheEntry)}
}

// table returns the Lua table of pod, built now or on an earlier evaluation.
func (c *podCache) table(L *lua.LState, pod *Pod) *lua.LTable {
	if pod.UID == "" || pod.Version == "" {
		return toLuaPod(L, pod)
	}
	key := podCacheKey{uid: pod.UID, version: pod.Version}
	if entry, ok := c.entries[key]; ok {
		entry.lastUsed = c.evaluations
		return entry.table
	}
	t := toLuaPod(L, pod)
	c.entries[key] = &podCacheEntry{table: t, lastUsed: c.evaluations}
	return t
}

// finishEvaluation counts an evaluation and drops the entries that no
// evaluation used within the last podCacheSweepInterval.
func (c *podCache) finishEvaluation() {
	c.evaluations++
	if c.evaluations%podCacheSweepInterval != 0 {
		return
	}
	for key, entry := range c.entries {
		if c.evaluations-entry.lastUsed > podCacheSweepInterval {
			delete(c.entries, key)
		}
	}
}
