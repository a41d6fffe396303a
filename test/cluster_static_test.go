package test

import (
	"context"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// TestClusterStaticMembership lists a node's address in the coordinator's
// StaticMembership before the node runs: the coordinator keeps dialling
// until the node (started without -join) answers, then uses it.
func TestClusterStaticMembership(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	addr := clFreeAddr(t)
	c := clCoordinator(t, func(cfg *cluster.CoordinatorConfig) {
		cfg.Membership = cluster.StaticMembership(addr)
		cfg.PingInterval = 50 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The listed node is down: the coordinator tries and fails at least
	// once (the node is not live) before it starts.
	waitCtx, waitCancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if err := c.WaitNodes(waitCtx, 1); err == nil {
		t.Fatal("a node that does not run is live")
	}
	waitCancel()
	p := clNode(t, bin, "", sim, "listed", "-listen", addr, "-capacity", "8")
	// Close the coordinator before the node is killed.
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if p.addr != addr {
		t.Fatalf("node listens on %s, want %s", p.addr, addr)
	}
	if err := c.WaitNodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	prog, err := programs.NewPredictor(evSig(t, "question -> answer"))
	if err != nil {
		t.Fatal(err)
	}
	devset := clDevset(100)
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != len(devset) {
		t.Fatalf("result %s", res.Summary())
	}
	st := c.Stats()
	if len(st.Nodes) != 1 || st.Nodes[0].Address != addr || st.Nodes[0].Completed != int64(len(devset)) {
		t.Fatalf("stats %v", st)
	}
}
