package signature

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// snapshot is everything observable about a signature, for checking that
// derivations leave their receiver alone.
type snapshot struct {
	Name, Instructions, Text string
	Inputs, Outputs          []Field
}

func snap(s Signature) snapshot {
	return snapshot{s.Name(), s.Instructions(), s.String(), s.Inputs(), s.Outputs()}
}

func TestDerivationsDoNotMutate(t *testing.T) {
	base, err := New("QA", "Answer questions.",
		[]Field{{Name: "question", Desc: "q"}, {Name: "context", Type: ListOf(TypeString)}},
		[]Field{{Name: "answer"}, {Name: "score", Type: TypeFloat}})
	if err != nil {
		t.Fatal(err)
	}
	// Give the field slices spare capacity, so that an in-place append or
	// insert would write into memory the receiver shares.
	base.inputs = append(make([]Field, 0, 8), base.inputs...)
	base.outputs = append(make([]Field, 0, 8), base.outputs...)
	before := snap(base)
	reasoning := Field{Name: "reasoning", Prefix: "Reasoning: Let's think step by step in order to"}

	tests := []struct {
		name   string
		derive func(Signature) (Signature, error)
		want   snapshot
	}{
		{
			name:   "WithInstructions",
			derive: func(s Signature) (Signature, error) { return s.WithInstructions("Be brief."), nil },
			want:   snapshot{"QA", "Be brief.", before.Text, before.Inputs, before.Outputs},
		},
		{
			name:   "WithName",
			derive: func(s Signature) (Signature, error) { return s.WithName("Other"), nil },
			want:   snapshot{"Other", before.Instructions, before.Text, before.Inputs, before.Outputs},
		},
		{
			name:   "Prepend output",
			derive: func(s Signature) (Signature, error) { return s.Prepend(Output, reasoning) },
			want: snapshot{"QA", before.Instructions,
				"question: str, context: list[str] -> reasoning: str, answer: str, score: float",
				before.Inputs, []Field{reasoning, {Name: "answer"}, {Name: "score", Type: TypeFloat}}},
		},
		{
			name:   "Append input",
			derive: func(s Signature) (Signature, error) { return s.Append(Input, Field{Name: "hint"}) },
			want: snapshot{"QA", before.Instructions,
				"question: str, context: list[str], hint: str -> answer: str, score: float",
				[]Field{{Name: "question", Desc: "q"}, {Name: "context", Type: ListOf(TypeString)}, {Name: "hint"}}, before.Outputs},
		},
		{
			name:   "Insert input",
			derive: func(s Signature) (Signature, error) { return s.Insert(Input, 1, Field{Name: "n", Type: TypeInt}) },
			want: snapshot{"QA", before.Instructions,
				"question: str, n: int, context: list[str] -> answer: str, score: float",
				[]Field{{Name: "question", Desc: "q"}, {Name: "n", Type: TypeInt}, {Name: "context", Type: ListOf(TypeString)}}, before.Outputs},
		},
		{
			name:   "Delete input",
			derive: func(s Signature) (Signature, error) { return s.Delete("question") },
			want: snapshot{"QA", before.Instructions, "context: list[str] -> answer: str, score: float",
				[]Field{{Name: "context", Type: ListOf(TypeString)}}, before.Outputs},
		},
		{
			name:   "Delete output",
			derive: func(s Signature) (Signature, error) { return s.Delete("answer") },
			want: snapshot{"QA", before.Instructions, "question: str, context: list[str] -> score: float",
				before.Inputs, []Field{{Name: "score", Type: TypeFloat}}},
		},
		{
			name: "WithField",
			derive: func(s Signature) (Signature, error) {
				return s.WithField(Field{Name: "answer", Desc: "short", Prefix: "Final Answer:"})
			},
			want: snapshot{"QA", before.Instructions, before.Text, before.Inputs,
				[]Field{{Name: "answer", Desc: "short", Prefix: "Final Answer:"}, {Name: "score", Type: TypeFloat}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.derive(base)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, snap(got)); diff != "" {
				t.Errorf("derived (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snap(base)); diff != "" {
				t.Errorf("receiver changed (-before +after):\n%s", diff)
			}
			// Deriving again from the result must not reach back either.
			if _, err := got.Append(Output, Field{Name: "extra"}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, snap(got)); diff != "" {
				t.Errorf("derived value changed by a further derivation:\n%s", diff)
			}
			if diff := cmp.Diff(before, snap(base)); diff != "" {
				t.Errorf("receiver changed by a second-generation derivation:\n%s", diff)
			}
		})
	}
}

func TestDerivationErrors(t *testing.T) {
	base := MustParse("question -> answer")
	before := snap(base)
	tests := []struct {
		name   string
		derive func() (Signature, error)
		field  string
		reason string
	}{
		{"prepend duplicate", func() (Signature, error) { return base.Prepend(Output, Field{Name: "question"}) }, "question", "declared twice"},
		{"append bad name", func() (Signature, error) { return base.Append(Input, Field{Name: "a b"}) }, "a b", "not an identifier"},
		{"insert out of range", func() (Signature, error) { return base.Insert(Input, 5, Field{Name: "x"}) }, "x", "out of range"},
		{"insert negative", func() (Signature, error) { return base.Insert(Output, -1, Field{Name: "x"}) }, "x", "out of range"},
		{"insert bad type", func() (Signature, error) { return base.Append(Output, Field{Name: "x", Type: Type{Kind: 99}}) }, "x", "invalid type"},
		{"delete missing", func() (Signature, error) { return base.Delete("nope") }, "nope", `no field "nope"`},
		{"delete last output", func() (Signature, error) { return base.Delete("answer") }, "", "at least one output"},
		{"with missing field", func() (Signature, error) { return base.WithField(Field{Name: "nope"}) }, "nope", `no field "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.derive()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got (%v, %v), want a *FieldError", got, err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("FieldError{Field: %q, Reason: %q}, want field %q and reason containing %q", fe.Field, fe.Reason, tc.field, tc.reason)
			}
			if !got.IsZero() {
				t.Errorf("returned a non-zero signature with the error: %v", got)
			}
			if diff := cmp.Diff(before, snap(base)); diff != "" {
				t.Errorf("receiver changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestNewValidatesTypes(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		ok   bool
	}{
		{"zero is str", Type{}, true},
		{"nested list", nestedList(32), true},
		{"too deep", nestedList(33), false},
		{"unknown kind", Type{Kind: Object + 1}, false},
		{"unknown elem kind", ListOf(Type{Kind: 200}), false},
		{"nil elem means str", Type{Kind: Map}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("", "", nil, []Field{{Name: "out", Type: tc.typ}})
			if (err == nil) != tc.ok {
				t.Errorf("New with type %v: err = %v, want ok=%v", tc.typ, err, tc.ok)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	in := []Field{{Name: "q"}}
	sig, err := New("", "", in, []Field{{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	in[0].Name = "changed"
	if sig.Inputs()[0].Name != "q" {
		t.Error("New kept the caller's slice")
	}
	if sig.Name() != "StringSignature" || sig.Instructions() != "Given the fields `q`, produce the fields `a`." {
		t.Errorf("defaults: name %q, instructions %q", sig.Name(), sig.Instructions())
	}
	if _, err := New("", "", in, nil); err == nil {
		t.Error("New without outputs succeeded")
	}
}

// TestIndexedFields checks that NumInputs/Input and NumOutputs/Output walk
// the same fields, in the same order, as the copies Inputs and Outputs.
func TestIndexedFields(t *testing.T) {
	sig, err := Parse("context: list[str], question -> reasoning, answer: int")
	if err != nil {
		t.Fatal(err)
	}
	var ins, outs []Field
	for i := range sig.NumInputs() {
		ins = append(ins, sig.Input(i))
	}
	for i := range sig.NumOutputs() {
		outs = append(outs, sig.Output(i))
	}
	if diff := cmp.Diff(sig.Inputs(), ins); diff != "" {
		t.Errorf("inputs (-Inputs +Input(i)):\n%s", diff)
	}
	if diff := cmp.Diff(sig.Outputs(), outs); diff != "" {
		t.Errorf("outputs (-Outputs +Output(i)):\n%s", diff)
	}
	if len(ins) != 2 || len(outs) != 2 {
		t.Errorf("got %d inputs and %d outputs, want 2 and 2", len(ins), len(outs))
	}
}
