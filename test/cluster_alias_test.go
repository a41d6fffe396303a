package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/simlm"
)

// TestClusterNodeUnderTwoAddresses lists a node in StaticMembership as
// localhost:PORT while it joins as 127.0.0.1:PORT: the coordinator sees
// one node (one session, its capacity counted once), which stays live
// and runs every example.
func TestClusterNodeUnderTwoAddresses(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t, simlm.WithLatency(5*time.Millisecond))
	addr := clFreeAddr(t)
	alias := "localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
	// The node runs first, so that the coordinator's first dials, under
	// either address, reach it.
	coord := clFreeAddr(t)
	p := clNode(t, bin, coord, sim, "one", "-listen", addr, "-capacity", "4")
	c := clCoordinator(t, func(cfg *cluster.CoordinatorConfig) {
		cfg.Listen = coord
		cfg.Membership = cluster.StaticMembership(alias)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	prog := clQA(t)
	devset := clDevset(400) // about 0.5 s at 4 in flight
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(16))
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	t.Logf("%s; %v", res.Summary(), st)
	if res.Scored != len(devset) {
		t.Fatalf("result %s", res.Summary())
	}
	if st.Live != 1 || len(st.Nodes) != 1 || st.Nodes[0].Capacity != 4 || st.Nodes[0].Deaths != 0 ||
		st.Nodes[0].Completed != int64(len(devset)) || st.Reassigned != 0 {
		t.Fatalf("stats %+v, want the node at %s once, live, never dead", st, p.addr)
	}
}
