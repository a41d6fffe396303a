package test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// clBuild builds cmd/node into a temporary directory of tb and returns the
// binary's path.
func clBuild(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "node")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dspex-go/dspex/cmd/node")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build cmd/node: %v\n%s", err, out)
	}
	return bin
}

// clProc is a node process.
type clProc struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	killed sync.Once
}

// clNode starts a node process joining coord, its LM at sim; it is killed
// with the test.
func clNode(tb testing.TB, bin, coord string, sim *simlm.Server, name string, extra ...string) *clProc {
	tb.Helper()
	errs := make(chan string, 1)
	p := clNodeNoFatal(tb, bin, coord, sim, name, errs, extra...)
	close(errs)
	for e := range errs {
		tb.Fatal(e)
	}
	return p
}

// kill ends the process with SIGKILL (idempotent).
func (p *clProc) kill() {
	p.killed.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

// clCoordinator starts an in-process coordinator closed with the test.
func clCoordinator(tb testing.TB, edit func(*cluster.CoordinatorConfig)) *cluster.Coordinator {
	tb.Helper()
	cfg := cluster.DefaultCoordinatorConfig()
	cfg.SpawnTimeout = 2 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	c, err := cluster.StartCoordinator(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			tb.Errorf("coordinator Close: %v", err)
		}
	})
	return c
}

// clCluster starts a coordinator and n nodes (built from bin) on sim, and
// waits until all are live.
func clCluster(tb testing.TB, bin string, sim *simlm.Server, n int, extra ...string) (*cluster.Coordinator, []*clProc) {
	tb.Helper()
	c := clCoordinator(tb, nil)
	nodes := make([]*clProc, n)
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// tb.Fatal must not run off the test goroutine: start here,
			// check below.
			nodes[i] = clNodeNoFatal(tb, bin, c.Address(), sim, fmt.Sprintf("n%d", i+1), errs, extra...)
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		tb.Fatal(e)
	}
	// Close the coordinator before the nodes are killed (cleanups run last
	// first), so that it does not dial dead nodes on its way out.
	tb.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, n); err != nil {
		tb.Fatal(err)
	}
	return c, nodes
}

func clNodeNoFatal(tb testing.TB, bin, coord string, sim *simlm.Server, name string, errs chan<- string, extra ...string) *clProc {
	args := append([]string{"-listen", "127.0.0.1:0", "-join", coord, "-name", name,
		"-sim-url", sim.URL(), "-model", sim.Model(), "-cache=false"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		errs <- err.Error()
		return nil
	}
	if err := cmd.Start(); err != nil {
		errs <- err.Error()
		return nil
	}
	p := &clProc{name: name, cmd: cmd}
	tb.Cleanup(p.kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		errs <- fmt.Sprintf("node %s: %v", name, err)
		return p
	}
	// "node NAME listening on ADDR, joining [...]"
	for f, i := strings.Fields(line), 0; i < len(f); i++ {
		if f[i] == "on" && i+1 < len(f) {
			p.addr = strings.TrimSuffix(f[i+1], ",")
		}
	}
	if p.addr == "" {
		errs <- fmt.Sprintf("node %s said %q", name, line)
	}
	return p
}

// clQA is a Predict of "question -> answer", the program kind qa-predict
// of cmd/node.
func clQA(tb testing.TB) *programs.Predictor {
	tb.Helper()
	p, err := programs.NewPredictFrom(evSig(tb, "question -> answer"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// clDevset is n examples cycling through the shipped dev split, with
// distinct ids.
func clDevset(n int) []dataset.Example {
	_, items := dataset.TrainDev(0, 100)
	dev := dataset.Examples(items)
	out := make([]dataset.Example, n)
	for i := range out {
		ex := dev[i%len(dev)]
		out[i] = ex.WithID(fmt.Sprintf("%s#%d", ex.ID(), i))
	}
	return out
}

// clLM is the OpenAI-compatible provider on sim, for local reference runs.
func clLM(tb testing.TB, sim *simlm.Server) lm.LM {
	tb.Helper()
	m, err := lm.NewOpenAI(lm.OpenAIConfig{Provider: "sim", BaseURL: sim.URL(), Model: sim.Model(), HTTPClient: rtHTTPClient(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// clTriggerSim starts a simulator answering after latency that closes the
// returned channel when it receives its at-th request: the moment a test
// kills or freezes a node mid-run.
func clTriggerSim(tb testing.TB, at int64, latency time.Duration) (*simlm.Server, <-chan struct{}) {
	tb.Helper()
	trigger := make(chan struct{})
	var once sync.Once
	var served atomic.Int64
	sim := evSim(tb, simlm.WithFaults(simlm.Faults{
		Latency: latency,
		Script: func(simlm.RequestInfo) *simlm.Fault {
			if served.Add(1) == at {
				once.Do(func() { close(trigger) })
			}
			return nil
		},
	}))
	return sim, trigger
}

// clAt runs act on its own goroutine when trigger closes (or not at all,
// if ctx ends first); the returned channel closes when that is settled.
func clAt(ctx context.Context, trigger <-chan struct{}, act func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-trigger:
			act()
		case <-ctx.Done():
		}
	}()
	return done
}

// clMatchLocal checks that res holds every example of devset once, in
// order, scored, with the answer that a local run of prog on sim gives its
// question. The local run covers devset[:distinct], which must hold every
// distinct question, at the given concurrency.
func clMatchLocal(t *testing.T, ctx context.Context, prog programs.Program, sim *simlm.Server, res evaluate.Result,
	devset []dataset.Example, distinct, concurrency int) {
	t.Helper()
	ref, err := evaluate.Run(ctx, prog, devset[:distinct], evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithLM(clLM(t, sim)), evaluate.WithConcurrency(concurrency))
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[string]any, len(ref.Rows))
	for _, row := range ref.Rows {
		if row.Status != evaluate.Scored {
			t.Fatalf("reference row %d: %v", row.Index, row.Err)
		}
		want[row.Example.Text("question")] = row.Prediction.Values["answer"]
	}
	if len(res.Rows) != len(devset) {
		t.Fatalf("%d rows for %d examples", len(res.Rows), len(devset))
	}
	for i, row := range res.Rows {
		if row.Index != i || !row.Example.Equal(devset[i]) || row.Status != evaluate.Scored {
			t.Fatalf("row %d: example %d %v, %v", i, row.Index, row.Example, row.Status)
		}
		if got, w := row.Prediction.Values["answer"], want[row.Example.Text("question")]; got != w {
			t.Fatalf("row %d: answer %q, the simulator answers %q", i, got, w)
		}
	}
}

// clCounted wraps a coordinator's dispatcher and checks, after every call
// that returns, that the coordinator's Stats already count it: a caller
// never sees a result before Stats does. It is for runs whose every call
// completes on a node.
type clCounted struct {
	evaluate.Dispatcher
	c        *cluster.Coordinator
	returned atomic.Int64
	lagged   atomic.Int64 // calls after which Stats counted fewer
}

func (d *clCounted) Forward(ctx context.Context, call evaluate.Call) (programs.Prediction, error) {
	pred, err := d.Dispatcher.Forward(ctx, call)
	n := d.returned.Add(1)
	st := d.c.Stats()
	if st.Completed < n {
		d.lagged.Add(1)
	}
	return pred, err
}

// check fails t if any call returned before Stats counted it.
func (d *clCounted) check(t *testing.T) {
	t.Helper()
	if l := d.lagged.Load(); l > 0 {
		t.Errorf("after %d of %d calls, Stats had not yet counted the call's result", l, d.returned.Load())
	}
}
