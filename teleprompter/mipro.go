package teleprompter

import (
	"context"
	"errors"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// MIPROv2 optimizes the instructions and the demos of every predictor
// together (DSPy's MIPROv2), with a Tree-structured Parzen Estimator as
// the surrogate model of the search:
//
//  1. Demo sets: for each predictor, n candidates: zero-shot, labelled
//     only, and sets bootstrapped by BootstrapFewShot with different seeds
//     (as BootstrapFewShotWithRandomSearch builds them).
//  2. Instructions: for each predictor, its own instruction (candidate 0)
//     and up to n-1 proposals of the proposer (GroundedProposer unless
//     WithProposer), each grounded in a summary of the training set, a
//     description of the program, a demo set and a random tip.
//  3. Search: each trial picks an (instruction, demo set) pair for every
//     predictor, suggested by the surrogate from the trials so far, and is
//     scored on a random minibatch of the validation set; every few trials
//     the candidate with the best mean minibatch score is scored on the
//     whole validation set. The program with the best full score wins.
//
// Every evaluation runs in evaluator actors (package evaluate); trials run
// WithTrialConcurrency at a time. A trial whose evaluation fails entirely
// is logged as failed, counts as the worst score for the surrogate, and
// the search goes on. Without WithValset the last 80% of the training set
// is the validation set.
//
// A MIPROv2 is immutable and safe for concurrent use.
type MIPROv2 struct {
	s instructSearch
}

// NewMIPROv2 returns a MIPROv2 scoring with metric. Options: WithAuto,
// WithNumTrials, WithMinibatchSize, WithoutMinibatch, WithFullEvalSteps,
// WithTrialConcurrency, WithPromptModel, WithProposer, WithTips,
// WithBudgetReport, WithTrialProgress, WithoutTrialProgress,
// WithSurrogate, and those of BootstrapFewShotWithRandomSearch
// (WithNumCandidates sets the instruction and demo-set candidates). The
// defaults are DSPy's: light budget, 4 bootstrapped and 4 labelled demos.
func NewMIPROv2[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...MIPROv2Option) (*MIPROv2, error) {
	s, err := newInstructSearch(NameMIPROv2, metric, opts, func() (Surrogate, error) { return NewTPE(DefaultTPEConfig()) })
	if err != nil {
		return nil, err
	}
	return &MIPROv2{s: s}, nil
}

// Compile runs the search and returns the best program found.
func (t *MIPROv2) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	c, _, err := t.s.optimize(ctx, student, trainset)
	return c, err
}

// Optimize is Compile that also returns the trial log. The log is
// returned, as far as it goes, when the search fails after it started.
func (t *MIPROv2) Optimize(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, *TrialLog, error) {
	return t.s.optimize(ctx, student, trainset)
}

// BEACON is MIPROv2's search with a Gaussian process as the surrogate
// model (GP): the choices are one-hot encoded and the next trial is the
// point of highest expected improvement. It takes the same options and
// runs the same engine; only the surrogate differs.
//
// A BEACON is immutable and safe for concurrent use.
type BEACON struct {
	s instructSearch
}

// NewBEACON returns a BEACON scoring with metric; the options are
// MIPROv2's.
func NewBEACON[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...MIPROv2Option) (*BEACON, error) {
	s, err := newInstructSearch(NameBEACON, metric, opts, func() (Surrogate, error) { return NewGP(DefaultGPConfig()) })
	if err != nil {
		return nil, err
	}
	return &BEACON{s: s}, nil
}

// Compile runs the search and returns the best program found.
func (t *BEACON) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	c, _, err := t.s.optimize(ctx, student, trainset)
	return c, err
}

// Optimize is Compile that also returns the trial log.
func (t *BEACON) Optimize(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, *TrialLog, error) {
	return t.s.optimize(ctx, student, trainset)
}

func newInstructSearch[S evaluate.Score](kind string, metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S,
	opts []MIPROv2Option, surrogate func() (Surrogate, error)) (instructSearch, error) {
	if metric == nil {
		return instructSearch{}, errors.New("teleprompter: " + kind + ": nil metric")
	}
	cfg := defaultInstructConfig(kind)
	if err := applyOptions(&cfg, opts, MIPROv2Option.applyMIPROv2); err != nil {
		return instructSearch{}, err
	}
	if err := cfg.check(); err != nil {
		return instructSearch{}, err
	}
	s := cfg.surrogate
	if s == nil {
		var err error
		if s, err = surrogate(); err != nil {
			return instructSearch{}, err
		}
	}
	if s == nil {
		return instructSearch{}, errNoSurrogate
	}
	return instructSearch{metric: evaluate.MetricOf(metric), cfg: cfg, surrogate: s}, nil
}
