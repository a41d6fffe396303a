package evaluate_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// capitals is a fake LM that knows three capitals and answers in the Chat
// adapter's format; asked anything else, it panics (a bug that fails only
// that example).
var capitals = lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
	last := req.Messages[len(req.Messages)-1].Content
	known := map[string]string{"France": "Paris", "Japan": "Tokyo", "Italy": "Rome"}
	for country, capital := range known {
		if strings.Contains(last, country) {
			return lm.Response{Choices: []lm.Choice{{Message: lm.Message{
				Role: lm.RoleAssistant, Content: "[[ ## answer ## ]]\n" + capital + "\n\n[[ ## completed ## ]]"}}}}, nil
		}
	}
	panic("no capital known")
})

func Example() {
	sig, _ := signature.Parse("question -> answer")
	qa := programs.MustPredictFrom(sig, programs.WithLM(capitals))
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		return qa.Forward(ctx, in)
	})
	devset := []dataset.Example{
		dataset.NewExample(map[string]any{"question": "What is the capital of France?", "answer": "Paris"}, "question").WithID("fr"),
		dataset.NewExample(map[string]any{"question": "What is the capital of Japan?", "answer": "Kyoto"}, "question").WithID("jp"),
		dataset.NewExample(map[string]any{"question": "What is the capital of Peru?", "answer": "Lima"}, "question").WithID("pe"),
		dataset.NewExample(map[string]any{"question": "What is the capital of Italy?", "answer": "rome"}, "question").WithID("it"),
	}
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithConcurrency(2), evaluate.WithoutProgress())
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := ev.Run(context.Background(), prog, devset)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res)
	// Output:
	// score 50.00% over 4 examples (3 scored, 1 failed, 0 not run), 0 tokens
	// #  id  status  score  input                           output  error
	// 0  fr  scored  1.00   What is the capital of France?  Paris
	// 1  jp  scored  0.00   What is the capital of Japan?   Tokyo
	// 2  pe  failed  0.00   What is the capital of Peru?            evaluate: program panicked: no capital known
	// 3  it  scored  1.00   What is the capital of Italy?   Rome
}

func ExampleMetricOf() {
	// A metric is a plain Go function; a bool counts as 1 or 0.
	short := evaluate.MetricOf(func(_ dataset.Example, p programs.Prediction, _ *programs.Trace) bool {
		s, _ := p.Values["answer"].(string)
		return len(strings.Fields(s)) <= 3
	})
	fmt.Println(short(dataset.Example{}, programs.Prediction{Values: programs.Values{"answer": "Paris"}}, nil))
	fmt.Println(evaluate.TokenF1("the Eiffel Tower, Paris", "Paris"))
	fmt.Println(evaluate.NormalizeText("The  Eiffel Tower!"))
	// Output:
	// 1
	// 0.5
	// eiffel tower
}
