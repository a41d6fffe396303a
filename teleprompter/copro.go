package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// COPRO optimizes the instructions of a program by coordinate ascent
// (DSPy's COPRO): it proposes breadth-1 new instructions for every
// predictor (at WithInitTemperature), then for depth rounds takes the
// predictors one at a time and scores each of their candidates with the
// other predictors at their best so far, keeps the best, and proposes
// breadth more from the attempts and their scores. Every candidate is
// scored by Evaluate on the whole validation set (WithValset, else the
// training set); demos are left as the student has them.
//
// A COPRO is immutable and safe for concurrent use.
type COPRO struct {
	metric evaluate.Metric
	cfg    instructConfig
}

// NewCOPRO returns a COPRO scoring with metric. Options: WithBreadth,
// WithDepth, WithInitTemperature, WithTrialConcurrency, WithPromptModel,
// WithProposer, WithTips, WithBudgetReport, WithTrialProgress,
// WithoutTrialProgress, WithSeed, WithMaxErrors, WithEvaluateOptions,
// WithValset.
func NewCOPRO[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...Option) (*COPRO, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: COPRO: nil metric")
	}
	cfg, err := newInstructConfig(NameCOPRO, opts)
	if err != nil {
		return nil, err
	}
	return &COPRO{metric: evaluate.MetricOf(metric), cfg: cfg}, nil
}

// Compile runs the coordinate ascent and returns the best program.
func (t *COPRO) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	c, _, err := t.Optimize(ctx, student, trainset)
	return c, err
}

// Optimize is Compile that also returns the trial log.
func (t *COPRO) Optimize(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, log *TrialLog, err error) {
	c := &t.cfg
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, nil, err
	}
	val := c.base.valset
	if val == nil {
		val = trainset
	}
	if len(val) == 0 {
		return nil, nil, errors.New("teleprompter: COPRO: empty training and validation sets")
	}
	if c.budgetOut != nil {
		p := len(nps)
		proposals := 1 + p*(c.breadth-1) + p*(c.depth-1)*c.breadth
		evals := (1 + p*c.breadth*c.depth) * len(val) * p
		fmt.Fprintf(c.budgetOut, "COPRO: %d predictor(s), breadth %d, depth %d, %d validation examples\n", p, c.breadth, c.depth, len(val))
		fmt.Fprintf(c.budgetOut, "Expected LM calls: at most %d to propose instructions (prompt model), %d for evaluations; at most %d in all\n",
			proposals, evals, proposals+evals)
	}
	evOpts := append(slices.Clone(c.base.eval), evaluate.WithDescription("candidate"))
	if c.base.maxErrors > 0 {
		evOpts = append(evOpts, evaluate.WithMaxErrors(c.base.maxErrors))
	}
	ev, err := evaluate.New(t.metric, evOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("teleprompter: %w", err)
	}
	ctx, span := startCompile(ctx, NameCOPRO, ev)
	defer func() { endCompile(span, compiled, err) }()

	rng := rand.New(rand.NewPCG(c.base.seed, 0x636f70726f))
	log = &TrialLog{Optimizer: NameCOPRO, Seed: c.base.seed, ValsetSize: len(val), Instructions: make(map[string][]string), Best: -1}
	own := make([][][]programs.Values, len(nps))
	for i, np := range nps {
		log.Predictors = append(log.Predictors, np.Name)
		own[i] = [][]programs.Values{np.Predictor.Demos()}
	}
	proposer := c.proposer
	if proposer == nil {
		proposer = NewGroundedProposer(c.promptModel)
	}
	prob := &searchProblem{student: student, nps: nps, keepDemos: true, demoSets: own}
	summary, calls, err := summarize(ctx, proposer, nps, trainset)
	log.ProposerCalls = calls
	if err != nil {
		return nil, log, err
	}
	prob.instructions, calls, err = proposeAll(ctx, proposer, c.tips, rng, nps, summary, own, c.breadth-1, c.temperature, nil)
	log.ProposerCalls += calls
	if err != nil {
		return nil, log, err
	}
	e := newEngine(prob, nil, ev, val, rng, log)
	e.concurrency = c.trialConcurrency
	e.bar = newTrialBar(c.progress, c.progressOut, NameCOPRO)
	e.bar.start(len(nps) * c.depth)
	defer e.bar.finish()

	current := make([]int, 2*len(nps))
	if err := e.fullEval(ctx, current); err != nil {
		return nil, log, err
	}
	scores := make([]map[int]float64, len(nps)) // predictor -> candidate -> latest score
	for i := range scores {
		scores[i] = make(map[int]float64)
	}
	for round := range c.depth {
		for i := range nps {
			var points [][]int
			for j := range prob.instructions[i] {
				x := slices.Clone(current)
				x[2*i] = j
				points = append(points, x)
			}
			outs, err := e.fullBatch(ctx, points)
			if err != nil {
				return nil, log, err
			}
			best, bestScore := current[2*i], -1.0
			for k, o := range outs {
				if !o.ok {
					continue
				}
				scores[i][points[k][2*i]] = o.trial.Score
				if o.trial.Score > bestScore {
					best, bestScore = points[k][2*i], o.trial.Score
				}
			}
			current[2*i] = best
			e.bar.add(e)
		}
		if round == c.depth-1 {
			break
		}
		previous := make([][]ScoredInstruction, len(nps))
		for i := range nps {
			for j, s := range scores[i] {
				previous[i] = append(previous[i], ScoredInstruction{Instruction: prob.instructions[i][j], Score: s})
			}
			slices.SortFunc(previous[i], func(a, b ScoredInstruction) int {
				switch {
				case a.Score > b.Score:
					return -1
				case a.Score < b.Score:
					return 1
				}
				return compareStrings(a.Instruction, b.Instruction)
			})
			previous[i] = previous[i][:min(len(previous[i]), 10)]
		}
		more, calls, err := proposeAll(ctx, proposer, c.tips, rng, nps, summary, own, c.breadth, c.temperature, previous)
		log.ProposerCalls += calls
		if err != nil {
			return nil, log, err
		}
		for i := range nps {
			for _, s := range more[i] {
				if !slices.Contains(prob.instructions[i], s) {
					prob.instructions[i] = append(prob.instructions[i], s)
				}
			}
		}
	}
	for i, np := range nps {
		log.Instructions[np.Name] = prob.instructions[i]
	}
	if e.bestPt == nil {
		return nil, log, fmt.Errorf("%w (%d trials)", ErrAllTrialsFailed, len(log.Trials))
	}
	prog, err := prob.build(e.bestPt)
	if err != nil {
		return nil, log, err
	}
	rep := Report{Teleprompter: NameCOPRO, Settings: map[string]any{
		"breadth": c.breadth, "depth": c.depth, "init_temperature": c.temperature,
		"seed": c.base.seed, "valset_size": len(val),
	}, Demos: demoCounts(prog)}
	for k, tr := range log.Trials {
		if tr.Reused {
			continue
		}
		if k == log.Best {
			rep.Best = len(rep.Candidates)
		}
		rep.Candidates = append(rep.Candidates, Candidate{Label: choiceLabel(tr.Choices), Seed: tr.Number, Score: tr.Score, Failed: tr.FailedExamples})
	}
	score := log.BestScore
	rep.Score = &score
	return NewCompiled(prog, rep), log, nil
}

// fullBatch fully evaluates points, concurrency at a time, reusing
// earlier full scores, and records them in order.
func (e *engine) fullBatch(ctx context.Context, points [][]int) ([]trialOutcome, error) {
	outs := make([]trialOutcome, len(points))
	for lo := 0; lo < len(points); lo += e.concurrency {
		hi := min(lo+e.concurrency, len(points))
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			if s, ok := e.full[pointKey(points[i])]; ok {
				outs[i] = trialOutcome{ok: true, trial: Trial{Kind: TrialFull, Choices: e.prob.choices(points[i]),
					Examples: len(e.valset), Score: s, Status: TrialOK, Reused: true}}
				continue
			}
			wg.Go(func() { outs[i], errs[i-lo] = e.evaluate(ctx, points[i], e.valset, TrialFull, e.number+i-lo) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for i := lo; i < hi; i++ {
			e.record(points[i], outs[i])
			outs[i].trial = e.log.Trials[len(e.log.Trials)-1]
		}
	}
	return outs, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
