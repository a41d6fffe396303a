package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
)

// coordinate runs coordinator mode: wait for the nodes, evaluate, print.
func coordinate(ctx context.Context, f flags, out io.Writer) error {
	if f.n < 1 || f.nodes < 1 {
		return fmt.Errorf("-n (%d) and -nodes (%d) must be at least 1", f.n, f.nodes)
	}
	if f.timeout <= 0 {
		return fmt.Errorf("-timeout %v: must be positive", f.timeout)
	}
	reg := &cluster.Registry{}
	if err := registerKinds(reg, nil); err != nil {
		return err
	}
	ctor, ok := reg.Lookup(f.kind)
	if !ok {
		return fmt.Errorf("unknown -kind %q (have %v)", f.kind, reg.Kinds())
	}
	prog, err := ctor()
	if err != nil {
		return err
	}
	ep, err := f.endpoint()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg := cluster.DefaultCoordinatorConfig()
	cfg.Endpoint = ep
	if cfg.Discovery, err = f.discovery(false); err != nil {
		return err
	}
	c, err := cluster.StartCoordinator(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.Background()) }()
	fmt.Fprintf(out, "coordinator listening on %s; waiting for %d nodes\n", c.Address(), f.nodes)
	if err := c.WaitNodes(ctx, f.nodes); err != nil {
		return err
	}
	capacity := 0
	for _, n := range c.Stats().Nodes {
		capacity += n.Capacity
	}
	_, devItems := dataset.TrainDev(0, 100)
	dev := dataset.Examples(devItems)
	devset := make([]dataset.Example, f.n)
	for i := range devset {
		devset[i] = dev[i%len(dev)].WithID(fmt.Sprintf("%s#%d", dev[i%len(dev)].ID(), i))
	}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"),
		evaluate.WithDispatcher(c.Dispatcher(f.kind)), evaluate.WithConcurrency(max(capacity, 1)),
		evaluate.WithDescription("evaluate"))
	fmt.Fprintln(out, res.Summary())
	fmt.Fprintf(out, "%v in %v (%.0f examples/s)\n", c.Stats(), res.Elapsed.Round(1e6), float64(len(devset))/res.Elapsed.Seconds())
	return err
}
