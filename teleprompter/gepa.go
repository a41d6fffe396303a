package teleprompter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
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

// The auto budgets of WithAutoBudget: how many new candidates GEPA budgets for.
var autoCandidates = map[string]int{"light": 6, "medium": 12, "heavy": 18}

// ReflectionSignature is the signature of GEPA's reflection program: it
// reads one predictor's current instruction and examples of its inputs,
// outputs and the metric's feedback, and writes a better instruction.
const ReflectionSignature = "current_instruction, examples_with_feedback -> improved_instruction"

const reflectionInstructions = "You improve the instruction of one step of a language-model program. " +
	"Read the current instruction and the examples: each gives the step's inputs, the outputs it generated " +
	"and feedback on the result. Write an improved instruction that fixes what the feedback points out " +
	"and keeps what works."

// ErrNoReflectionLM means GEPA or SIMBA has no LM to reflect with: neither
// WithReflectionLM nor an LM in the context (lm.NewContext).
var ErrNoReflectionLM = errors.New("teleprompter: no reflection LM (WithReflectionLM or lm.NewContext)")

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
// The budget is exactly one of WithAutoBudget, WithMaxFullEvals and
// WithMaxMetricCalls, counted in metric calls (examples scored). Every
// evaluation runs in evaluator actors (package evaluate).
//
// A GEPA is immutable and safe for concurrent use.
type GEPA struct {
	metric FeedbackMetric
	cfg    reflectConfig
}

// NewGEPA returns a GEPA judging with metric. Options: one of WithAutoBudget,
// WithMaxFullEvals, WithMaxMetricCalls (required), WithReflectionLM,
// WithReflectionMinibatchSize, WithMaxMergeInvocations, WithValset, WithSeed,
// WithMaxErrors, WithEvaluateOptions.
func NewGEPA(metric FeedbackMetric, opts ...Option) (*GEPA, error) {
	if metric == nil {
		return nil, errors.New("teleprompter: GEPA: nil metric")
	}
	cfg, err := newReflectConfig(NameGEPA, opts)
	if err != nil {
		return nil, err
	}
	if n := len(cfg.budgets); n != 1 {
		return nil, fmt.Errorf("teleprompter: GEPA needs exactly one of WithAutoBudget, WithMaxFullEvals, WithMaxMetricCalls (got %d: %v)", n, cfg.budgets)
	}
	return &GEPA{metric: metric, cfg: cfg}, nil
}

// ReflectTrial is one step of an instruction search (GEPA, SIMBA), as the report
// logs it under the setting "trials".
type ReflectTrial struct {
	// N numbers the trials from 0.
	N int `json:"n"`
	// Kind is "seed", "reflect", "merge" (GEPA), or "step" (SIMBA).
	Kind string `json:"kind"`
	// Parents are the pool indices the trial started from.
	Parents []int `json:"parents,omitempty"`
	// Predictor names the predictor whose instruction was rewritten.
	Predictor string `json:"predictor,omitempty"`
	// Before and After are the minibatch scores (sums) of the parent and
	// the new candidate.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Score is the new candidate's validation score, when it was scored.
	Score *float64 `json:"score,omitempty"`
	// Candidate is the new candidate's pool index, or -1 when it was
	// not kept.
	Candidate int `json:"candidate"`
	// Note says why the trial ended as it did.
	Note string `json:"note,omitempty"`
	// MetricCalls is the running count of metric calls after the trial.
	MetricCalls int `json:"metric_calls"`
}

// Compile runs the search and returns the best candidate. Its report lists
// the pool (Candidates, with mean validation scores), the trial log
// (Settings["trials"], a []ReflectTrial) and the metric calls spent
// (Settings["metric_calls"]).
func (g *GEPA) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, err error) {
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, err
	}
	if len(trainset) == 0 {
		return nil, errors.New("teleprompter: GEPA: empty training set")
	}
	valset := g.cfg.valset
	if valset == nil {
		valset = trainset
	}
	r, err := newReflectRun(ctx, g.cfg, g.metric, student, nps)
	if err != nil {
		return nil, err
	}
	ctx, span := startCompile(ctx, NameGEPA, evaluatorFor(g.metric.Metric(), g.cfg.eval))
	defer func() { endCompile(span, compiled, err) }()

	budget := g.cfg.budget(len(valset))
	rng := rand.New(rand.NewPCG(g.cfg.seed, 0x6e9a))
	var pool candidatePool
	var trials []ReflectTrial
	seedInstr := make(map[string]string, len(nps))
	for _, np := range nps {
		seedInstr[np.Name] = np.Predictor.Instructions()
	}
	scores, err := r.full(ctx, 0, seedInstr, nil, valset)
	if err != nil {
		return nil, err
	}
	pool.add(poolCandidate{instr: seedInstr, scores: scores})
	seedMean := pool.cands[0].mean()
	trials = append(trials, ReflectTrial{Kind: "seed", Score: &seedMean, MetricCalls: r.calls})

	names := slices.Sorted(maps.Keys(seedInstr))
	next := map[int]int{}      // candidate -> round-robin position
	tried := map[[2]int]bool{} // merged pairs
	merges := g.cfg.merges     // merges left
	batches := newBatcher(trainset, g.cfg.minibatch, rng)
	// A progress bar over the metric-call budget, on terminals only.
	bar := newTrialBar(progressAuto, nil, NameGEPA)
	bar.start(budget)
	defer bar.finish()
	for n := 1; r.calls < budget; n++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		bar.moveTo(min(r.calls, budget), fmt.Sprintf("metric calls, pool %d, best %.1f%%", len(pool.cands), 100*pool.cands[pool.best()].mean()))
		if merges > 0 && len(pool.cands) > 2 {
			if instr, pair, ok := pool.merge(tried); ok {
				tried[pair] = true
				merges--
				t := ReflectTrial{N: n, Kind: "merge", Parents: pair[:], Candidate: -1}
				if r.calls+len(valset) > budget {
					t.Note, t.MetricCalls = "budget exhausted", r.calls
					trials = append(trials, t)
					break
				}
				s, err := r.full(ctx, n, instr, nil, valset)
				if err != nil {
					return nil, err
				}
				c := poolCandidate{instr: instr, parents: pair[:], scores: s}
				m := c.mean()
				t.Score = &m
				if m >= max(pool.cands[pair[0]].mean(), pool.cands[pair[1]].mean()) {
					t.Candidate, t.Note = pool.add(c), "merged"
				} else {
					t.Note = "merge scored below a parent"
				}
				t.MetricCalls = r.calls
				trials = append(trials, t)
				continue
			}
		}
		parent := pool.sample(rng)
		name := names[next[parent]%len(names)]
		next[parent]++
		t := ReflectTrial{N: n, Kind: "reflect", Parents: []int{parent}, Predictor: name, Candidate: -1}
		batch := batches.next()
		if r.calls+len(batch) > budget {
			break
		}
		pinstr := pool.cands[parent].instr
		run, err := r.minibatch(ctx, n, pinstr, nil, batch, true)
		if err != nil {
			return nil, err
		}
		t.Before = run.sum()
		if run.perfect() {
			t.Note, t.After, t.MetricCalls = "perfect minibatch", t.Before, r.calls
			trials = append(trials, t)
			continue
		}
		improved, err := r.reflect(ctx, name, pinstr[name], run)
		if err != nil {
			return nil, err
		}
		child := maps.Clone(pinstr)
		child[name] = improved
		if improved == "" || improved == pinstr[name] || pool.has(child) {
			t.Note, t.After, t.MetricCalls = "no new instruction", t.Before, r.calls
			trials = append(trials, t)
			continue
		}
		if r.calls+len(batch) > budget {
			t.Note, t.After, t.MetricCalls = "budget exhausted before the new candidate's minibatch", t.Before, r.calls
			trials = append(trials, t)
			break
		}
		after, err := r.minibatch(ctx, n, child, nil, batch, false)
		if err != nil {
			return nil, err
		}
		t.After = after.sum()
		if t.After <= t.Before {
			t.Note, t.MetricCalls = "no better on the minibatch", r.calls
			trials = append(trials, t)
			continue
		}
		if r.calls+len(valset) > budget {
			t.Note, t.MetricCalls = "budget exhausted before the full evaluation", r.calls
			trials = append(trials, t)
			break
		}
		s, err := r.full(ctx, n, child, nil, valset)
		if err != nil {
			return nil, err
		}
		c := poolCandidate{instr: child, parents: []int{parent}, scores: s}
		m := c.mean()
		t.Score, t.Candidate, t.Note, t.MetricCalls = &m, pool.add(c), "accepted", r.calls
		trials = append(trials, t)
	}

	best := pool.best()
	prog, err := r.program(pool.cands[best].instr, nil)
	if err != nil {
		return nil, err
	}
	cands := make([]Candidate, len(pool.cands))
	for i, c := range pool.cands {
		label := "seed"
		if len(c.parents) == 1 {
			label = fmt.Sprintf("reflect parent=%d", c.parents[0])
		} else if len(c.parents) == 2 {
			label = fmt.Sprintf("merge parents=%d,%d", c.parents[0], c.parents[1])
		}
		cands[i] = Candidate{Label: label, Seed: i, Score: c.mean()}
	}
	score := pool.cands[best].mean()
	settings := g.cfg.settings()
	settings["valset_size"] = len(valset)
	settings["metric_calls"] = r.calls
	settings["budget_metric_calls"] = budget
	settings["trials"] = trials
	return NewCompiled(prog, Report{
		Teleprompter: NameGEPA,
		Settings:     settings,
		Demos:        demoCounts(prog),
		Score:        &score,
		Candidates:   cands,
		Best:         best,
	}), nil
}

// batcher hands out minibatches of a training set, reshuffling it each
// epoch with the search's random source.
type batcher struct {
	set   []dataset.Example
	order []int
	pos   int
	size  int
	rng   *rand.Rand
}

func newBatcher(set []dataset.Example, size int, rng *rand.Rand) *batcher {
	return &batcher{set: set, size: min(size, len(set)), rng: rng}
}

func (b *batcher) next() []dataset.Example {
	out := make([]dataset.Example, 0, b.size)
	for len(out) < b.size {
		if b.pos >= len(b.order) {
			b.order = b.rng.Perm(len(b.set))
			b.pos = 0
		}
		out = append(out, b.set[b.order[b.pos]])
		b.pos++
	}
	return out
}

// reflectRun is the state GEPA and SIMBA share during a compilation: the
// student, the metric calls spent, and the reflection predictors.
type reflectRun struct {
	cfg       reflectConfig
	metric    FeedbackMetric
	student   programs.Program
	nps       []programs.NamedPredictor
	reflector *programs.Predictor
	ruler     *programs.Predictor
	calls     int
}

func newReflectRun(ctx context.Context, cfg reflectConfig, metric FeedbackMetric, student programs.Program, nps []programs.NamedPredictor) (*reflectRun, error) {
	var popts []programs.Option
	if cfg.reflectionLM != nil {
		popts = append(popts, programs.WithLM(cfg.reflectionLM))
	} else if _, ok := lm.FromContext(ctx); !ok {
		return nil, ErrNoReflectionLM
	}
	sig, err := signature.Parse(ReflectionSignature)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	reflector, err := programs.NewPredictFrom(sig.WithInstructions(reflectionInstructions), append(popts, programs.WithName("reflect"))...)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	rsig, err := signature.Parse(RuleSignature)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	ruler, err := programs.NewPredictFrom(rsig.WithInstructions(ruleInstructions), append(popts, programs.WithName("rule"))...)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	return &reflectRun{cfg: cfg, metric: metric, student: student, nps: nps, reflector: reflector, ruler: ruler}, nil
}

// program returns the student with these instructions and, when demos is
// not nil, these demos (by predictor name).
func (r *reflectRun) program(instr map[string]string, demos map[string][]programs.Values) (programs.Program, error) {
	p, err := programs.MapPredictors(r.student, func(name string, p *programs.Predictor) (*programs.Predictor, error) {
		q := p
		if s, ok := instr[name]; ok && s != p.Instructions() {
			q = q.WithInstructions(s)
		}
		if demos != nil {
			q = q.WithDemos(demos[name])
		}
		return q, nil
	})
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	return p, nil
}

// batchRun is a program's run on some examples: rows, in order, with each
// row's feedback.
type batchRun struct {
	rows     []evaluate.Row
	feedback []Feedback
	prog     programs.Program
}

func (b batchRun) sum() float64 {
	s := 0.0
	for _, r := range b.rows {
		s += r.Score
	}
	return s
}

func (b batchRun) perfect() bool {
	for _, r := range b.rows {
		if r.Status != evaluate.Scored || r.Score < 1 {
			return false
		}
	}
	return true
}

// full scores a candidate on the validation set and returns the scores.
func (r *reflectRun) full(ctx context.Context, n int, instr map[string]string, demos map[string][]programs.Values, valset []dataset.Example) ([]float64, error) {
	prog, err := r.program(instr, demos)
	if err != nil {
		return nil, err
	}
	run, err := r.run(ctx, n, prog, valset, false, "validation")
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(run.rows))
	for i, row := range run.rows {
		out[i] = row.Score
	}
	return out, nil
}

// minibatch runs a candidate on a minibatch, with traces when asked.
func (r *reflectRun) minibatch(ctx context.Context, n int, instr map[string]string, demos map[string][]programs.Values, batch []dataset.Example, traces bool) (batchRun, error) {
	prog, err := r.program(instr, demos)
	if err != nil {
		return batchRun{}, err
	}
	return r.run(ctx, n, prog, batch, traces, "minibatch")
}

// run evaluates prog on exs in evaluator actors, capturing the metric's
// feedback, and counts the metric calls.
func (r *reflectRun) run(ctx context.Context, n int, prog programs.Program, exs []dataset.Example, traces bool, desc string) (batchRun, error) {
	var mu sync.Mutex
	byKey := make(map[string]Feedback, len(exs))
	metric := func(ex dataset.Example, pred programs.Prediction, tr *programs.Trace) float64 {
		f := r.metric(ex, pred, tr)
		mu.Lock()
		byKey[exampleKey(ex)] = f
		mu.Unlock()
		return f.Score
	}
	opts := append(slices.Clone(r.cfg.eval), evaluate.WithDescription(desc))
	if traces {
		opts = append(opts, evaluate.WithTraces())
	}
	if r.cfg.maxErrors > 0 {
		opts = append(opts, evaluate.WithMaxErrors(r.cfg.maxErrors))
	}
	ev, err := evaluate.New(metric, opts...)
	if err != nil {
		return batchRun{}, fmt.Errorf("teleprompter: %w", err)
	}
	tctx, trial := startTrial(ctx, n)
	res, err := ev.Run(tctx, prog, exs)
	endTrial(trial, desc, res, err)
	r.calls += res.Scored + res.Failed
	if err != nil {
		return batchRun{}, fmt.Errorf("teleprompter: %s run: %w", desc, err)
	}
	out := batchRun{rows: res.Rows, feedback: make([]Feedback, len(res.Rows)), prog: prog}
	mu.Lock()
	defer mu.Unlock()
	for i, row := range res.Rows {
		if f, ok := byKey[exampleKey(row.Example)]; ok && row.Status == evaluate.Scored {
			out.feedback[i] = f
			continue
		}
		out.feedback[i] = Feedback{Score: row.Score, Text: fmt.Sprintf("The program failed: %v", row.Err)}
	}
	return out, nil
}

// exampleKey identifies an example within one run: its id and inputs.
func exampleKey(ex dataset.Example) string {
	in, _ := json.Marshal(ex.Inputs())
	return ex.ID() + "\x00" + string(in)
}

// reflect asks the reflection LM for a better instruction of the named
// predictor, from the minibatch run's traces and feedback.
func (r *reflectRun) reflect(ctx context.Context, name, current string, run batchRun) (string, error) {
	var b strings.Builder
	for i := range run.rows {
		fmt.Fprintf(&b, "# Example %d\n", i+1)
		b.WriteString(r.describe(run, i, name))
		fmt.Fprintf(&b, "Feedback: %s\n\n", oneLine(run.feedback[i].For(name)))
	}
	pred, err := r.reflector.Forward(ctx, programs.Values{
		"current_instruction":    current,
		"examples_with_feedback": strings.TrimSpace(b.String()),
	})
	if err != nil {
		return "", fmt.Errorf("teleprompter: reflection: %w", err)
	}
	s, _ := pred.Values["improved_instruction"].(string)
	return strings.TrimSpace(s), nil
}

// describe writes the inputs and outputs of the named predictor's last
// call in row i (the program's inputs and prediction when the trace does
// not show it).
func (r *reflectRun) describe(run batchRun, i int, name string) string {
	row := run.rows[i]
	in, out := programs.Values(row.Example.Inputs()), row.Prediction.Values
	if e, ok := entryOf(run.prog, row.Trace, name); ok {
		in, out = e.Inputs, e.Outputs
	}
	var b strings.Builder
	b.WriteString("Inputs:\n")
	writeValues(&b, in)
	b.WriteString("Generated outputs:\n")
	writeValues(&b, out)
	return b.String()
}

// entryOf returns the last trace entry of the predictor named name in
// prog: by identity, else by predictor name, else by signature when one
// predictor has it.
func entryOf(prog programs.Program, trace []programs.TraceEntry, name string) (programs.TraceEntry, bool) {
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		return programs.TraceEntry{}, false
	}
	var want *programs.Predictor
	for _, np := range nps {
		if np.Name == name {
			want = np.Predictor
		}
	}
	if want == nil {
		return programs.TraceEntry{}, false
	}
	sameSig := 0
	for _, np := range nps {
		if np.Predictor.Signature().Equal(want.Signature()) {
			sameSig++
		}
	}
	for i := len(trace) - 1; i >= 0; i-- {
		p := trace[i].Predictor
		if p == want || p != nil && p.Name() != "" && p.Name() == name ||
			p != nil && sameSig == 1 && p.Signature().Equal(want.Signature()) {
			return trace[i], true
		}
	}
	return programs.TraceEntry{}, false
}

func writeValues(b *strings.Builder, v programs.Values) {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		fmt.Fprintf(b, "  %s: %s\n", k, oneLine(fmt.Sprint(v[k])))
	}
}

// oneLine joins s's lines with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// reflectConfig holds GEPA's and SIMBA's settings.
type reflectConfig struct {
	kind          string
	seed          uint64
	eval          []evaluate.Option
	valset        []dataset.Example
	maxErrors     int
	reflectionLM  lm.LM
	minibatch     int
	budgets       []string
	auto          string
	maxFullEvals  int
	maxCalls      int
	merges        int
	maxSteps      int
	numCandidates int
	maxDemos      int
}

// reflectOption is an option of GEPA or SIMBA only.
type reflectOption struct {
	name  string
	kinds []string
	set   func(*reflectConfig) error
}

func (o reflectOption) apply(c *config) error {
	return fmt.Errorf("teleprompter: %s does not apply to %s (only to %s)", o.name, c.kind, strings.Join(o.kinds, ", "))
}

// reflectSharedOptions are the general options GEPA and SIMBA take, with what
// they copy from the general configuration.
var reflectSharedOptions = map[string]struct {
	kinds []string
	copy  func(from *config, to *reflectConfig)
}{
	"WithSeed":            {[]string{NameGEPA, NameSIMBA}, func(f *config, t *reflectConfig) { t.seed = f.seed }},
	"WithEvaluateOptions": {[]string{NameGEPA, NameSIMBA}, func(f *config, t *reflectConfig) { t.eval = append(t.eval, f.eval...) }},
	"WithValset":          {[]string{NameGEPA, NameSIMBA}, func(f *config, t *reflectConfig) { t.valset = f.valset }},
	"WithMaxErrors":       {[]string{NameGEPA, NameSIMBA}, func(f *config, t *reflectConfig) { t.maxErrors = f.maxErrors }},
	"WithNumCandidates":   {[]string{NameSIMBA}, func(f *config, t *reflectConfig) { t.numCandidates = f.numCandidates }},
	"WithMaxBootstrappedDemos": {[]string{NameSIMBA}, func(f *config, t *reflectConfig) {
		t.maxDemos = f.maxBootstrapped
	}},
}

func newReflectConfig(kind string, opts []Option) (reflectConfig, error) {
	c := reflectConfig{kind: kind, minibatch: DefaultReflectionMinibatchSize, merges: DefaultMaxMergeInvocations,
		maxSteps: DefaultMaxSteps, numCandidates: DefaultSIMBACandidates, maxDemos: DefaultSIMBADemos}
	if kind == NameSIMBA {
		c.minibatch = DefaultSIMBABatchSize
	}
	for _, o := range opts {
		switch x := o.(type) {
		case nil:
			return c, errors.New("teleprompter: nil option")
		case reflectOption:
			if !slices.Contains(x.kinds, kind) {
				return c, fmt.Errorf("teleprompter: %s does not apply to %s (only to %s)", x.name, kind, strings.Join(x.kinds, ", "))
			}
			if err := x.set(&c); err != nil {
				return c, err
			}
		case option:
			sh, ok := reflectSharedOptions[x.name]
			if !ok || !slices.Contains(sh.kinds, kind) {
				return c, fmt.Errorf("teleprompter: %s does not apply to %s", x.name, kind)
			}
			tmp := config{kind: x.kinds[0]}
			if err := x.set(&tmp); err != nil {
				return c, err
			}
			sh.copy(&tmp, &c)
		default:
			return c, fmt.Errorf("teleprompter: option %T does not apply to %s", o, kind)
		}
	}
	return c, nil
}

// budget returns the metric calls GEPA may spend with a validation set of
// n examples: WithMaxMetricCalls as given; WithMaxFullEvals times n; for
// WithAutoBudget, the seed's evaluation plus, per budgeted candidate, one full
// evaluation and five minibatch proposals (two minibatch runs each).
func (c *reflectConfig) budget(n int) int {
	switch {
	case c.maxCalls > 0:
		return c.maxCalls
	case c.maxFullEvals > 0:
		return c.maxFullEvals * n
	default:
		k := autoCandidates[c.auto]
		return n + k*(n+5*2*c.minibatch)
	}
}

func (c *reflectConfig) settings() map[string]any {
	s := map[string]any{"seed": c.seed, "max_errors": c.maxErrors}
	switch c.kind {
	case NameGEPA:
		s["reflection_minibatch_size"] = c.minibatch
		s["max_merge_invocations"] = c.merges
		switch {
		case c.auto != "":
			s["auto"] = c.auto
		case c.maxFullEvals > 0:
			s["max_full_evals"] = c.maxFullEvals
		default:
			s["max_metric_calls"] = c.maxCalls
		}
	case NameSIMBA:
		s["bsize"] = c.minibatch
		s["max_steps"] = c.maxSteps
		s["num_candidates"] = c.numCandidates
		s["max_demos"] = c.maxDemos
	}
	return s
}

// WithAutoBudget sets GEPA's budget by level: "light", "medium" or "heavy"
// budget for 6, 12 or 18 new candidates (see GEPA.Compile's report for
// the metric calls it makes). GEPA.
func WithAutoBudget(level string) Option {
	return reflectOption{"WithAutoBudget", []string{NameGEPA}, func(c *reflectConfig) error {
		if _, ok := autoCandidates[level]; !ok {
			return fmt.Errorf("teleprompter: WithAutoBudget(%q): want light, medium or heavy", level)
		}
		c.auto = level
		c.budgets = append(c.budgets, "WithAutoBudget")
		return nil
	}}
}

// WithMaxFullEvals sets GEPA's budget to n evaluations of the whole
// validation set, counted in metric calls (n times its size, the seed's
// evaluation and minibatches included). GEPA.
func WithMaxFullEvals(n int) Option {
	return reflectOption{"WithMaxFullEvals", []string{NameGEPA}, func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max full evals %d must be positive", n)
		}
		c.maxFullEvals = n
		c.budgets = append(c.budgets, "WithMaxFullEvals")
		return nil
	}}
}

// WithMaxMetricCalls sets GEPA's budget to n metric calls (examples
// scored), the seed's evaluation included. GEPA.
func WithMaxMetricCalls(n int) Option {
	return reflectOption{"WithMaxMetricCalls", []string{NameGEPA}, func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max metric calls %d must be positive", n)
		}
		c.maxCalls = n
		c.budgets = append(c.budgets, "WithMaxMetricCalls")
		return nil
	}}
}

// WithReflectionLM sets the LM that writes new instructions and rules; it
// may differ from the program's LM. Without it the LM in the compilation's
// context (lm.NewContext) is used. GEPA, SIMBA.
func WithReflectionLM(m lm.LM) Option {
	return reflectOption{"WithReflectionLM", []string{NameGEPA, NameSIMBA}, func(c *reflectConfig) error {
		if m == nil {
			return errors.New("teleprompter: WithReflectionLM(nil)")
		}
		c.reflectionLM = m
		return nil
	}}
}

// WithReflectionMinibatchSize sets how many training examples GEPA runs
// a candidate on before and after a reflection (default 3). GEPA.
func WithReflectionMinibatchSize(n int) Option {
	return reflectOption{"WithReflectionMinibatchSize", []string{NameGEPA}, func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: minibatch size %d must be positive", n)
		}
		c.minibatch = n
		return nil
	}}
}

// WithBatchSize sets how many training examples a SIMBA step samples
// (default 8). SIMBA.
func WithBatchSize(n int) Option {
	return reflectOption{"WithBatchSize", []string{NameSIMBA}, func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: batch size %d must be positive", n)
		}
		c.minibatch = n
		return nil
	}}
}

// WithMaxMergeInvocations caps the merges GEPA tries (default 5; 0 turns
// merging off). GEPA.
func WithMaxMergeInvocations(n int) Option {
	return reflectOption{"WithMaxMergeInvocations", []string{NameGEPA}, func(c *reflectConfig) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: max merge invocations %d must not be negative", n)
		}
		c.merges = n
		return nil
	}}
}
