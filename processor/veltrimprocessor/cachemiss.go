package veltrimprocessor // import "github.com/veltrix/veltrim/processor/veltrimprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// cacheMiss is the meaning of a span's cache-miss attribute value.
type cacheMiss uint8

const (
	// cacheMissAbsent: the span has no cache-miss attribute.
	cacheMissAbsent cacheMiss = iota
	// cacheMissFalse: bool false or the string "false" in any letter case.
	cacheMissFalse
	// cacheMissTrue: bool true or the string "true" in any letter case.
	cacheMissTrue
	// cacheMissUnrecognized: any other value, such as "yes", 1 or "".
	cacheMissUnrecognized
)

// classifyCacheMiss reads the value of a cache-miss attribute.
func classifyCacheMiss(v pcommon.Value) cacheMiss {
	switch v.Type() {
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return cacheMissTrue
		}
		return cacheMissFalse
	case pcommon.ValueTypeStr:
		switch {
		case strings.EqualFold(v.Str(), "true"):
			return cacheMissTrue
		case strings.EqualFold(v.Str(), "false"):
			return cacheMissFalse
		}
	}
	return cacheMissUnrecognized
}
