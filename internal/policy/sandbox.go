package policy

import (
	lua "github.com/yuin/gopher-lua"
)

// openLibraries are the only standard libraries a policy can use. io, os,
// package, debug, channel and coroutine are never opened.
var openLibraries = []struct {
	name string
	open lua.LGFunction
}{
	{lua.BaseLibName, lua.OpenBase},
	{lua.TabLibName, lua.OpenTable},
	{lua.StringLibName, lua.OpenString},
	{lua.MathLibName, lua.OpenMath},
}

// removedGlobals are base library functions that load code, reach the file
// system or standard output, or change other functions' environments.
var removedGlobals = []string{
	"dofile", "load", "loadfile", "loadstring", "require", "module",
	"print", "collectgarbage", "getfenv", "setfenv", "newproxy", "_printregs",
}

// stateOptions keep a state small: a policy needs neither deep recursion nor
// a large data stack, and the registry grows when a large pod list needs it.
var stateOptions = lua.Options{
	SkipOpenLibs:        true,
	CallStackSize:       128,
	RegistrySize:        1024,
	RegistryMaxSize:     1024 * 256,
	IncludeGoStackTrace: false,
}

// newSandbox returns a state with only the libraries in openLibraries and
// without removedGlobals.
//
// NOTE: the timeout interrupts the Lua VM between instructions, not inside a
// library function written in Go, so a call such as string.rep with a huge
// count can run past the policy timeout.
func newSandbox() *lua.LState {
	L := lua.NewState(stateOptions)
	for _, lib := range openLibraries {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range removedGlobals {
		L.SetGlobal(name, lua.LNil)
	}
	return L
}
