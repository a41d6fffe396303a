package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// BootstrapFewShotWithRandomSearch builds several candidate programs,
// scores each on a validation set with the metric, and returns the best
// (DSPy's BootstrapFewShotWithRandomSearch). The candidates are, in order:
// the zero-shot student (seed -3), the student with labelled demos only
// (-2), BootstrapFewShot on the training set as given (-1), then
// WithNumCandidates BootstrapFewShot runs (seeds 0, 1, ...) each on a
// shuffled training set with a random number of bootstrapped demos in
// [1, max_bootstrapped_demos]. Ties keep the earlier candidate.
//
// A BootstrapFewShotWithRandomSearch is immutable and safe for concurrent
// use.
type BootstrapFewShotWithRandomSearch struct {
	metric evaluate.Metric
	cfg    config
}

// NewBootstrapFewShotWithRandomSearch returns a random search scoring with
// metric. Options: those of BootstrapFewShot, and WithNumCandidates,
// WithValset, WithStopAtScore.
func NewBootstrapFewShotWithRandomSearch[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...RandomSearchOption) (*BootstrapFewShotWithRandomSearch, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: BootstrapFewShotWithRandomSearch: nil metric")
	}
	cfg, err := newConfig(NameBootstrapFewShotWithRandomSearch, opts, RandomSearchOption.applyRandomSearch)
	if err != nil {
		return nil, err
	}
	return &BootstrapFewShotWithRandomSearch{metric: evaluate.MetricOf(metric), cfg: cfg}, nil
}

// Compile builds and scores the candidates and returns the best, whose
// report lists every candidate's score.
func (t *BootstrapFewShotWithRandomSearch) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, err error) {
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, err
	}
	valset := t.cfg.valset
	if valset == nil {
		valset = trainset
	}
	if len(valset) == 0 {
		return nil, errors.New("teleprompter: BootstrapFewShotWithRandomSearch: empty training and validation sets")
	}
	evOpts := append(slices.Clone(t.cfg.eval), evaluate.WithDescription("candidate"))
	if t.cfg.maxErrors > 0 {
		evOpts = append(evOpts, evaluate.WithMaxErrors(t.cfg.maxErrors))
	}
	ev, err := evaluate.New(t.metric, evOpts...)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	ctx, span := startCompile(ctx, NameBootstrapFewShotWithRandomSearch, ev)
	defer func() { endCompile(span, compiled, err) }()

	var (
		cands     []Candidate
		best      programs.Program
		bestI     = -1
		stoppedBy string
	)
	for seed := -3; seed < t.cfg.numCandidates; seed++ {
		if stoppedBy = budgetSpent(ctx); stoppedBy != "" && bestI >= 0 {
			break
		}
		tctx, trial := startTrial(ctx, seed)
		prog, label, err := t.candidate(tctx, student, nps, trainset, seed)
		if err != nil {
			endTrial(trial, label, evaluate.Result{}, err)
			return nil, fmt.Errorf("teleprompter: candidate %d: %w", seed, err)
		}
		res, err := ev.Run(tctx, prog, valset)
		endTrial(trial, label, res, err)
		if err != nil {
			return nil, fmt.Errorf("teleprompter: scoring candidate %d: %w", seed, err)
		}
		c := Candidate{Label: label, Seed: seed, Score: res.Score, Failed: res.Failed, Demos: demoCounts(prog)}
		cands = append(cands, c)
		// A candidate the budget cut short is scored on part of the
		// validation set only: it wins only when no other candidate has a score.
		cut := res.OverBudget > 0
		if bestI < 0 || !cut && c.Score > cands[bestI].Score {
			bestI, best = len(cands)-1, prog
		}
		if stoppedBy = budgetReason(budgetRefusal(res)); stoppedBy != "" {
			break
		}
		if t.cfg.stopAtScore != nil && c.Score >= *t.cfg.stopAtScore {
			break
		}
	}
	settings := t.cfg.bootstrapSettings()
	settings["num_candidate_programs"] = t.cfg.numCandidates
	settings["valset_size"] = len(valset)
	if t.cfg.stopAtScore != nil {
		settings["stop_at_score"] = *t.cfg.stopAtScore
	}
	score := cands[bestI].Score
	return NewCompiled(best, Report{
		Teleprompter: NameBootstrapFewShotWithRandomSearch,
		Settings:     settings,
		Demos:        demoCounts(best),
		Score:        &score,
		Candidates:   cands,
		Best:         bestI,
		StoppedBy:    stoppedBy,
	}), nil
}

// candidate builds the candidate of a seed.
func (t *BootstrapFewShotWithRandomSearch) candidate(ctx context.Context, student programs.Program,
	nps []programs.NamedPredictor, trainset []dataset.Example, seed int) (programs.Program, string, error) {
	switch seed {
	case -3:
		prog, _, err := withDemos(student, nps, nil)
		return prog, "zero-shot", err
	case -2:
		lf := &LabeledFewShot{k: t.cfg.maxLabeled, cfg: config{kind: NameLabeledFewShot, seed: t.cfg.seed}}
		c, err := lf.Compile(ctx, student, trainset)
		if err != nil {
			return nil, "", err
		}
		return c.program, fmt.Sprintf("labeled k=%d", t.cfg.maxLabeled), nil
	case -1:
		c, err := compileBootstrap(ctx, t.cfg, t.metric, student, trainset)
		if err != nil {
			return nil, "", err
		}
		return c.program, fmt.Sprintf("bootstrap unshuffled demos=%d", t.cfg.maxBootstrapped), nil
	}
	cfg := t.cfg
	cfg.kind = NameBootstrapFewShot
	cfg.seed = t.cfg.seed + seed + 1
	rng := rand.New(rand.NewPCG(cfg.uintSeed(), 0x5eed))
	if t.cfg.maxBootstrapped > 0 {
		cfg.maxBootstrapped = 1 + rng.IntN(t.cfg.maxBootstrapped)
	}
	shuffled := dataset.Shuffle(trainset, cfg.uintSeed())
	c, err := compileBootstrap(ctx, cfg, t.metric, student, shuffled)
	if err != nil {
		return nil, "", err
	}
	return c.program, fmt.Sprintf("bootstrap seed=%d demos=%d", seed, cfg.maxBootstrapped), nil
}

func demoCounts(prog programs.Program) map[string]int {
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		return nil
	}
	out := make(map[string]int, len(nps))
	for _, np := range nps {
		out[np.Name] = len(np.Predictor.Demos())
	}
	return out
}
