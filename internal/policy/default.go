package policy

import (
	_ "embed"
)

// DefaultName is the name the embedded default policy has in error messages.
const DefaultName = "default.lua"

// DefaultSource is the embedded default policy.
//
//go:embed default.lua
var DefaultSource string
