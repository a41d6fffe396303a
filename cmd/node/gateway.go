package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dspex-go/dspex/cluster"
)

// serveGateway runs gateway mode until ctx ends: the process's own dspex
// runtime (the provider of -sim-url or -config, with its keys, cache,
// breaker, retries, rate limit and client concurrency) serves the LM calls
// of the nodes started with -gateway.
func serveGateway(ctx context.Context, f flags, out io.Writer) error {
	switch {
	case f.gateway != "":
		return errors.New("-serve-gateway and -gateway are exclusive")
	case f.join != "":
		return errors.New("-serve-gateway takes no -join: nodes reach the gateway, it reaches no coordinator")
	case f.gatewayInFlight < 0:
		return errors.New("-gateway-max-in-flight must not be negative")
	}
	rt, err := f.runtime(ctx)
	if err != nil {
		return err
	}
	defer closeRuntime(rt)
	ep, err := f.endpoint()
	if err != nil {
		return err
	}
	cfg := cluster.DefaultGatewayConfig()
	cfg.Endpoint, cfg.LM, cfg.MaxInFlight = ep, rt.LM(""), f.gatewayInFlight
	// Callers may name only the models configured for the provider the
	// gateway serves: it is never an open proxy for other models.
	p, def, err := rt.Config().ResolveModel("")
	if err != nil {
		return err
	}
	cfg.Models = append([]string{def}, p.Models...)
	g, err := cluster.StartGateway(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "gateway listening on %s, serving %s\n", g.Address(), strings.Join(cfg.Models, ", "))
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return g.Close(cctx)
}
