package programs

import (
	"encoding/json"
	"math"
	"testing"
)

// pythonFloat writes floats as Python's repr does, which DSPy's save uses
// (checked against CPython 3.11's repr for each case).
func TestPythonFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{-1, "-1.0"},
		{0, "0.0"},
		{0.95, "0.95"},
		{2.5, "2.5"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-07, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.2345e16, "1.2345e+16"},
		{123456789012345.6, "123456789012345.6"},
		{1e300, "1e+300"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{5e-324, "5e-324"},
	}
	for _, tt := range tests {
		if got := pythonFloat(tt.in); got != json.Number(tt.want) {
			t.Errorf("pythonFloat(%v) = %v, want %s", tt.in, got, tt.want)
		}
	}
	if got := pythonFloat(math.Inf(1)); got != math.Inf(1) {
		t.Errorf("pythonFloat(+Inf) = %v, want the float left for the encoder to refuse", got)
	}
}
