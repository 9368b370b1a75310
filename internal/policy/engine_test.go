package policy

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testTimeout = 20 * time.Millisecond

var testSettings = Settings{
	CacheWindow:  15 * time.Minute,
	CPUThreshold: 0.30,
	StaleAfter:   10 * time.Minute,
	UnknownPods:  UnknownPodsRemovable,
}

// sampleAnsweringLoop returns a result for the sample request, so New
// accepts it, and loops forever on every other request.
const sampleAnsweringLoop = `
function decide(request)
  if request.name == "sample" then
    return { removable = 0 }
  end
  while true do end
end
`

func newTestEngine(t *testing.T, source string) *Engine {
	t.Helper()
	e, err := New("test.lua", source, testSettings, testTimeout)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

func otherRequest() *Request {
	req := SampleRequest()
	req.Name = "web"
	return req
}

func TestNewCompileError(t *testing.T) {
	_, err := New("broken.lua", "function decide(request", testSettings, testTimeout)
	require.ErrorIs(t, err, ErrCompile)
	assert.Contains(t, err.Error(), "broken.lua")
}

func TestNewWithoutDecide(t *testing.T) {
	_, err := New("empty.lua", "local x = 1", testSettings, testTimeout)
	require.ErrorIs(t, err, ErrSample)
	assert.ErrorIs(t, err, ErrNoDecide)
}

func TestNewSampleFailure(t *testing.T) {
	_, err := New("fails.lua", `function decide(request) error("no") end`, testSettings, testTimeout)
	require.ErrorIs(t, err, ErrSample)
	assert.Contains(t, err.Error(), "no")
}

func TestNewLoopingChunk(t *testing.T) {
	_, err := New("loop.lua", "while true do end", testSettings, testTimeout)
	require.ErrorIs(t, err, ErrSample)
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestNewLoopingOnSample(t *testing.T) {
	_, err := New("loop.lua", "function decide(r) while true do end end", testSettings, testTimeout)
	require.ErrorIs(t, err, ErrSample)
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestEvaluateTimeout(t *testing.T) {
	e := newTestEngine(t, sampleAnsweringLoop)

	_, err := e.Evaluate(context.Background(), otherRequest())
	require.ErrorIs(t, err, ErrTimeout)
	assert.Contains(t, err.Error(), "20ms")
}

func TestEvaluateTimeoutInsidePcall(t *testing.T) {
	source := `
function decide(request)
  if request.name == "sample" then return { removable = 0 } end
  while true do pcall(function() while true do end end) end
end`
	e := newTestEngine(t, source)

	_, err := e.Evaluate(context.Background(), otherRequest())
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestEvaluateTimeoutInsideSortComparator(t *testing.T) {
	source := `
function decide(request)
  if request.name == "sample" then return { removable = 0 } end
  table.sort(request.pods, function(a, b) while true do end end)
end`
	e := newTestEngine(t, source)

	_, err := e.Evaluate(context.Background(), otherRequest())
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestEvaluateAfterTimeout(t *testing.T) {
	source := `
function decide(request)
  if request.name == "loop" then while true do end end
  return { removable = 1 }
end`
	e := newTestEngine(t, source)
	loop := otherRequest()
	loop.Name = "loop"

	_, err := e.Evaluate(context.Background(), loop)
	require.ErrorIs(t, err, ErrTimeout)

	result, err := e.Evaluate(context.Background(), otherRequest())
	require.NoError(t, err)
	assert.Equal(t, 1, result.Removable)
}

func TestEvaluateRuntimeError(t *testing.T) {
	source := `
function decide(request)
  if request.name == "sample" then return { removable = 0 } end
  return request.missing.field
end`
	e := newTestEngine(t, source)

	_, err := e.Evaluate(context.Background(), otherRequest())
	require.ErrorIs(t, err, ErrEvaluation)
	assert.NotErrorIs(t, err, ErrTimeout)
	assert.Contains(t, err.Error(), "test.lua:4:")
}

func TestEvaluateInvalidResult(t *testing.T) {
	tests := []struct {
		name   string
		result string
		want   string
	}{
		{name: "nil", result: "nil", want: "expected a table"},
		{name: "number", result: "3", want: "expected a table"},
		{name: "removable missing", result: "{}", want: "result.removable is nil"},
		{name: "removable string", result: `{ removable = "2" }`, want: "result.removable is string"},
		{name: "removable negative", result: "{ removable = -1 }", want: "from 0 to 4"},
		{name: "removable fraction", result: "{ removable = 1.5 }", want: "from 0 to 4"},
		{name: "removable above old", result: "{ removable = 5 }", want: "from 0 to 4"},
		{name: "protected string", result: `{ removable = 0, protected = "web-1" }`, want: "result.protected is a string"},
		{name: "protected entry", result: `{ removable = 0, protected = { "web-1" } }`, want: "result.protected[1] is not a table"},
		{name: "protected reason", result: `{ removable = 0, protected = { { name = "web-1" } } }`, want: "result.protected[1] needs"},
		{name: "message number", result: `{ removable = 0, message = 1 }`, want: "result.message is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := fmt.Sprintf(`
function decide(request)
  if request.name == "sample" then return { removable = 0 } end
  return %s
end`, tt.result)
			e := newTestEngine(t, source)

			_, err := e.Evaluate(context.Background(), otherRequest())
			require.ErrorIs(t, err, ErrInvalidResult)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestEvaluateResultFields(t *testing.T) {
	source := `
function decide(request)
  return {
    removable = 1,
    protected = { { name = "web-1", reason = "busy" } },
    message = "custom",
  }
end`
	e := newTestEngine(t, source)

	result, err := e.Evaluate(context.Background(), otherRequest())
	require.NoError(t, err)
	assert.Equal(t, Result{
		Removable: 1,
		Protected: []ProtectedPod{{Name: "web-1", Reason: "busy"}},
		Message:   "custom",
	}, result)
}

func TestEvaluateRequestFields(t *testing.T) {
	// The policy fails unless every field has the value the request carries.
	source := `
local function check(cond, what) if not cond then error("wrong " .. what) end end
function decide(r)
  check(r.namespace == "default", "namespace")
  check(r.kind == "Deployment", "kind")
  check(r.old_replicas == 4 and r.new_replicas == 1 and r.remove == 3, "replicas")
  check(r.ordered == false, "ordered")
  check(r.mode == "deny", "mode")
  check(r.now == 1735732800, "now")
  check(r.settings.cache_window == 900 and r.settings.stale_after == 600, "durations")
  check(r.settings.cpu_threshold == 0.3 and r.settings.unknown_pods == "removable", "settings")
  check(#r.pods == 4, "pods")
  local warm = r.pods[1]
  check(warm.name == "sample-warm" and warm.phase == "Running", "warm name")
  check(warm.scheduled and warm.ready, "warm status")
  check(warm.cache_state == "warm" and warm.cache_misses == 7, "warm cache")
  check(warm.last_cache_miss == r.now - 180, "warm last miss")
  check(warm.cpu_request_utilization == 0.12 and warm.observed_at == r.now - 60, "warm cpu")
  check(warm.ordinal == nil, "warm ordinal")
  local pending = r.pods[4]
  check(pending.scheduled == false and pending.ready == false, "pending status")
  check(pending.observed_at == nil and pending.cpu_request_utilization == nil, "pending state")
  check(pending.last_cache_miss == nil and pending.cache_state == nil, "pending cache")
  return { removable = 0 }
end`
	e := newTestEngine(t, source)

	_, err := e.Evaluate(context.Background(), SampleRequest())
	assert.NoError(t, err)
}

func TestEvaluateConcurrent(t *testing.T) {
	e := newTestEngine(t, DefaultSource)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				result, err := e.Evaluate(context.Background(), SampleRequest())
				if err == nil && result.Removable != 2 {
					err = fmt.Errorf("removable = %d, expected 2", result.Removable)
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func TestEvaluateCanceledContext(t *testing.T) {
	e := newTestEngine(t, DefaultSource)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := e.Evaluate(ctx, SampleRequest())
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrTimeout)
}
