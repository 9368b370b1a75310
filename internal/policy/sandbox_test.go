package policy

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSandboxRemovesGlobals(t *testing.T) {
	names := append([]string{"io", "os", "package", "debug", "channel", "coroutine"}, removedGlobals...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			source := fmt.Sprintf(`
function decide(request)
  if %s ~= nil then error("%s is reachable") end
  return { removable = 0 }
end`, name, name)
			e := newTestEngine(t, source)

			_, err := e.Evaluate(context.Background(), otherRequest())
			assert.NoError(t, err)
		})
	}
}

func TestSandboxRejectsFileAccess(t *testing.T) {
	tests := []struct {
		name string
		call string
		want string
	}{
		{name: "io.open", call: `io.open("/etc/passwd")`, want: "attempt to index a non-table object(nil)"},
		{name: "os.execute", call: `os.execute("true")`, want: "attempt to index a non-table object(nil)"},
		{name: "require", call: `require("os")`, want: "attempt to call a non-function object"},
		{name: "dofile", call: `dofile("/etc/passwd")`, want: "attempt to call a non-function object"},
		{name: "loadstring", call: `loadstring("return 1")()`, want: "attempt to call a non-function object"},
		{name: "load", call: `load(function() return nil end)`, want: "attempt to call a non-function object"},
		{name: "loadfile", call: `loadfile("/etc/passwd")`, want: "attempt to call a non-function object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := fmt.Sprintf("function decide(request) %s return { removable = 0 } end", tt.call)
			_, err := New("escape.lua", source, testSettings, testTimeout)
			require.ErrorIs(t, err, ErrSample)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSandboxKeepsSafeLibraries(t *testing.T) {
	source := `
function decide(request)
  local parts = {}
  for _, pod in ipairs(request.pods) do table.insert(parts, pod.name) end
  table.sort(parts)
  local s = string.format("%d:%s", math.floor(2.7), table.concat(parts, ","))
  if s ~= "2:sample-busy,sample-cold,sample-pending,sample-warm" then error(s) end
  return { removable = tonumber("0") }
end`
	_, err := New("safe.lua", source, testSettings, testTimeout)
	assert.NoError(t, err)
}
