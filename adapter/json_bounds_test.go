package adapter

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/signature"
)

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestJSONRecoveryLinear: hostile replies of about 10 MB — nested
// brackets, nested brackets with trailing commas, unclosed brackets,
// brackets inside an unclosed string — are refused with ErrNoJSONObject
// while allocating a small multiple of their size, and a valid object
// after a few stray braces is still found.
func TestJSONRecoveryLinear(t *testing.T) {
	const n = 5 << 20 // 5 M brackets, ~10 MB
	sig, err := signature.Parse("question -> answer")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		reply string
	}{
		{"nested brackets", strings.Repeat("{", n) + strings.Repeat("}", n)},
		{"nested with trailing commas", strings.Repeat(`{"a":`, n/5) + "1" + strings.Repeat(",}", n/5)},
		{"nested arrays in objects", strings.Repeat(`{"a":[`, n/6) + strings.Repeat("]}", n/6) + "x"},
		{"unclosed brackets", strings.Repeat("{", 2*n)},
		{"brackets in an unclosed string", `{"a": "` + strings.Repeat("{", 2*n)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			got := allocated(func() { _, err = JSON{}.Parse(sig, tt.reply) })
			if !errors.Is(err, ErrNoJSONObject) {
				t.Fatalf("Parse = %v, want ErrNoJSONObject", err)
			}
			// Generous: a few copies of the reply, never GBs.
			if limit := uint64(8 * len(tt.reply)); got > limit {
				t.Fatalf("Parse of a %d-byte reply allocated %d bytes, want at most %d", len(tt.reply), got, limit)
			}
			t.Logf("%d-byte reply: %d bytes allocated", len(tt.reply), got)
		})
	}
	t.Run("object after stray braces", func(t *testing.T) {
		reply := "{ not json } {also not, } " + `{"answer": "Lima",}`
		v, err := JSON{}.Parse(sig, reply)
		if err != nil || v["answer"] != "Lima" {
			t.Fatalf("Parse = %v, %v", v, err)
		}
	})
}
