package teleprompter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var quiet = teleprompter.WithEvaluateOptions(evaluate.WithoutProgress())

func demosOf(t *testing.T, prog any) map[string][]programs.Values {
	t.Helper()
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]programs.Values)
	for _, np := range nps {
		out[np.Name] = np.Predictor.Demos()
	}
	return out
}

func TestLabeledFewShot(t *testing.T) {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&fakeLM{}))
	train := capitalSet("France", "Japan", "Italy", "Spain", "Kenya")
	tests := []struct {
		name string
		k    int
		want int
	}{
		{"some", 3, 3},
		{"more than the set", 9, 5},
		{"none", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lf, err := teleprompter.NewLabeledFewShot(tt.k, teleprompter.WithSeed(4))
			if err != nil {
				t.Fatal(err)
			}
			c1, err := lf.Compile(context.Background(), student, train)
			if err != nil {
				t.Fatal(err)
			}
			c2, _ := lf.Compile(context.Background(), student, train)
			d1, d2 := demosOf(t, c1), demosOf(t, c2)
			if len(d1["self"]) != tt.want {
				t.Fatalf("%d demos, want %d", len(d1["self"]), tt.want)
			}
			if diff := cmp.Diff(d1, d2); diff != "" {
				t.Errorf("same seed, different demos:\n%s", diff)
			}
			if c1.Report().Teleprompter != teleprompter.NameLabeledFewShot || c1.Report().Demos["self"] != tt.want {
				t.Errorf("report %+v", c1.Report())
			}
		})
	}
	if got := demosOf(t, student)["self"]; len(got) != 0 {
		t.Fatalf("student modified: %v", got)
	}
	if _, err := teleprompter.NewLabeledFewShot(-1); err == nil {
		t.Error("negative k accepted")
	}
}

func TestStudentWithoutPredictors(t *testing.T) {
	fn := programs.ProgramFunc(func(context.Context, programs.Values) (programs.Prediction, error) {
		return programs.Prediction{}, nil
	})
	lf, _ := teleprompter.NewLabeledFewShot(2)
	if _, err := lf.Compile(context.Background(), fn, capitalSet("France")); !errors.Is(err, teleprompter.ErrNoPredictors) {
		t.Fatalf("err = %v, want ErrNoPredictors", err)
	}
}

func TestOptionsApplyOnlyWhereTheyMean(t *testing.T) {
	em := evaluate.ExactMatch("answer")
	// An option given where it does not apply fails to build
	// (TestWrongOptionsFailToBuild); a bad value fails in New.
	for name, opt := range map[string]teleprompter.BootstrapFewShotOption{
		"rounds":    teleprompter.WithMaxRounds(0),
		"boot":      teleprompter.WithMaxBootstrappedDemos(-1),
		"labeled":   teleprompter.WithMaxLabeledDemos(-1),
		"teacher":   teleprompter.WithTeacher(nil),
		"maxerrors": teleprompter.WithMaxErrors(-1),
		"nil":       nil,
	} {
		if _, err := teleprompter.NewBootstrapFewShot(em, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBootstrapFewShot(t *testing.T) {
	model := &fakeLM{}
	student := programs.MustPredict[QA, Answer](programs.WithLM(model))
	train := capitalSet("France", "Japan", "Italy", "Spain", "Kenya", "Peru")
	bs, err := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"), quiet,
		teleprompter.WithMaxBootstrappedDemos(3), teleprompter.WithMaxLabeledDemos(4))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bs.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	demos := demosOf(t, c)["self"]
	if len(demos) != 4 {
		t.Fatalf("%d demos, want 3 bootstrapped + 1 labelled", len(demos))
	}
	// The bootstrapped demos are the first passing examples in order, with
	// the teacher's outputs.
	for i, country := range []string{"France", "Japan", "Italy"} {
		if !strings.Contains(demos[i]["question"].(string), country) || demos[i]["answer"] != facts[country] {
			t.Errorf("demo %d = %v, want %s", i, demos[i], country)
		}
	}
	// As DSPy's, bootstrapped demos are marked "augmented", labelled ones
	// are not.
	for i, d := range demos {
		if aug, _ := d["augmented"].(bool); aug != (i < 3) {
			t.Errorf("demo %d augmented = %v, want %v", i, d["augmented"], i < 3)
		}
	}
	rep := c.Report()
	if rep.Bootstrapped != 3 || rep.Attempted != 6 || rep.Settings["max_bootstrapped_demos"] != 3 {
		t.Errorf("report %+v", rep)
	}
	// The teacher never saw the example it answered among its demos.
	for _, req := range model.requests() {
		last := req.Messages[len(req.Messages)-1].Content
		for _, m := range req.Messages[1 : len(req.Messages)-1] {
			if m.Role == "user" && m.Content == last {
				t.Fatalf("a teacher prompt holds its own question as a demo: %q", last)
			}
		}
	}
	if len(demosOf(t, student)["self"]) != 0 {
		t.Fatal("student modified")
	}
}

func TestBootstrapThresholdAndRounds(t *testing.T) {
	model := &fakeLM{}
	student := programs.MustPredict[QA, Answer](programs.WithLM(model))
	train := capitalSet("France", "Japan")
	// A metric that passes only traces sampled at a fresh rollout: the first
	// round gives nothing, the second both examples.
	half := func(_ dataset.Example, _ programs.Prediction, tr *programs.Trace) float64 {
		if tr == nil {
			return 0
		}
		return 0.5
	}
	bs, _ := teleprompter.NewBootstrapFewShot(half, quiet, teleprompter.WithMetricThreshold(0.6),
		teleprompter.WithMaxLabeledDemos(0), teleprompter.WithMaxRounds(3))
	c, err := bs.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Report().Bootstrapped; got != 0 {
		t.Fatalf("threshold 0.6 let %d traces with score 0.5 through", got)
	}
	var rollouts []int
	for _, r := range model.requests() {
		if r.RolloutID > 0 {
			if r.Temperature == nil || *r.Temperature != 1.0 {
				t.Errorf("rollout %d at temperature %v, want 1.0", r.RolloutID, r.Temperature)
			}
		}
		rollouts = append(rollouts, r.RolloutID)
	}
	want := []int{0, 0, 1, 1, 2, 2}
	if diff := cmp.Diff(want, sortedInts(rollouts)); diff != "" {
		t.Errorf("rollouts (-want +got):\n%s", diff)
	}
}

func sortedInts(s []int) []int {
	out := append([]int(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestBootstrapTeacherMustMatch(t *testing.T) {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&fakeLM{}))
	teacher, err := programs.NewChainOfThought[QA, Answer](programs.WithLM(&fakeLM{}))
	if err != nil {
		t.Fatal(err)
	}
	bs, _ := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"), quiet, teleprompter.WithTeacher(teacher))
	if _, err := bs.Compile(context.Background(), student, capitalSet("France")); err == nil {
		t.Fatal("a teacher with other predictors was accepted")
	}
}

func TestCompiledSaveLoad(t *testing.T) {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&fakeLM{}))
	bs, _ := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"), quiet, teleprompter.WithMaxLabeledDemos(2))
	c, err := bs.Compile(context.Background(), student, capitalSet("France", "Japan", "Italy"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "sk-") {
		t.Fatal("saved state holds a key")
	}
	loaded, err := teleprompter.Load(bytes.NewReader(buf.Bytes()), student)
	if err != nil {
		t.Fatal(err)
	}
	// The report comes back as JSON would carry it (numbers as float64).
	var want teleprompter.Report
	raw, _ := json.Marshal(c.Report())
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, loaded.Report()); diff != "" {
		t.Errorf("report (-saved +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(demosOf(t, c), demosOf(t, loaded)); diff != "" {
		t.Errorf("demos (-saved +loaded):\n%s", diff)
	}
	// programs.Load reads it too.
	if _, err := programs.Load(bytes.NewReader(buf.Bytes()), student); err != nil {
		t.Errorf("programs.Load: %v", err)
	}
	// A compiled program compiles again (its names are the student's).
	lf, _ := teleprompter.NewLabeledFewShot(1)
	if _, err := lf.Compile(context.Background(), c, capitalSet("Peru")); err != nil {
		t.Errorf("recompiling: %v", err)
	}
}

func TestRandomSearch(t *testing.T) {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&fakeLM{}))
	train := capitalSet("France", "Japan", "Italy", "Spain")
	dev := capitalSet("Kenya", "Peru", "Chile", "Egypt")
	rs, err := teleprompter.NewBootstrapFewShotWithRandomSearch(evaluate.ExactMatch("answer"), quiet,
		teleprompter.WithNumCandidates(2), teleprompter.WithValset(dev), teleprompter.WithMaxBootstrappedDemos(2))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rs.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	rep := c.Report()
	var labels []string
	for _, cand := range rep.Candidates {
		labels = append(labels, cand.Label)
	}
	if len(rep.Candidates) != 5 || rep.Candidates[0].Score != 0 || rep.Best != 1 || *rep.Score != 1 {
		t.Fatalf("candidates %v, best %d, score %v", labels, rep.Best, rep.Score)
	}
	stop, _ := teleprompter.NewBootstrapFewShotWithRandomSearch(evaluate.ExactMatch("answer"), quiet,
		teleprompter.WithValset(dev), teleprompter.WithStopAtScore(1))
	c, err = stop.Compile(context.Background(), student, train)
	if err != nil || len(c.Report().Candidates) != 2 {
		t.Fatalf("stop at score: %v candidates, %v", len(c.Report().Candidates), err)
	}
}
