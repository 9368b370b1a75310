package policy

import "errors"

var (
	// ErrCompile wraps a syntax error in the policy source.
	ErrCompile = errors.New("failed to compile the policy")
	// ErrNoDecide is returned when the policy does not define a global
	// function decide.
	ErrNoDecide = errors.New("the policy defines no global function decide(request)")
	// ErrEvaluation wraps an error the policy raised, or a failure to run
	// its chunk. The wrapped Lua error names the policy file and line.
	ErrEvaluation = errors.New("policy evaluation failed")
	// ErrTimeout is returned when an evaluation runs longer than its timeout.
	ErrTimeout = errors.New("policy evaluation timed out")
	// ErrInvalidResult is returned when decide returns a value that is not a
	// result table of the documented shape.
	ErrInvalidResult = errors.New("invalid policy result")
	// ErrSample is returned when the policy fails on the built-in sample request.
	ErrSample = errors.New("the policy failed on the built-in sample request")
)
