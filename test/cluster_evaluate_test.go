package test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/evaluate"
)

// TestClusterEvaluate evaluates 3000 examples over three node processes:
// every example is scored exactly once (one LM request each, and the
// prediction the simulator gives its question), and every node took part.
func TestClusterEvaluate(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	c, nodes := clCluster(t, bin, sim, 3, "-capacity", "32")
	prog := clQA(t)
	devset := clDevset(3000)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	counted := &clCounted{Dispatcher: c.Dispatcher("qa-predict"), c: c}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(counted), evaluate.WithConcurrency(96))
	if err != nil {
		t.Fatal(err)
	}
	counted.check(t)
	st := c.Stats()
	t.Logf("%s; %v", res.Summary(), st)
	if !res.Complete || res.Scored != len(devset) {
		t.Fatalf("result %s; failures %v", res.Summary(), res.Failures()[:min(3, len(res.Failures()))])
	}
	if got := sim.Stats().Requests; got != int64(len(devset)) {
		t.Errorf("the simulator served %d requests for %d examples", got, len(devset))
	}
	if st.Completed != int64(len(devset)) || st.Duplicates != 0 || st.Reassigned != 0 {
		t.Errorf("stats %v", st)
	}
	var sum int64
	for _, n := range st.Nodes {
		sum += n.Completed
		if n.Completed == 0 {
			t.Errorf("node %s ran no example", n.Name)
		}
	}
	if sum != int64(len(devset)) || len(st.Nodes) != len(nodes) {
		t.Errorf("nodes ran %d examples in all, want %d; %v", sum, len(devset), st)
	}

	clMatchLocal(t, ctx, prog, sim, res, devset, 205, 32)
}

// TestClusterEvaluateNodeKilled kills one of three node processes with
// SIGKILL a third of the way through 3000 examples: the run completes,
// the dead node's unfinished examples are reassigned, and every example is
// in the result once, with its own question's prediction.
func TestClusterEvaluateNodeKilled(t *testing.T) {
	bin := clBuild(t)
	const killAt = 1000
	sim, trigger := clTriggerSim(t, killAt, 2*time.Millisecond)
	c, nodes := clCluster(t, bin, sim, 3, "-capacity", "32")
	victim := nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	killed := clAt(ctx, trigger, victim.kill)
	prog := clQA(t)
	devset := clDevset(3000)
	var bar bytes.Buffer
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithProgress(&bar),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(96))
	<-killed
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	t.Logf("%s; %v; simulator requests %d", res.Summary(), st, sim.Stats().Requests)
	if !res.Complete || res.Scored != len(devset) {
		t.Fatalf("result %s; failures %v", res.Summary(), res.Failures()[:min(3, len(res.Failures()))])
	}
	if st.Completed != int64(len(devset)) || st.Reassigned == 0 {
		t.Errorf("stats %v: want %d completed and some reassigned", st, len(devset))
	}
	var sum int64
	for _, n := range st.Nodes {
		sum += n.Completed
		switch {
		case n.Address == victim.addr && (n.Live || n.Deaths != 1):
			t.Errorf("killed node %+v", n)
		case n.Address != victim.addr && (!n.Live || n.Deaths != 0 || n.Completed == 0):
			t.Errorf("surviving node %+v", n)
		}
	}
	if sum != int64(len(devset)) {
		t.Errorf("nodes delivered %d results in all, want %d", sum, len(devset))
	}
	// The progress bar counts the nodes.
	status := c.Dispatcher("qa-predict").(evaluate.StatusReporter).Status()
	if !regexp.MustCompile(`^2/3 nodes, [1-9]\d* reassigned$`).MatchString(status) {
		t.Errorf("dispatcher status %q", status)
	}
	if !strings.Contains(bar.String(), "/3 nodes") {
		t.Errorf("progress bar %q does not count nodes", bar.String())
	}
	clMatchLocal(t, ctx, prog, sim, res, devset, 205, 32)
}
