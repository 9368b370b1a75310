package policy

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// fromLuaResult converts the table returned by decide into a Result and
// checks its shape. oldReplicas bounds result.removable.
func fromLuaResult(value lua.LValue, oldReplicas int32) (Result, error) {
	t, ok := value.(*lua.LTable)
	if !ok {
		return Result{}, fmt.Errorf("%w: decide returned %s, expected a table", ErrInvalidResult, value.Type())
	}

	removable, err := readRemovable(t.RawGetString("removable"), oldReplicas)
	if err != nil {
		return Result{}, err
	}
	protected, err := readProtected(t.RawGetString("protected"))
	if err != nil {
		return Result{}, err
	}

	var message string
	switch m := t.RawGetString("message").(type) {
	case *lua.LNilType:
	case lua.LString:
		message = string(m)
	default:
		return Result{}, fmt.Errorf("%w: result.message is a %s, expected a string", ErrInvalidResult, m.Type())
	}
	return Result{Removable: removable, Protected: protected, Message: message}, nil
}

// readRemovable accepts a whole number from 0 to oldReplicas.
func readRemovable(value lua.LValue, oldReplicas int32) (int, error) {
	n, ok := value.(lua.LNumber)
	if !ok {
		return 0, fmt.Errorf("%w: result.removable is %s, expected a number", ErrInvalidResult, value.Type())
	}
	f := float64(n)
	if f != math.Trunc(f) || f < 0 || f > float64(oldReplicas) {
		return 0, fmt.Errorf("%w: result.removable is %v, expected a whole number from 0 to %d", ErrInvalidResult, f, oldReplicas)
	}
	return int(f), nil
}

// readProtected reads an optional array of {name = ..., reason = ...} tables.
func readProtected(value lua.LValue) ([]ProtectedPod, error) {
	if value == lua.LNil {
		return nil, nil
	}
	t, ok := value.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("%w: result.protected is a %s, expected an array of tables", ErrInvalidResult, value.Type())
	}

	n := t.Len()
	if n == 0 {
		return nil, nil
	}
	protected := make([]ProtectedPod, 0, n)
	for i := 1; i <= n; i++ {
		entry, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			return nil, fmt.Errorf("%w: result.protected[%d] is not a table", ErrInvalidResult, i)
		}
		name, nameOK := entry.RawGetString("name").(lua.LString)
		reason, reasonOK := entry.RawGetString("reason").(lua.LString)
		if !nameOK || !reasonOK {
			return nil, fmt.Errorf("%w: result.protected[%d] needs string fields name and reason", ErrInvalidResult, i)
		}
		protected = append(protected, ProtectedPod{Name: string(name), Reason: string(reason)})
	}
	return protected, nil
}
