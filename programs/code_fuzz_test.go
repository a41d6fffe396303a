package programs

import (
	"strings"
	"testing"
)

func TestStripFences(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "x = 1\nprint(x)", want: "x = 1\nprint(x)"},
		{in: "```python\nx = 1\n```", want: "x = 1\n"},
		{in: "Here is the code:\n```py\nx = 1\n```\nDone.", want: "x = 1\n"},
		{in: "```\nx = 1\n```", want: "x = 1\n"},
		{in: "```starlark\nx = 1", want: "x = 1\n"},
		{in: "```javascript\nlet x = 1\n```", err: "```javascript"},
		{in: "```python\n```", err: "empty"},
		{in: "   ", err: "no code"},
		{in: "```python", err: "never closed"},
	}
	for _, tt := range tests {
		got, err := stripFences(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("stripFences(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("stripFences(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzStripFences: any reply gives code without fences or an error, never a
// panic.
func FuzzStripFences(f *testing.F) {
	for _, s := range []string{"x = 1", "```python\nx\n```", "```", "``````", "a```b\n```c", "```py\n```\n```"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := stripFences(s)
		if err == nil && strings.TrimSpace(code) == "" {
			t.Fatalf("stripFences(%q) returned empty code without an error", s)
		}
	})
}
