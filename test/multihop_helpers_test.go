package test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/retrieve"
	"github.com/dspex-go/dspex/retrieve/multihop"
	"github.com/dspex-go/dspex/simlm"
)

// mhEmbedID is the embedder of the multi-hop tests: the simulator's hashed
// bag of words in 512 dimensions (the number ending the model name).
const mhEmbedID = "sim/simlm-embed-512"

// mhEnv is a simulator, a runtime on it and the shipped corpus's index.
type mhEnv struct {
	rt  *dspex.Runtime
	ix  *retrieve.Index
	dir string
}

// mhSaved holds the shipped corpus's index (with its HNSW graph) as
// saved, so that the tests of the package embed the corpus once per kind: each
// loads it for its own runtime's embedder (the same embedding space).
var mhSaved struct {
	mu   sync.Mutex
	data map[bool][]byte // by approximate
}

// mhSetup starts the simulator and runtime and opens the index of the
// shipped corpus, with an HNSW graph when approx.
func mhSetup(t testing.TB, approx bool) *mhEnv {
	t.Helper()
	return mhSetupOn(t, evSim(t), approx)
}

// mhSetupOn is mhSetup on the simulator srv.
func mhSetupOn(t testing.TB, srv *simlm.Server, approx bool) *mhEnv {
	t.Helper()
	rt := evRuntime(t, srv, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "multihop.idx")
	mhSaved.mu.Lock()
	defer mhSaved.mu.Unlock()
	if mhSaved.data == nil {
		mhSaved.data = map[bool][]byte{}
	}
	if data := mhSaved.data[approx]; data != nil {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, built, err := retrieve.Open(context.Background(), path, rt.Embedder(mhEmbedID), multihop.Corpus(), retrieve.WithApproximate(approx))
	if err != nil {
		t.Fatal(err)
	}
	if built {
		if mhSaved.data[approx], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	return &mhEnv{rt: rt, ix: ix, dir: dir}
}

// student returns the zero-shot program on the simulator.
func (e *mhEnv) student(t testing.TB) *multihop.Program {
	t.Helper()
	p, err := multihop.New(e.ix, multihop.DefaultK, programs.WithLM(e.rt.LM("sim")))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mhSplits returns the examples of the fixed multi-hop splits.
func mhSplits(t testing.TB, nTrain, nVal, nTest int) (train, val, test []dataset.Example) {
	t.Helper()
	tr, va, te, err := dataset.MultihopSplits(7, nTrain, nVal, nTest)
	if err != nil {
		t.Fatal(err)
	}
	return dataset.MultihopExamples(tr), dataset.MultihopExamples(va), dataset.MultihopExamples(te)
}

// mhScore returns prog's exact-match score and passage recall on set.
func mhScore(t testing.TB, prog programs.Program, set []dataset.Example) (em, recall float64) {
	t.Helper()
	var mu sync.Mutex
	var rsum float64
	res, err := evaluate.Run(context.Background(), prog, set,
		func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) float64 {
			r := multihop.PassageRecall(ex, pred, trace)
			mu.Lock()
			rsum += r
			mu.Unlock()
			return multihop.Metric(ex, pred, trace)
		}, evaluate.WithConcurrency(16), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	return res.Score, rsum / float64(len(set))
}
