package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// BootstrapFewShot compiles a student by running a teacher (by default the
// student itself, given labelled demos) on the training examples and
// keeping the traces of the runs the metric passes as demos, per predictor
// (DSPy's BootstrapFewShot). Labelled examples fill up the demos to
// WithMaxLabeledDemos.
//
// The teacher runs in evaluator actors (package evaluate), so a failing or
// panicking example only costs that example. Later rounds (WithMaxRounds)
// retry the examples that did not pass at a fresh rollout and temperature
// 1.0, so a response cache does not return the same miss.
//
// A BootstrapFewShot is immutable and safe for concurrent use.
type BootstrapFewShot struct {
	metric evaluate.Metric
	cfg    config
}

// NewBootstrapFewShot returns a BootstrapFewShot judging traces with
// metric (a float or bool function; see WithMetricThreshold). Options:
// WithMaxBootstrappedDemos, WithMaxLabeledDemos, WithMaxRounds,
// WithMetricThreshold, WithTeacher, WithMaxErrors, WithEvaluateOptions,
// WithSeed.
func NewBootstrapFewShot[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...BootstrapFewShotOption) (*BootstrapFewShot, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: BootstrapFewShot: nil metric")
	}
	cfg, err := newConfig(NameBootstrapFewShot, opts, BootstrapFewShotOption.applyBootstrap)
	if err != nil {
		return nil, err
	}
	return &BootstrapFewShot{metric: evaluate.MetricOf(metric), cfg: cfg}, nil
}

// Compile returns a copy of student with bootstrapped and labelled demos.
// It fails if the student has no predictors, if the teacher's predictors
// are not the student's, if ctx ends, or if the teacher run stopped after
// WithMaxErrors failures.
func (t *BootstrapFewShot) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	return compileBootstrap(ctx, t.cfg, t.metric, student, trainset)
}

func compileBootstrap(ctx context.Context, cfg config, metric evaluate.Metric, student programs.Program, trainset []dataset.Example) (compiled *Compiled, err error) {
	ctx, span := startCompile(ctx, NameBootstrapFewShot, evaluatorFor(metric, cfg.eval))
	defer func() { endCompile(span, compiled, err) }()
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, err
	}
	boot, err := bootstrapTraces(ctx, &cfg, metric, student, nps, trainset, cfg.maxBootstrapped)
	if err != nil {
		return nil, err
	}
	selected := boot.selected(cfg.maxBootstrapped)
	used := make(map[int]bool, len(selected))
	for _, i := range selected {
		used[i] = true
	}
	// Labelled fill-up from the examples that gave no demo.
	var rest []dataset.Example
	for i, ex := range trainset {
		if !used[i] {
			rest = append(rest, ex)
		}
	}
	rest = dataset.Shuffle(rest, cfg.uintSeed())
	demos := make(map[string][]programs.Values, len(nps))
	for _, np := range nps {
		var aug []programs.Values
		for _, i := range selected {
			if d, ok := boot.demos[i][np.Name]; ok && len(aug) < cfg.maxBootstrapped {
				aug = append(aug, d)
			}
		}
		for _, ex := range rest {
			if len(aug) >= cfg.maxLabeled {
				break
			}
			aug = append(aug, ex.Values())
		}
		demos[np.Name] = aug
	}
	prog, counts, err := withDemos(student, nps, demos)
	if err != nil {
		return nil, err
	}
	return NewCompiled(prog, Report{
		Teleprompter: NameBootstrapFewShot,
		Settings:     cfg.bootstrapSettings(),
		Demos:        counts,
		Bootstrapped: len(selected),
		Attempted:    boot.attempted,
		StoppedBy:    boot.stoppedBy,
	}), nil
}

func (c *config) bootstrapSettings() map[string]any {
	s := map[string]any{
		"max_bootstrapped_demos": c.maxBootstrapped,
		"max_labeled_demos":      c.maxLabeled,
		"max_rounds":             c.maxRounds,
		"max_errors":             c.maxErrors,
		"seed":                   c.seed,
		"teacher":                "student",
	}
	if c.threshold != nil {
		s["metric_threshold"] = *c.threshold
	}
	if c.teacher != nil {
		s["teacher"] = fmt.Sprintf("%T", unwrap(c.teacher))
	}
	return s
}

// bootstrapped is what a teacher run produced.
type bootstrapped struct {
	// demos maps a passing example's index to one demo per predictor name.
	demos map[int]map[string]programs.Values
	// attempted counts the examples the teacher ran on.
	attempted int
	// stoppedBy says why bootstrapping stopped early: a spent budget.
	stoppedBy string
}

// selected returns the indices of the first n passing examples, in
// training-set order (all of them when n < 0).
func (b bootstrapped) selected(n int) []int {
	idx := slices.Sorted(maps.Keys(b.demos))
	if n >= 0 && len(idx) > n {
		idx = idx[:n]
	}
	return idx
}

// bootstrapTraces runs the teacher on the training examples, in chunks in
// training-set order, until want examples passed (want < 0: all examples),
// each example up to cfg.maxRounds times.
func bootstrapTraces(ctx context.Context, cfg *config, metric evaluate.Metric, student programs.Program,
	nps []programs.NamedPredictor, trainset []dataset.Example, want int) (bootstrapped, error) {
	out := bootstrapped{demos: make(map[int]map[string]programs.Values)}
	if want == 0 || len(trainset) == 0 {
		return out, nil
	}
	teacher, err := prepareTeacher(cfg, student, nps, trainset)
	if err != nil {
		return out, err
	}
	opts := append(slices.Clone(cfg.eval), evaluate.WithTraces(), evaluate.WithDescription("bootstrap"))
	if cfg.maxErrors > 0 {
		opts = append(opts, evaluate.WithMaxErrors(cfg.maxErrors))
	}
	ev, err := evaluate.New(metric, opts...)
	if err != nil {
		return out, fmt.Errorf("teleprompter: %w", err)
	}
	names := make([]string, len(nps))
	for i, np := range nps {
		names[i] = np.Name
	}
	chunk := len(trainset)
	if want > 0 {
		chunk = max(2*want, 16)
	}
	for lo := 0; lo < len(trainset); lo += chunk {
		idx := make([]int, 0, chunk)
		for i := lo; i < min(lo+chunk, len(trainset)); i++ {
			idx = append(idx, i)
		}
		out.attempted += len(idx)
		for round := 0; round < cfg.maxRounds && len(idx) > 0; round++ {
			if out.stoppedBy = budgetSpent(ctx); out.stoppedBy != "" {
				return out, nil // the demos found so far
			}
			run, err := teacher.forRound(round)
			if err != nil {
				return out, err
			}
			exs := make([]dataset.Example, len(idx))
			for j, i := range idx {
				exs[j] = trainset[i]
			}
			tctx, trial := startTrial(ctx, round)
			res, err := ev.Run(tctx, run, exs)
			endTrial(trial, "bootstrap round", res, err)
			if err != nil {
				return out, fmt.Errorf("teleprompter: bootstrap round %d: %w", round, err)
			}
			var failed []int
			for j, row := range res.Rows {
				i := idx[j]
				if row.Status != evaluate.Scored || !cfg.passes(row.Score) {
					failed = append(failed, i)
					continue
				}
				demos := run.demos(row.Trace, names)
				if len(demos) == 0 {
					failed = append(failed, i)
					continue
				}
				out.demos[i] = demos
			}
			if out.stoppedBy = budgetReason(budgetRefusal(res)); out.stoppedBy != "" {
				return out, nil // the demos found so far
			}
			idx = failed
		}
		if want > 0 && len(out.demos) >= want {
			break
		}
	}
	return out, nil
}

// teacher is the program whose traces become demos, with the bookkeeping
// that maps a traced predictor back to its name.
type teacher struct {
	prog programs.Program
	nps  []programs.NamedPredictor
}

// prepareTeacher returns the teacher: cfg.teacher or the student, given
// labelled demos (as DSPy does) when it has none of its own and is not
// already compiled. Its predictors must have the student's names.
func prepareTeacher(cfg *config, student programs.Program, nps []programs.NamedPredictor, trainset []dataset.Example) (*teacher, error) {
	prog := student
	compiled := false
	if cfg.teacher != nil {
		_, compiled = cfg.teacher.(*Compiled)
		prog = unwrap(cfg.teacher)
	}
	tnps, err := predictorsOf(prog)
	if err != nil {
		return nil, err
	}
	if !sameNames(nps, tnps) {
		return nil, fmt.Errorf("teleprompter: the teacher's predictors %v are not the student's %v", namesOf(tnps), namesOf(nps))
	}
	hasDemos := false
	for _, np := range tnps {
		hasDemos = hasDemos || len(np.Predictor.Demos()) > 0
	}
	if !compiled && !hasDemos && cfg.maxLabeled > 0 {
		demos := labeledDemos(trainset, cfg.maxLabeled, cfg.uintSeed())
		byName := make(map[string][]programs.Values, len(tnps))
		for _, np := range tnps {
			byName[np.Name] = demos
		}
		if prog, _, err = withDemos(prog, tnps, byName); err != nil {
			return nil, err
		}
		if tnps, err = predictorsOf(prog); err != nil {
			return nil, err
		}
	}
	return &teacher{prog: prog, nps: tnps}, nil
}

func sameNames(a, b []programs.NamedPredictor) bool {
	return slices.Equal(namesOf(a), namesOf(b))
}

func namesOf(nps []programs.NamedPredictor) []string {
	out := make([]string, len(nps))
	for i, np := range nps {
		out[i] = np.Name
	}
	slices.Sort(out)
	return out
}

// teacherRun is the teacher as run in one round: round 0 as is, later rounds
// at rollout = round and temperature 1.0. For each example it leaves out the
// demos that are that very example (DSPy does the same), so the teacher does
// not copy the answer from its prompt.
type teacherRun struct {
	base  programs.Program
	nps   []programs.NamedPredictor
	round int
	names sync.Map // *programs.Predictor -> name, for every variant run
}

func (t *teacher) forRound(round int) (*teacherRun, error) {
	run := &teacherRun{base: t.prog, nps: t.nps, round: round}
	if round == 0 {
		for _, np := range t.nps {
			run.names.Store(np.Predictor, np.Name)
		}
		return run, nil
	}
	base, err := run.variant(nil)
	if err != nil {
		return nil, err
	}
	run.base = base
	if run.nps, err = predictorsOf(base); err != nil {
		return nil, err
	}
	return run, nil
}

// variant returns the round's program with the rollout settings (for
// rounds after the first) and without demos matching inputs (if given).
func (r *teacherRun) variant(inputs programs.Values) (programs.Program, error) {
	return programs.MapPredictors(r.base, func(name string, p *programs.Predictor) (*programs.Predictor, error) {
		q := p
		if inputs != nil {
			kept := slices.DeleteFunc(p.Demos(), func(d programs.Values) bool { return isDemoOf(d, inputs) })
			q = q.WithDemos(kept)
		}
		if r.round > 0 && inputs == nil {
			var err error
			if q, err = q.WithOptions(programs.WithRollout(r.round), programs.WithTemperature(1.0)); err != nil {
				return nil, err
			}
		}
		r.names.Store(q, name)
		return q, nil
	})
}

// Forward runs the teacher on inputs.
func (r *teacherRun) Forward(ctx context.Context, inputs programs.Values) (programs.Prediction, error) {
	prog := r.base
	if r.hasDemoOf(inputs) {
		var err error
		if prog, err = r.variant(inputs); err != nil {
			return programs.Prediction{}, err
		}
	}
	return prog.Forward(ctx, inputs)
}

func (r *teacherRun) hasDemoOf(inputs programs.Values) bool {
	for _, np := range r.nps {
		for _, d := range np.Predictor.Demos() {
			if isDemoOf(d, inputs) {
				return true
			}
		}
	}
	return false
}

// isDemoOf reports whether demo d holds exactly these inputs.
func isDemoOf(d, inputs programs.Values) bool {
	if len(inputs) == 0 {
		return false
	}
	for k, v := range inputs {
		w, ok := d[k]
		if !ok || !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

// demos turns a successful run's trace into one demo per predictor name:
// the inputs and outputs of the predictor's last call, marked
// "augmented": true as DSPy's BootstrapFewShot marks the demos it builds
// from traces (dspy/teleprompt/bootstrap.py at stanfordnlp/dspy 4ed377ee),
// which programs.SaveDSPy writes and MIPROv2's proposer looks for.
func (r *teacherRun) demos(trace []programs.TraceEntry, names []string) map[string]programs.Values {
	out := make(map[string]programs.Values)
	for _, e := range trace {
		name, ok := r.nameOf(e.Predictor, names)
		if !ok {
			continue
		}
		d := make(programs.Values, len(e.Inputs)+len(e.Outputs)+1)
		d["augmented"] = true
		maps.Copy(d, e.Inputs)
		maps.Copy(d, e.Outputs)
		out[name] = d
	}
	return out
}

// nameOf finds the name of a traced predictor: by identity with a
// predictor the run built, else by its own name, else by its signature
// when exactly one of the teacher's predictors has it.
func (r *teacherRun) nameOf(p *programs.Predictor, names []string) (string, bool) {
	if p == nil {
		return "", false
	}
	if n, ok := r.names.Load(p); ok {
		return n.(string), true
	}
	if slices.Contains(names, p.Name()) {
		return p.Name(), true
	}
	found := ""
	for _, np := range r.nps {
		if np.Predictor.Signature().Equal(p.Signature()) {
			if found != "" {
				return "", false
			}
			found = np.Name
		}
	}
	return found, found != ""
}
