package test

import (
	"context"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/simlm"
)

// TestClusterStaticMembership lists a node's address in the coordinator's
// StaticMembership before the node runs: the coordinator keeps dialling
// until the node (started without -join) answers, then uses it. Each LM
// call takes longer than FailureTimeout: a node that sends no heartbeat
// stays live on its answers to pings alone.
func TestClusterStaticMembership(t *testing.T) {
	bin := clBuild(t)
	// FailureTimeout is half the latency: long enough that a ping
	// answered late on a loaded machine is still in time (200 ms was
	// not, under a load average of 14).
	const latency = 1500 * time.Millisecond
	sim := evSim(t, simlm.WithFaults(simlm.Faults{Latency: latency}))
	addr := clFreeAddr(t)
	c := clCoordinator(t, func(cfg *cluster.CoordinatorConfig) {
		cfg.Membership = cluster.StaticMembership(addr)
		cfg.PingInterval = 50 * time.Millisecond
		cfg.FailureTimeout = latency / 2
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
	prog := clQA(t)
	devset := clDevset(24)
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != len(devset) {
		t.Fatalf("result %s", res.Summary())
	}
	st := c.Stats()
	if len(st.Nodes) != 1 || st.Nodes[0].Address != addr || st.Nodes[0].Completed != int64(len(devset)) ||
		st.Nodes[0].Deaths != 0 || st.Reassigned != 0 {
		t.Fatalf("stats %v", st)
	}
}
