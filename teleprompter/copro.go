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
func NewCOPRO[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...COPROOption) (*COPRO, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: COPRO: nil metric")
	}
	cfg := defaultInstructConfig(NameCOPRO)
	if err := applyOptions(&cfg, opts, COPROOption.applyCOPRO); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
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
	t.reportBudget(ctx, nps, val, len(val))
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

	r := &coproRun{cfg: c, nps: nps, rng: rand.New(rand.NewPCG(c.base.uintSeed(), 0x636f70726f)), proposer: c.proposer}
	r.log = &TrialLog{Optimizer: NameCOPRO, Seed: c.base.seed, ValsetSize: len(val), Instructions: make(map[string][]string), Best: -1}
	if r.proposer == nil {
		r.proposer = NewGroundedProposer(c.promptModel)
	}
	if err := r.propose(ctx, student, trainset); err != nil {
		return nil, r.log, err
	}
	r.e = newEngine(r.prob, nil, ev, val, r.rng, r.log)
	r.e.concurrency = c.trialConcurrency
	r.e.bar = newTrialBar(c.progress, c.progressOut, NameCOPRO)
	r.e.bar.start(len(nps) * c.depth)
	defer r.e.bar.finish()
	if err := r.ascend(ctx); err != nil {
		return nil, r.log, err
	}
	compiled, err = r.compiled(len(val))
	return compiled, r.log, err
}

// reportBudget prints the search plan and the expected LM calls, when
// WithBudgetReport asks for them.
func (t *COPRO) reportBudget(ctx context.Context, nps []programs.NamedPredictor, trainset []dataset.Example, valset int) {
	c := &t.cfg
	if c.budgetOut == nil {
		return
	}
	p := len(nps)
	proposals := 1 + p*(c.breadth-1) + p*(c.depth-1)*c.breadth
	evals := (1 + p*c.breadth*c.depth) * valset * p
	fmt.Fprintf(c.budgetOut, "COPRO: %d predictor(s), breadth %d, depth %d, %d validation examples\n", p, c.breadth, c.depth, valset)
	fmt.Fprintf(c.budgetOut, "Expected LM calls: at most %d to propose instructions (prompt model), %d for evaluations; at most %d in all\n",
		proposals, evals, proposals+evals)
	printCostEstimate(ctx, c.budgetOut, nps, trainset, len(nps[0].Predictor.Demos()), proposals+evals)
}

// coproRun is the state of one COPRO compilation.
type coproRun struct {
	cfg      *instructConfig
	nps      []programs.NamedPredictor
	rng      *rand.Rand
	proposer Proposer
	log      *TrialLog
	prob     *searchProblem
	e        *engine
	summary  string
	own      [][][]programs.Values // each predictor's own demos, its only demo set
}

// propose summarizes the training set and proposes the first breadth-1
// instructions of every predictor.
func (r *coproRun) propose(ctx context.Context, student programs.Program, trainset []dataset.Example) error {
	r.own = make([][][]programs.Values, len(r.nps))
	for i, np := range r.nps {
		r.log.Predictors = append(r.log.Predictors, np.Name)
		r.own[i] = [][]programs.Values{np.Predictor.Demos()}
	}
	r.prob = &searchProblem{student: student, nps: r.nps, keepDemos: true, demoSets: r.own}
	summary, calls, err := summarize(ctx, r.proposer, r.nps, trainset)
	r.log.ProposerCalls = calls
	if err != nil {
		return err
	}
	r.summary = summary
	r.prob.instructions, calls, err = proposeAll(ctx, r.proposer, r.cfg.tips, r.rng, r.nps, summary, r.own, r.cfg.breadth-1, r.cfg.temperature, nil)
	r.log.ProposerCalls += calls
	return err
}

// ascend scores the student, then for depth rounds takes the predictors
// one at a time, scores each of their candidates with the others at their
// best so far and keeps the best, and between rounds proposes breadth
// more instructions from the scored ones.
func (r *coproRun) ascend(ctx context.Context) error {
	current := make([]int, 2*len(r.nps))
	defer func() {
		for i, np := range r.nps {
			r.log.Instructions[np.Name] = r.prob.instructions[i]
		}
	}()
	if err := r.e.fullEval(ctx, current); err != nil {
		return err
	}
	if r.e.stopByBudget(ctx, nil) {
		return nil
	}
	scores := make([]map[int]float64, len(r.nps)) // predictor -> candidate -> latest score
	for i := range scores {
		scores[i] = make(map[int]float64)
	}
	for round := range r.cfg.depth {
		for i := range r.nps {
			best, err := r.bestOf(ctx, current, i, scores[i])
			if err != nil {
				return err
			}
			current[2*i] = best
			r.e.bar.add(r.e)
			if r.e.stopByBudget(ctx, nil) {
				return nil
			}
		}
		if round == r.cfg.depth-1 {
			break
		}
		if err := r.proposeMore(ctx, scores); err != nil {
			return err
		}
	}
	return nil
}

// bestOf scores every instruction of predictor i with the others at
// current, records the scores, and returns the best instruction's index.
func (r *coproRun) bestOf(ctx context.Context, current []int, i int, scores map[int]float64) (int, error) {
	var points [][]int
	for j := range r.prob.instructions[i] {
		x := slices.Clone(current)
		x[2*i] = j
		points = append(points, x)
	}
	outs, err := r.e.fullBatch(ctx, points)
	if err != nil {
		return 0, err
	}
	best, bestScore := current[2*i], -1.0
	for k, o := range outs {
		if !o.ok {
			continue
		}
		scores[points[k][2*i]] = o.trial.Score
		if o.trial.Score > bestScore {
			best, bestScore = points[k][2*i], o.trial.Score
		}
	}
	return best, nil
}

// proposeMore proposes breadth more instructions per predictor from the
// ten best scored so far, and adds the new ones.
func (r *coproRun) proposeMore(ctx context.Context, scores []map[int]float64) error {
	previous := make([][]ScoredInstruction, len(r.nps))
	for i := range r.nps {
		for j, s := range scores[i] {
			previous[i] = append(previous[i], ScoredInstruction{Instruction: r.prob.instructions[i][j], Score: s})
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
	more, calls, err := proposeAll(ctx, r.proposer, r.cfg.tips, r.rng, r.nps, r.summary, r.own, r.cfg.breadth, r.cfg.temperature, previous)
	r.log.ProposerCalls += calls
	if err != nil {
		return err
	}
	for i := range r.nps {
		for _, s := range more[i] {
			if !slices.Contains(r.prob.instructions[i], s) {
				r.prob.instructions[i] = append(r.prob.instructions[i], s)
			}
		}
	}
	return nil
}

// compiled builds the best program and its report.
func (r *coproRun) compiled(valset int) (*Compiled, error) {
	best, err := r.e.bestSoFar()
	if err != nil {
		return nil, err
	}
	prog, err := r.prob.build(best)
	if err != nil {
		return nil, err
	}
	c := r.cfg
	rep := Report{Teleprompter: NameCOPRO, Settings: map[string]any{
		"breadth": c.breadth, "depth": c.depth, "init_temperature": c.temperature,
		"seed": c.base.seed, "valset_size": valset,
	}, Demos: demoCounts(prog)}
	for k, tr := range r.log.Trials {
		if tr.Reused {
			continue
		}
		if k == r.log.Best {
			rep.Best = len(rep.Candidates)
		}
		rep.Candidates = append(rep.Candidates, Candidate{Label: choiceLabel(tr.Choices), Seed: tr.Number, Score: tr.Score, Failed: tr.FailedExamples})
	}
	if r.log.Best >= 0 {
		score := r.log.BestScore
		rep.Score = &score
	}
	rep.StoppedBy = r.log.StoppedBy
	return NewCompiled(prog, rep), nil
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
