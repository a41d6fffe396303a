package teleprompter_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

func ExampleCOPRO() {
	// tipLM answers verbosely unless told to be concise; its proposer turns
	// each tip into an instruction.
	student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
	trainset := capitalSet("France", "Japan", "Italy", "Spain")

	copro, err := teleprompter.NewCOPRO(evaluate.ExactMatch("answer"),
		teleprompter.WithSeed(3), teleprompter.WithBreadth(3), teleprompter.WithDepth(2),
		teleprompter.WithTips("Answer concisely.", "Explain your answer in detail."),
		teleprompter.WithEvaluateOptions(evaluate.WithoutProgress()), teleprompter.WithoutTrialProgress())
	if err != nil {
		fmt.Println(err)
		return
	}
	compiled, log, err := copro.Optimize(context.Background(), student, trainset)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("chosen: %q, score %.2f after %d trials\n",
		compiled.NamedPredictors()[0].Predictor.Instructions(), log.BestScore, len(log.Trials))
	// Output:
	// chosen: "Answer concisely.", score 1.00 after 7 trials
}

func ExampleGEPA() {
	// The reflection LM reads the verbose answers and the metric's feedback
	// and proposes "Answer concisely.", which tipLM obeys.
	student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
	trainset := capitalSet("France", "Japan", "Italy", "Spain")

	gepa, err := teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"),
		teleprompter.WithSeed(1), teleprompter.WithMaxMetricCalls(14), teleprompter.WithReflectionLM(&tipLM{}),
		teleprompter.WithEvaluateOptions(evaluate.WithoutProgress()))
	if err != nil {
		fmt.Println(err)
		return
	}
	compiled, err := gepa.Compile(context.Background(), student, trainset)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := compiled.Report()
	fmt.Printf("chosen: %q, score %.2f\n", compiled.NamedPredictors()[0].Predictor.Instructions(), *rep.Score)
	for _, t := range rep.Trials {
		fmt.Printf("trial %d %s: minibatch %.0f -> %.0f, %q (%d metric calls)\n", t.N, t.Kind, t.Before, t.After, t.Note, t.MetricCalls)
	}
	// Output:
	// chosen: "Answer concisely.", score 1.00
	// trial 0 seed: minibatch 0 -> 0, "" (4 metric calls)
	// trial 1 reflect: minibatch 0 -> 3, "accepted" (14 metric calls)
}

// moodyLM is tipLM that is also terse on odd rollouts, as a sampled
// model sometimes is: SIMBA's trajectories then score differently.
type moodyLM struct{ tipLM }

func (m *moodyLM) Chat(ctx context.Context, req lm.Request) (lm.Response, error) {
	if req.RolloutID%2 == 1 {
		req.Messages = append([]lm.Message{{Role: lm.RoleSystem, Content: req.Messages[0].Content + " Be concise."}}, req.Messages[1:]...)
	}
	return m.tipLM.Chat(ctx, req)
}

func ExampleSIMBA() {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&moodyLM{}))
	trainset := capitalSet("France", "Japan", "Italy", "Spain")

	simba, err := teleprompter.NewSIMBA(teleprompter.ExactMatchFeedback("answer"),
		teleprompter.WithSeed(3), teleprompter.WithMaxSteps(2), teleprompter.WithBatchSize(4),
		teleprompter.WithNumCandidates(2), teleprompter.WithReflectionLM(&tipLM{}),
		teleprompter.WithEvaluateOptions(evaluate.WithoutProgress()))
	if err != nil {
		fmt.Println(err)
		return
	}
	compiled, err := simba.Compile(context.Background(), student, trainset)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := compiled.Report()
	best := rep.Candidates[rep.Best]
	fmt.Printf("best: %s, score %.2f, demos %v\n", best.Label, best.Score, best.Demos)
	fmt.Printf("instruction ends %q\n", lastWords(compiled.NamedPredictors()[0].Predictor.Instructions(), 2))
	for _, t := range rep.Trials {
		fmt.Printf("step %d: %s\n", t.N, t.Note)
	}
	// Output:
	// best: step 0 rule, score 1.00, demos map[self:0]
	// instruction ends "Be concise."
	// step 0: 4 buckets, 1 new programs [1]
	// step 1: 4 buckets, 2 new programs [2 3]
}

// lastWords returns the last n words of s.
func lastWords(s string, n int) string {
	w := strings.Fields(s)
	return strings.Join(w[max(0, len(w)-n):], " ")
}
