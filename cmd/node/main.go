// Command node runs a dspex cluster node, or a coordinator evaluating the
// shipped QA dev set over the nodes that join it.
//
// A node starts its own dspex runtime (client actors, cache, breaker,
// retries) on an OpenAI-compatible endpoint, listens on a loopback port and
// announces itself to the coordinators given with -join; coordinators then
// run examples in evaluator actors on it, with its LM:
//
//	node -listen 127.0.0.1:0 -join 127.0.0.1:7400 -sim-url http://127.0.0.1:7300/v1
//
// Without -sim-url (and without a configured provider, see -config) the node
// serves its own embedded simulator (package simlm).
//
// With -coordinate the command is a coordinator instead: it listens for
// nodes, waits for -nodes of them, evaluates -n examples of the shipped
// dev set (repeated as needed) with the program kind -kind, and prints the
// result and how many examples each node ran:
//
//	node -coordinate -listen 127.0.0.1:7400 -nodes 2 -n 1000 -kind qa-cot
//
// With -serve-gateway the command is an LM gateway: it starts its own
// runtime on the provider (-sim-url or -config, reading the API key as a
// node would, e.g. from OPENAI_API_KEY) and serves the LM calls of every
// node started with -gateway ADDR. Such nodes start no runtime and hold no
// key: their calls, and so the runtime's cache, breaker, rate limit and
// client concurrency, are shared by the whole cluster. -gateway-max-in-flight
// adds a cap of the gateway's own on the calls it runs at once:
//
//	OPENAI_API_KEY=sk-... node -serve-gateway -listen 127.0.0.1:7500 -config dspex.yaml
//	node -listen 127.0.0.1:0 -join 127.0.0.1:7400 -gateway 127.0.0.1:7500
//
// A node's calls fail (cluster.ErrGatewayUnreachable) while its gateway is
// down. A gateway serves only the models configured for its provider.
//
// Every process authenticates its peers with mutual TLS (-tls-cert,
// -tls-key, -tls-ca, -mtls) or a shared cluster secret, read from the
// DSPEX_CLUSTER_SECRET environment variable (at least 16 bytes, the same
// for every process); refused peers are reported on standard error with
// their address. With neither, a process listens on loopback only: a
// -listen address beyond loopback fails to start and says what to set.
//
// The program kinds a node can run are registered by this command (see
// kinds.go): qa-predict and qa-cot, both "question -> answer".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
)

type flags struct {
	listen, advertise, join, name string
	capacity                      int
	simURL, model, configFile     string
	clientConcurrency             int
	cache                         bool
	tlsCert, tlsKey, tlsCA        string
	mtls                          bool
	verbose                       bool

	kinds                                    string
	provider, amListen, amHosts, clusterName string
	amRefresh                                time.Duration

	serveGateway    bool
	gateway         string
	gatewayInFlight int

	coordinate bool
	nodes, n   int
	kind       string
	timeout    time.Duration
}

func main() {
	var f flags
	flag.StringVar(&f.listen, "listen", cluster.DefaultListen, "host:port of the remote endpoint (port 0: any free port)")
	flag.StringVar(&f.advertise, "advertise", "", "address peers reach this process at (default: the listening address)")
	flag.StringVar(&f.join, "join", "", "comma-separated coordinator addresses to join (node mode)")
	flag.StringVar(&f.name, "name", "", "node name shown by coordinators (default: its address)")
	flag.IntVar(&f.capacity, "capacity", cluster.DefaultCapacity, "examples the node runs at once")
	flag.StringVar(&f.simURL, "sim-url", "", "base URL of an OpenAI-compatible server (e.g. a simulator), provider \"sim\"")
	flag.StringVar(&f.model, "model", simlm.DefaultModel, "model name for -sim-url")
	flag.StringVar(&f.configFile, "config", "", "dspex configuration file (instead of -sim-url)")
	flag.IntVar(&f.clientConcurrency, "client-concurrency", 0, "cap on requests in flight per client actor (0: configured default)")
	flag.BoolVar(&f.cache, "cache", true, "use the runtime's response cache")
	flag.StringVar(&f.tlsCert, "tls-cert", "", "certificate (PEM) for TLS on the remote endpoint")
	flag.StringVar(&f.tlsKey, "tls-key", "", "key (PEM) of -tls-cert")
	flag.StringVar(&f.tlsCA, "tls-ca", "", "CA certificates (PEM) peers must chain to")
	flag.BoolVar(&f.mtls, "mtls", false, "require client certificates (mutual TLS)")
	flag.BoolVar(&f.verbose, "v", false, "log to standard error")
	flag.StringVar(&f.kinds, "kinds", "", "node: comma-separated program kinds to register (default: all of qa-predict, qa-cot)")
	flag.StringVar(&f.provider, "provider", "", "protoactor cluster provider for discovery: automanaged (none: -join seed lists only)")
	flag.StringVar(&f.amListen, "automanaged-listen", "", "automanaged: host:port of this node's health endpoint (loopback when the host is empty)")
	flag.StringVar(&f.amHosts, "automanaged-hosts", "", "automanaged: comma-separated health endpoints of all nodes")
	flag.DurationVar(&f.amRefresh, "automanaged-refresh", 0, "automanaged: how often members are polled (default 2s)")
	flag.StringVar(&f.clusterName, "cluster-name", cluster.DefaultClusterName, "protoactor cluster name, with -provider")
	flag.BoolVar(&f.serveGateway, "serve-gateway", false, "run as an LM gateway serving the LM calls of nodes started with -gateway, with this process's runtime and keys")
	flag.StringVar(&f.gateway, "gateway", "", "node: send LM calls to the gateway at host:port instead of starting a runtime (excludes -sim-url and -config)")
	flag.IntVar(&f.gatewayInFlight, "gateway-max-in-flight", 0, "gateway: cap on LM calls in flight at the gateway (0: only the runtime's client concurrency caps)")
	flag.BoolVar(&f.coordinate, "coordinate", false, "run as a coordinator evaluating the dev set")
	flag.IntVar(&f.nodes, "nodes", 1, "coordinator: nodes to wait for")
	flag.IntVar(&f.n, "n", 1000, "coordinator: examples to evaluate")
	flag.StringVar(&f.kind, "kind", "qa-cot", "coordinator: program kind to evaluate")
	flag.DurationVar(&f.timeout, "timeout", 10*time.Minute, "coordinator: bound on the whole run")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case f.coordinate && f.serveGateway:
		err = errors.New("-coordinate and -serve-gateway are exclusive")
	case f.coordinate:
		err = coordinate(ctx, f, os.Stdout)
	case f.serveGateway:
		err = serveGateway(ctx, f, os.Stdout)
	default:
		err = node(ctx, f, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		os.Exit(1)
	}
}

func (f flags) endpoint() (cluster.Endpoint, error) {
	// The cluster secret comes from DSPEX_CLUSTER_SECRET (read by the
	// cluster package), never from a flag: flags show in process lists.
	// Refused peers are always reported on standard error.
	e := cluster.Endpoint{Listen: f.listen, Advertise: f.advertise, Logger: f.logger(),
		SecurityLogger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if f.tlsCert != "" || f.tlsKey != "" || f.mtls {
		if f.tlsCert == "" || f.tlsKey == "" {
			return e, errors.New("-tls-cert and -tls-key go together")
		}
		e.TLS = &cluster.TLS{CertFile: f.tlsCert, KeyFile: f.tlsKey, CAFile: f.tlsCA, Mutual: f.mtls}
	}
	return e, nil
}

func (f flags) logger() *slog.Logger {
	if !f.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// checkSeeds refuses a -join address that is not host:port.
func checkSeeds(seeds []string) ([]string, error) {
	for _, s := range seeds {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("-join %q: want host:port of a coordinator", s)
		}
	}
	return seeds, nil
}

// reportUnreachable tells, on w, which -join seeds nothing listens at now.
// The node keeps announcing itself to them at every heartbeat, so a
// coordinator started later still gets it.
func reportUnreachable(ctx context.Context, seeds []string, w io.Writer) {
	d := net.Dialer{Timeout: 2 * time.Second}
	for _, s := range seeds {
		c, err := d.DialContext(ctx, "tcp", s)
		if err != nil {
			fmt.Fprintf(w, "node: -join %s: unreachable (%v); retrying at every heartbeat\n", s, err)
			continue
		}
		_ = c.Close()
	}
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// node runs node mode until ctx ends.
func node(ctx context.Context, f flags, out io.Writer) error {
	reg := &cluster.Registry{}
	if err := registerKinds(reg, splitList(f.kinds)); err != nil {
		return err
	}
	// With -gateway, the gateway's runtime makes the LM calls.
	var nodeLM lm.LM
	if f.gateway != "" {
		if f.simURL != "" || f.configFile != "" {
			return errors.New("-gateway excludes -sim-url and -config: the gateway holds the provider")
		}
	} else {
		rt, err := f.runtime(ctx)
		if err != nil {
			return err
		}
		defer closeRuntime(rt)
		nodeLM = rt.LM("")
	}
	ep, err := f.endpoint()
	if err != nil {
		return err
	}
	if f.capacity < 1 {
		return fmt.Errorf("-capacity %d: must be at least 1", f.capacity)
	}
	seeds, err := checkSeeds(splitList(f.join))
	if err != nil {
		return err
	}
	cfg := cluster.DefaultNodeConfig()
	cfg.Endpoint, cfg.Name, cfg.Join, cfg.Capacity = ep, f.name, seeds, f.capacity
	cfg.LM, cfg.Gateway, cfg.Registry = nodeLM, f.gateway, reg
	if cfg.Discovery, err = f.discovery(true); err != nil {
		return err
	}
	n, err := cluster.StartNode(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "node %s listening on %s, joining %v\n", f.name, n.Address(), cfg.Join)
	reportUnreachable(ctx, seeds, os.Stderr)
	if f.gateway != "" {
		fmt.Fprintf(out, "node %s sends its LM calls to the gateway at %s\n", f.name, f.gateway)
	}
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return n.Close(cctx)
}

// runtime starts the dspex runtime of a node or gateway: the provider
// at -sim-url, or the one configured in -config, or an embedded simulator.
func (f flags) runtime(ctx context.Context) (*dspex.Runtime, error) {
	opts := []dspex.Option{dspex.WithLogger(f.logger())}
	switch {
	case f.simURL != "" && f.configFile != "":
		return nil, errors.New("-sim-url and -config are exclusive")
	case f.simURL != "":
		cfg := config.Default()
		cfg.Providers = []config.Provider{{Name: "sim", BaseURL: f.simURL, DefaultModel: f.model}}
		cfg.Cache.Enabled = f.cache
		if f.clientConcurrency > 0 {
			cfg.Concurrency = f.clientConcurrency
		}
		opts = append(opts, dspex.WithConfig(cfg))
	case f.configFile != "":
		opts = append(opts, dspex.WithConfigFile(f.configFile))
	default:
		opts = append(opts, dspex.WithSimulator())
	}
	return dspex.Start(ctx, opts...)
}

// closeRuntime closes rt, waiting 10 s at most.
func closeRuntime(rt *dspex.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = rt.Close(ctx)
}
