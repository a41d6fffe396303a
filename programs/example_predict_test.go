package programs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

// CapitalQuestion is the input of the typed examples.
type CapitalQuestion struct {
	Question string `dspy:"question" desc:"a short factual question"`
}

// CapitalAnswer is the output of the typed examples.
type CapitalAnswer struct {
	Answer string `dspy:"answer" desc:"often between 1 and 5 words"`
}

// Instructions gives the signature its task description.
func (CapitalAnswer) Instructions() string {
	return "Answer the question concisely: give only the short answer."
}

// ExampleNewPredict runs a typed Predict against the embedded simulator over
// real HTTP.
func ExampleNewPredict() {
	srv, err := simlm.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: srv.Model()})
	if err != nil {
		log.Fatal(err)
	}

	qa, err := programs.NewPredict[CapitalQuestion, CapitalAnswer](programs.WithLM(model))
	if err != nil {
		log.Fatal(err)
	}
	out, err := qa.Call(context.Background(), CapitalQuestion{Question: "What is the capital of Japan?"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(qa.Signature())
	fmt.Println(out.Answer)
	// Output:
	// question: str -> answer: str
	// Tokyo
}

// ExampleNewPredictFrom runs the dynamic form over a signature parsed from a
// string, with typed fields coerced from the reply.
func ExampleNewPredictFrom() {
	srv, err := simlm.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: srv.Model()})
	if err != nil {
		log.Fatal(err)
	}

	sig := signature.MustParse("question -> answer, steps: int").
		WithInstructions("Think step by step, then give only the short answer.")
	p, err := programs.NewPredictFrom(sig)
	if err != nil {
		log.Fatal(err)
	}
	// The LM may also come from the context.
	ctx := lm.NewContext(context.Background(), model)
	pred, err := p.Forward(ctx, programs.Values{"question": "What is the chemical symbol for gold?"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v (%T)\n", pred.Values["answer"], pred.Values["answer"])
	fmt.Printf("steps is a %T\n", pred.Values["steps"])
	fmt.Println(pred.Usage.TotalTokens > 0)
	// Output:
	// Au (string)
	// steps is a int64
	// true
}
