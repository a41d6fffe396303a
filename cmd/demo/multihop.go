package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/retrieve"
	"github.com/dspex-go/dspex/retrieve/multihop"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/teleprompter"
)

// simEmbedModel is the simulator's embedding model for the multi-hop task:
// 512 dimensions, named by the number ending the model name.
const simEmbedModel = "simlm-embed-512"

// runMultihop runs the shipped multi-hop program zero-shot and compiled
// with BootstrapFewShot on held-out questions, prints both scores and the
// trace of one compiled run. The corpus's index is saved under indexDir
// (default: the user cache directory's dspex/), so it is embedded once.
func runMultihop(ctx context.Context, w io.Writer, cfg config.Config, indexDir string) (err error) {
	rt, err := dspex.Start(ctx, dspex.WithConfig(cfg), dspex.WithEnv(os.Getenv), dspex.WithSimulator())
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, rt.Close(closeCtx))
	}()
	p := rt.Config().Providers[0]
	embedID := p.Name
	if rt.Simulated() {
		embedID = p.Name + "/" + simEmbedModel
		fmt.Fprintln(w, "Using the embedded model server (a simulator, not a real model).")
	}
	if indexDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			indexDir = filepath.Join(dir, "dspex")
		} else {
			indexDir = os.TempDir()
		}
	}
	if err := os.MkdirAll(indexDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(indexDir, "multihop-"+strings.NewReplacer("/", "_", ":", "_").Replace(embedID)+".idx")
	start := time.Now()
	ix, built, err := retrieve.Open(ctx, path, rt.Embedder(embedID), multihop.Corpus())
	if err != nil {
		return err
	}
	verb := "loaded"
	if built {
		verb = "built and saved"
	}
	fmt.Fprintf(w, "Index of %d passages %s in %v (%s)\n", ix.Len(), verb, time.Since(start).Round(time.Millisecond), path)

	tr, _, te, err := dataset.MultihopSplits(7, 24, 0, 60)
	if err != nil {
		return err
	}
	train, test := dataset.MultihopExamples(tr), dataset.MultihopExamples(te)
	student, err := multihop.New(ix, multihop.DefaultK, programs.WithLM(rt.LM(p.Name)))
	if err != nil {
		return err
	}
	quiet := []evaluate.Option{evaluate.WithConcurrency(16), evaluate.WithoutProgress()}
	zero, err := evaluate.Run(ctx, student, test, multihop.Metric, quiet...)
	if err != nil {
		return err
	}
	bs, err := teleprompter.NewBootstrapFewShot(multihop.Metric, teleprompter.WithSeed(1),
		teleprompter.WithMaxBootstrappedDemos(3), teleprompter.WithMaxLabeledDemos(0),
		teleprompter.WithEvaluateOptions(quiet...))
	if err != nil {
		return err
	}
	compiled, err := bs.Compile(ctx, student, train)
	if err != nil {
		return err
	}
	got, err := evaluate.Run(ctx, compiled, test, multihop.Metric, quiet...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nExact match on %d held-out questions: zero-shot %.3f, BootstrapFewShot (%d training questions) %.3f\n",
		len(test), zero.Score, len(train), got.Score)
	for _, np := range compiled.NamedPredictors() {
		fmt.Fprintf(w, "  stage %-15s %d demos\n", np.Name, len(np.Predictor.Demos()))
	}

	// Show the first held-out question the compiled program answers right.
	var (
		ex    dataset.Example
		pred  programs.Prediction
		trace *programs.Trace
	)
	for _, ex = range test {
		var tctx context.Context
		tctx, trace = programs.WithTrace(ctx)
		if pred, err = compiled.Forward(tctx, ex.Inputs()); err != nil {
			return err
		}
		if multihop.Metric(ex, pred, nil) == 1 {
			break
		}
	}
	fmt.Fprintf(w, "\nOne compiled run: %s (gold %q)\n", ex.Text("question"), ex.Text("answer"))
	for _, e := range trace.Entries() {
		name := stageName(compiled.NamedPredictors(), e.Predictor)
		fmt.Fprintf(w, "  [%s]\n", name)
		for _, f := range e.Predictor.Signature().Fields(signature.Input) {
			fmt.Fprintf(w, "    in  %-12s %s\n", f.Name, oneLine(e.Inputs[f.Name]))
		}
		for _, f := range e.Predictor.Signature().Fields(signature.Output) {
			fmt.Fprintf(w, "    out %-12s %s\n", f.Name, oneLine(e.Outputs[f.Name]))
		}
	}
	fmt.Fprintf(w, "  passages read: %v\n  answer: %v\n", pred.Values["passage_ids"], pred.Values["answer"])
	return nil
}

func stageName(nps []programs.NamedPredictor, p *programs.Predictor) string {
	for _, np := range nps {
		if np.Predictor == p {
			return np.Name
		}
	}
	return "?"
}

func oneLine(v any) string {
	s := strings.ReplaceAll(fmt.Sprint(v), "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
