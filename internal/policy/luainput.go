package policy

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// podFieldCount sizes each pod table's hash part: the most fields toLuaPod sets.
const podFieldCount = 11

// toLuaRequest builds the request table a policy's decide function receives.
// Times are Unix seconds and durations are seconds, both as Lua numbers.
func toLuaRequest(L *lua.LState, req *Request, settings *lua.LTable, pods *podCache) *lua.LTable {
	t := L.CreateTable(0, 12)
	t.RawSetString("namespace", lua.LString(req.Namespace))
	t.RawSetString("kind", lua.LString(req.Kind))
	t.RawSetString("name", lua.LString(req.Name))
	t.RawSetString("old_replicas", lua.LNumber(req.OldReplicas))
	t.RawSetString("new_replicas", lua.LNumber(req.NewReplicas))
	t.RawSetString("remove", lua.LNumber(req.OldReplicas-req.NewReplicas))
	t.RawSetString("ordered", lua.LBool(req.Ordered))
	t.RawSetString("mode", lua.LString(req.Mode))
	t.RawSetString("now", unixSeconds(req.Now))
	t.RawSetString("settings", settings)

	podList := L.CreateTable(len(req.Pods), 0)
	for i := range req.Pods {
		podList.RawSetInt(i+1, pods.table(L, &req.Pods[i]))
	}
	t.RawSetString("pods", podList)
	return t
}

// toLuaPod leaves a field nil when the pod does not carry it, so a policy
// tests `pod.observed_at == nil` instead of comparing with a sentinel.
func toLuaPod(L *lua.LState, pod *Pod) *lua.LTable {
	t := L.CreateTable(0, podFieldCount)
	t.RawSetString("name", lua.LString(pod.Name))
	t.RawSetString("phase", lua.LString(pod.Phase))
	t.RawSetString("scheduled", lua.LBool(pod.Scheduled))
	t.RawSetString("ready", lua.LBool(pod.Ready))
	if pod.HasOrdinal {
		t.RawSetString("ordinal", lua.LNumber(pod.Ordinal))
	}
	if pod.CacheState != "" {
		t.RawSetString("cache_state", lua.LString(pod.CacheState))
	}
	if !pod.LastCacheMiss.IsZero() {
		t.RawSetString("last_cache_miss", unixSeconds(pod.LastCacheMiss))
	}
	if pod.HasCacheMisses {
		t.RawSetString("cache_misses", lua.LNumber(pod.CacheMisses))
	}
	if pod.HasCPU {
		t.RawSetString("cpu_request_utilization", lua.LNumber(pod.CPURequestUtilization))
	}
	if !pod.ObservedAt.IsZero() {
		t.RawSetString("observed_at", unixSeconds(pod.ObservedAt))
	}
	return t
}

// toLuaSettings builds request.settings. A state builds it once and passes the
// same table to every evaluation.
func toLuaSettings(L *lua.LState, s Settings) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("cache_window", seconds(s.CacheWindow))
	t.RawSetString("cpu_threshold", lua.LNumber(s.CPUThreshold))
	t.RawSetString("stale_after", seconds(s.StaleAfter))
	t.RawSetString("unknown_pods", lua.LString(s.UnknownPods))
	return t
}

func unixSeconds(t time.Time) lua.LNumber {
	return lua.LNumber(float64(t.UnixNano()) / float64(time.Second))
}

func seconds(d time.Duration) lua.LNumber {
	return lua.LNumber(d.Seconds())
}
