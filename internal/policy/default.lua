-- veltrim default scale-down policy.
--
-- decide(request) returns how many of the workload's replicas may be removed
-- and which pods must stay, with a reason for each. A pod is removable when
-- the ReplicaSet controller would delete it first anyway (not scheduled,
-- pending or not ready), or when all of these hold:
--   * no cache miss within settings.cache_window,
--   * CPU request utilization below settings.cpu_threshold,
--   * state observed within settings.stale_after.
-- A pod with missing or stale state counts as settings.unknown_pods sets.
--
-- Times are Unix seconds and durations are seconds. Fields a pod does not
-- carry are nil.

local floor = math.floor
local format = string.format

-- ago formats an age in seconds the way the denial message shows it.
local function ago(age)
  if age < 0 then
    age = 0
  end
  if age < 60 then
    return format("%ds", floor(age))
  end
  if age < 3600 then
    return format("%dm", floor(age / 60))
  end
  return format("%dh%dm", floor(age / 3600), floor(age % 3600 / 60))
end

-- Kinds of protection that check returns. describe turns one into the
-- reason a message shows.
local NO_STATE, STALE, CACHE_MISS, CACHE_WARM, NO_CPU, BUSY = 1, 2, 3, 4, 5, 6

local function describe(kind, value)
  if kind == NO_STATE then
    return "no state published"
  elseif kind == STALE then
    return "state stale, observed " .. ago(value) .. " ago"
  elseif kind == CACHE_MISS then
    return "cache miss " .. ago(value) .. " ago"
  elseif kind == CACHE_WARM then
    return "cache warm"
  elseif kind == NO_CPU then
    return "no CPU data"
  end
  return format("CPU %d %% of request", floor(value * 100 + 0.5))
end

-- check returns nil for a removable pod, else the kind of its protection and
-- the age or utilization behind it. It formats nothing, because formatting
-- costs more than the checks and most requests need no reasons.
local function check(pod, now, settings)
  if not pod.scheduled or pod.phase == "Pending" or not pod.ready then
    return nil
  end
  local protect_unknown = settings.unknown_pods == "protected"

  if pod.observed_at == nil then
    if protect_unknown then
      return NO_STATE
    end
    return nil
  end
  local age = now - pod.observed_at
  if age > settings.stale_after then
    if protect_unknown then
      return STALE, age
    end
    return nil
  end

  if pod.last_cache_miss ~= nil then
    local miss_age = now - pod.last_cache_miss
    if miss_age <= settings.cache_window then
      return CACHE_MISS, miss_age
    end
  elseif pod.cache_state == "warm" then
    return CACHE_WARM
  end

  local cpu = pod.cpu_request_utilization
  if cpu == nil then
    if protect_unknown then
      return NO_CPU
    end
    return nil
  end
  if cpu >= settings.cpu_threshold then
    return BUSY, cpu
  end
  return nil
end

-- protected_pods lists the pods of request.pods that check protects, with
-- their reasons.
local function protected_pods(request)
  local protected = {}
  local pods = request.pods
  for i = 1, #pods do
    local pod = pods[i]
    local kind, value = check(pod, request.now, request.settings)
    if kind ~= nil then
      protected[#protected + 1] = { name = pod.name, reason = describe(kind, value) }
    end
  end
  return protected
end

-- decide_unordered serves Deployments and ReplicaSets: the ReplicaSet
-- controller picks its victims by readiness and pod-deletion-cost, so any
-- removable pod can go. Replicas without a pod are removable too. The
-- protected pods are listed only when too few are removable, because only
-- then does a message name them.
local function decide_unordered(request)
  local settings = request.settings
  local now = request.now
  local pods = request.pods
  local removable = 0
  -- A numeric loop, because ipairs calls a Go function per pod.
  for i = 1, #pods do
    if check(pods[i], now, settings) == nil then
      removable = removable + 1
    end
  end

  local missing = request.old_replicas - #pods
  if missing > 0 then
    removable = removable + missing
  end
  if removable > request.old_replicas then
    removable = request.old_replicas
  end
  if removable >= request.remove then
    return { removable = removable }
  end
  return { removable = removable, protected = protected_pods(request) }
end

-- decide_ordered serves StatefulSets, which remove pods from the highest
-- ordinal down: the removable count is the run of removable pods at the top,
-- and the protected pods reported are those a scale-down would delete.
local function decide_ordered(request)
  local settings = request.settings
  local by_ordinal = {}
  local pods = request.pods
  for i = 1, #pods do
    local pod = pods[i]
    if pod.ordinal ~= nil then
      by_ordinal[pod.ordinal] = pod
    end
  end

  local removable = 0
  local blocked = false
  local protected = {}
  for ordinal = request.old_replicas - 1, request.new_replicas, -1 do
    local pod = by_ordinal[ordinal]
    local kind, value = nil, nil
    if pod ~= nil then
      kind, value = check(pod, request.now, settings)
    end
    if kind ~= nil then
      blocked = true
      protected[#protected + 1] = { name = pod.name, reason = describe(kind, value) }
    elseif not blocked then
      removable = removable + 1
    end
  end
  return { removable = removable, protected = protected }
end

function decide(request)
  if request.ordered then
    return decide_ordered(request)
  end
  return decide_unordered(request)
end
