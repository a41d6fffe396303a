package programs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// dspyFile returns testdata/dspy_rag.json decoded, for edits.
func dspyFile(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/dspy_rag.json")
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
		m["answer.predict"].(map[string]any)["extended_signature"] = map[string]any{"instructions": "old", "fields": []any{}}
		_, err := programs.LoadDSPy(encode(t, m), newRAGProgram(t))
		if !errors.Is(err, programs.ErrLegacyDSPyState) || !strings.Contains(err.Error(), `"answer.predict"`) {
			t.Errorf("err = %v, want ErrLegacyDSPyState naming answer.predict", err)
		}
	})
	t.Run("missing predictor", func(t *testing.T) {
		m := dspyFile(t)
		delete(m, "generate_query")
		_, err := programs.LoadDSPy(encode(t, m), newRAGProgram(t))
		var se *programs.ShapeError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), `no saved state for "generate_query"`) {
			t.Errorf("err = %v, want a *ShapeError naming generate_query", err)
		}
	})
	t.Run("extra keys ignored", func(t *testing.T) {
		m := dspyFile(t)
		m["retired_module.predict"] = map[string]any{"demos": []any{}}
		if _, err := programs.LoadDSPy(encode(t, m), newRAGProgram(t)); err != nil {
			t.Errorf("err = %v, want the extra key ignored", err)
		}
	})
	t.Run("fields matched as far as both go", func(t *testing.T) {
		prog := newRAGProgram(t)
		longer, err := programs.NewPredictFrom(signature.MustParse("question -> query, keywords: list[str]"))
		if err != nil {
			t.Fatal(err)
		}
		prog.GenerateQuery = longer
		got, err := programs.LoadDSPy(encode(t, dspyFile(t)), prog)
		if err != nil {
			t.Fatal(err)
		}
		sig := got.GenerateQuery.Signature()
		if f, _, _ := sig.Field("query"); f.Desc != "keywords for a web search engine" {
			t.Errorf("query desc = %q, want the saved one", f.Desc)
		}
		if f, _, _ := sig.Field("keywords"); f.Desc != "" || f.Prefix != "" {
			t.Errorf("keywords = %+v, want it unchanged", f)
		}
	})
}
