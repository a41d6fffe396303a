package programs

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/telemetry"
)

// RewardFunc scores a prediction made on inputs; higher is better. An error
// counts as a failed attempt.
type RewardFunc func(ctx context.Context, inputs Values, pred Prediction) (float64, error)

// BestOfN is DSPy's BestOfN: it runs a program up to N times, each time with
// another rollout id and temperature 1.0 (unless a predictor sets its own
// temperature), and returns the prediction with the highest reward, stopping
// early at the first one whose reward reaches the threshold.
//
// Attempts run on copies of the program (see MapPredictors), so the program
// must be a *Predictor, a Predict, a Module or a struct composing them. The
// returned prediction's usage sums every attempt. The calls of the best
// attempt are added to the caller's trace (WithTrace), attributed to the
// program's own predictors.
//
// The wrapped program's predictors are BestOfN's, named "module.<name>" (as
// in DSPy). A BestOfN is immutable and safe for concurrent use.
type BestOfN struct {
	runner
}

// NewBestOfN wraps prog. n is the number of attempts; reward scores them;
// threshold is the reward at which to stop early. WithFailCount sets how
// many attempts may fail with an error.
func NewBestOfN(prog Program, n int, reward RewardFunc, threshold float64, opts ...Option) (*BestOfN, error) {
	r, err := newRunner("BestOfN", prog, n, reward, threshold, opts)
	if err != nil {
		return nil, err
	}
	return &BestOfN{runner: r}, nil
}

// Forward runs the attempts and returns the best prediction.
func (b *BestOfN) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, b), nil), "BestOfN", "")
	describeCall(span, "BestOfN", "", nil)
	pred, err := b.run(ctx, inputs, nil)
	telemetry.End(span, err)
	return pred, err
}

// Program returns the wrapped program.
func (b *BestOfN) Program() Program { return b.prog }

// NamedPredictors returns the wrapped program's predictors, prefixed with
// "module.".
func (b *BestOfN) NamedPredictors() []NamedPredictor { return b.namedPredictors() }

// ReplacePredictors returns a BestOfN over a copy of the program with the
// named predictors replaced.
func (b *BestOfN) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	r, err := b.replace(replace)
	if err != nil {
		return nil, err
	}
	return &BestOfN{runner: r}, nil
}

// runner is what BestOfN and Refine share: a program run several times.
type runner struct {
	module    string
	prog      Program
	n         int
	reward    RewardFunc
	threshold float64
	failCount int
	predict   []Option // for Refine's feedback predictor
}

func newRunner(module string, prog Program, n int, reward RewardFunc, threshold float64, opts []Option) (runner, error) {
	if prog == nil {
		return runner{}, fmt.Errorf("programs: %s: nil program", module)
	}
	if n <= 0 {
		return runner{}, fmt.Errorf("programs: %s: n %d must be positive", module, n)
	}
	if reward == nil {
		return runner{}, fmt.Errorf("programs: %s: nil reward function", module)
	}
	if math.IsNaN(threshold) {
		return runner{}, fmt.Errorf("programs: %s: threshold is NaN", module)
	}
	nps, err := NamedPredictors(prog)
	if err != nil {
		return runner{}, fmt.Errorf("programs: %s: %w", module, err)
	}
	if len(nps) == 0 {
		return runner{}, fmt.Errorf("programs: %s: %T has no predictors to vary: "+
			"wrap a *Predictor, a Predict, a Module or a struct holding them", module, prog)
	}
	cfg, err := splitOptions(module, moduleConfig{failCount: n}, opts)
	if err != nil {
		return runner{}, err
	}
	if module == "BestOfN" && len(cfg.predict) > 0 {
		return runner{}, fmt.Errorf("programs: BestOfN takes no predictor options; set them on the wrapped program")
	}
	return runner{module: module, prog: prog, n: n, reward: reward, threshold: threshold,
		failCount: cfg.failCount, predict: cfg.predict}, nil
}

func (r runner) namedPredictors() []NamedPredictor {
	nps, _ := NamedPredictors(r.prog) // checked by newRunner; programs are immutable
	for i := range nps {
		nps[i].Name = "module." + nps[i].Name
	}
	return nps
}

func (r runner) replace(replace map[string]*Predictor) (runner, error) {
	var names []string
	for _, np := range r.namedPredictors() {
		names = append(names, np.Name)
	}
	if err := checkNames(r.module, names, replace); err != nil {
		return runner{}, err
	}
	prog, err := WithPredictors(r.prog, subReplacements(replace, "module"))
	if err != nil {
		return runner{}, err
	}
	c := r
	c.prog = prog
	return c, nil
}

// attempt is the outcome of one run of the program.
type attempt struct {
	pred    Prediction
	reward  float64
	entries []TraceEntry // with the original program's predictors
}

// adviseFunc produces per-predictor advice after a failed attempt.
type adviseFunc func(ctx context.Context, inputs Values, a attempt) (map[string]string, Prediction, error)

// run runs up to n attempts; with advise (Refine), the advice from each
// attempt below the threshold is given to the next.
func (r runner) run(ctx context.Context, inputs Values, advise adviseFunc) (Prediction, error) {
	ctx, meter := history.WithMeter(ctx)
	var (
		best     *attempt
		usage    Prediction
		cached   = true
		failures int
		errs     []error
		advice   map[string]string
	)
	fail := func(i int, err error) error {
		failures++
		errs = append(errs, fmt.Errorf("attempt %d: %w", i, err))
		if failures > r.failCount {
			return fmt.Errorf("programs: %s: %d attempts failed: %w", r.module, failures, errors.Join(errs...))
		}
		return nil
	}
	for i := range r.n {
		if err := ctx.Err(); err != nil {
			return Prediction{}, err
		}
		a, err := r.attempt(ctx, i, inputs, advice)
		if err == nil {
			usage.Usage = usage.Usage.Add(a.pred.Usage)
			cached = cached && a.pred.Cached
			a.reward, err = r.reward(ctx, inputs, a.pred)
			if err == nil && math.IsNaN(a.reward) {
				err = errors.New("reward is NaN")
			}
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return Prediction{}, ctxErr
			}
			if ferr := fail(i, err); ferr != nil {
				return Prediction{}, ferr
			}
			continue
		}
		if best == nil || a.reward > best.reward {
			best = &a
		}
		if a.reward >= r.threshold {
			break
		}
		if advise == nil || i == r.n-1 {
			continue
		}
		adv, apred, err := advise(ctx, inputs, a)
		usage.Usage = usage.Usage.Add(apred.Usage)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return Prediction{}, ctxErr
			}
			advice = nil
			if ferr := fail(i, fmt.Errorf("advice: %w", err)); ferr != nil {
				return Prediction{}, ferr
			}
			continue
		}
		advice = adv
	}
	if best == nil {
		return Prediction{}, fmt.Errorf("programs: %s: all %d attempts failed: %w", r.module, r.n, errors.Join(errs...))
	}
	if t := traceFrom(ctx); t != nil {
		for _, e := range best.entries {
			t.record(e)
		}
	}
	pred := best.pred
	pred.Usage = usage.Usage
	pred.Cached = cached
	pred.LMUsage = meter.ByModel()
	return pred, nil
}

// hintPrefix introduces Refine's advice in a predictor's instructions.
const hintPrefix = "\n\nHint from an earlier attempt: "

// attempt runs the program once, with rollout i, temperature 1.0 unless a
// predictor sets its own, and the advice appended to the instructions of
// the predictors it names.
func (r runner) attempt(ctx context.Context, i int, inputs Values, advice map[string]string) (attempt, error) {
	copyToOrig := make(map[*Predictor]*Predictor)
	prog, err := MapPredictors(r.prog, func(name string, p *Predictor) (*Predictor, error) {
		rollout := i
		if p.call.rollout != nil {
			rollout += *p.call.rollout
		}
		opts := []Option{WithRollout(rollout)}
		if p.call.temperature == nil {
			opts = append(opts, WithTemperature(1.0))
		}
		q, err := p.WithOptions(opts...)
		if err != nil {
			return nil, err
		}
		if hint := advice[name]; hint != "" {
			q = q.WithInstructions(q.Instructions() + hintPrefix + hint)
		}
		copyToOrig[q] = p
		return q, nil
	})
	if err != nil {
		return attempt{}, err
	}
	tctx, tr := WithTrace(withCopyNames(ctx, copyToOrig))
	pred, err := prog.Forward(tctx, inputs)
	if err != nil {
		return attempt{}, err
	}
	entries := tr.Entries()
	for j, e := range entries {
		if p, ok := copyToOrig[e.Predictor]; ok {
			entries[j].Predictor = p
		}
	}
	return attempt{pred: pred, entries: entries}, nil
}
