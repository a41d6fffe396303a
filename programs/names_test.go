package programs_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// TestHistoryNamesCallsByWalkPath checks that every LM call is recorded
// under its predictor's name from the program walk.
func TestHistoryNamesCallsByWalkPath(t *testing.T) {
	answer := func(lm.Request) (string, error) { return chatReply("reasoning", "Known.", "answer", "Paris"), nil }
	never := func(context.Context, programs.Values, programs.Prediction) (float64, error) { return 0, nil }
	q := programs.Values{"question": "What is the capital of France?"}
	tests := []struct {
		name string
		run  func(ctx context.Context, m, feedback lm.LM) error
		want []string
	}{
		{"lone predictor", func(ctx context.Context, m, _ lm.LM) error {
			_, err := programs.MustPredict[query, answerOut](programs.WithLM(m), programs.WithName("qa")).Forward(ctx, q)
			return err
		}, []string{"self"}},
		{"module on its own", func(ctx context.Context, m, _ lm.LM) error {
			_, err := programs.MustChainOfThought[query, answerOut](programs.WithLM(m)).Forward(ctx, q)
			return err
		}, []string{"predict"}},
		{"struct named for the run", func(ctx context.Context, m, _ lm.LM) error {
			prog := struct {
				Draft *programs.Predict[query, answerOut]
				Step  *programs.ChainOfThought[query, answerOut] `dspy:"think"`
			}{programs.MustPredict[query, answerOut](programs.WithLM(m)), programs.MustChainOfThought[query, answerOut](programs.WithLM(m))}
			ctx = programs.WithPredictorNames(ctx, prog)
			if _, err := prog.Draft.Forward(ctx, q); err != nil {
				return err
			}
			_, err := prog.Step.Forward(ctx, q)
			return err
		}, []string{"draft", "think.predict"}},
		{"module outside the named program", func(ctx context.Context, m, _ lm.LM) error {
			named := struct{ Other *programs.Predictor }{programs.MustPredict[query, answerOut](programs.WithLM(m)).Predictor()}
			ctx = programs.WithPredictorNames(ctx, named)
			_, err := programs.MustChainOfThought[query, answerOut](programs.WithLM(m)).Forward(ctx, q)
			return err
		}, []string{"predict"}},
		{"BestOfN's copies keep the names", func(ctx context.Context, m, _ lm.LM) error {
			best, err := programs.NewBestOfN(programs.MustChainOfThought[query, answerOut](programs.WithLM(m)), 2, never, 1)
			if err != nil {
				return err
			}
			prog := struct{ Best *programs.BestOfN }{best}
			_, err = prog.Best.Forward(programs.WithPredictorNames(ctx, prog), q)
			return err
		}, []string{"best.module.predict", "best.module.predict"}},
		{"Refine's feedback predictor by its own name", func(ctx context.Context, m, feedback lm.LM) error {
			refine, err := programs.NewRefine(programs.MustPredict[query, answerOut](programs.WithLM(m)), 2, never, 1, programs.WithLM(feedback))
			if err != nil {
				return err
			}
			_, err = refine.Forward(ctx, q)
			return err
		}, []string{"module.self", "refine.feedback", "module.self"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := history.New(16)
			m := history.Wrap(&recordingLM{f: answer}, "fake", h)
			feedback := history.Wrap(adviser("Be brief."), "fake", h)
			if err := tt.run(context.Background(), m, feedback); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range h.Records() {
				got = append(got, r.Predictor)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("predictor names (-want +got)\n%s", diff)
			}
		})
	}
}
