package programs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

type query struct {
	Question string
}

type passages struct {
	Queries []string
}

type answerOut struct {
	Answer string
}

// retriever is a user's sub-module: a struct holding a typed Predict.
type retriever struct {
	Predict *programs.Predict[query, passages]
	K       int
}

// rag is a user's program: sub-modules, a built-in module, a slice of
// predictors and Go control flow in Forward.
type rag struct {
	Retrieve  *retriever
	Answer    *programs.ChainOfThought[query, answerOut]
	Hops      []*programs.Predictor
	Rerank    *programs.Predictor `dspy:"rank"`
	Unused    *programs.Predictor // nil: skipped
	Settings  map[string]string
	internal  *programs.Predictor `dspy:"-"`
	Threshold float64
}

func (r *rag) Forward(ctx context.Context, in programs.Values) (programs.Prediction, error) {
	return r.Answer.Forward(ctx, in)
}

func newRAG() *rag {
	hop := programs.MustPredictFrom(signature.MustParse("question -> query"))
	return &rag{
		Retrieve: &retriever{Predict: programs.MustPredict[query, passages](), K: 3},
		Answer:   programs.MustChainOfThought[query, answerOut](),
		Hops:     []*programs.Predictor{hop, programs.MustPredictFrom(signature.MustParse("question, query -> better_query"))},
		Rerank:   programs.MustPredictFrom(signature.MustParse("question, passages: list[str] -> ranked: list[int]")),
		internal: programs.MustPredictFrom(signature.MustParse("a -> b")),
	}
}

func predictorNames(t *testing.T, prog any) []string {
	t.Helper()
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, np := range nps {
		out = append(out, np.Name)
	}
	return out
}

func TestNamedPredictors(t *testing.T) {
	cot := programs.MustChainOfThought[query, answerOut]()
	p := programs.MustPredict[query, answerOut]()
	shared := programs.MustPredictFrom(signature.MustParse("x -> y"))
	type twice struct {
		First, Second *programs.Predictor
	}
	type embedded struct {
		retriever
		Final *programs.Predictor
	}
	tests := []struct {
		name string
		prog any
		want []string
	}{
		{"user program", newRAG(), []string{"retrieve.predict", "answer.predict", "hops[0]", "hops[1]", "rank"}},
		{"struct value", *newRAG(), []string{"retrieve.predict", "answer.predict", "hops[0]", "hops[1]", "rank"}},
		{"predictor", shared, []string{"self"}},
		{"predict", p, []string{"self"}},
		{"chain of thought", cot, []string{"predict"}},
		{"shared predictor listed once", &twice{First: shared, Second: shared}, []string{"first"}},
		{"embedded struct flattened", &embedded{retriever: retriever{Predict: programs.MustPredict[query, passages]()}, Final: shared}, []string{"predict", "final"}},
		{"map", map[string]*programs.Predictor{"b": shared, "a": programs.MustPredictFrom(signature.MustParse("x -> z"))}, []string{"['a']", "['b']"}},
		{"program interface", programs.Program(cot), []string{"predict"}},
		{"no predictors", struct{ N int }{3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, predictorNames(t, tt.prog)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamedPredictorsErrors(t *testing.T) {
	type hidden struct {
		answer *programs.Predictor
	}
	p := programs.MustPredictFrom(signature.MustParse("x -> y"))
	if _, err := programs.NamedPredictors(&hidden{answer: p}); err == nil || !strings.Contains(err.Error(), "unexported") {
		t.Errorf("unexported predictor field: %v, want an error saying so", err)
	}
	type clash struct {
		A *programs.Predictor `dspy:"same"`
		B *programs.Predictor `dspy:"same"`
	}
	if _, err := programs.NamedPredictors(&clash{A: p, B: programs.MustPredictFrom(signature.MustParse("x -> z"))}); err == nil {
		t.Error("two predictors with one name: no error")
	}
}

func TestWithPredictors(t *testing.T) {
	orig := newRAG()
	nps, err := programs.NamedPredictors(orig)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*programs.Predictor{}
	for _, np := range nps {
		byName[np.Name] = np.Predictor
	}
	demo := programs.Values{"question": "q", "reasoning": "r", "answer": "a"}
	replace := map[string]*programs.Predictor{
		"retrieve.predict": byName["retrieve.predict"].WithInstructions("Write search queries."),
		"answer.predict":   byName["answer.predict"].WithDemos([]programs.Values{demo}),
		"hops[1]":          byName["hops[1]"].WithInstructions("Refine the query."),
	}
	got, err := programs.WithPredictors(orig, replace)
	if err != nil {
		t.Fatal(err)
	}
	if got == orig || got.Retrieve == orig.Retrieve || got.Answer == orig.Answer {
		t.Error("the copy shares the changed structs with the original")
	}
	if got.Rerank != orig.Rerank || got.Hops[0] != orig.Hops[0] || got.internal != orig.internal || got.Retrieve.K != 3 {
		t.Error("the copy lost unchanged parts")
	}
	if &got.Hops[0] == &orig.Hops[0] {
		t.Error("the copy shares the slice it changed")
	}
	if got.Retrieve.Predict.Predictor().Instructions() != "Write search queries." ||
		got.Hops[1].Instructions() != "Refine the query." ||
		len(got.Answer.Predictor().Demos()) != 1 {
		t.Error("replacements not applied")
	}
	// The original is untouched.
	if orig.Retrieve.Predict.Predictor() != byName["retrieve.predict"] || orig.Hops[1] != byName["hops[1]"] ||
		len(orig.Answer.Predictor().Demos()) != 0 {
		t.Error("the original was modified")
	}
	// The names are stable across the copy.
	if diff := cmp.Diff(predictorNames(t, orig), predictorNames(t, got)); diff != "" {
		t.Errorf("names changed (-orig +copy):\n%s", diff)
	}
}

func TestWithPredictorsSharedAndProgram(t *testing.T) {
	shared := programs.MustPredictFrom(signature.MustParse("x -> y"))
	type twice struct {
		First, Second *programs.Predictor
	}
	got, err := programs.WithPredictors(&twice{First: shared, Second: shared},
		map[string]*programs.Predictor{"first": shared.WithInstructions("new")})
	if err != nil {
		t.Fatal(err)
	}
	if got.First != got.Second || got.First.Instructions() != "new" {
		t.Error("a shared predictor was not replaced everywhere")
	}
	var prog programs.Program = newRAG()
	cp, err := programs.WithPredictors(prog, map[string]*programs.Predictor{"rank": shared.WithName("x").WithSignature(
		signature.MustParse("question, passages: list[str] -> ranked: list[int]").WithInstructions("Rank."))})
	if err != nil {
		t.Fatal(err)
	}
	if cp.(*rag).Rerank.Instructions() != "Rank." || prog.(*rag).Rerank.Instructions() == "Rank." {
		t.Error("WithPredictors through the Program interface did not copy")
	}
}

func TestWithPredictorsErrors(t *testing.T) {
	orig := newRAG()
	other := programs.MustPredictFrom(signature.MustParse("question -> answer"))
	tests := []struct {
		name    string
		replace map[string]*programs.Predictor
		want    string
	}{
		{"unknown name", map[string]*programs.Predictor{"answer": other}, `no predictor named "answer"`},
		{"shape mismatch", map[string]*programs.Predictor{"rank": other}, "shape mismatch"},
		{"nil", map[string]*programs.Predictor{"rank": nil}, "nil replacement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := programs.WithPredictors(orig, tt.replace)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WithPredictors: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMapPredictors(t *testing.T) {
	orig := newRAG()
	got, err := programs.MapPredictors(orig, func(name string, p *programs.Predictor) (*programs.Predictor, error) {
		return p.WithInstructions("for " + name), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nps, err := programs.NamedPredictors(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, np := range nps {
		if np.Predictor.Instructions() != "for "+np.Name {
			t.Errorf("%s: instructions %q", np.Name, np.Predictor.Instructions())
		}
	}
}
