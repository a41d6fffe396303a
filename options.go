package dspex

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/dspex-go/dspex/actors"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/supervision"
	"github.com/dspex-go/dspex/telemetry"
)

// Option configures Start.
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// options is what Start is given.
type options struct {
	cfg        *config.Config
	cfgFile    string
	getenv     func(string) string
	logger     *slog.Logger
	providers  map[string]lm.LM
	httpClient *http.Client
	onBreaker  func(BreakerEvent)
	onSuper    func(supervision.Event)
	simulator  bool
	telemetry  []telemetry.Option
	cache      cache.Store
}

// ErrConflictingOptions is wrapped by Start's error when two options
// contradict each other (a configuration given twice, a provider
// registered twice).
var ErrConflictingOptions = errors.New("dspex: conflicting options")

// WithConfig runs the runtime with cfg. It conflicts with WithConfigFile.
// The environment's overrides (config.ApplyEnv) are not applied unless
// WithEnv is also given.
func WithConfig(cfg config.Config) Option {
	return optionFunc(func(o *options) error {
		if o.cfg != nil || o.cfgFile != "" {
			return fmt.Errorf("%w: WithConfig after another configuration", ErrConflictingOptions)
		}
		c := cfg.Clone()
		o.cfg = &c
		return nil
	})
}

// WithConfigFile loads the configuration from a YAML or JSON file (see
// config.Load). It conflicts with WithConfig. The environment's overrides
// (config.ApplyEnv) are not applied unless WithEnv is also given.
func WithConfigFile(path string) Option {
	return optionFunc(func(o *options) error {
		if o.cfg != nil || o.cfgFile != "" {
			return fmt.Errorf("%w: WithConfigFile after another configuration", ErrConflictingOptions)
		}
		if path == "" {
			return errors.New("dspex: WithConfigFile: empty path")
		}
		o.cfgFile = path
		return nil
	})
}

// WithEnv applies the environment, read through getenv, over the
// configuration (see config.ApplyEnv), and resolves the API keys named by
// config.Provider.APIKeyEnv through it. Without any configuration option
// Start applies os.Getenv; with WithConfig or WithConfigFile, only WithEnv
// makes it apply the environment to the configuration. API keys named by
// APIKeyEnv are read through os.Getenv when WithEnv is not given.
func WithEnv(getenv func(string) string) Option {
	return optionFunc(func(o *options) error {
		if o.getenv != nil {
			return fmt.Errorf("%w: WithEnv given twice", ErrConflictingOptions)
		}
		if getenv == nil {
			return errors.New("dspex: WithEnv: nil getenv")
		}
		o.getenv = getenv
		return nil
	})
}

// WithLogger sends the runtime's logs — actor system and supervision
// decisions — to l. By default they are discarded.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return errors.New("dspex: WithLogger: nil logger")
		}
		o.logger = l
		return nil
	})
}

// WithProvider registers m as the provider name, so that LM("name") and
// LM("name/model") reach it through a client actor with the configured
// cache, breaker, rate limits and retries. It takes precedence over a
// configured provider of the same name. m must be safe for concurrent use.
func WithProvider(name string, m lm.LM) Option {
	return optionFunc(func(o *options) error {
		switch {
		case name == "":
			return errors.New("dspex: WithProvider: empty name")
		case m == nil:
			return fmt.Errorf("dspex: WithProvider %q: nil LM", name)
		}
		for _, r := range name {
			if r == '/' {
				return fmt.Errorf("dspex: WithProvider %q: name must not contain '/'", name)
			}
		}
		if _, dup := o.providers[name]; dup {
			return fmt.Errorf("%w: provider %q registered twice", ErrConflictingOptions, name)
		}
		if o.providers == nil {
			o.providers = make(map[string]lm.LM)
		}
		o.providers[name] = m
		return nil
	})
}

// WithHTTPClient sends the requests of configured OpenAI and Azure
// providers through c instead of a client the runtime builds for each
// client actor.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(o *options) error {
		if c == nil {
			return errors.New("dspex: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	})
}

// BreakerEvent reports a change of a client's circuit breaker state.
type BreakerEvent = actors.BreakerEvent

// WithBreakerObserver calls f on every circuit breaker state change, in
// the client actor: f must be quick and must not block.
func WithBreakerObserver(f func(BreakerEvent)) Option {
	return optionFunc(func(o *options) error {
		o.onBreaker = f
		return nil
	})
}

// WithSupervisionObserver calls f after every supervision decision
// (restart, stop, escalate) in the runtime's tree and for its client
// actors, on the supervisor's goroutine: f must be quick and must not
// block.
func WithSupervisionObserver(f func(supervision.Event)) Option {
	return optionFunc(func(o *options) error {
		o.onSuper = f
		return nil
	})
}

// WithSimulator lets Start serve the embedded simulator (package simlm) on
// 127.0.0.1 as provider SimulatorProvider when no provider is configured,
// so that programs run offline (the demo does this when no API key is
// set). Without it, Start fails with config.ErrNoProvider rather than
// quietly answering from a simulator. The simulator is not a language
// model: see package simlm.
func WithSimulator() Option {
	return optionFunc(func(o *options) error {
		o.simulator = true
		return nil
	})
}

// WithTelemetry passes opts to telemetry.Setup when the runtime's
// TelemetrySetup actor builds its providers from config.Telemetry: a span
// exporter or processor, a metric reader, resource attributes. With them
// telemetry is on even when the configured exporter is "none":
//
//	rec := tracetest.NewSpanRecorder()
//	rt, err := dspex.Start(ctx, dspex.WithTelemetry(telemetry.WithSpanProcessor(rec)))
//
// It may be given more than once; the options add up.
func WithTelemetry(opts ...telemetry.Option) Option {
	return optionFunc(func(o *options) error {
		o.telemetry = append(o.telemetry, opts...)
		return nil
	})
}
