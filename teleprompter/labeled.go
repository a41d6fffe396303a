package teleprompter

import (
	"context"
	"fmt"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
)

// LabeledFewShot gives every predictor of the student k labelled training
// examples as demos, sampled with the seed (DSPy's LabeledFewShot). It
// makes no LM call.
//
// A LabeledFewShot is immutable and safe for concurrent use.
type LabeledFewShot struct {
	k   int
	cfg config
}

// NewLabeledFewShot returns a LabeledFewShot with k demos per predictor.
// Options: WithSeed.
func NewLabeledFewShot(k int, opts ...LabeledFewShotOption) (*LabeledFewShot, error) {
	if k < 0 {
		return nil, fmt.Errorf("teleprompter: LabeledFewShot: k %d must not be negative", k)
	}
	cfg, err := newConfig(NameLabeledFewShot, opts, LabeledFewShotOption.applyLabeled)
	if err != nil {
		return nil, err
	}
	return &LabeledFewShot{k: k, cfg: cfg}, nil
}

// Compile returns a copy of student whose predictors have min(k,
// len(trainset)) labelled demos each: the examples' values, inputs and
// labels.
func (t *LabeledFewShot) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, err
	}
	demos := labeledDemos(trainset, t.k, t.cfg.uintSeed())
	byName := make(map[string][]programs.Values, len(nps))
	for _, np := range nps {
		byName[np.Name] = demos
	}
	prog, counts, err := withDemos(unwrap(student), nps, byName)
	if err != nil {
		return nil, err
	}
	return NewCompiled(prog, Report{
		Teleprompter: NameLabeledFewShot,
		Settings:     map[string]any{"k": t.k, "seed": t.cfg.seed},
		Demos:        counts,
	}), nil
}

// labeledDemos samples k examples with seed and returns their values.
func labeledDemos(trainset []dataset.Example, k int, seed uint64) []programs.Values {
	sample := dataset.Sample(trainset, k, seed)
	out := make([]programs.Values, len(sample))
	for i, ex := range sample {
		out[i] = ex.Values()
	}
	return out
}
