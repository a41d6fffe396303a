package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
)

// NameGEPA is GEPA's name, as reports and errors spell it.
const NameGEPA = "GEPA"

// GEPA's defaults.
const (
	// DefaultReflectionMinibatchSize is how many training examples GEPA runs a
	// candidate on before and after a reflection.
	DefaultReflectionMinibatchSize = 3
	// DefaultMaxMergeInvocations is how many merges GEPA tries.
	DefaultMaxMergeInvocations = 5
)

// ReflectionSignature is the signature of GEPA's reflection program: it
// reads one predictor's current instruction and examples of its inputs,
// outputs and the metric's feedback, and writes a better instruction.
const ReflectionSignature = "current_instruction, examples_with_feedback -> improved_instruction"

const reflectionInstructions = "You improve the instruction of one step of a language-model program. " +
	"Read the current instruction and the examples, which show the step's inputs, the outputs it generated " +
	"and feedback on the result. Write an improved instruction that fixes what the feedback points out " +
	"and keeps what works."

// GEPA evolves the instructions of a program's predictors by reflection
// (DSPy's GEPA). It keeps a pool of candidate programs with their scores
// on every validation example; each iteration picks a candidate from the
// per-example Pareto frontier (weighted by how many examples it is best
// on), picks one of its predictors round robin, runs the candidate on a
// minibatch of training examples recording traces and feedback
// (FeedbackMetric), and asks a reflection LM for a better instruction of
// that predictor. When the new candidate does better on the same
// minibatch it is scored on the whole validation set and joins the pool.
// Merges combine two candidates that improved different predictors of a
// common ancestor. The candidate with the best mean validation score is
// returned.
//
// The budget is exactly one of WithAuto, WithMaxFullEvals and
// WithMaxMetricCalls, counted in metric calls (examples scored). Every
// evaluation runs in evaluator actors (package evaluate).
//
// A GEPA is immutable and safe for concurrent use.
type GEPA struct {
	metric FeedbackMetric
	cfg    reflectConfig
}

// NewGEPA returns a GEPA judging with metric. Options: one of WithAuto,
// WithMaxFullEvals, WithMaxMetricCalls (required), WithReflectionLM,
// WithReflectionMinibatchSize, WithMaxMergeInvocations, WithValset, WithSeed,
// WithMaxErrors, WithEvaluateOptions.
func NewGEPA(metric FeedbackMetric, opts ...GEPAOption) (*GEPA, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: GEPA: nil metric")
	}
	cfg := defaultReflectConfig(NameGEPA)
	if err := applyOptions(&cfg, opts, GEPAOption.applyGEPA); err != nil {
		return nil, err
	}
	if n := len(cfg.budgets); n != 1 {
		return nil, fmt.Errorf("teleprompter: GEPA needs exactly one of WithAuto, WithMaxFullEvals, WithMaxMetricCalls (got %d: %v)", n, cfg.budgets)
	}
	return &GEPA{metric: metric, cfg: cfg}, nil
}

// Compile runs the search and returns the best candidate. Its report lists
// the pool (Candidates, with mean validation scores), the trial log
// (Trials) and the metric calls spent (Settings["metric_calls"]).
func (g *GEPA) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, err error) {
	ctx, r, end, err := openReflect(ctx, g.cfg, 0x6e9a, g.metric, student, trainset)
	if err != nil {
		return nil, err
	}
	defer func() { end(compiled, err) }()
	s := &gepaSearch{r: r, budget: g.cfg.budget(len(r.valset)), merges: g.cfg.merges,
		next: map[int]int{}, tried: map[[2]int]bool{}}
	if err := s.seed(ctx); err != nil {
		if r.stopAt(err) {
			return r.unoptimized(s.trials), nil
		}
		return nil, err
	}
	if err := s.search(ctx); err != nil && !r.stopAt(err) {
		return nil, err
	}
	best := s.pool.best()
	return r.compiled(s.pool.cands[best].instr, nil, s.candidates(), best, s.trials,
		map[string]any{"budget_metric_calls": s.budget})
}

// gepaSearch is the state of one GEPA compilation.
type gepaSearch struct {
	r       *reflectRun
	budget  int // metric calls
	merges  int // merges left
	pool    candidatePool
	trials  []ReflectTrial
	names   []string        // predictor names, sorted
	next    map[int]int     // candidate -> round-robin position
	tried   map[[2]int]bool // merged pairs
	batches *batcher
}

// seed scores the student on the validation set as the pool's first
// candidate.
func (s *gepaSearch) seed(ctx context.Context) error {
	instr, _ := s.r.seedState()
	scores, err := s.r.full(ctx, 0, instr, nil)
	if err != nil {
		return err
	}
	s.pool.add(poolCandidate{instr: instr, scores: scores})
	m := s.pool.cands[0].mean()
	s.trials = append(s.trials, ReflectTrial{Kind: "seed", Score: &m, MetricCalls: s.r.calls})
	s.names = slices.Sorted(maps.Keys(instr))
	s.batches = newBatcher(s.r.trainset, s.r.cfg.minibatch, s.r.rng)
	return nil
}

// search merges or reflects until the budget is spent, with a progress
// bar over the metric calls on terminals.
func (s *gepaSearch) search(ctx context.Context) error {
	bar := newTrialBar(progressAuto, nil, NameGEPA)
	bar.start(s.budget)
	defer bar.finish()
	for n := 1; s.r.calls < s.budget; n++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		bar.moveTo(min(s.r.calls, s.budget), fmt.Sprintf("metric calls, pool %d, best %.1f%%", len(s.pool.cands), 100*s.pool.cands[s.pool.best()].mean()))
		var (
			t    ReflectTrial
			stop bool
			err  error
		)
		if instr, pair, ok := s.mergeable(); ok {
			t, stop, err = s.merge(ctx, n, instr, pair)
		} else {
			t, stop, err = s.reflect(ctx, n)
		}
		if err != nil {
			return err
		}
		if t.Kind != "" {
			s.trials = append(s.trials, t)
		}
		if stop {
			return nil
		}
	}
	return nil
}

// mergeable returns the next merge to try, when merges are left.
func (s *gepaSearch) mergeable() (map[string]string, [2]int, bool) {
	if s.merges <= 0 || len(s.pool.cands) <= 2 {
		return nil, [2]int{}, false
	}
	return s.pool.merge(s.tried)
}

// merge scores the merge of pair on the validation set and keeps it when
// it does no worse than either parent. stop means the budget is spent.
func (s *gepaSearch) merge(ctx context.Context, n int, instr map[string]string, pair [2]int) (t ReflectTrial, stop bool, err error) {
	s.tried[pair] = true
	s.merges--
	t = ReflectTrial{N: n, Kind: "merge", Parents: pair[:], Candidate: -1}
	if s.r.calls+len(s.r.valset) > s.budget {
		t.Note, t.MetricCalls = "budget exhausted", s.r.calls
		return t, true, nil
	}
	scores, err := s.r.full(ctx, n, instr, nil)
	if err != nil {
		return t, false, err
	}
	c := poolCandidate{instr: instr, parents: pair[:], scores: scores}
	m := c.mean()
	t.Score = &m
	if m >= max(s.pool.cands[pair[0]].mean(), s.pool.cands[pair[1]].mean()) {
		t.Candidate, t.Note = s.pool.add(c), "merged"
	} else {
		t.Note = "merge scored below a parent"
	}
	t.MetricCalls = s.r.calls
	return t, false, nil
}

// reflect samples a parent from the Pareto frontier, rewrites the
// instruction of its next predictor from a minibatch run's feedback, and
// keeps the child when it does better on the same minibatch and so is
// scored on the validation set. An empty trial (Kind "") is not logged.
// stop means the budget is spent.
func (s *gepaSearch) reflect(ctx context.Context, n int) (t ReflectTrial, stop bool, err error) {
	parent := s.pool.sample(s.r.rng)
	name := s.names[s.next[parent]%len(s.names)]
	s.next[parent]++
	t = ReflectTrial{N: n, Kind: "reflect", Parents: []int{parent}, Predictor: name, Candidate: -1}
	batch := s.batches.next()
	if s.r.calls+len(batch) > s.budget {
		return ReflectTrial{}, true, nil
	}
	pinstr := s.pool.cands[parent].instr
	run, err := s.r.minibatch(ctx, n, pinstr, nil, batch, true)
	if err != nil {
		return t, false, err
	}
	t.Before = run.sum()
	if run.perfect() {
		t.Note, t.After, t.MetricCalls = "perfect minibatch", t.Before, s.r.calls
		return t, false, nil
	}
	improved, err := s.r.reflect(ctx, name, pinstr[name], run)
	if err != nil {
		return t, false, err
	}
	child := maps.Clone(pinstr)
	child[name] = improved
	if improved == "" || improved == pinstr[name] || s.pool.has(child) {
		t.Note, t.After, t.MetricCalls = "no new instruction", t.Before, s.r.calls
		return t, false, nil
	}
	if s.r.calls+len(batch) > s.budget {
		t.Note, t.After, t.MetricCalls = "budget exhausted before the new candidate's minibatch", t.Before, s.r.calls
		return t, true, nil
	}
	after, err := s.r.minibatch(ctx, n, child, nil, batch, false)
	if err != nil {
		return t, false, err
	}
	t.After = after.sum()
	if t.After <= t.Before {
		t.Note, t.MetricCalls = "no better on the minibatch", s.r.calls
		return t, false, nil
	}
	if s.r.calls+len(s.r.valset) > s.budget {
		t.Note, t.MetricCalls = "budget exhausted before the full evaluation", s.r.calls
		return t, true, nil
	}
	scores, err := s.r.full(ctx, n, child, nil)
	if err != nil {
		return t, false, err
	}
	c := poolCandidate{instr: child, parents: []int{parent}, scores: scores}
	m := c.mean()
	t.Score, t.Candidate, t.Note, t.MetricCalls = &m, s.pool.add(c), "accepted", s.r.calls
	return t, false, nil
}

// candidates lists the pool for the report.
func (s *gepaSearch) candidates() []Candidate {
	cands := make([]Candidate, len(s.pool.cands))
	for i, c := range s.pool.cands {
		label := "seed"
		if len(c.parents) == 1 {
			label = fmt.Sprintf("reflect parent=%d", c.parents[0])
		} else if len(c.parents) == 2 {
			label = fmt.Sprintf("merge parents=%d,%d", c.parents[0], c.parents[1])
		}
		cands[i] = Candidate{Label: label, Seed: i, Score: c.mean()}
	}
	return cands
}
