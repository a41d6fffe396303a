package teleprompter_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestReflectTrialsSurviveSaveAndLoad compiles with GEPA and SIMBA, saves
// and loads the result, and finds the same typed trial log in the report.
func TestReflectTrialsSurviveSaveAndLoad(t *testing.T) {
	fm := teleprompter.ExactMatchFeedback("answer")
	quietEval := teleprompter.WithEvaluateOptions(evaluate.WithoutProgress())
	gepa, err := teleprompter.NewGEPA(fm, teleprompter.WithSeed(1), teleprompter.WithMaxMetricCalls(14),
		teleprompter.WithReflectionLM(&tipLM{}), quietEval)
	if err != nil {
		t.Fatal(err)
	}
	simba, err := teleprompter.NewSIMBA(fm, teleprompter.WithSeed(3), teleprompter.WithMaxSteps(2), teleprompter.WithBatchSize(4),
		teleprompter.WithNumCandidates(2), teleprompter.WithReflectionLM(&tipLM{}), quietEval)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		tp    teleprompter.Teleprompter
		kinds []string
	}{
		{"GEPA", gepa, []string{"seed", "reflect"}},
		{"SIMBA", simba, []string{"step", "step"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			student := programs.MustPredict[QA, Answer](programs.WithLM(&moodyLM{}))
			compiled, err := tt.tp.Compile(context.Background(), student, capitalSet("France", "Japan", "Italy", "Spain"))
			if err != nil {
				t.Fatal(err)
			}
			trials := compiled.Report().Trials
			var kinds []string
			for _, tr := range trials {
				kinds = append(kinds, tr.Kind)
			}
			if diff := cmp.Diff(tt.kinds, kinds); diff != "" {
				t.Fatalf("trial kinds (-want +got):\n%s", diff)
			}
			if _, ok := compiled.Report().Settings["trials"]; ok {
				t.Error("the trials are still in Settings")
			}
			var buf bytes.Buffer
			if err := compiled.Save(&buf); err != nil {
				t.Fatal(err)
			}
			loaded, err := teleprompter.Load(&buf, programs.MustPredict[QA, Answer]())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(trials, loaded.Report().Trials); diff != "" {
				t.Errorf("trials after Save and Load (-saved +loaded):\n%s", diff)
			}
		})
	}
}
