package storm

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Constants of wyhash (Wang Yi, public domain), whose final multiply-fold
// step this string hash follows.
const (
	wy0 = 0xa0761d6478bd642f
	wy1 = 0xe7037ed1a0b428db
	wy2 = 0x8ebc6af09c88c6e3
)

// hashString hashes s with seed, reading eight bytes at a time. Strings of
// up to 16 bytes, which covers most attribute keys and values, take one
// multiply-fold step.
func hashString(seed uint64, s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	n := len(b)
	var x, y uint64
	switch {
	case n > 16:
		return hashLong(seed, b)
	case n >= 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b))
		y = uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		x = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	return fold(x^wy1, y^seed^uint64(n))
}

// hashLong hashes strings longer than 16 bytes, 16 bytes per round. The
// last round reads the final 16 bytes, overlapping the one before.
func hashLong(seed uint64, b []byte) uint64 {
	n := len(b)
	h := seed
	i := 0
	for ; n-i > 16; i += 16 {
		h = fold(binary.LittleEndian.Uint64(b[i:])^wy1, binary.LittleEndian.Uint64(b[i+8:])^h)
	}
	x := binary.LittleEndian.Uint64(b[n-16:])
	y := binary.LittleEndian.Uint64(b[n-8:])
	return fold(x^wy2, fold(y^wy0, h)^uint64(n))
}

func fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
