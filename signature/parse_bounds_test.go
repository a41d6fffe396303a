package signature

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestParseRefusesHugeInput: text past MaxLength fails at once, naming the
// position and the limit, without allocating in proportion to the input;
// text just under the limit still parses.
func TestParseRefusesHugeInput(t *testing.T) {
	huge := "a -> b, " + strings.Repeat("x", 1<<20) // 1 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(huge)
	runtime.ReadMemStats(&after)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Pos != MaxLength || !strings.Contains(err.Error(), "at most 65536 bytes") {
		t.Fatalf("Parse(1 MB) = %v, want a *ParseError at position %d", err, MaxLength)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
		t.Fatalf("refusing 1 MB allocated %d bytes", got)
	}
	long := "a -> " + strings.Repeat("b", MaxLength-len("a -> "))
	if _, err := Parse(long); err != nil {
		t.Fatalf("Parse at the limit = %v", err)
	}
	if _, err := Parse(long + "c"); !errors.As(err, &pe) {
		t.Fatalf("Parse one byte past the limit = %v", err)
	}
}
