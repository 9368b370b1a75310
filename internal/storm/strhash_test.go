package storm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHashStringDistinct(t *testing.T) {
	// Every length path, and strings that differ in one byte anywhere.
	seen := map[uint64]string{}
	base := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 3)
	for n := 0; n <= len(base); n++ {
		for i := -1; i < n; i++ {
			b := []byte(base[:n])
			if i >= 0 {
				b[i] ^= 0x20
			}
			s := string(b)
			hash := hashString(42, s)
			if other, ok := seen[hash]; ok && other != s {
				t.Fatalf("%q and %q hash alike", other, s)
			}
			seen[hash] = s
		}
	}
}

func TestHashStringZeroBytesCount(t *testing.T) {
	assert.NotEqual(t, hashString(1, ""), hashString(1, "\x00"))
	assert.NotEqual(t, hashString(1, "\x00"), hashString(1, "\x00\x00"))
	assert.NotEqual(t, hashString(1, strings.Repeat("\x00", 16)), hashString(1, strings.Repeat("\x00", 17)))
}

func TestHashStringSeed(t *testing.T) {
	assert.NotEqual(t, hashString(1, "model"), hashString(2, "model"))
	assert.Equal(t, hashString(1, "model"), hashString(1, "model"))
}

func BenchmarkHashString(b *testing.B) {
	for _, s := range []string{"vllm", "http.route", "gen_ai.usage.output_tokens", strings.Repeat("x", 100)} {
		b.Run(s[:min(len(s), 10)], func(b *testing.B) {
			var sink uint64
			for b.Loop() {
				sink += hashString(7, s)
			}
			hashSink = sink
		})
	}
}
