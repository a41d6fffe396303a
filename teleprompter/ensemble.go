package teleprompter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// Reducer combines the predictions of an ensemble's programs (in the
// order of the programs, failed ones left out; never empty) into one.
type Reducer func(preds []programs.Prediction) (programs.Prediction, error)

// MajorityVote returns a Reducer that picks the most common value of the
// output field, compared after evaluate.NormalizeText, and returns the
// first prediction with that value (so ties go to the earlier program);
// usage is summed over all predictions. With field "" it votes on
// "answer", or on the alphabetically last output field when there is no
// "answer" (DSPy votes on the last field).
func MajorityVote(field string) Reducer {
	return func(preds []programs.Prediction) (programs.Prediction, error) {
		if len(preds) == 0 {
			return programs.Prediction{}, errors.New("teleprompter: MajorityVote: no predictions")
		}
		f := field
		if f == "" {
			f = voteField(preds[0].Values)
		}
		counts := map[string]int{}
		for _, p := range preds {
			counts[evaluate.NormalizeText(fmt.Sprint(p.Values[f]))]++
		}
		best := 0
		for i, p := range preds {
			if counts[evaluate.NormalizeText(fmt.Sprint(p.Values[f]))] > counts[evaluate.NormalizeText(fmt.Sprint(preds[best].Values[f]))] {
				best = i
			}
		}
		out := preds[best]
		out.Usage = preds[0].Usage
		out.Cached = preds[0].Cached
		for _, p := range preds[1:] {
			out.Usage = out.Usage.Add(p.Usage)
			out.Cached = out.Cached && p.Cached
		}
		return out, nil
	}
}

func voteField(v programs.Values) string {
	if _, ok := v["answer"]; ok {
		return "answer"
	}
	last := ""
	for k := range v {
		last = max(last, k)
	}
	return last
}

// Ensemble runs several programs on the same inputs concurrently and
// reduces their predictions into one (DSPy's Ensemble teleprompter): by
// default a majority vote on the answer. With a size it runs only that
// many programs per call, sampled without replacement by a seed and the
// inputs, so the same inputs always use the same programs.
//
// An Ensemble is a programs.Program; it is immutable and safe for
// concurrent use as long as its programs are.
type Ensemble struct {
	progs  []programs.Program
	reduce Reducer
	size   int
	seed   uint64
}

// EnsembleOption configures an Ensemble: WithReducer, WithSize, WithSeed.
type EnsembleOption interface{ applyEnsemble(*Ensemble) error }

// ensembleOnly is an option of Ensemble only.
type ensembleOnly func(*Ensemble) error

func (f ensembleOnly) applyEnsemble(e *Ensemble) error {
	if f == nil {
		return errors.New("teleprompter: zero option")
	}
	return f(e)
}

// applyEnsemble seeds the per-call sampling of WithSize (default 0).
func (o SeedOption) applyEnsemble(e *Ensemble) error {
	var c config
	if err := o.set.apply(&c); err != nil {
		return err
	}
	e.seed = c.uintSeed()
	return nil
}

// WithReducer sets how predictions are combined (default
// MajorityVote("")).
func WithReducer(r Reducer) EnsembleOption {
	return ensembleOnly(func(e *Ensemble) error {
		if r == nil {
			return errors.New("teleprompter: WithReducer(nil)")
		}
		e.reduce = r
		return nil
	})
}

// WithSize runs n programs per call, sampled from the ensemble (default:
// all of them).
func WithSize(n int) EnsembleOption {
	return ensembleOnly(func(e *Ensemble) error {
		if n <= 0 || n > len(e.progs) {
			return fmt.Errorf("teleprompter: ensemble size %d not in [1, %d]", n, len(e.progs))
		}
		e.size = n
		return nil
	})
}

// NewEnsemble returns an ensemble of progs (at least one, none nil).
func NewEnsemble(progs []programs.Program, opts ...EnsembleOption) (*Ensemble, error) {
	if len(progs) == 0 {
		return nil, errors.New("teleprompter: empty ensemble")
	}
	if slices.Contains(progs, nil) {
		return nil, errors.New("teleprompter: nil program in ensemble")
	}
	e := &Ensemble{progs: slices.Clone(progs), reduce: MajorityVote("")}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("teleprompter: nil option")
		}
		if err := o.applyEnsemble(e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Programs returns the ensemble's programs.
func (e *Ensemble) Programs() []programs.Program { return slices.Clone(e.progs) }

// Forward runs the chosen programs concurrently and reduces the
// predictions of those that succeeded; it fails with the first error (in
// program order) when none did.
func (e *Ensemble) Forward(ctx context.Context, inputs programs.Values) (programs.Prediction, error) {
	chosen := e.choose(inputs)
	preds := make([]programs.Prediction, len(chosen))
	errs := make([]error, len(chosen))
	var wg sync.WaitGroup
	for i, p := range chosen {
		wg.Go(func() { preds[i], errs[i] = p.Forward(ctx, inputs) })
	}
	wg.Wait()
	var ok []programs.Prediction
	for i, err := range errs {
		if err == nil {
			ok = append(ok, preds[i])
		}
	}
	if len(ok) == 0 {
		return programs.Prediction{}, fmt.Errorf("teleprompter: every ensemble program failed: %w", errors.Join(errs...))
	}
	return e.reduce(ok)
}

// choose returns the programs of one call, in ensemble order.
func (e *Ensemble) choose(inputs programs.Values) []programs.Program {
	if e.size == 0 || e.size == len(e.progs) {
		return e.progs
	}
	h := fnv.New64a()
	data, _ := json.Marshal(inputs)
	h.Write(data)
	rng := rand.New(rand.NewPCG(e.seed, h.Sum64()))
	idx := rng.Perm(len(e.progs))[:e.size]
	slices.Sort(idx)
	out := make([]programs.Program, len(idx))
	for i, j := range idx {
		out[i] = e.progs[j]
	}
	return out
}
