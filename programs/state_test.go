package programs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// ragProgram has the shape of a DSPy program:
//
//	class RAG(dspy.Module):
//	    def __init__(self):
//	        self.generate_query = dspy.Predict("question -> query")
//	        self.answer = dspy.ChainOfThought("context: list[str], question -> answer, confidence: float")
type ragProgram struct {
	GenerateQuery *programs.Predictor
	Answer        *programs.ChainOfThought[programs.Values, programs.Values]
}

func newRAGProgram(t *testing.T, opts ...programs.Option) *ragProgram {
	t.Helper()
	gq, err := programs.NewPredictFrom(signature.MustParse("question -> query"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := programs.NewChainOfThoughtFrom(signature.MustParse("context: list[str], question -> answer, confidence: float"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &ragProgram{GenerateQuery: gq, Answer: ans}
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	return m
}

// TestLoadDSPy loads a file DSPy 2.6.25 saved for a module holding a
// ChainOfThought optimized by MIPROv2 (testdata/dspy_saved/README.md).
func TestLoadDSPy(t *testing.T) {
	f, err := os.Open("testdata/dspy_saved/knutole_cot_bootstrapped_2.6.25.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	orig := savedPrograms(t)["knutole_cot_bootstrapped_2.6.25.json"]().(*savedCleaner)
	got, err := programs.LoadDSPy(f, orig)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Chain.Predictor()
	sig := p.Signature()
	if !strings.HasPrefix(sig.Instructions(), "You are handling sensitive customer feedback about delivery services") {
		t.Errorf("instructions = %q", sig.Instructions())
	}
	text, _, _ := sig.Field("text")
	if text.Prefix != "" || text.Desc != "The text to clean" {
		t.Errorf("text field = %+v, want the saved description and the default prefix unset", text)
	}
	reasoning, _, _ := sig.Field("reasoning")
	if reasoning.Desc != "" || reasoning.Prefix != "Reasoning: Let's think step by step in order to" {
		t.Errorf("reasoning field = %+v, want DSPy's ${reasoning} read as no description and DSPy 2.6's prefix", reasoning)
	}
	demos := p.Demos()
	if len(demos) != 3 {
		t.Fatalf("%d demos, want 3", len(demos))
	}
	for i, d := range demos {
		if d["augmented"] != true {
			t.Errorf("demo %d is not marked augmented: %v", i, d)
		}
	}
	if !strings.HasPrefix(demos[2]["clean_text"].(string), "Ni levererade den, men chauffören levererade till porten") {
		t.Errorf("demo 2 = %v", demos[2])
	}
	// The original is untouched.
	if len(orig.Chain.Predictor().Demos()) != 0 || orig.Chain.Predictor().Signature().Instructions() == sig.Instructions() {
		t.Error("LoadDSPy modified the program it was given")
	}
}

// TestSaveDSPyOrder writes the predictors in NamedPredictors order, then
// the metadata DSPy's file had.
func TestSaveDSPyOrder(t *testing.T) {
	raw, err := os.ReadFile("testdata/dspy_saved/dspy_react_3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := programs.LoadDSPy(bytes.NewReader(raw), savedPrograms(t)["dspy_react_3.0.0.json"]())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := programs.SaveDSPy(&out, prog); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if i, j, k := strings.Index(s, `"react"`), strings.Index(s, `"extract.predict"`), strings.Index(s, `"metadata"`); !(i >= 0 && i < j && j < k) {
		t.Errorf("key order: %d %d %d in\n%s", i, j, k, s)
	}
	// A demo's keys come as DSPy's optimizers build them: "augmented", then
	// the signature's fields in order.
	if i, j, k := strings.Index(s, `"augmented": true,`), strings.Index(s, `"question": "That Darn Cat!`), strings.Index(s, `"next_thought": "Both`); !(i >= 0 && i < j && j < k) {
		t.Errorf("demo key order: %d %d %d in\n%s", i, j, k, s)
	}
}

func TestSaveLoad(t *testing.T) {
	orig := newRAGProgram(t)
	sig := orig.GenerateQuery.Signature().WithInstructions("Write a query.")
	f, _, _ := sig.Field("query")
	f.Prefix, f.Desc = "Search:", "a few keywords"
	sig, err := sig.WithField(f)
	if err != nil {
		t.Fatal(err)
	}
	tuned, err := programs.WithPredictors(orig, map[string]*programs.Predictor{
		"generate_query": orig.GenerateQuery.WithSignature(sig).WithDemos([]programs.Values{{"question": "q1", "query": "k1"}}),
		"answer.predict": orig.Answer.Predictor().WithDemos([]programs.Values{
			{"context": []string{"c"}, "question": "q2", "reasoning": "r", "answer": "a", "confidence": 1.0},
			{"context": []any{}, "question": "q3", "answer": "b", "confidence": 0.5, "rank": 3},
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := programs.Save(&buf, tuned); err != nil {
		t.Fatal(err)
	}
	saved := decodeJSON(t, buf.Bytes())
	if saved["dspex"] != float64(programs.StateVersion) {
		t.Errorf("dspex version = %v", saved["dspex"])
	}
	loaded, err := programs.Load(bytes.NewReader(buf.Bytes()), newRAGProgram(t))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.GenerateQuery.Signature().Equal(tuned.GenerateQuery.Signature()) {
		t.Errorf("signature = %v, want %v", loaded.GenerateQuery.Signature(), tuned.GenerateQuery.Signature())
	}
	want := []programs.Values{
		{"context": []any{"c"}, "question": "q2", "reasoning": "r", "answer": "a", "confidence": 1.0},
		{"context": []any{}, "question": "q3", "answer": "b", "confidence": 0.5, "rank": int64(3)},
	}
	if diff := cmp.Diff(want, loaded.Answer.Predictor().Demos()); diff != "" {
		t.Errorf("demos (-want +got):\n%s", diff)
	}
	var again bytes.Buffer
	if err := programs.Save(&again, loaded); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Errorf("Save(Load(x)) != x:\n%s\n%s", again.String(), buf.String())
	}
}

func TestSaveNeverWritesSecrets(t *testing.T) {
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: "http://127.0.0.1:1/v1", APIKey: "sk-very-secret", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	prog := newRAGProgram(t, programs.WithLM(model), programs.WithModel("m"))
	for name, save := range map[string]func(*bytes.Buffer) error{
		"dspex": func(b *bytes.Buffer) error { return programs.Save(b, prog) },
		"dspy":  func(b *bytes.Buffer) error { return programs.SaveDSPy(b, prog) },
	} {
		var b bytes.Buffer
		if err := save(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "sk-very-secret") || strings.Contains(b.String(), "127.0.0.1") {
			t.Errorf("%s state holds LM settings:\n%s", name, b.String())
		}
	}
}

func TestLoadShapeMismatch(t *testing.T) {
	var dspexState bytes.Buffer
	if err := programs.Save(&dspexState, newRAGProgram(t)); err != nil {
		t.Fatal(err)
	}
	dspyState, err := os.ReadFile("testdata/dspy_saved/dspy_flex_predict_3.3.0b1.json")
	if err != nil {
		t.Fatal(err)
	}
	type renamed struct {
		Query  *programs.Predictor
		Answer *programs.ChainOfThought[programs.Values, programs.Values]
	}
	type otherFields struct {
		GenerateQuery *programs.Predictor
		Answer        *programs.ChainOfThought[programs.Values, programs.Values]
	}
	rn := &renamed{Query: programs.MustPredictFrom(signature.MustParse("question -> query")),
		Answer: newRAGProgram(t).Answer}
	of := &otherFields{GenerateQuery: programs.MustPredictFrom(signature.MustParse("question -> query, keywords: list[str]")),
		Answer: newRAGProgram(t).Answer}
	ot := &otherFields{GenerateQuery: programs.MustPredictFrom(signature.MustParse("question -> query: int")),
		Answer: newRAGProgram(t).Answer}
	tests := []struct {
		name string
		load func() error
		want string
	}{
		{"dspex names", func() error { _, err := programs.Load(bytes.NewReader(dspexState.Bytes()), rn); return err },
			`no saved state for "query"; saved state for unknown "generate_query"`},
		{"dspex fields", func() error { _, err := programs.Load(bytes.NewReader(dspexState.Bytes()), of); return err },
			`predictor "generate_query": saved with 2 fields, the program has 3`},
		{"dspex types", func() error { _, err := programs.Load(bytes.NewReader(dspexState.Bytes()), ot); return err },
			`field 1 saved as output query: str, the program has output query: int`},
		{"dspy names", func() error { _, err := programs.LoadDSPy(bytes.NewReader(dspyState), rn); return err },
			`no saved state for "query"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()
			if !errors.Is(err, programs.ErrShapeMismatch) {
				t.Fatalf("error %v, want ErrShapeMismatch", err)
			}
			var se *programs.ShapeError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadWrongFormat(t *testing.T) {
	dspyState, err := os.ReadFile("testdata/dspy_saved/dspy_flex_predict_3.3.0b1.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := programs.Load(bytes.NewReader(dspyState), newRAGProgram(t)); err == nil || !strings.Contains(err.Error(), "LoadDSPy") {
		t.Errorf("Load of a DSPy file: %v, want a hint to use LoadDSPy", err)
	}
	var dspexState bytes.Buffer
	if err := programs.Save(&dspexState, newRAGProgram(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := programs.LoadDSPy(&dspexState, newRAGProgram(t)); err == nil || !strings.Contains(err.Error(), "use Load") {
		t.Errorf("LoadDSPy of a dspex file: %v, want a hint to use Load", err)
	}
	if _, err := programs.Load(strings.NewReader("{"), newRAGProgram(t)); err == nil {
		t.Error("Load of broken JSON: no error")
	}
}
