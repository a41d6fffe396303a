// Package dspex is DSPy for Go: declare what a language model step takes
// and returns, compose steps into programs, evaluate and optimize them —
// on a supervised actor runtime that owns the traffic to LM providers.
//
// This package is the runtime. Programs (package programs) only see lm.LM
// values; the actors behind them stay inside.
//
// # Start
//
// Start builds the runtime: a protoactor actor system with a quiet logger
// and the supervision tree below. Options choose the configuration:
//
//	rt, err := dspex.Start(ctx, dspex.WithConfigFile("dspex.yaml"))
//	if err != nil { ... }
//	defer rt.Close(ctx)
//
// WithConfig passes a config.Config, WithConfigFile loads a YAML or JSON
// file, WithEnv applies environment variables (config.ApplyEnv); without
// any of them Start reads the environment (config.FromEnv). Giving two
// configurations, or a provider twice, is an error wrapping
// ErrConflictingOptions. An invalid configuration fails with a
// *config.ValidationError naming the key. WithProvider registers any lm.LM
// as a provider (a custom backend, or a fake in tests); when no provider at
// all is configured, Start fails with config.ErrNoProvider, unless
// WithSimulator is given: then it serves the embedded simulator (package
// simlm) on 127.0.0.1 as provider SimulatorProvider, so programs run
// offline.
//
// # LM
//
// (*Runtime).LM returns an lm.LM for "provider/model", "provider" (its
// default model) or "" (the configured default). Each Chat call is a
// message to the ClientManager, which routes it to the client actor of
// that provider and model:
//
//	qa := programs.MustPredict[Question, Answer](programs.WithLM(rt.LM("openai/gpt-4o-mini")))
//	out, err := qa.Call(ctx, Question{Text: "..."})
//
// The caller's context deadline bounds the call (without one, the
// configured request timeout times the retry attempts); cancelling the
// context cancels the provider's HTTP request. The client actor answers
// from its response cache when it can (keyed by provider, model, messages
// and sampling parameters, never the API key; lm.Request.NoCache bypasses
// it), then applies the in-flight cap, the rate limits, the circuit
// breaker (it counts requests after their retries and opens on a failure
// ratio; rate limits, client errors and cancellations do not trip it; an
// open breaker fails fast with an *lm.CircuitOpenError, which matches
// lm.ErrCircuitOpen and wraps the failure that opened it) and retries with exponential
// backoff and jitter that wait at least the provider's Retry-After. A
// request that needed several attempts fails with a *RetryError that
// unwraps to the last *lm.ProviderError. Calls are never serialised: the
// client actor admits each request and hands it back to the caller, whose
// goroutine makes the provider request.
//
// # Response cache
//
// The client actors share one response store (package cache): bigcache in
// memory, and with config cache.persistent a SQLite file in cache.dir
// (default os.UserCacheDir()/dspex) behind it, so that a rerun — after a
// restart, or in another process sharing the directory — costs no request.
// Only successful replies with choices are stored. WithCache plugs in
// another store (Redis, say); Status.Cache, CacheStats and the
// dspex.cache.store.* instruments report hits and misses by tier, size,
// evictions and failed writes; ClearCache empties it.
//
// # Configuration
//
// Config returns the configuration in force. UpdateConfig validates a new
// one and hands it to the ConfigManager, which tells the ClientManager,
// which pushes the new settings (retries, rate limits, breaker, in-flight
// cap, timeouts, provider endpoints) to every client actor for their next
// requests. An invalid update is rejected with its validation error and
// changes nothing. Cache sizes and supervision bounds apply at Start.
//
// # Supervision tree
//
//	dspex                 root supervisor: one-for-one; restart intensity and
//	│                     backoff from config.Supervision; beyond it, escalate
//	│                     (the tree's guardian restarts it all, then gives up)
//	├── config            ConfigManager: the typed configuration; restarts
//	│                     with the last good configuration
//	├── telemetry         TelemetrySetup: owns the OpenTelemetry providers;
//	│                     flushes them when it stops
//	└── clients           ClientManager: routes requests, answers Status;
//	    │                 supervises its clients one-for-one with the same
//	    │                 intensity and backoff, and escalates beyond it
//	    ├── openai:gpt-4o-mini   client actor: cache, breaker, rate limits,
//	    └── sim:simlm-1          retries, in-flight cap (spawned on first use)
//
// A panic inside a provider call fails that call (with ErrProviderPanic)
// and restarts its client actor; the cache, counters and running requests
// of a client outlive restarts of its actor and of the ClientManager.
// Status reports each client's breaker state, requests in flight, counters,
// cache statistics and restarts, with the supervision decisions taken.
// Kill injects a crash into an actor, to test all this.
//
// # Telemetry
//
// The TelemetrySetup actor builds OpenTelemetry providers from
// config.Telemetry (exporter none, stdout, otlp-grpc or otlp-http) and the
// WithTelemetry options, and hands them to the client actors; they are
// never installed as the otel globals. The rest of dspex finds them in
// the context, where an entry point puts them once: Runtime.Context(ctx)
// for any call; a program call given one of the runtime's LMs
// (Runtime.LM), and an evaluation or optimizer given the runtime
// (evaluate.WithRuntime), do it themselves when the context carries none.
// One trace holds a prediction or a whole evaluation, from the program's span
// through the adapter's and the client actor's GenAI "chat" span down to
// each HTTP attempt. Metrics count requests, latency, tokens, cache hits,
// retries, breaker changes, in-flight requests, restarts and evaluation
// scores. See package telemetry for the span and metric names;
// telemetry.NewTreePrinter prints each trace as a readable tree:
//
//	rt, err := dspex.Start(ctx, dspex.WithTelemetry(
//		telemetry.WithSpanProcessor(telemetry.NewTreePrinter(os.Stdout))))
//
// # Shutdown
//
// Close stops the runtime, once: new calls fail with ErrClosed; running
// provider requests are cancelled and their callers get ErrClosed; the
// actors stop in reverse order (ClientManager and its clients, then
// TelemetrySetup, which flushes telemetry, then ConfigManager); the actor
// system shuts down and idle HTTP connections close. The context bounds the
// waiting. After Close no goroutine of the runtime is left.
package dspex
