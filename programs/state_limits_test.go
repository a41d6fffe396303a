package programs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

type typedProgram struct {
	Solve *programs.Predictor
}

func newTypedProgram(t *testing.T) typedProgram {
	t.Helper()
	p, err := programs.NewPredictFrom(signature.MustParse(
		"question, n: int, tags: list[int], weights: dict[str, float], flag: bool, extra: json -> answer, score: float"))
	if err != nil {
		t.Fatal(err)
	}
	return typedProgram{Solve: p}
}

// savedWith returns prog's state (Save, or SaveDSPy when dspy) with one
// demo whose value for field is raw JSON.
func savedWith(t *testing.T, dspy bool, field, raw string) []byte {
	t.Helper()
	demo := programs.Values{"question": "q", "n": int64(1), "tags": []any{int64(1)}, "weights": map[string]any{"a": 0.5},
		"flag": true, "extra": map[string]any{"k": "v"}, "answer": "a", "score": 0.5, "augmented": true}
	prog := newTypedProgram(t)
	prog.Solve = prog.Solve.WithDemos([]programs.Values{demo})
	var buf bytes.Buffer
	save := programs.Save
	if dspy {
		save = programs.SaveDSPy
	}
	if err := save(&buf, prog); err != nil {
		t.Fatal(err)
	}
	if field == "" {
		return buf.Bytes()
	}
	var top map[string]any
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	var pred map[string]any
	if dspy {
		pred = top["solve"].(map[string]any)
	} else {
		pred = top["predictors"].([]any)[0].(map[string]any)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	pred["demos"].([]any)[0].(map[string]any)[field] = v
	out, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// endless is saved state that never ends: a demo string that goes on.
type endless struct{ head []byte }

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestLoadRefusesHostileState: oversized and mistyped saved state fails
// with a clear typed error, from both Load and LoadDSPy, and reading a
// never-ending file stops at the size limit with bounded memory.
func TestLoadRefusesHostileState(t *testing.T) {
	manyDemos := func(dspy bool) []byte {
		var top map[string]any
		if err := json.Unmarshal(savedWith(t, dspy, "", ""), &top); err != nil {
			t.Fatal(err)
		}
		pred := map[bool]func() map[string]any{
			true:  func() map[string]any { return top["solve"].(map[string]any) },
			false: func() map[string]any { return top["predictors"].([]any)[0].(map[string]any) },
		}[dspy]()
		demos := make([]any, programs.DefaultMaxDemos+1)
		for i := range demos {
			demos[i] = map[string]any{"question": "q"}
		}
		pred["demos"] = demos
		b, err := json.Marshal(top)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		input func(dspy bool) []byte
		opts  []programs.LoadOption
		check func(error) bool
		text  string // in the message
	}{
		{"valid", func(d bool) []byte { return savedWith(t, d, "", "") }, nil, func(err error) bool { return err == nil }, ""},
		{"string for int", func(d bool) []byte { return savedWith(t, d, "n", `"42"`) }, nil, demoErr("n"), `field "n": want int, found a string`},
		{"object for str", func(d bool) []byte { return savedWith(t, d, "answer", `{"x": 1}`) }, nil, demoErr("answer"), `want str, found an object`},
		{"1e300 for int", func(d bool) []byte { return savedWith(t, d, "n", `1e300`) }, nil, demoErr("n"), "not an integer within int64"},
		{"fraction for int", func(d bool) []byte { return savedWith(t, d, "n", `1.5`) }, nil, demoErr("n"), "not an integer"},
		{"1e400 for float", func(d bool) []byte { return savedWith(t, d, "score", `1e400`) }, nil, demoErr("score"), "not a finite float64"},
		{"string for bool", func(d bool) []byte { return savedWith(t, d, "flag", `"yes"`) }, nil, demoErr("flag"), "want bool"},
		{"bad list element", func(d bool) []byte { return savedWith(t, d, "tags", `[1, "two"]`) }, nil, demoErr("tags"), "element 1"},
		{"bad dict value", func(d bool) []byte { return savedWith(t, d, "weights", `{"a": [1]}`) }, nil, demoErr("weights"), `key "a"`},
		{"null is absent", func(d bool) []byte { return savedWith(t, d, "n", `null`) }, nil, func(err error) bool { return err == nil }, ""},
		{"whole float for int", func(d bool) []byte { return savedWith(t, d, "n", `3.0`) }, nil, func(err error) bool { return err == nil }, ""},
		{"too many demos", manyDemos, nil, tooLarge, "1001 demos, the limit is 1000"},
		{"lower size limit", func(d bool) []byte { return savedWith(t, d, "", "") }, []programs.LoadOption{programs.WithMaxStateBytes(100)},
			tooLarge, "more than 100 bytes"},
	}
	for _, dspy := range []bool{false, true} {
		load := programs.Load[typedProgram]
		if dspy {
			load = programs.LoadDSPy[typedProgram]
		}
		for _, tt := range tests {
			t.Run(map[bool]string{false: "Load/", true: "LoadDSPy/"}[dspy]+tt.name, func(t *testing.T) {
				_, err := load(bytes.NewReader(tt.input(dspy)), newTypedProgram(t), tt.opts...)
				if !tt.check(err) || tt.text != "" && !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %v, want one saying %q", err, tt.text)
				}
			})
		}
	}
	t.Run("valid values are restored to their types", func(t *testing.T) {
		got, err := programs.Load(bytes.NewReader(savedWith(t, false, "n", "3.0")), newTypedProgram(t))
		if err != nil {
			t.Fatal(err)
		}
		d := got.Solve.Demos()[0]
		if d["n"] != int64(3) || d["score"] != 0.5 || d["tags"].([]any)[0] != int64(1) || d["augmented"] != true {
			t.Fatalf("demo = %#v", d)
		}
	})
	for _, dspy := range []bool{false, true} {
		t.Run(map[bool]string{false: "Load", true: "LoadDSPy"}[dspy]+"/endless file", func(t *testing.T) {
			head := `{"dspex": 1, "predictors": [{"name": "solve", "demos": [{"question": "`
			if dspy {
				head = `{"solve": {"demos": [{"question": "`
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var err error
			if dspy {
				_, err = programs.LoadDSPy(io.Reader(&endless{head: []byte(head)}), newTypedProgram(t))
			} else {
				_, err = programs.Load(io.Reader(&endless{head: []byte(head)}), newTypedProgram(t))
			}
			runtime.ReadMemStats(&after)
			if !tooLarge(err) || !strings.Contains(err.Error(), "more than 16777216 bytes") {
				t.Fatalf("err = %v, want ErrStateTooLarge", err)
			}
			// Generous: the decoder's buffer grows by doubling past the
			// limit (~4x the limit in all); never in proportion to the file.
			if got := after.TotalAlloc - before.TotalAlloc; got > 5*programs.DefaultMaxStateBytes {
				t.Fatalf("reading to the limit allocated %d bytes", got)
			}
		})
	}
}

func demoErr(field string) func(error) bool {
	return func(err error) bool {
		var de *programs.DemoError
		return errors.Is(err, programs.ErrDemoType) && errors.As(err, &de) &&
			de.Predictor == "solve" && de.Demo == 0 && de.Field == field
	}
}

func tooLarge(err error) bool { return errors.Is(err, programs.ErrStateTooLarge) }
