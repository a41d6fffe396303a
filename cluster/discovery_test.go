//go:build !race

// Two protoactor remotes in one process race in protoactor-go e952b3c
// (remote.Start sets grpc's global logger while the other's server reads
// it), so this in-process test runs without the race detector only;
// test/cluster_discovery_test.go covers discovery across processes with it.

package cluster

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDiscoveryAutomanaged finds a node through protoactor's automanaged
// provider, with no Join and no Membership, and evaluates on it.
func TestDiscoveryAutomanaged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := &Registry{}
	if err := reg.Register("qa", func() (programs.Program, error) {
		return programs.NewPredictFrom(signature.MustParse("question -> answer"))
	}); err != nil {
		t.Fatal(err)
	}
	health := freePort(t)
	ncfg := DefaultNodeConfig()
	ncfg.LM, ncfg.Registry, ncfg.Name = answerLM, reg, "a"
	ncfg.Discovery = &Discovery{ClusterName: "t", Provider: Automanaged(AutomanagedConfig{Listen: health,
		Hosts: []string{health}, Refresh: 100 * time.Millisecond})}
	n, err := StartNode(ctx, ncfg)
	if err != nil {
		t.Fatal(err)
	}
	// The coordinator closes first: the node leaving then is seen by
	// nobody (protoactor's BlockList is written unsynchronised on leaves).
	defer func() {
		if err := n.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	ccfg := DefaultCoordinatorConfig()
	ccfg.Discovery = &Discovery{ClusterName: "t", Provider: Automanaged(AutomanagedConfig{Hosts: []string{health},
		Refresh: 100 * time.Millisecond})}
	c, err := StartCoordinator(ctx, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.WaitNodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	const count = 20
	devset := make([]dataset.Example, count)
	for i := range devset {
		devset[i] = dataset.NewExample(map[string]any{"question": fmt.Sprintf("q%d", i), "answer": "Paris"}, "question").
			WithID(fmt.Sprint(i))
	}
	prog, err := programs.NewPredictFrom(signature.MustParse("question -> answer"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithDispatcher(c.Dispatcher("qa")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != count || res.Score != 1 {
		t.Fatalf("result: %s", res.Summary())
	}
	st := c.Stats()
	if len(st.Nodes) != 1 || st.Nodes[0].Address != n.Address() || st.Nodes[0].Completed != count {
		t.Fatalf("stats: %+v (node at %s)", st, n.Address())
	}
}
