package test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestClusterBootstrapFewShot compiles a Predict with
// BootstrapFewShot twice with the same seed: in one process, and with the
// teacher's examples spread over three node processes. The compiled
// programs are the same.
func TestClusterBootstrapFewShot(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	c, _ := clCluster(t, bin, sim, 3, "-capacity", "4")
	train, _ := dataset.TrainDev(0, 100)
	trainset := dataset.Examples(train)
	student := clQA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	compile := func(opts ...evaluate.Option) []byte {
		t.Helper()
		bs, err := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"), teleprompter.WithSeed(7),
			teleprompter.WithMaxBootstrappedDemos(4), teleprompter.WithMaxLabeledDemos(16), teleprompter.WithMaxRounds(3),
			teleprompter.WithEvaluateOptions(append(opts, evaluate.WithoutProgress())...))
		if err != nil {
			t.Fatal(err)
		}
		compiled, err := bs.Compile(ctx, student, trainset)
		if err != nil {
			t.Fatal(err)
		}
		if rep := compiled.Report(); rep.Bootstrapped != 4 {
			t.Errorf("report %+v: want 4 bootstrapped demos", rep)
		}
		var b bytes.Buffer
		if err := compiled.Save(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	local := compile(evaluate.WithLM(clLM(t, sim)), evaluate.WithConcurrency(12))
	remote := compile(evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(12))
	if !bytes.Equal(local, remote) {
		t.Fatalf("the compilation over nodes differs from the local one:\n%s\n---\n%s", local, remote)
	}
	st := c.Stats()
	t.Logf("%v", st)
	for _, n := range st.Nodes {
		if n.Completed == 0 {
			t.Errorf("node %s ran no example of the teacher", n.Name)
		}
	}
}
