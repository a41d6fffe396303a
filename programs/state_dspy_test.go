package programs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// dspyFile returns the ReAct program DSPy 3.0.0 saved
// (testdata/dspy_saved/dspy_react_3.0.0.json) decoded, for edits.
func dspyFile(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/dspy_saved/dspy_react_3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, raw)
}

func encode(t *testing.T, m map[string]any) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// DSPy's load_state (dspy/primitives/base_module.py, dspy/predict/predict.py,
// dspy/signatures/signature.py at stanfordnlp/dspy 4ed377ee) refuses the
// legacy extended_signature key, needs state for every predictor, ignores
// keys the program does not have and matches fields by position as far as
// both lists go.
func TestLoadDSPyAsDSPyDoes(t *testing.T) {
	t.Run("extended_signature refused", func(t *testing.T) {
		m := dspyFile(t)
		m["extract.predict"].(map[string]any)["extended_signature"] = map[string]any{"instructions": "old", "fields": []any{}}
		_, err := programs.LoadDSPy(encode(t, m), newReActProgram(t))
		if !errors.Is(err, programs.ErrLegacyDSPyState) || !strings.Contains(err.Error(), `"extract.predict"`) {
			t.Errorf("err = %v, want ErrLegacyDSPyState naming extract.predict", err)
		}
	})
	t.Run("missing predictor", func(t *testing.T) {
		m := dspyFile(t)
		delete(m, "react")
		_, err := programs.LoadDSPy(encode(t, m), newReActProgram(t))
		var se *programs.ShapeError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), `no saved state for "react"`) {
			t.Errorf("err = %v, want a *ShapeError naming react", err)
		}
	})
	t.Run("extra keys ignored", func(t *testing.T) {
		m := dspyFile(t)
		m["retired_module.predict"] = map[string]any{"demos": []any{}}
		if _, err := programs.LoadDSPy(encode(t, m), newReActProgram(t)); err != nil {
			t.Errorf("err = %v, want the extra key ignored", err)
		}
	})
	t.Run("fields matched as far as both go", func(t *testing.T) {
		prog, err := programs.NewReActFrom(signature.MustParse("question -> answer, keywords: list[str]"), newReActProgram(t).Tools())
		if err != nil {
			t.Fatal(err)
		}
		m := dspyFile(t)
		fields := m["extract.predict"].(map[string]any)["signature"].(map[string]any)["fields"].([]any)
		fields[3].(map[string]any)["description"] = "the studio's name"
		got, err := programs.LoadDSPy(encode(t, m), prog)
		if err != nil {
			t.Fatal(err)
		}
		sig := got.NamedPredictors()[1].Predictor.Signature()
		if f, _, _ := sig.Field("answer"); f.Desc != "the studio's name" {
			t.Errorf("answer desc = %q, want the saved one", f.Desc)
		}
		if f, _, _ := sig.Field("keywords"); f.Desc != "" || f.Prefix != "" {
			t.Errorf("keywords = %+v, want it unchanged", f)
		}
	})
	// What DSPy's Predict.load_state and Signature.load_state index and fail
	// without.
	entry := func(m map[string]any) map[string]any { return m["extract.predict"].(map[string]any) }
	refused := []struct {
		name, want string
		edit       func(map[string]any)
	}{
		{"no signature", `predictor "extract.predict": no "signature" key`,
			func(m map[string]any) { delete(entry(m), "signature") }},
		{"no instructions", `predictor "extract.predict": signature: no "instructions" key`,
			func(m map[string]any) { delete(entry(m)["signature"].(map[string]any), "instructions") }},
		{"no fields", `signature: no "fields" key`,
			func(m map[string]any) { delete(entry(m)["signature"].(map[string]any), "fields") }},
		{"field without prefix", `signature: field 1: no "prefix" key`,
			func(m map[string]any) {
				delete(entry(m)["signature"].(map[string]any)["fields"].([]any)[1].(map[string]any), "prefix")
			}},
		{"field without description", `signature: field 0: no "description" key`,
			func(m map[string]any) {
				delete(entry(m)["signature"].(map[string]any)["fields"].([]any)[0].(map[string]any), "description")
			}},
		{"demo not an object", `demos: demo 0: want a JSON object, found a string`,
			func(m map[string]any) { entry(m)["demos"] = []any{"q"} }},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			m := dspyFile(t)
			tt.edit(m)
			_, err := programs.LoadDSPy(encode(t, m), newReActProgram(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("no demos keeps the predictor's", func(t *testing.T) {
		m := dspyFile(t)
		delete(entry(m), "demos")
		prog := newReActProgram(t)
		np := prog.NamedPredictors()[1]
		mine := programs.Values{"question": "mine", "answer": "kept"}
		prog, err := prog.WithPredictors(map[string]*programs.Predictor{np.Name: np.Predictor.WithDemos([]programs.Values{mine})})
		if err != nil {
			t.Fatal(err)
		}
		got, err := programs.LoadDSPy(encode(t, m), prog)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]programs.Values{mine}, got.NamedPredictors()[1].Predictor.Demos()); diff != "" {
			t.Errorf("demos (-want +got):\n%s", diff)
		}
	})
	t.Run("no lm and no metadata load", func(t *testing.T) {
		m := dspyFile(t)
		delete(entry(m), "lm")
		delete(m, "metadata")
		if _, err := programs.LoadDSPy(encode(t, m), newReActProgram(t)); err != nil {
			t.Errorf("err = %v, want a file without lm and metadata loaded", err)
		}
	})
}

func newReActProgram(t *testing.T) *programs.ReAct[programs.Values, programs.Values] {
	t.Helper()
	return savedPrograms(t)["dspy_react_3.0.0.json"]().(*programs.ReAct[programs.Values, programs.Values])
}

// TestSaveDSPyKeepsWhatDSPexDoesNotUse: what LoadDSPy read and dspex does
// not use is written back (the metadata, each predictor's lm, traces,
// train and unknown keys, top-level keys of other predictors), numbers keep
// their JSON types, and an api_key in an LM state is never written.
func TestSaveDSPyKeepsWhatDSPexDoesNotUse(t *testing.T) {
	in := `{
  "write_search_query": {
    "traces": [{"note": "kept"}],
    "train": [1, 1.0],
    "demos": [
      {"augmented": true, "question": "q", "search_query": "s", "score": 1.0, "rank": 1,
       "tiny": 1e-05, "huge": 1e+16, "mixed": [1, 1.0, 2.5], "nested": {"w": 3.0}},
      {"question": "q2", "search_query": "s2", "dspy_split": "train"}
    ],
    "signature": {
      "instructions": "Write a query.",
      "fields": [
        {"prefix": "Question:", "description": "${question}"},
        {"prefix": "Search Query:", "description": "${search_query}"}
      ]
    },
    "lm": {"model": "openai/gpt-4o-mini", "temperature": 1.0, "max_tokens": 4000, "api_key": "sk-never-written"},
    "future_key": {"x": [true, null]}
  },
  "retired.predict": {"demos": []},
  "metadata": {"dependency_versions": {"python": "3.11", "dspy": "3.1.3", "cloudpickle": "3.1"}}
}`
	prog := &struct{ WriteSearchQuery *programs.Predictor }{programs.MustPredictFrom(signature.MustParse("question -> search_query"))}
	loaded, err := programs.LoadDSPy(strings.NewReader(in), prog)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := programs.SaveDSPy(&out, loaded); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "sk-never-written") || strings.Contains(out.String(), "api_key") {
		t.Errorf("saved an api_key:\n%s", out.String())
	}
	want := decodeNumbers(t, []byte(in))
	delete(want["write_search_query"].(map[string]any)["lm"].(map[string]any), "api_key")
	if diff := cmp.Diff(want, decodeNumbers(t, out.Bytes())); diff != "" {
		t.Errorf("saved (-want +got):\n%s", diff)
	}
	for _, lit := range []string{`"score": 1.0`, `"rank": 1,`, `"tiny": 1e-05`, `"huge": 1e+16`, `"temperature": 1.0`, `"w": 3.0`} {
		if !strings.Contains(out.String(), lit) {
			t.Errorf("saved file lacks %s:\n%s", lit, out.String())
		}
	}
	// The flag loads back, and numbers under keys that are not fields as
	// they were written.
	again, err := programs.LoadDSPy(bytes.NewReader(out.Bytes()), prog)
	if err != nil {
		t.Fatal(err)
	}
	d := again.WriteSearchQuery.Demos()[0]
	if d["augmented"] != true || d["score"] != json.Number("1.0") || d["rank"] != json.Number("1") {
		t.Errorf("demo loaded back as %#v", d)
	}
}

// TestSaveDSPyFreshProgram: a program never loaded from DSPy's file is
// written with empty traces and train, a null LM and empty
// dependency_versions; floats in its demos are written as Python does.
func TestSaveDSPyFreshProgram(t *testing.T) {
	p := programs.MustPredictFrom(signature.MustParse("question -> answer, confidence: float, votes: int"),
		programs.WithDemos(programs.Values{"augmented": true, "question": "q", "answer": "a", "confidence": 1.0, "votes": int64(3)}))
	prog := &struct{ Answer *programs.Predictor }{p}
	var out bytes.Buffer
	if err := programs.SaveDSPy(&out, prog); err != nil {
		t.Fatal(err)
	}
	got := decodeNumbers(t, out.Bytes())
	want := decodeNumbers(t, []byte(`{
  "answer": {"traces": [], "train": [],
    "demos": [{"augmented": true, "question": "q", "answer": "a", "confidence": 1.0, "votes": 3}],
    "signature": {"instructions": "Given the fields `+"`question`"+`, produce the fields `+"`answer`, `confidence`, `votes`"+`.",
      "fields": [{"prefix": "Question:", "description": "${question}"}, {"prefix": "Answer:", "description": "${answer}"},
        {"prefix": "Confidence:", "description": "${confidence}"}, {"prefix": "Votes:", "description": "${votes}"}]},
    "lm": null},
  "metadata": {"dependency_versions": {}}}`))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("saved (-want +got):\n%s", diff)
	}
}

// TestSaveDSPyKeepsNumberTypes: a demo value read from DSPy's file is
// written back as it was read, whatever its field's type (DSPy keeps what
// json.load produced: 1 stays the int 1 in a float field, 1.0 the float
// 1.0 in an int field), with its object keys in order; values dspex
// produced follow their field's type.
func TestSaveDSPyKeepsNumberTypes(t *testing.T) {
	const sig = "question, weight: float, counts: list[float], extra: dict[str, Any] -> answer, score: float, votes: int"
	file := func(demos string) string {
		return `{"p": {"traces": [], "train": [], "demos": ` + demos + `,
  "signature": {"instructions": "i", "fields": [
    {"prefix": "Question:", "description": "${question}"}, {"prefix": "Weight:", "description": "${weight}"},
    {"prefix": "Counts:", "description": "${counts}"}, {"prefix": "Extra:", "description": "${extra}"},
    {"prefix": "Answer:", "description": "${answer}"}, {"prefix": "Score:", "description": "${score}"},
    {"prefix": "Votes:", "description": "${votes}"}]}, "lm": null},
 "metadata": {"dependency_versions": {"dspy": "3.3.1"}}}`
	}
	tests := []struct {
		name  string
		demos string                                    // the file's demos
		edit  func([]programs.Values) []programs.Values // what dspex does to them, or nil
		want  string                                    // the demos SaveDSPy writes
	}{
		{name: "whole number in a float field stays an int",
			demos: `[{"question": "q", "score": 1, "weight": 2}]`,
			want:  `[{"question": "q", "score": 1, "weight": 2}]`},
		{name: "float in an int field stays a float",
			demos: `[{"question": "q", "votes": 3.0}]`,
			want:  `[{"question": "q", "votes": 3.0}]`},
		{name: "floats keep their spelling",
			demos: `[{"score": 1.0, "weight": 1e-05, "counts": [1, 2.0, 1E+16]}]`,
			want:  `[{"score": 1.0, "weight": 1e-05, "counts": [1, 2.0, 1E+16]}]`},
		{name: "object keys and extra keys keep their order",
			demos: `[{"answer": "a", "extra": {"z": 1, "a": [2.0, {"y": 3, "b": 4.5}]}, "dspy_uuid": "u", "question": "q"}]`,
			want:  `[{"answer": "a", "extra": {"z": 1, "a": [2.0, {"y": 3, "b": 4.5}]}, "dspy_uuid": "u", "question": "q"}]`},
		{name: "a demo dspex made follows the field types",
			demos: `[]`,
			edit: func([]programs.Values) []programs.Values {
				return []programs.Values{{"question": "q", "score": 1.0, "votes": int64(2), "weight": float32(0.5)}}
			},
			want: `[{"question": "q", "weight": 0.5, "score": 1.0, "votes": 2}]`},
		{name: "a changed demo: changed values follow their types, others stay as read",
			demos: `[{"augmented": true, "question": "q", "score": 1, "votes": 3.0}]`,
			edit: func(d []programs.Values) []programs.Values {
				d[0]["score"] = 2.0
				return d
			},
			want: `[{"augmented": true, "question": "q", "score": 2.0, "votes": 3.0}]`},
		{name: "a value read elsewhere under the same key is written as read",
			demos: `[{"question": "q", "score": 1}]`,
			edit: func(d []programs.Values) []programs.Values {
				return []programs.Values{{"question": "new", "score": 1.0}, d[0]}
			},
			want: `[{"question": "new", "score": 1}, {"question": "q", "score": 1}]`},
		{name: "reordered demos stay as read, key order too",
			demos: `[{"score": 1, "question": "a", "rank": 2}, {"question": "b", "score": 2.0}, {"votes": 1.0, "question": "c"}]`,
			edit: func(d []programs.Values) []programs.Values {
				return []programs.Values{d[2], d[0]}
			},
			want: `[{"votes": 1.0, "question": "c"}, {"score": 1, "question": "a", "rank": 2}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := &struct{ P *programs.Predictor }{programs.MustPredictFrom(signature.MustParse(sig))}
			loaded, err := programs.LoadDSPy(strings.NewReader(file(tt.demos)), prog)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				loaded.P = loaded.P.WithDemos(tt.edit(loaded.P.Demos()))
			}
			var out bytes.Buffer
			if err := programs.SaveDSPy(&out, loaded); err != nil {
				t.Fatal(err)
			}
			got := decodeOrdered(t, out.Bytes()).([]member)[0].Value.([]member)
			var demos any
			for _, m := range got {
				if m.Key == "demos" {
					demos = m.Value
				}
			}
			if diff := cmp.Diff(decodeOrdered(t, []byte(tt.want)), demos); diff != "" {
				t.Errorf("saved demos (-want +got):\n%s\nfile:\n%s", diff, out.String())
			}
		})
	}
}

// TestLoadDSPyDemoTypes: demo values read from DSPy's file hold their
// fields' Go types (float64 for float, int64 for int), whatever number
// spelling the file used.
func TestLoadDSPyDemoTypes(t *testing.T) {
	in := `{"p": {"traces": [], "train": [], "demos": [{"question": "q", "score": 1, "votes": 3.0, "counts": [1, 2.5]}],
  "signature": {"instructions": "i", "fields": [
    {"prefix": "Question:", "description": "${question}"}, {"prefix": "Counts:", "description": "${counts}"},
    {"prefix": "Score:", "description": "${score}"}, {"prefix": "Votes:", "description": "${votes}"}]}, "lm": null}}`
	prog := &struct{ P *programs.Predictor }{programs.MustPredictFrom(signature.MustParse(
		"question, counts: list[float] -> score: float, votes: int"))}
	loaded, err := programs.LoadDSPy(strings.NewReader(in), prog)
	if err != nil {
		t.Fatal(err)
	}
	want := programs.Values{"question": "q", "score": 1.0, "votes": int64(3), "counts": []any{1.0, 2.5}}
	if diff := cmp.Diff(want, loaded.P.Demos()[0]); diff != "" {
		t.Errorf("demo (-want +got):\n%s", diff)
	}
}
