package dspex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/actors"
	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/supervision"
)

// ErrClosed is returned by the runtime's LMs and methods once Close has
// begun; requests still running when Close is called fail with it.
var ErrClosed = actors.ErrClosed

// ErrProviderPanic means the provider panicked while serving a request:
// the request fails with it, and the client actor restarts.
var ErrProviderPanic = actors.ErrProviderPanic

// RetryError is a request that failed after more than one attempt; it
// unwraps to the last attempt's error (usually an *lm.ProviderError).
type RetryError = actors.RetryError

// SimulatorProvider names the provider of the embedded simulator, which
// Start serves on 127.0.0.1 when no provider is configured or registered.
const SimulatorProvider = "sim"

// Names of the runtime's actors, for Kill and Status.Supervision.
const (
	// ActorRuntime is the root supervisor.
	ActorRuntime = "dspex"
	// ActorConfig is the ConfigManager.
	ActorConfig = "config"
	// ActorTelemetry is the TelemetrySetup actor.
	ActorTelemetry = "telemetry"
	// ActorClients is the ClientManager, supervisor of the client actors.
	ActorClients = "clients"
)

// Runtime is a running dspex runtime: an actor system with its supervision
// tree of ConfigManager, TelemetrySetup and ClientManager. Its methods are
// safe for concurrent use. Close it when done.
type Runtime struct {
	system       *actor.ActorSystem
	tree         *supervision.Tree
	clientPolicy *supervision.Policy
	configs      *actors.Configs
	clients      *actors.Clients
	telemetry    *actors.Telemetry
	tel          runtimeTelemetry
	transports   *transports
	sim          *simlm.Server // the embedded simulator, when it serves
	recorder     *history.Recorder
	cache        cache.Store // the clients' shared response cache; nil: none
	ownCache     bool        // closed by Close

	// fileCap caps the requests in flight of clients without a
	// concurrency cap (0: none); concurrency is the configured cap at
	// start. Both size the HTTP connection pools.
	fileCap, concurrency int

	closeOnce sync.Once
	closeDone chan struct{}
	closeErr  error
}

// Start builds and starts a runtime. Without options it reads its
// configuration from the environment (config.FromEnv); see the Option
// functions for the rest. Conflicting options fail with an error wrapping
// ErrConflictingOptions; an invalid configuration fails with the
// config package's *ValidationError (errors.As), naming the key.
func Start(ctx context.Context, opts ...Option) (*Runtime, error) {
	var o options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(&o); err != nil {
			return nil, err
		}
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	getenv := o.getenv // resolves config.Provider.APIKeyEnv
	if getenv == nil {
		getenv = os.Getenv
	}

	r := &Runtime{closeDone: make(chan struct{}), transports: &transports{}}
	if r.recorder, err = newRecorder(cfg, r.tel.recordCost); err != nil {
		return nil, err
	}
	if len(cfg.Providers) == 0 && len(o.providers) == 0 {
		if !o.simulator {
			return nil, fmt.Errorf("dspex: start: configure a provider (e.g. OPENAI_API_KEY), or pass WithSimulator to run on the embedded simulator: %w", config.ErrNoProvider)
		}
		// Nothing to talk to, and the caller asked for the simulator:
		// serve it, so that programs run offline.
		r.sim, err = simlm.Start()
		if err != nil {
			return nil, fmt.Errorf("dspex: start simulator: %w", err)
		}
		cfg.Providers = []config.Provider{{Name: SimulatorProvider, BaseURL: r.sim.URL(), DefaultModel: r.sim.Model()}}
		logger.Info("dspex: no provider configured; serving the embedded simulator", slog.String("url", r.sim.URL()))
	}
	// protoactor starts a goroutine per dead-letter throttle period; keep
	// it short so that none outlives Close by long.
	r.system = supervision.NewSystem(logger, actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	onSuper := o.onSuper
	supOpts := []supervision.Option{supervision.WithLogger(logger), supervision.WithOnEvent(func(ev supervision.Event) {
		r.tel.observe(ev)
		if onSuper != nil {
			onSuper(ev)
		}
	})}
	if r.cache, r.ownCache, err = openCache(ctx, cfg.Cache, o.cache, logger); err != nil {
		r.system.Shutdown()
		if r.sim != nil {
			_ = r.sim.Close()
		}
		return nil, fmt.Errorf("dspex: start: %w", err)
	}
	r.tel.cache = r.cache
	r.clientPolicy = supervision.NewPolicy(clientSpec(cfg), supOpts...)
	r.configs = actors.NewConfigs(cfg, nil)
	perRequest := 1
	if r.sim != nil {
		perRequest = 2 // client and server sockets in this process
	}
	limit, known := fileLimit()
	r.fileCap = checkFileLimit(cfg, limit, known, perRequest, logger)
	r.concurrency = cfg.Concurrency
	r.clients = actors.NewClients(actors.ClientsOptions{
		FileCap:         r.fileCap,
		Config:          cfg,
		Factory:         r.factory(o.httpClient, getenv),
		Custom:          maps.Clone(o.providers),
		Configs:         r.configs,
		OnBreakerChange: o.onBreaker,
		Prices:          r.recorder.Prices(),
		Cache:           r.cache,
	})
	r.telemetry = actors.NewTelemetry(r.tel.setup(cfg.Telemetry, r.clients, o.telemetry), logger, 0)

	spec := runtimeSpec(cfg)
	spec.Children = []supervision.Child{
		{Name: ActorConfig, Props: actors.ConfigManagerProps(r.configs)},
		{Name: ActorTelemetry, Props: actors.TelemetryProps(r.telemetry)},
		{Name: ActorClients, Props: actors.ClientManagerProps(r.clients, r.clientPolicy)},
	}
	r.tree, err = supervision.Start(r.system, spec, supOpts...)
	if err != nil {
		r.clientPolicy.Close()
		r.system.Shutdown()
		_ = r.closeCache()
		if r.sim != nil {
			_ = r.sim.Close()
		}
		return nil, fmt.Errorf("dspex: start: %w", err)
	}
	if err := r.telemetry.Wait(ctx); err != nil {
		_ = r.Close(context.Background())
		return nil, fmt.Errorf("dspex: start: %w", err)
	}
	return r, nil
}

// config resolves the configuration the options describe.
func (o *options) config() (config.Config, error) {
	var cfg config.Config
	switch {
	case o.cfg != nil:
		cfg = o.cfg.Clone()
	case o.cfgFile != "":
		c, err := config.Load(o.cfgFile)
		if err != nil {
			return config.Config{}, err
		}
		cfg = c
	default:
		if o.getenv == nil {
			o.getenv = os.Getenv
		}
		cfg = config.Default()
	}
	if o.getenv != nil {
		c, err := config.ApplyEnv(cfg, o.getenv)
		if err != nil {
			return config.Config{}, err
		}
		cfg = c
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// runtimeSpec declares the root supervisor: each child restarts alone,
// within the configured intensity and backoff; beyond, the failure
// escalates to the tree's guardian, which restarts the whole tree within
// the same bounds and stops it beyond them.
func runtimeSpec(cfg config.Config) supervision.Spec {
	return supervision.Spec{
		Name:       ActorRuntime,
		Strategy:   supervision.OneForOne,
		Intensity:  intensity(cfg.Supervision),
		Backoff:    restartBackoff(cfg.Supervision),
		OnExceeded: supervision.Escalate,
	}
}

// clientSpec declares how the ClientManager supervises its client actors:
// each restarts alone within the configured intensity and backoff; beyond,
// the failure escalates and the ClientManager itself restarts (and with it
// every client actor; their caches and counters survive).
func clientSpec(cfg config.Config) supervision.Spec {
	return supervision.Spec{
		Name:       ActorClients,
		Strategy:   supervision.OneForOne,
		Intensity:  intensity(cfg.Supervision),
		Backoff:    restartBackoff(cfg.Supervision),
		OnExceeded: supervision.Escalate,
	}
}

func intensity(s config.Supervision) supervision.Intensity {
	return supervision.Intensity{MaxRestarts: s.MaxRestarts, Within: s.Within.Duration()}
}

func restartBackoff(s config.Supervision) backoff.Policy {
	p := s.Policy()
	p.Max = max(p.Max, p.Initial)
	p.Multiplier = max(p.Multiplier, 1)
	return p
}

// LM returns the language model id names: "provider/model", "provider"
// for the provider's default model, or "" for the configured default
// (config.Config.Model). Each call of its Chat goes to the client actor of
// that provider and model, through its cache, rate limits, circuit breaker
// and retries. The caller's context deadline bounds the call; without one,
// the configured request timeout (times the retry attempts) does.
// Cancelling the context cancels the provider request.
//
// The id is resolved at each call, so an LM stays valid across
// configuration updates. It fails with ErrClosed after Close.
func (r *Runtime) LM(id string) lm.LM {
	return runtimeLM{&lmTarget{r: r, id: id}}
}

// runtimeLM is the runtime's lm.LM, and an lm.InPlace. It holds one
// pointer, so an lm.LM holding it calls its methods directly, with no
// wrapper frame on the caller's stack.
type runtimeLM struct{ *lmTarget }

var _ lm.InPlace = runtimeLM{}

// lmTarget is what a runtimeLM calls: the runtime and the LM id.
type lmTarget struct {
	r  *Runtime
	id string
}

// String names the LM.
func (m runtimeLM) String() string { return "dspex.Runtime.LM(" + m.id + ")" }

// Config returns the configuration the runtime runs with: the last
// configuration accepted by Start or UpdateConfig.
func (r *Runtime) Config() config.Config { return r.configs.Current() }

// UpdateConfig validates cfg and makes it the runtime's configuration:
// client actors take the new cache-independent settings (retries, rate
// limits, breaker, concurrency, timeouts, provider endpoints) for their
// next requests. An invalid cfg is rejected with its validation error and
// the configuration stays as it was. Supervision and telemetry settings
// apply at the next Start.
func (r *Runtime) UpdateConfig(ctx context.Context, cfg config.Config) error {
	if r.closed() {
		return ErrClosed
	}
	if err := r.configs.Update(ctx, cfg); err != nil {
		return err
	}
	// Requests go straight to client actors once routed: wait until the
	// ClientManager has passed the change on, so that the next request
	// after UpdateConfig returns runs under the new settings.
	return r.clients.Sync(ctx)
}

// Status is a snapshot of the runtime.
type Status struct {
	// Providers lists the provider names: configured ones, then ones
	// registered with WithProvider.
	Providers []string
	// Clients describes each client actor created so far, by ID
	// ("provider/model").
	Clients []ClientStatus
	// Supervision counts the supervision decisions taken, by actor name
	// (ActorConfig, ActorClients, a client's "provider:model"...).
	Supervision map[string]supervision.Counts
	// ConfigRestarts and ClientManagerRestarts count restarts of those
	// actors.
	ConfigRestarts, ClientManagerRestarts int64
	// Cache describes the response cache the clients share, per tier in
	// Cache.Tiers; nil when caching is off.
	Cache *cache.Stats
}

// ClientStatus is a snapshot of one client actor: breaker state, requests
// in flight, counters and cache statistics.
type ClientStatus = actors.ClientStatus

// Status asks the ClientManager for a snapshot of the runtime.
func (r *Runtime) Status(ctx context.Context) (Status, error) {
	if r.closed() {
		return Status{}, ErrClosed
	}
	st, err := r.clients.Status(ctx)
	if err != nil {
		return Status{}, err
	}
	sup := r.tree.Stats()
	maps.Copy(sup, r.clientPolicy.Stats())
	out := Status{
		Providers:             st.Providers,
		Clients:               st.Clients,
		Supervision:           sup,
		ConfigRestarts:        r.configs.Restarts(),
		ClientManagerRestarts: st.Restarts,
	}
	if cs, ok := r.CacheStats(); ok {
		out.Cache = &cs
	}
	return out, nil
}

// Kill makes a runtime actor fail as if it had crashed, so that its
// supervisor handles the failure as declared: name is ActorConfig,
// ActorClients, or an LM id for its client actor. It is a fault-injection
// hook for testing supervision and recovery. It reports an error when
// there is no such actor.
func (r *Runtime) Kill(ctx context.Context, name string) error {
	if r.closed() {
		return ErrClosed
	}
	switch name {
	case ActorConfig:
		return r.configs.Kill(ctx)
	case ActorClients:
		_, err := r.clients.Kill(ctx, "")
		return err
	case ActorRuntime, ActorTelemetry, "":
		return fmt.Errorf("dspex: Kill %q: not supported", name)
	}
	found, err := r.clients.Kill(ctx, name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("dspex: Kill: no client actor for %q", name)
	}
	return nil
}

func (r *Runtime) closed() bool {
	select {
	case <-r.closeDone:
		return true
	default:
	}
	return r.clients.Closed()
}

// Close shuts the runtime down: new requests fail with ErrClosed; running
// requests are cancelled and fail with ErrClosed; then the actors stop in
// reverse order (ClientManager and its clients, TelemetrySetup — which
// flushes telemetry — and ConfigManager), and the actor system shuts down.
// ctx bounds the waiting; when it ends first, Close finishes without
// waiting and reports what did not stop. Close is idempotent: later calls
// wait for the first and return its result.
func (r *Runtime) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		defer close(r.closeDone)
		var errs []error
		errs = append(errs, r.clients.Close(ctx))
		errs = append(errs, r.tree.Stop(ctx))
		errs = append(errs, r.closeCache())
		r.clientPolicy.Close()
		r.transports.close()
		r.system.Shutdown()
		if r.sim != nil {
			errs = append(errs, r.sim.Close())
		}
		r.closeErr = errors.Join(errs...)
	})
	<-r.closeDone
	return r.closeErr
}

// factory builds the LMs of configured providers: one OpenAI-compatible
// or Anthropic client, with its own HTTP transport, per client actor.
func (r *Runtime) factory(hc *http.Client, getenv func(string) string) actors.ProviderFactory {
	return func(p config.Provider, model string) (lm.LM, error) {
		client := hc
		if client == nil {
			client = r.transports.newClient(r.poolSize(p))
		}
		headers := make(map[string]string, len(p.Headers))
		for k, v := range p.Headers {
			headers[k] = v.Reveal()
		}
		if p.EffectiveKind() == config.KindAnthropic {
			return newAnthropic(p, model, headers, client, getenv)
		}
		apiType := lm.APITypeOpenAI
		if p.EffectiveKind() == config.KindAzure {
			apiType = lm.APITypeAzure
		}
		return lm.NewOpenAI(lm.OpenAIConfig{
			Provider:     p.Name,
			BaseURL:      p.BaseURL,
			APIKey:       p.Key(getenv).Reveal(),
			Organization: p.Organization,
			Model:        model,
			Headers:      headers,
			APIType:      apiType,
			APIVersion:   p.APIVersion,
			HTTPClient:   client,
			// 0 is lm.DefaultMaxResponseBytes.
			MaxResponseBytes: p.MaxResponseBytes,
			// The simulator varies samples by rollout id; real
			// providers sample freshly at temperature > 0.
			SendRolloutID:     r.sim != nil && p.Name == SimulatorProvider,
			StructuredOutputs: p.StructuredOutputs,
		})
	}
}

// transports owns the HTTP transports the runtime creates, to close their
// idle connections on shutdown.
type transports struct {
	mu  sync.Mutex
	all []*http.Transport
}

// defaultPoolSize is the idle-connection pool of a client whose
// concurrency has no bound the runtime knows of.
const defaultPoolSize = 2048

// poolSize returns how many idle connections p's client keeps: as many as
// requests it may have in flight, so that a steady load at the cap never
// reconnects.
func (r *Runtime) poolSize(p config.Provider) int {
	n := r.concurrency
	if p.Concurrency != nil {
		n = *p.Concurrency
	}
	if n <= 0 {
		n = r.fileCap
	}
	if n <= 0 {
		n = defaultPoolSize
	}
	return n
}

// newClient returns an HTTP client for one provider's model with a
// transport for many concurrent requests to one host: it keeps up to idle
// connections open between requests (HTTP/1.1 holds one per request in
// flight) and speaks HTTP/2 where the server offers it over TLS, which
// multiplexes requests over few connections.
func (t *transports) newClient(idle int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConns = 0 // no bound across hosts: MaxIdleConnsPerHost bounds
	tr.MaxIdleConnsPerHost = idle
	tr.MaxConnsPerHost = 0 // the client's concurrency cap bounds
	tr.IdleConnTimeout = 90 * time.Second
	t.mu.Lock()
	t.all = append(t.all, tr)
	t.mu.Unlock()
	return &http.Client{Transport: tr}
}

func (t *transports) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.all {
		tr.CloseIdleConnections()
	}
}
