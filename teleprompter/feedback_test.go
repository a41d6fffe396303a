package teleprompter_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

func TestExactMatchFeedback(t *testing.T) {
	fm := teleprompter.ExactMatchFeedback("answer")
	tests := []struct {
		gold, got string
		score     float64
		mentions  string
	}{
		{"Paris", "Paris", 1, "matches the gold answer"},
		{"Paris", "I believe the answer is Paris.", 0, `holds the gold answer "Paris"`},
		{"12", "7", 0, `differs from the gold result "12"`},
		{"Paris", "Rome", 0, `does not match the gold answer "Paris"`},
	}
	for _, tt := range tests {
		t.Run(tt.got, func(t *testing.T) {
			ex := dataset.NewExample(map[string]any{"question": "q", "answer": tt.gold}, "question")
			f := fm(ex, programs.Prediction{Values: programs.Values{"answer": tt.got}}, nil)
			if f.Score != tt.score || !strings.Contains(f.Text, tt.mentions) {
				t.Errorf("feedback %+v, want score %v mentioning %q", f, tt.score, tt.mentions)
			}
			if f.For("any") != f.Text {
				t.Errorf("For = %q, want the text", f.For("any"))
			}
		})
	}
	f := teleprompter.Feedback{Text: "all", Predictors: map[string]string{"a": "just a"}}
	if f.For("a") != "just a" || f.For("b") != "all" {
		t.Errorf("For: %q, %q", f.For("a"), f.For("b"))
	}
	plain := teleprompter.FeedbackOf(evaluate.ExactMatch("answer"))
	ex := dataset.NewExample(map[string]any{"question": "q", "answer": "x"}, "question")
	if got := plain(ex, programs.Prediction{Values: programs.Values{"answer": "x"}}, nil); got.Score != 1 || got.Text != "score 1.00" {
		t.Errorf("FeedbackOf: %+v", got)
	}
	if m := plain.Metric(); m(ex, programs.Prediction{Values: programs.Values{"answer": "y"}}, nil) != 0 {
		t.Error("Metric of a miss is not 0")
	}
}

func TestReflectOptions(t *testing.T) {
	fm := teleprompter.ExactMatchFeedback("answer")
	tests := []struct {
		name string
		make func() error
	}{
		{"GEPA without budget", func() error { _, err := teleprompter.NewGEPA(fm); return err }},
		{"GEPA with two budgets", func() error {
			_, err := teleprompter.NewGEPA(fm, teleprompter.WithMaxFullEvals(2), teleprompter.WithMaxMetricCalls(10))
			return err
		}},
		{"GEPA auto and metric calls", func() error {
			_, err := teleprompter.NewGEPA(fm, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithMaxMetricCalls(10))
			return err
		}},
		{"GEPA bad auto", func() error { _, err := teleprompter.NewGEPA(fm, teleprompter.WithAuto("huge")); return err }},
		{"SIMBA one candidate", func() error { _, err := teleprompter.NewSIMBA(fm, teleprompter.WithNumCandidates(1)); return err }},
		{"nil metric", func() error {
			_, err := teleprompter.NewGEPA(nil, teleprompter.WithAuto(teleprompter.AutoLight))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := teleprompter.NewGEPA(fm, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithSeed(3),
		teleprompter.WithReflectionMinibatchSize(4), teleprompter.WithMaxMergeInvocations(0)); err != nil {
		t.Errorf("valid GEPA options: %v", err)
	}
	if _, err := teleprompter.NewSIMBA(fm, teleprompter.WithMaxSteps(2), teleprompter.WithSeed(3),
		teleprompter.WithNumCandidates(3), teleprompter.WithMaxBootstrappedDemos(2), teleprompter.WithBatchSize(4)); err != nil {
		t.Errorf("valid SIMBA options: %v", err)
	}
}

// TestGEPANeedsReflectionLM checks the error without a reflection LM.
func TestGEPANeedsReflectionLM(t *testing.T) {
	g, err := teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"), teleprompter.WithMaxMetricCalls(10))
	if err != nil {
		t.Fatal(err)
	}
	student := programs.MustPredict[QA, Answer]()
	_, err = g.Compile(context.Background(), student, capitalSet("France"))
	if !errors.Is(err, teleprompter.ErrNoReflectionLM) {
		t.Errorf("err %v, want ErrNoReflectionLM", err)
	}
}
