package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// decideFunction is the global a policy must define.
const decideFunction = "decide"

// Engine evaluates one compiled policy. It is safe for concurrent use: each
// evaluation takes its own Lua state from a pool.
type Engine struct {
	name     string
	proto    *lua.FunctionProto
	settings Settings
	timeout  time.Duration

	// pool holds idle states. Its capacity bounds how many idle states are
	// kept; evaluations beyond it create states and discard them afterwards.
	pool chan *state
}

// state is a sandboxed Lua state that has run the policy chunk.
type state struct {
	L        *lua.LState
	decide   *lua.LFunction
	settings *lua.LTable
	pods     *podCache
}

// New compiles source, named name in error messages, and checks that it
// returns a valid result for the built-in sample request within timeout.
func New(name, source string, settings Settings, timeout time.Duration) (*Engine, error) {
	proto, err := compile(name, source)
	if err != nil {
		return nil, err
	}

	e := &Engine{
		name:     name,
		proto:    proto,
		settings: settings,
		timeout:  timeout,
		pool:     make(chan *state, 2*runtime.GOMAXPROCS(0)),
	}
	if err := e.checkSample(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func compile(name, source string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(source), name)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCompile, name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCompile, name, err)
	}
	return proto, nil
}

// Timeout returns the time budget of one evaluation.
func (e *Engine) Timeout() time.Duration {
	return e.timeout
}

// Evaluate runs decide(request) and returns its result. It returns an error
// wrapping ErrTimeout when the evaluation, including the creation of a fresh
// state, takes longer than the engine's timeout, and wraps ErrInvalidResult
// when the policy returns a value of the wrong shape.
func (e *Engine) Evaluate(ctx context.Context, req *Request) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()

	s, err := e.get(ctx)
	if err != nil {
		return Result{}, e.wrapRunError(ctx, err)
	}

	result, err := s.call(ctx, req)
	if err != nil {
		// A state whose run was cut off may hold half-updated globals, so it
		// is discarded rather than reused.
		s.L.Close()
		return Result{}, e.wrapRunError(ctx, err)
	}
	e.put(s)
	return result, nil
}

// wrapRunError names the timeout when the context ran out: the Lua VM then
// reports the context's error from whichever instruction it was at.
func (e *Engine) wrapRunError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s", ErrTimeout, e.timeout)
	}
	return fmt.Errorf("%w: %w", ErrEvaluation, err)
}

func (s *state) call(ctx context.Context, req *Request) (Result, error) {
	L := s.L
	L.SetContext(ctx)
	defer L.RemoveContext()

	input := toLuaRequest(L, req, s.settings, s.pods)
	defer s.pods.finishEvaluation()
	if err := L.CallByParam(lua.P{Fn: s.decide, NRet: 1, Protect: true}, input); err != nil {
		return Result{}, err
	}
	value := L.Get(-1)
	L.Pop(1)
	return fromLuaResult(value, req.OldReplicas)
}

// get returns an idle state or creates one. Creating runs the policy chunk,
// which is bounded by ctx like an evaluation.
func (e *Engine) get(ctx context.Context) (*state, error) {
	select {
	case s := <-e.pool:
		return s, nil
	default:
		return e.newState(ctx)
	}
}

func (e *Engine) put(s *state) {
	select {
	case e.pool <- s:
	default:
		s.L.Close()
	}
}

func (e *Engine) newState(ctx context.Context) (*state, error) {
	L := newSandbox()
	L.SetContext(ctx)
	defer L.RemoveContext()

	L.Push(L.NewFunctionFromProto(e.proto))
	if err := L.PCall(0, 0, nil); err != nil {
		L.Close()
		return nil, err
	}
	decide, ok := L.GetGlobal(decideFunction).(*lua.LFunction)
	if !ok {
		L.Close()
		return nil, ErrNoDecide
	}
	return &state{L: L, decide: decide, settings: toLuaSettings(L, e.settings), pods: newPodCache()}, nil
}

// Close releases the idle states. Evaluations that are still running close
// their states when they finish.
func (e *Engine) Close() {
	for {
		select {
		case s := <-e.pool:
			s.L.Close()
		default:
			return
		}
	}
}
