// Command serve serves saved dspex (or DSPy) programs over HTTP.
//
//	serve -config dspex.yaml \
//	      -program 'qa=cot:question -> answer' -state qa=qa.json
//
// Each -program is name=kind:signature, kind being "predict" or "cot";
// -state name=file loads the program's saved state, written by dspex's
// programs.Save or by DSPy's program.save("file.json"). The LM comes from
// the runtime configuration (-config, or the environment such as
// OPENAI_API_KEY); -simulator answers from the embedded simulator when no
// provider is configured. See package serve for the endpoints and errors.
//
// -metrics serves the runtime's OpenTelemetry metrics (the LM calls: requests,
// tokens, durations, cost, cache, breaker; and the HTTP server's requests)
// in the Prometheus format on /metrics, in place of a metric exporter the
// configuration names.
//
// -budget caps the LM calls of all requests over the process's life and
// -request-budget those of each request, both as a comma-separated list
// of caps: "calls=1000,tokens=2000000,cost=5". Once -budget is spent,
// calls get 503 budget_exceeded with Retry-After; a request that needs
// more than -request-budget gets 422 request_budget_exceeded.
//
// On SIGTERM or SIGINT the server stops accepting calls (/readyz turns
// 503), waits up to -drain for the calls in flight, then exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/serve"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func run() error {
	var progFlags, stateFlags listFlag
	var (
		addr      = flag.String("addr", "127.0.0.1:8080", "listen address")
		cfgFile   = flag.String("config", "", "runtime configuration file (YAML or JSON); default: the environment")
		lmID      = flag.String("lm", "", `LM id of the programs ("provider/model"); default: the configured model`)
		simulator = flag.Bool("simulator", false, "answer from the embedded simulator when no provider is configured")
		drain     = flag.Duration("drain", 30*time.Second, "how long shutdown waits for calls in flight")
		timeout   = flag.Duration("timeout", 0, "bound on each program call (0: none)")
		maxBody   = flag.Int64("max-body", serve.DefaultMaxBodyBytes, "maximum request body in bytes")
		metrics   = flag.Bool("metrics", false, "serve the metrics in the Prometheus format on /metrics")
		total     = flag.String("budget", "", `cap on the LM calls of all requests: "calls=N,tokens=N,cost=X" (any of them)`)
		perCall   = flag.String("request-budget", "", `cap on the LM calls of each request, as -budget`)
	)
	flag.Var(&progFlags, "program", "a program to serve: name=kind:signature (repeatable)")
	flag.Var(&stateFlags, "state", "saved state of a program: name=file.json (repeatable)")
	flag.Parse()
	if len(progFlags) == 0 {
		return errors.New("no -program given")
	}
	serverBudget, err := parseBudget(*total)
	if err != nil {
		return fmt.Errorf("-budget: %w", err)
	}
	requestBudget, err := parseBudget(*perCall)
	if err != nil {
		return fmt.Errorf("-request-budget: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := []dspex.Option{dspex.WithLogger(logger)}
	if *cfgFile != "" {
		opts = append(opts, dspex.WithConfigFile(*cfgFile))
	}
	if *simulator {
		opts = append(opts, dspex.WithSimulator())
	}
	var prom *telemetry.Prometheus
	if *metrics {
		if prom, err = telemetry.NewPrometheus(); err != nil {
			return err
		}
		opts = append(opts, dspex.WithTelemetry(telemetry.WithMetricReader(prom.Reader())))
	}
	rt, err := dspex.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Close(cctx)
	}()

	states := map[string]string{}
	for _, s := range stateFlags {
		name, file, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-state %q: want name=file", s)
		}
		states[name] = file
	}
	kinds := serve.Kinds()
	var progs []serve.Program
	for _, p := range progFlags {
		name, spec, ok := strings.Cut(p, "=")
		kind, sigText, ok2 := strings.Cut(spec, ":")
		if !ok || !ok2 {
			return fmt.Errorf("-program %q: want name=kind:signature", p)
		}
		build, ok := kinds[kind]
		if !ok {
			return fmt.Errorf("-program %q: unknown kind %q (known: predict, cot)", p, kind)
		}
		sig, err := signature.Parse(sigText)
		if err != nil {
			return fmt.Errorf("-program %q: %w", p, err)
		}
		prog, err := build(sig, programs.WithLM(rt.LM(*lmID)))
		if err != nil {
			return fmt.Errorf("-program %q: %w", p, err)
		}
		if file, ok := states[name]; ok {
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("-state %s: %w", name, err)
			}
			if prog, err = serve.LoadState(data, prog); err != nil {
				return fmt.Errorf("-state %s: %w", name, err)
			}
			delete(states, name)
		}
		progs = append(progs, serve.Program{Name: name, Signature: servedSignature(prog, sig), Program: prog})
	}
	for name := range states {
		return fmt.Errorf("-state %s: no -program of that name", name)
	}
	// An open breaker lets a request through again after its timeout.
	retryAfter := rt.Config().Breaker.Timeout.Duration()
	scfg := serve.Config{MaxBodyBytes: *maxBody, Timeout: *timeout, RetryAfter: retryAfter,
		Budget: serverBudget, RequestBudget: requestBudget}
	if prom != nil {
		scfg.MeterProvider = rt.MeterProvider()
	}
	h, err := serve.New(scfg, progs...)
	if err != nil {
		return err
	}
	var handler http.Handler = h
	if prom != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", prom)
		mux.Handle("/", h)
		handler = mux
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("serving %d programs on http://%s\n", len(progs), ln.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process
	h.Drain()
	dctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(dctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	fmt.Println("drained")
	return nil
}

// servedSignature is the signature clients see: the program's own when it
// has one (ChainOfThought adds reasoning), else sig.
func servedSignature(p programs.StreamProgram, sig signature.Signature) signature.Signature {
	if s, ok := p.(interface{ Signature() signature.Signature }); ok {
		return s.Signature()
	}
	return sig
}

// parseBudget parses "calls=N,tokens=N,cost=X" (any of the caps, in any
// order; "" is no budget).
func parseBudget(text string) (budget.Budget, error) {
	var b budget.Budget
	if strings.TrimSpace(text) == "" {
		return b, nil
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(text, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || val == "" {
			return budget.Budget{}, fmt.Errorf("%q: want cap=value (calls, tokens or cost)", part)
		}
		if seen[key] {
			return budget.Budget{}, fmt.Errorf("%q: %s is given twice", part, key)
		}
		seen[key] = true
		switch key {
		case "calls", "tokens":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return budget.Budget{}, fmt.Errorf("%q: %s wants a positive integer", part, key)
			}
			if key == "calls" {
				b.MaxCalls = n
			} else {
				b.MaxTokens = n
			}
		case "cost":
			x, err := strconv.ParseFloat(val, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) {
				return budget.Budget{}, fmt.Errorf("%q: cost wants a positive number", part)
			}
			b.MaxCost = x
		default:
			return budget.Budget{}, fmt.Errorf("%q: unknown cap %q (want calls, tokens or cost)", part, key)
		}
	}
	return b, nil
}
