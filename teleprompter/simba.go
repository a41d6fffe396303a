package teleprompter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
)

// NameSIMBA is SIMBA's name, as reports and errors spell it.
const NameSIMBA = "SIMBA"

// SIMBA's defaults.
const (
	// DefaultMaxSteps is how many steps SIMBA takes.
	DefaultMaxSteps = 8
	// DefaultSIMBABatchSize is how many training examples a SIMBA step
	// samples.
	DefaultSIMBABatchSize = 8
	// DefaultSIMBACandidates is how many trajectories SIMBA runs per
	// example, and how many buckets it learns from per step.
	DefaultSIMBACandidates = 4
	// DefaultSIMBADemos caps the demos SIMBA gives a predictor.
	DefaultSIMBADemos = 4
)

// The softmax temperatures SIMBA samples programs at, and the LM
// temperature of the trajectories after the first of each example.
const (
	simbaSampleTemperature     = 0.2
	simbaTrajectoryTemperature = 0.7
)

// RuleSignature is the signature of SIMBA's rule program: it compares a
// better and a worse trajectory of the same example and writes a rule to
// append to a predictor's instruction.
const RuleSignature = "current_instruction, better_trajectory, worse_trajectory -> rule"

const ruleInstructions = "Two runs of the same step of a language-model program on the same input scored " +
	"differently. Compare the better and the worse run, with their feedback, and write one short rule that, " +
	"added to the current instruction, makes the step behave like the better run."

// SIMBA improves a program by stochastic introspective mini-batch ascent
// (DSPy's SIMBA). Every iteration samples a minibatch of training examples and
// runs each example several times, each time through a program of the
// pool chosen by a softmax over the programs' scores, at varied LM
// temperatures; it buckets the runs by example and ranks the buckets by
// the spread of their scores. For each of the top buckets it derives a new
// program from a softmax-chosen one, either appending the best run's
// trace as demos or asking a reflection LM to compare the best and worst
// runs and write a rule appended to the instructions. The new programs are
// scored on the same minibatch and join the pool; at the end the best
// programs by minibatch score (and the student) are scored on the
// validation set and the best is returned.
//
// Every run goes through evaluator actors (package evaluate); with a
// deterministic LM and the same seed the result is reproducible.
//
// A SIMBA is immutable and safe for concurrent use.
type SIMBA struct {
	metric FeedbackMetric
	cfg    reflectConfig
}

// NewSIMBA returns a SIMBA judging with metric (FeedbackOf turns a plain
// metric into one). Options: WithMaxSteps, WithBatchSize,
// WithNumCandidates (trajectories per example, default 4),
// WithMaxBootstrappedDemos (demos per predictor, default 4),
// WithReflectionLM, WithValset, WithSeed, WithMaxErrors,
// WithEvaluateOptions.
func NewSIMBA(metric FeedbackMetric, opts ...SIMBAOption) (*SIMBA, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: SIMBA: nil metric")
	}
	cfg := defaultReflectConfig(NameSIMBA)
	if err := applyOptions(&cfg, opts, SIMBAOption.applySIMBA); err != nil {
		return nil, err
	}
	if cfg.base.numCandidates < 2 {
		return nil, fmt.Errorf("teleprompter: SIMBA needs at least 2 candidates per example, got %d", cfg.base.numCandidates)
	}
	return &SIMBA{metric: metric, cfg: cfg}, nil
}

// simbaCandidate is one program of SIMBA's pool.
type simbaCandidate struct {
	instr  map[string]string
	demos  map[string][]programs.Values
	scores []float64 // every minibatch score it got
	label  string
}

func (c *simbaCandidate) mean() float64 { return mean(c.scores) }

// trajectory is one run of an example by a pool program.
type trajectory struct {
	cand     int
	score    float64
	row      int // index in run
	run      *batchRun
	feedback Feedback
}

// Compile runs SIMBA and returns the best program by validation score.
// Its report lists the programs scored on the validation set (Candidates),
// the steps (Trials) and the metric calls spent.
func (s *SIMBA) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, err error) {
	ctx, r, end, err := openReflect(ctx, s.cfg, 0x51b4, s.metric, student, trainset)
	if err != nil {
		return nil, err
	}
	defer func() { end(compiled, err) }()
	instr, demos := r.seedState()
	pool := []*simbaCandidate{{instr: instr, demos: demos, label: "student"}}
	names := slices.Sorted(maps.Keys(instr))
	batches := newBatcher(trainset, s.cfg.minibatch, r.rng)
	var trials []ReflectTrial
	// A progress bar over the steps, on terminals only.
	bar := newTrialBar(progressAuto, nil, NameSIMBA)
	bar.start(s.cfg.maxSteps)
	defer bar.finish()
	for step := range s.cfg.maxSteps {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		bar.moveTo(step, fmt.Sprintf("steps, pool %d", len(pool)))
		var t ReflectTrial
		next, t, err := s.step(ctx, r, pool, names, batches.next(), step)
		if r.stopAt(err) {
			break // the pool as it was before the step
		}
		if err != nil {
			return nil, err
		}
		pool = next
		trials = append(trials, t)
	}
	cands, best, err := s.finals(ctx, r, pool)
	if r.stopAt(err) {
		// No budget to score the finalists on the validation set: the
		// best by minibatch score stands.
		cands, best = s.byMinibatch(pool)
	} else if err != nil {
		return nil, err
	}
	c := pool[cands[best].Seed]
	return r.compiled(c.instr, c.demos, cands, best, trials, map[string]any{"pool_size": len(pool)})
}

// step runs the pool on batch, buckets the trajectories by example, and
// derives a new program from each of the top buckets, adding those not
// already in the pool with their score on the batch.
func (s *SIMBA) step(ctx context.Context, r *reflectRun, pool []*simbaCandidate, names []string, batch []dataset.Example,
	step int) ([]*simbaCandidate, ReflectTrial, error) {
	t := ReflectTrial{N: step, Kind: "step", Candidate: -1}
	buckets, err := s.trajectories(ctx, r, pool, batch, step, r.rng)
	if err != nil {
		return nil, t, err
	}
	slices.SortStableFunc(buckets, func(a, b []trajectory) int {
		return cmp.Or(cmp.Compare(spread(b), spread(a)), cmp.Compare(b[0].score, a[0].score))
	})
	var added []int
	for _, bk := range buckets[:min(len(buckets), s.cfg.base.numCandidates)] {
		best, worst := bk[0], bk[len(bk)-1]
		if best.score <= 0 {
			continue
		}
		src := pool[softmaxSample(r.rng, pool, simbaSampleTemperature)]
		cand := &simbaCandidate{instr: maps.Clone(src.instr), demos: maps.Clone(src.demos)}
		if spread(bk) > 0 && r.rng.IntN(2) == 0 {
			if err := s.addRules(ctx, r, cand, src, names, best, worst); err != nil {
				return nil, t, err
			}
			cand.label = fmt.Sprintf("step %d rule", step)
		} else {
			s.addDemos(cand, names, best)
			cand.label = fmt.Sprintf("step %d demo", step)
		}
		if slices.ContainsFunc(pool, func(c *simbaCandidate) bool { return sameCandidate(c, cand) }) {
			continue
		}
		run, err := r.minibatch(ctx, step, cand.instr, cand.demos, batch, false)
		if err != nil {
			return nil, t, err
		}
		cand.scores = append(cand.scores, run.sum()/float64(len(batch)))
		pool = append(pool, cand)
		added = append(added, len(pool)-1)
	}
	t.Note = fmt.Sprintf("%d buckets, %d new programs %v", len(buckets), len(added), added)
	t.MetricCalls = r.calls
	return pool, t, nil
}

// addRules appends to each of cand's instructions a rule the reflection
// LM draws from the better and the worse trajectory.
func (s *SIMBA) addRules(ctx context.Context, r *reflectRun, cand, src *simbaCandidate, names []string, best, worst trajectory) error {
	for _, name := range names {
		rule, err := r.rule(ctx, name, src.instr[name], best, worst)
		if err != nil {
			return err
		}
		if rule != "" && !strings.Contains(cand.instr[name], rule) {
			cand.instr[name] = strings.TrimSpace(cand.instr[name] + " " + rule)
		}
	}
	return nil
}

// addDemos appends the best trajectory's trace to cand's demos, keeping
// the last maxBootstrapped of each predictor.
func (s *SIMBA) addDemos(cand *simbaCandidate, names []string, best trajectory) {
	row := best.run.rows[best.row]
	for _, name := range names {
		e, ok := entryOf(best.run.prog, row.Trace, name)
		if !ok {
			continue
		}
		d := make(programs.Values, len(e.Inputs)+len(e.Outputs))
		maps.Copy(d, e.Inputs)
		maps.Copy(d, e.Outputs)
		demos := append(slices.Clone(cand.demos[name]), d)
		if limit := s.cfg.base.maxBootstrapped; len(demos) > limit {
			demos = demos[len(demos)-limit:]
		}
		cand.demos[name] = demos
	}
}

// byMinibatch lists the pool as candidates scored by their mean
// minibatch score, with the index of the best (the first among equals).
func (s *SIMBA) byMinibatch(pool []*simbaCandidate) ([]Candidate, int) {
	cands := make([]Candidate, len(pool))
	best := 0
	for i, c := range pool {
		cands[i] = Candidate{Label: c.label, Seed: i, Score: c.mean(), Demos: demoCountsOf(c.demos)}
		if cands[i].Score > cands[best].Score {
			best = i
		}
	}
	return cands, best
}

// finals scores the student and the best programs by minibatch score on
// the validation set and returns them as candidates (Seed is the pool
// index) with the index of the best.
func (s *SIMBA) finals(ctx context.Context, r *reflectRun, pool []*simbaCandidate) ([]Candidate, int, error) {
	order := make([]int, len(pool))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pool[b].mean(), pool[a].mean()) })
	finalists := []int{0}
	for _, i := range order {
		if len(finalists) > s.cfg.base.numCandidates {
			break
		}
		if i != 0 {
			finalists = append(finalists, i)
		}
	}
	var cands []Candidate
	best, bestScore := -1, 0.0
	for k, i := range finalists {
		sc, err := r.full(ctx, s.cfg.maxSteps+k, pool[i].instr, pool[i].demos)
		if err != nil {
			return nil, 0, err
		}
		m := mean(sc)
		cands = append(cands, Candidate{Label: pool[i].label, Seed: i, Score: m, Demos: demoCountsOf(pool[i].demos)})
		if best < 0 || m > bestScore {
			best, bestScore = k, m
		}
	}
	return cands, best, nil
}

// trajectories runs every example of batch numCandidates times, each time
// through a program of the pool chosen by softmax (the first run of an
// example at temperature 0, the others at simbaTrajectoryTemperature and
// their own rollout), records each run's score in its program, and returns
// the runs bucketed by example, best first.
func (s *SIMBA) trajectories(ctx context.Context, r *reflectRun, pool []*simbaCandidate, batch []dataset.Example,
	step int, rng *rand.Rand) ([][]trajectory, error) {
	type slot struct{ cand, j int }
	assign := make(map[slot][]int) // (program, trajectory index) -> examples
	for i := range batch {
		for j := range s.cfg.base.numCandidates {
			c := softmaxSample(rng, pool, simbaSampleTemperature)
			assign[slot{c, j}] = append(assign[slot{c, j}], i)
		}
	}
	keys := slices.SortedFunc(maps.Keys(assign), func(a, b slot) int { return cmp.Or(cmp.Compare(a.j, b.j), cmp.Compare(a.cand, b.cand)) })
	buckets := make([][]trajectory, len(batch))
	for _, k := range keys {
		c := pool[k.cand]
		prog, err := r.program(c.instr, c.demos)
		if err != nil {
			return nil, err
		}
		if k.j > 0 {
			rollout := step*s.cfg.base.numCandidates + k.j
			prog, err = programs.MapPredictors(prog, func(_ string, p *programs.Predictor) (*programs.Predictor, error) {
				return p.WithOptions(programs.WithTemperature(simbaTrajectoryTemperature), programs.WithRollout(rollout))
			})
			if err != nil {
				return nil, fmt.Errorf("teleprompter: %w", err)
			}
		}
		exs := make([]dataset.Example, len(assign[k]))
		for x, i := range assign[k] {
			exs[x] = batch[i]
		}
		run, err := r.run(ctx, step, prog, exs, true, "trajectories")
		if err != nil {
			return nil, err
		}
		for x, i := range assign[k] {
			sc := run.rows[x].Score
			c.scores = append(c.scores, sc)
			buckets[i] = append(buckets[i], trajectory{cand: k.cand, score: sc, row: x, run: &run, feedback: run.feedback[x]})
		}
	}
	for _, b := range buckets {
		slices.SortStableFunc(b, func(x, y trajectory) int { return cmp.Compare(y.score, x.score) })
	}
	return buckets, nil
}

// softmaxSample picks a pool index with probability proportional to
// exp(mean score / temperature).
func softmaxSample(rng *rand.Rand, pool []*simbaCandidate, temperature float64) int {
	w := make([]float64, len(pool))
	top := math.Inf(-1)
	for _, c := range pool {
		top = max(top, c.mean())
	}
	total := 0.0
	for i, c := range pool {
		w[i] = math.Exp((c.mean() - top) / temperature)
		total += w[i]
	}
	x := rng.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(pool) - 1
}

// spread is the gap between a bucket's best and worst scores.
func spread(b []trajectory) float64 {
	if len(b) == 0 {
		return 0
	}
	return b[0].score - b[len(b)-1].score
}

func sameCandidate(a, b *simbaCandidate) bool {
	if !maps.Equal(a.instr, b.instr) || len(a.demos) != len(b.demos) {
		return false
	}
	for k, d := range a.demos {
		if fmt.Sprint(d) != fmt.Sprint(b.demos[k]) {
			return false
		}
	}
	return true
}

func demoCountsOf(demos map[string][]programs.Values) map[string]int {
	out := make(map[string]int, len(demos))
	for k, d := range demos {
		out[k] = len(d)
	}
	return out
}
