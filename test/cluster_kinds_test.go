package test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// TestClusterUnknownKind runs a node that lacks a program kind next to one
// that has it: the calls it cannot run go to the other node, and a kind no
// node has fails each example with a typed error instead of hanging.
func TestClusterUnknownKind(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	c := clCoordinator(t, nil)
	full := clNode(t, bin, c.Address(), sim, "full", "-capacity", "8")
	partial := clNode(t, bin, c.Address(), sim, "partial", "-capacity", "8", "-kinds", "qa-predict")
	// Close the coordinator before the nodes are killed.
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, 2); err != nil {
		t.Fatal(err)
	}
	prog, err := programs.NewChainOfThoughtFrom(evSig(t, "question -> answer"))
	if err != nil {
		t.Fatal(err)
	}
	devset := clDevset(200)
	counted := &clCounted{Dispatcher: c.Dispatcher("qa-cot"), c: c}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(counted), evaluate.WithConcurrency(16))
	if err != nil {
		t.Fatal(err)
	}
	counted.check(t)
	if res.Scored != len(devset) {
		t.Fatalf("result %s; failures %v", res.Summary(), res.Failures()[:min(3, len(res.Failures()))])
	}
	for _, n := range c.Stats().Nodes {
		switch n.Address {
		case full.addr:
			if n.Completed != int64(len(devset)) {
				t.Errorf("node with the kind completed %d, want %d", n.Completed, len(devset))
			}
		case partial.addr:
			if n.Completed != 0 || !n.Live {
				t.Errorf("node without the kind: %+v", n)
			}
		}
	}

	// A kind nobody registered: every example fails, typed, none is lost.
	res, err = evaluate.Run(ctx, prog, devset[:20], evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("no-such-kind")), evaluate.WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 20 || !res.Complete {
		t.Fatalf("unknown kind: %s", res.Summary())
	}
	for _, row := range res.Rows {
		var re *cluster.RemoteError
		if !errors.As(row.Err, &re) || re.Kind != cluster.KindUnknownProgram {
			t.Fatalf("row %d: error %v, want a *cluster.RemoteError of kind %q", row.Index, row.Err, cluster.KindUnknownProgram)
		}
	}
}
