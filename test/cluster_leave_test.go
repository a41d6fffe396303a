package test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
)

// TestClusterNodeStops stops one of two nodes gracefully (SIGTERM) mid-run.
// The nodes are found through StaticMembership, with no -join, so the
// stopping node sends no Leave: its coordinator learns it from the session
// the node stops first. The run completes with every example scored once,
// the stopped node exits cleanly, and the coordinator does not open it
// again while it is closing.
func TestClusterNodeStops(t *testing.T) {
	bin := clBuild(t)
	const stopAt = 120
	sim, trigger := clTriggerSim(t, stopAt, 20*time.Millisecond)
	addrs := []string{clFreeAddr(t), clFreeAddr(t)}
	c := clCoordinator(t, func(cfg *cluster.CoordinatorConfig) {
		cfg.Membership = cluster.StaticMembership(addrs...)
		cfg.PingInterval = 50 * time.Millisecond
	})
	victim := clNode(t, bin, "", sim, "victim", "-listen", addrs[0], "-capacity", "8")
	clNode(t, bin, "", sim, "survivor", "-listen", addrs[1], "-capacity", "8")
	// Close the coordinator before the nodes are killed.
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, 2); err != nil {
		t.Fatal(err)
	}
	exit := errors.New("not stopped")
	stopped := clAt(ctx, trigger, func() {
		// Under the process's kill Once, so that a cleanup's kill does
		// not Wait for it at the same time.
		victim.killed.Do(func() {
			_ = victim.cmd.Process.Signal(syscall.SIGTERM)
			exit = victim.cmd.Wait()
		})
	})
	prog := clQA(t)
	devset := clDevset(400)
	counted := &clCounted{Dispatcher: c.Dispatcher("qa-predict"), c: c}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(counted), evaluate.WithConcurrency(16))
	if err != nil {
		t.Fatal(err)
	}
	<-stopped
	if exit != nil {
		t.Errorf("the stopped node exited with %v, want a clean exit", exit)
	}
	counted.check(t)
	st := c.Stats()
	t.Logf("%s; %v", res.Summary(), st)
	if !res.Complete || res.Scored != len(devset) {
		t.Fatalf("result %s; failures %v", res.Summary(), res.Failures()[:min(3, len(res.Failures()))])
	}
	var sum int64
	for _, n := range st.Nodes {
		sum += n.Completed
		switch n.Address {
		case addrs[0]:
			if n.Live || n.Deaths != 1 || n.Completed == 0 {
				t.Errorf("stopped node %+v: want dead once, after some examples", n)
			}
		case addrs[1]:
			if !n.Live || n.Deaths != 0 {
				t.Errorf("surviving node %+v", n)
			}
		}
	}
	if sum != int64(len(devset)) || st.Completed != int64(len(devset)) {
		t.Errorf("nodes delivered %d results in all, want %d; %v", sum, len(devset), st)
	}
	clMatchLocal(t, ctx, prog, sim, res, devset, 205, 32)
}
