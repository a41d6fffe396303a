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

// The reflective machinery GEPA and SIMBA share: the run of one
// compilation (reflectRun), which scores candidates in evaluator actors,
// captures the metric's feedback and asks a reflection LM for better
// instructions (GEPA) or rules (SIMBA); the minibatches; and the trial log.

// ErrNoReflectionLM means GEPA or SIMBA has no LM to reflect with: neither
// WithReflectionLM nor an LM in the context (lm.NewContext).
var ErrNoReflectionLM = errors.New("teleprompter: no reflection LM (WithReflectionLM or lm.NewContext)")

// ReflectTrial is one step of a reflective search (GEPA, SIMBA), as the
// report logs it in Trials.
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
// student, the training and validation sets, the random source, the
// metric calls spent, and the reflection predictors.
type reflectRun struct {
	cfg       reflectConfig
	metric    FeedbackMetric
	student   programs.Program
	nps       []programs.NamedPredictor
	trainset  []dataset.Example
	valset    []dataset.Example
	rng       *rand.Rand
	reflector *programs.Predictor
	ruler     *programs.Predictor
	calls     int
	stoppedBy string // why a spent budget stopped the search
}

// stopAt reports whether err is a budget refusal, which ends the search
// cleanly; it records why.
func (r *reflectRun) stopAt(err error) bool {
	why := budgetReason(err)
	if why != "" && r.stoppedBy == "" {
		r.stoppedBy = why
	}
	return why != ""
}

// unoptimized returns the student as it is, for a search that a spent
// budget stopped before it scored anything.
func (r *reflectRun) unoptimized(trials []ReflectTrial) *Compiled {
	settings := r.cfg.settings()
	settings["valset_size"] = len(r.valset)
	settings["metric_calls"] = r.calls
	return NewCompiled(r.student, Report{Teleprompter: r.cfg.kind, Settings: settings, Demos: demoCounts(r.student),
		Trials: trials, StoppedBy: r.stoppedBy})
}

// openReflect is the opening of a GEPA or SIMBA compilation: it checks
// the student and the training set, builds the reflection predictors,
// seeds the random source on the stream of the optimizer, and starts the
// compilation's span, which the caller ends with end.
func openReflect(ctx context.Context, cfg reflectConfig, stream uint64, metric FeedbackMetric, student programs.Program,
	trainset []dataset.Example) (_ context.Context, _ *reflectRun, end func(*Compiled, error), _ error) {
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return ctx, nil, nil, err
	}
	if len(trainset) == 0 {
		return ctx, nil, nil, fmt.Errorf("teleprompter: %s: empty training set", cfg.kind)
	}
	var popts []programs.Option
	if cfg.reflectionLM != nil {
		popts = append(popts, programs.WithLM(cfg.reflectionLM))
	} else if _, ok := lm.FromContext(ctx); !ok {
		return ctx, nil, nil, ErrNoReflectionLM
	}
	reflector, err := reflectionPredictor(ReflectionSignature, reflectionInstructions, "reflect", popts)
	if err != nil {
		return ctx, nil, nil, err
	}
	ruler, err := reflectionPredictor(RuleSignature, ruleInstructions, "rule", popts)
	if err != nil {
		return ctx, nil, nil, err
	}
	r := &reflectRun{cfg: cfg, metric: metric, student: student, nps: nps, trainset: trainset, valset: cfg.base.valset,
		rng: rand.New(rand.NewPCG(cfg.base.uintSeed(), stream)), reflector: reflector, ruler: ruler}
	if r.valset == nil {
		r.valset = trainset
	}
	ctx, span := startCompile(ctx, cfg.kind, evaluatorFor(metric.Metric(), cfg.base.eval))
	return ctx, r, func(c *Compiled, err error) { endCompile(span, c, err) }, nil
}

// reflectionPredictor returns a predictor of the signature spec with
// these instructions and name.
func reflectionPredictor(spec, instructions, name string, popts []programs.Option) (*programs.Predictor, error) {
	sig, err := signature.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	p, err := programs.NewPredictFrom(sig.WithInstructions(instructions), append(slices.Clone(popts), programs.WithName(name))...)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	return p, nil
}

// seedState returns the student's instructions and demos by predictor
// name.
func (r *reflectRun) seedState() (map[string]string, map[string][]programs.Values) {
	instr := make(map[string]string, len(r.nps))
	demos := make(map[string][]programs.Values, len(r.nps))
	for _, np := range r.nps {
		instr[np.Name] = np.Predictor.Instructions()
		demos[np.Name] = np.Predictor.Demos()
	}
	return instr, demos
}

// compiled returns the program with these instructions and demos (nil
// keeps the student's) and its report: the optimizer's settings, the
// validation set's size, the metric calls spent, the candidates scored on
// the validation set and the trial log; more adds settings.
func (r *reflectRun) compiled(instr map[string]string, demos map[string][]programs.Values, cands []Candidate, best int,
	trials []ReflectTrial, more map[string]any) (*Compiled, error) {
	prog, err := r.program(instr, demos)
	if err != nil {
		return nil, err
	}
	settings := r.cfg.settings()
	settings["valset_size"] = len(r.valset)
	settings["metric_calls"] = r.calls
	maps.Copy(settings, more)
	score := cands[best].Score
	return NewCompiled(prog, Report{
		Teleprompter: r.cfg.kind,
		Settings:     settings,
		Demos:        demoCounts(prog),
		Score:        &score,
		Candidates:   cands,
		Best:         best,
		Trials:       trials,
		StoppedBy:    r.stoppedBy,
	}), nil
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
func (r *reflectRun) full(ctx context.Context, n int, instr map[string]string, demos map[string][]programs.Values) ([]float64, error) {
	prog, err := r.program(instr, demos)
	if err != nil {
		return nil, err
	}
	run, err := r.run(ctx, n, prog, r.valset, false, "validation")
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
	opts := append(slices.Clone(r.cfg.base.eval), evaluate.WithDescription(desc))
	if traces {
		opts = append(opts, evaluate.WithTraces())
	}
	if r.cfg.base.maxErrors > 0 {
		opts = append(opts, evaluate.WithMaxErrors(r.cfg.base.maxErrors))
	}
	ev, err := evaluate.New(metric, opts...)
	if err != nil {
		return batchRun{}, fmt.Errorf("teleprompter: %w", err)
	}
	tctx, trial := startTrial(ctx, n)
	res, err := ev.Run(tctx, prog, exs)
	endTrial(trial, desc, res, err)
	r.calls += res.Scored + res.Failed - res.OverBudget
	if err != nil {
		return batchRun{}, fmt.Errorf("teleprompter: %s run: %w", desc, err)
	}
	if berr := budgetRefusal(res); berr != nil {
		// Cut short by the budget: not a run to compare.
		return batchRun{}, fmt.Errorf("teleprompter: %s run: %w", desc, berr)
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

// rule asks the reflection LM for a rule for the named predictor from a
// better and a worse run of the same example.
func (r *reflectRun) rule(ctx context.Context, name, current string, better, worse trajectory) (string, error) {
	show := func(t trajectory) string {
		return r.describe(*t.run, t.row, name) + fmt.Sprintf("Score: %.2f\nFeedback: %s\n", t.score, oneLine(t.feedback.For(name)))
	}
	pred, err := r.ruler.Forward(ctx, programs.Values{
		"current_instruction": current,
		"better_trajectory":   show(better),
		"worse_trajectory":    show(worse),
	})
	if err != nil {
		return "", fmt.Errorf("teleprompter: rule: %w", err)
	}
	s, _ := pred.Values["rule"].(string)
	return strings.TrimSpace(s), nil
}

// mean returns the average of xs, 0 for none.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
