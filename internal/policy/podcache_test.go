package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	lua "github.com/yuin/gopher-lua"
)

func TestPodCacheReusesTableOfSameVersion(t *testing.T) {
	L := newSandbox()
	defer L.Close()
	c := newPodCache()
	pod := runningPod("web-0")
	pod.UID, pod.Version = "uid", "1"

	first := c.table(L, &pod)
	pod.Phase = "Pending"
	second := c.table(L, &pod)
	pod.Version = "2"
	third := c.table(L, &pod)

	assert.Same(t, first, second)
	assert.NotSame(t, first, third)
	assert.Equal(t, lua.LString("Pending"), third.RawGetString("phase"))
}

func TestPodCacheWithoutVersion(t *testing.T) {
	L := newSandbox()
	defer L.Close()
	c := newPodCache()
	pod := runningPod("web-0")
	pod.UID = "uid"

	assert.NotSame(t, c.table(L, &pod), c.table(L, &pod))
	assert.Empty(t, c.entries)
}

func TestPodCacheSweepsUnusedEntries(t *testing.T) {
	L := newSandbox()
	defer L.Close()
	c := newPodCache()
	kept, dropped := runningPod("kept"), runningPod("dropped")
	kept.UID, kept.Version = "kept", "1"
	dropped.UID, dropped.Version = "dropped", "1"
	c.table(L, &dropped)

	for range 2 * podCacheSweepInterval {
		c.table(L, &kept)
		c.finishEvaluation()
	}

	assert.Contains(t, c.entries, podCacheKey{uid: "kept", version: "1"})
	assert.NotContains(t, c.entries, podCacheKey{uid: "dropped", version: "1"})
}
