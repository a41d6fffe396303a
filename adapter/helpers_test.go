package adapter

import (
	"testing"

	"github.com/dspex-go/dspex/signature"
)

// newSig builds a signature or fails the test.
func newSig(t testing.TB, instructions string, inputs, outputs []signature.Field) signature.Signature {
	t.Helper()
	sig, err := signature.New("", instructions, inputs, outputs)
	if err != nil {
		t.Fatalf("signature.New: %v", err)
	}
	return sig
}

// qaSig is "question: str, context: str -> answer: str, confidence:
// float" with descriptions and two-paragraph instructions. Its context is
// given lists, which DSPy renders as a numbered list for a str field.
func qaSig(t testing.TB) signature.Signature {
	return newSig(t, "Answer questions with short factoid answers.\n\nBe precise.",
		[]signature.Field{
			{Name: "question", Desc: "The question to answer"},
			{Name: "context"},
		},
		[]signature.Field{
			{Name: "answer", Desc: "often between 1 and 5 words"},
			{Name: "confidence", Type: signature.TypeFloat},
		})
}

// typedSig has one output of every kind.
func typedSig(t testing.TB) signature.Signature {
	return newSig(t, "", []signature.Field{{Name: "question"}}, typedOutputs)
}

var typedOutputs = []signature.Field{
	{Name: "answer"},
	{Name: "count", Type: signature.TypeInt},
	{Name: "score", Type: signature.TypeFloat},
	{Name: "ok", Type: signature.TypeBool},
	{Name: "tags", Type: signature.ListOf(signature.TypeString)},
	{Name: "weights", Type: signature.MapOf(signature.TypeFloat)},
	{Name: "meta", Type: signature.TypeObject},
}

// qaDemos are demos for qaSig: a complete one, an incomplete one (rendered
// first, as DSPy does), and two that must be left out (no inputs; no
// outputs).
var qaDemos = []Values{
	{"question": "What is 2+2?", "context": []string{"Arithmetic facts.", "2+2=4"}, "answer": "4", "confidence": 1.0},
	{"question": "Capital of France?", "answer": "Paris"},
	{"answer": "orphan", "confidence": 0.5},
	{"question": "Unanswered?", "context": []string{"nothing"}},
}

// qaInputs are inputs for qaSig whose context is one multi-line passage.
var qaInputs = Values{
	"question": "Who wrote Hamlet?",
	"context":  []string{"Hamlet is a tragedy.\nIt was written around 1600."},
}
