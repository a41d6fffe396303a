package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// KNNFewShot chooses demos per call: it embeds the inputs of the training
// examples once, at compile time, and for each call gives the predictors
// the k training examples whose inputs are nearest (cosine similarity) to
// the call's inputs (DSPy's KNNFewShot). With WithBootstrap the training
// set is also bootstrapped at compile time, and a neighbour whose trace
// passed the metric is given as that trace's demo.
//
// The compiled program embeds each call's inputs (one Embed request per
// call). Its demos are chosen per call, so saving it saves the student's
// own demos only.
//
// A KNNFewShot is immutable and safe for concurrent use.
type KNNFewShot struct {
	k        int
	embedder lm.Embedder
	model    string
	cfg      config
}

// NewKNNFewShot returns a KNNFewShot with k neighbours, embedding with
// embedder (an OpenAI-compatible embeddings endpoint: lm.OpenAI, or the
// embedded simulator's /v1/embeddings). Options: WithBootstrap and the
// BootstrapFewShot options it then uses, WithEmbeddingModel, WithSeed.
func NewKNNFewShot(k int, embedder lm.Embedder, opts ...KNNFewShotOption) (*KNNFewShot, error) {
	if k <= 0 {
		return nil, fmt.Errorf("teleprompter: KNNFewShot: k %d must be positive", k)
	}
	if embedder == nil {
		return nil, errors.New("teleprompter: KNNFewShot: nil embedder")
	}
	cfg, err := newConfig(NameKNNFewShot, opts, KNNFewShotOption.applyKNN)
	if err != nil {
		return nil, err
	}
	return &KNNFewShot{k: k, embedder: embedder, model: cfg.embedModel, cfg: cfg}, nil
}

// embedBatch is how many texts go in one embeddings request.
const embedBatch = 256

// Compile embeds the training inputs (and bootstraps them, with
// WithBootstrap) and returns the nearest-neighbour program.
func (t *KNNFewShot) Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error) {
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, err
	}
	if len(trainset) == 0 {
		return nil, errors.New("teleprompter: KNNFewShot: empty training set")
	}
	texts := make([]string, len(trainset))
	for i, ex := range trainset {
		texts[i] = inputText(ex.Inputs())
	}
	vecs := make([][]float32, 0, len(texts))
	for lo := 0; lo < len(texts); lo += embedBatch {
		batch := texts[lo:min(lo+embedBatch, len(texts))]
		resp, err := t.embedder.Embed(ctx, lm.EmbedRequest{Model: t.model, Inputs: batch})
		if err != nil {
			return nil, fmt.Errorf("teleprompter: KNNFewShot: embedding the training set: %w", err)
		}
		if len(resp.Vectors) != len(batch) {
			return nil, fmt.Errorf("teleprompter: KNNFewShot: %d vectors for %d texts", len(resp.Vectors), len(batch))
		}
		for _, v := range resp.Vectors {
			vecs = append(vecs, normalize(v))
		}
	}
	prog := &knnProgram{student: student, nps: nps, k: t.k, embedder: t.embedder, model: t.model, train: trainset, vecs: vecs}
	settings := map[string]any{"k": t.k, "seed": t.cfg.seed, "bootstrap": t.cfg.metric != nil}
	rep := Report{Teleprompter: NameKNNFewShot, Settings: settings, Demos: map[string]int{}}
	if t.cfg.metric != nil {
		boot, err := bootstrapTraces(ctx, &t.cfg, t.cfg.metric, student, nps, trainset, -1)
		if err != nil {
			return nil, err
		}
		prog.boot = boot.demos
		rep.Bootstrapped, rep.Attempted, rep.StoppedBy = len(boot.demos), boot.attempted, boot.stoppedBy
		for k, v := range t.cfg.bootstrapSettings() {
			settings[k] = v
		}
	}
	for _, np := range nps {
		rep.Demos[np.Name] = min(t.k, len(trainset))
	}
	return NewCompiled(prog, rep), nil
}

// inputText is the text embedded for a set of inputs: "key: value" lines
// in key order.
func inputText(inputs map[string]any) string {
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %v", k, inputs[k])
	}
	return b.String()
}

func normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// knnProgram is the program KNNFewShot compiles. It is immutable.
type knnProgram struct {
	student  programs.Program
	nps      []programs.NamedPredictor
	k        int
	embedder lm.Embedder
	model    string
	train    []dataset.Example
	vecs     [][]float32
	boot     map[int]map[string]programs.Values
}

// Forward embeds the inputs, picks the k nearest training examples and runs
// the student with them as demos.
func (p *knnProgram) Forward(ctx context.Context, inputs programs.Values) (programs.Prediction, error) {
	resp, err := p.embedder.Embed(ctx, lm.EmbedRequest{Model: p.model, Inputs: []string{inputText(inputs)}})
	if err != nil {
		return programs.Prediction{}, fmt.Errorf("teleprompter: KNNFewShot: embedding the inputs: %w", err)
	}
	if len(resp.Vectors) != 1 {
		return programs.Prediction{}, fmt.Errorf("teleprompter: KNNFewShot: %d vectors for 1 text", len(resp.Vectors))
	}
	near := p.nearest(normalize(resp.Vectors[0]))
	demos := make(map[string][]programs.Values, len(p.nps))
	for _, np := range p.nps {
		for _, i := range near {
			if d, ok := p.boot[i][np.Name]; ok {
				demos[np.Name] = append(demos[np.Name], d)
			} else {
				demos[np.Name] = append(demos[np.Name], p.train[i].Values())
			}
		}
	}
	prog, _, err := withDemos(p.student, p.nps, demos)
	if err != nil {
		return programs.Prediction{}, err
	}
	return prog.Forward(ctx, inputs)
}

// nearest returns the indices of the k training vectors most similar to q,
// most similar first; ties keep training-set order.
func (p *knnProgram) nearest(q []float32) []int {
	type scored struct {
		i   int
		sim float64
	}
	all := make([]scored, len(p.vecs))
	for i, v := range p.vecs {
		var dot float64
		for j := range min(len(v), len(q)) {
			dot += float64(v[j]) * float64(q[j])
		}
		all[i] = scored{i, dot}
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return 0
	})
	out := make([]int, 0, p.k)
	for _, s := range all[:min(p.k, len(all))] {
		out = append(out, s.i)
	}
	return out
}

// NamedPredictors returns the student's predictors.
func (p *knnProgram) NamedPredictors() []programs.NamedPredictor { return p.nps }

// ReplacePredictors returns a copy whose student has the named predictors
// replaced.
func (p *knnProgram) ReplacePredictors(replace map[string]*programs.Predictor) (programs.Module, error) {
	s, err := programs.WithPredictors(p.student, replace)
	if err != nil {
		return nil, err
	}
	nps, err := predictorsOf(s)
	if err != nil {
		return nil, err
	}
	c := *p
	c.student, c.nps = s, nps
	return &c, nil
}
