package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// ErrAllTrialsFailed means every full evaluation of a search failed, so
// there is no program to return.
var ErrAllTrialsFailed = errors.New("teleprompter: every full evaluation failed")

// searchProblem is what a search chooses from: for each predictor of the
// student, instruction candidates and demo sets. A point of its space has
// two dimensions per predictor, in the student's order: the instruction,
// then the demo set.
type searchProblem struct {
	student      programs.Program
	nps          []programs.NamedPredictor
	instructions [][]string
	demoSets     [][][]programs.Values
	keepDemos    bool // the demo dimension is the student's own demos (COPRO)
}

func (p *searchProblem) space() Space {
	s := make(Space, 0, 2*len(p.nps))
	for i := range p.nps {
		d := 1
		if !p.keepDemos {
			d = len(p.demoSets[i])
		}
		s = append(s, len(p.instructions[i]), d)
	}
	return s
}

// build returns the student with the point's instructions and demos; the
// student is not modified.
func (p *searchProblem) build(x []int) (programs.Program, error) {
	replace := make(map[string]*programs.Predictor, len(p.nps))
	for i, np := range p.nps {
		q := np.Predictor.WithInstructions(p.instructions[i][x[2*i]])
		if !p.keepDemos {
			q = q.WithDemos(p.demoSets[i][x[2*i+1]])
		}
		replace[np.Name] = q
	}
	prog, err := programs.WithPredictors(p.student, replace)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	return prog, nil
}

func (p *searchProblem) choices(x []int) []Choice {
	out := make([]Choice, len(p.nps))
	for i, np := range p.nps {
		out[i] = Choice{Predictor: np.Name, Instruction: x[2*i], DemoSet: x[2*i+1]}
		if p.keepDemos {
			out[i].DemoSet = -1
		}
	}
	return out
}

func pointKey(x []int) string { return fmt.Sprint(x) }

// engine runs the trials of one search: the surrogate suggests points,
// the evaluator scores them on minibatches or on the whole validation
// set, and the best full score wins. It is used by one goroutine; the
// trials of a batch run concurrently, each in its own evaluator actors,
// and are recorded in order.
type engine struct {
	prob        *searchProblem
	surrogate   Surrogate // nil: the caller chooses the points (COPRO)
	ev          *evaluate.Evaluator
	valset      []dataset.Example
	trials      int
	minibatch   int // 0: every trial is a full evaluation
	fullEvery   int
	concurrency int
	rng         *rand.Rand
	log         *TrialLog
	bar         *trialBar

	history []Observation
	means   map[string]*pointMean
	seen    []string           // keys of means in first-seen order
	full    map[string]float64 // full scores by point
	worst   float64
	scored  bool
	bestKey string
	bestPt  []int
	best    float64
	number  int
}

// pointMean is the running mean of a point's minibatch scores.
type pointMean struct {
	point []int
	sum   float64
	n     int
}

func newEngine(prob *searchProblem, s Surrogate, ev *evaluate.Evaluator, valset []dataset.Example, rng *rand.Rand, log *TrialLog) *engine {
	return &engine{
		prob:        prob,
		surrogate:   s,
		ev:          ev,
		valset:      valset,
		fullEvery:   DefaultFullEvalSteps,
		concurrency: 1,
		rng:         rng,
		log:         log,
		means:       make(map[string]*pointMean),
		full:        make(map[string]float64),
	}
}

// outcome is one evaluated trial.
type trialOutcome struct {
	trial Trial
	ok    bool
	// budget is the refusal of an example by a budget (dspex.WithBudget),
	// which stops the search.
	budget error
}

// evaluate scores the program of x on examples. Its error is the
// context's only: a failing evaluation is a failed trial.
func (e *engine) evaluate(ctx context.Context, x []int, examples []dataset.Example, kind TrialKind, number int) (trialOutcome, error) {
	t := Trial{Kind: kind, Choices: e.prob.choices(x), Examples: len(examples)}
	prog, err := e.prob.build(x)
	if err != nil {
		t.Status, t.Error = TrialFailed, err.Error()
		return trialOutcome{trial: t}, nil
	}
	tctx, span := startTrial(ctx, number)
	res, err := e.ev.Run(tctx, prog, examples)
	endTrial(span, choiceLabel(t.Choices), res, err)
	if cerr := ctx.Err(); cerr != nil {
		return trialOutcome{}, fmt.Errorf("teleprompter: search: %w", cerr)
	}
	ran := res.Scored + res.Failed
	t.FailedExamples, t.Tokens, t.LMCalls = res.Failed, res.Usage.TotalTokens, ran*len(e.prob.nps)
	if berr := budgetRefusal(res); berr != nil {
		// Scored on the examples the budget let through only: not a
		// score to compare.
		t.Status, t.Error = TrialFailed, berr.Error()
		return trialOutcome{trial: t, budget: berr}, nil
	}
	switch {
	case err != nil:
		t.Status, t.Error = TrialFailed, err.Error()
	case res.Scored == 0:
		t.Status = TrialFailed
		t.Error = "every example failed"
		if f := res.Failures(); len(f) > 0 && f[0].Err != nil {
			t.Error += ": " + f[0].Err.Error()
		}
	default:
		t.Status, t.Score = TrialOK, res.Score
		return trialOutcome{trial: t, ok: true}, nil
	}
	return trialOutcome{trial: t}, nil
}

// record appends a trial to the log and feeds the surrogate.
func (e *engine) record(x []int, o trialOutcome) {
	o.trial.Number = e.number
	e.number++
	score := o.trial.Score
	if o.ok {
		if !e.scored || score < e.worst {
			e.worst = score
		}
		e.scored = true
	} else {
		score = e.liar() // a failed point counts as the worst seen
	}
	key := pointKey(x)
	if o.trial.Kind == TrialFull && o.ok && !o.trial.Reused {
		e.full[key] = o.trial.Score
		if e.bestPt == nil || o.trial.Score > e.best {
			e.best, e.bestPt, e.bestKey = o.trial.Score, slices.Clone(x), key
			o.trial.Best = true
			e.log.Best, e.log.BestScore = len(e.log.Trials), o.trial.Score
		}
	}
	if o.trial.Kind == TrialMinibatch && o.ok {
		m, ok := e.means[key]
		if !ok {
			m = &pointMean{point: slices.Clone(x)}
			e.means[key] = m
			e.seen = append(e.seen, key)
		}
		m.sum += o.trial.Score
		m.n++
	}
	if !o.trial.Reused {
		e.history = append(e.history, Observation{Point: slices.Clone(x), Score: score})
	}
	e.log.Trials = append(e.log.Trials, o.trial)
}

// liar is the provisional score of a pending or failed point: the worst
// score seen so far (0 before any).
func (e *engine) liar() float64 {
	if e.scored {
		return e.worst
	}
	return 0
}

// fullEval scores x on the whole validation set, reusing an earlier full
// score of the same point.
func (e *engine) fullEval(ctx context.Context, x []int) error {
	if s, ok := e.full[pointKey(x)]; ok {
		e.record(x, trialOutcome{ok: true, trial: Trial{Kind: TrialFull, Choices: e.prob.choices(x),
			Examples: len(e.valset), Score: s, Status: TrialOK, Reused: true}})
		return nil
	}
	o, err := e.evaluate(ctx, x, e.valset, TrialFull, e.number)
	if err != nil {
		return err
	}
	e.record(x, o)
	return nil
}

// fullEvalBest fully evaluates the point of best mean minibatch score not
// yet fully evaluated, if any (ties: the one seen first).
func (e *engine) fullEvalBest(ctx context.Context) error {
	var best *pointMean
	for _, k := range e.seen {
		if _, done := e.full[k]; done {
			continue
		}
		if m := e.means[k]; best == nil || m.sum/float64(m.n) > best.sum/float64(best.n) {
			best = m
		}
	}
	if best == nil {
		return nil
	}
	return e.fullEval(ctx, best.point)
}

// run makes the baseline full evaluation (the student's instructions with
// the first demo set), then the trials, with full evaluations of the best
// candidate every fullEvery minibatch trials and at the end. It returns
// the point of the best full score.
func (e *engine) run(ctx context.Context) ([]int, error) {
	space := e.prob.space()
	if err := space.validate(); err != nil {
		return nil, err
	}
	e.bar.start(e.trials)
	defer e.bar.finish()
	if err := e.fullEval(ctx, make([]int, len(space))); err != nil {
		return nil, err
	}
	e.bar.describe(e)
	for done := 0; done < e.trials; {
		if e.stopByBudget(ctx, nil) {
			return e.bestSoFar()
		}
		k := min(e.concurrency, e.trials-done)
		points, batches := e.suggest(space, k)
		kind := TrialFull
		if e.minibatch > 0 {
			kind = TrialMinibatch
		}
		outs := make([]trialOutcome, k)
		errs := make([]error, k)
		var wg sync.WaitGroup
		for i := range k {
			if kind == TrialFull {
				if s, ok := e.full[pointKey(points[i])]; ok {
					outs[i] = trialOutcome{ok: true, trial: Trial{Kind: TrialFull, Choices: e.prob.choices(points[i]),
						Examples: len(e.valset), Score: s, Status: TrialOK, Reused: true}}
					continue
				}
			}
			wg.Go(func() { outs[i], errs[i] = e.evaluate(ctx, points[i], batches[i], kind, e.number+i) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		fullDue := false
		stop := false
		for i := range k {
			e.record(points[i], outs[i])
			stop = e.stopByBudget(ctx, outs[i].budget) || stop
			done++
			e.bar.add(e)
			if e.minibatch > 0 && done%e.fullEvery == 0 {
				fullDue = true
			}
		}
		if stop {
			return e.bestSoFar()
		}
		if fullDue {
			if err := e.fullEvalBest(ctx); err != nil {
				return nil, err
			}
			e.bar.describe(e)
		}
	}
	if e.minibatch > 0 && !e.stopByBudget(ctx, nil) {
		if err := e.fullEvalBest(ctx); err != nil {
			return nil, err
		}
	}
	return e.bestSoFar()
}

// bestSoFar returns the point of the best full score; when a spent
// budget stopped the search before any full score, the student's own
// point (every choice 0).
func (e *engine) bestSoFar() ([]int, error) {
	if e.bestPt == nil && e.log.StoppedBy != "" {
		return make([]int, len(e.prob.space())), nil
	}
	if e.bestPt == nil {
		return nil, fmt.Errorf("%w (%d trials)", ErrAllTrialsFailed, len(e.log.Trials))
	}
	return e.bestPt, nil
}

// suggest returns k points, each with its examples. Points pending in the
// batch are shown to the surrogate with the liar score, so that a batch
// spreads out.
func (e *engine) suggest(space Space, k int) ([][]int, [][]dataset.Example) {
	history := slices.Clone(e.history)
	points := make([][]int, k)
	batches := make([][]dataset.Example, k)
	for i := range k {
		x := e.surrogate.Suggest(space, history, e.rng)
		if !space.contains(x) {
			x = space.random(e.rng)
		}
		points[i] = x
		history = append(history, Observation{Point: x, Score: e.liar()})
		batches[i] = e.valset
		if e.minibatch > 0 {
			idx := e.rng.Perm(len(e.valset))[:e.minibatch]
			slices.Sort(idx)
			batch := make([]dataset.Example, len(idx))
			for j, v := range idx {
				batch[j] = e.valset[v]
			}
			batches[i] = batch
		}
	}
	return points, batches
}

// trialBar is the progress bar over trials, or nothing.
type trialBar struct {
	bar  *progressbar.ProgressBar
	w    io.Writer
	name string
}

func newTrialBar(mode progressMode, w io.Writer, name string) *trialBar {
	b := &trialBar{name: name}
	switch mode {
	case progressOff:
		return b
	case progressOn:
		b.w = w
	default:
		if !term.IsTerminal(int(os.Stderr.Fd())) {
			return b
		}
		b.w = os.Stderr
	}
	return b
}

func (b *trialBar) start(n int) {
	if b == nil || b.w == nil {
		return
	}
	w := b.w
	b.bar = progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(b.name+" trials"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(80*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

func (b *trialBar) describe(e *engine) {
	if b == nil || b.bar == nil {
		return
	}
	desc := b.name + " trials"
	if e.bestPt != nil {
		desc += fmt.Sprintf(" best %.1f%%", 100*e.best)
	}
	b.bar.Describe(desc)
}

func (b *trialBar) add(e *engine) {
	if b == nil || b.bar == nil {
		return
	}
	b.describe(e)
	_ = b.bar.Add(1)
}

// moveTo moves the bar to n, with a description; GEPA and SIMBA use it.
func (b *trialBar) moveTo(n int, desc string) {
	if b == nil || b.bar == nil {
		return
	}
	b.bar.Describe(b.name + " " + desc)
	_ = b.bar.Set(n)
}

func (b *trialBar) finish() {
	if b == nil || b.bar == nil {
		return
	}
	_ = b.bar.Finish()
}

// choiceLabel describes a point for reports: each predictor's instruction
// and demo-set candidate.
func choiceLabel(cs []Choice) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		if c.DemoSet < 0 {
			parts[i] = fmt.Sprintf("%s: instruction %d", c.Predictor, c.Instruction)
		} else {
			parts[i] = fmt.Sprintf("%s: instruction %d, demo set %d", c.Predictor, c.Instruction, c.DemoSet)
		}
	}
	return strings.Join(parts, "; ")
}
