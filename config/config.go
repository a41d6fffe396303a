package config

import (
	"maps"
	"slices"
	"time"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/pricing"
)

// Config is the whole dspex runtime configuration.
//
// A Config is a plain value: copy it with Clone before changing nested
// slices or maps that another goroutine may read.
type Config struct {
	// Providers lists the LM providers. Each is addressed by its Name in LM
	// ids of the form "name/model".
	Providers []Provider `json:"providers,omitempty" yaml:"providers,omitempty"`
	// Model is the id ("provider/model", or a provider name alone for its
	// default model) of the default LM. Empty means the first provider's
	// default model.
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// Cache configures the per-client response cache.
	Cache Cache `json:"cache" yaml:"cache"`
	// Breaker configures the per-client circuit breaker.
	Breaker Breaker `json:"breaker" yaml:"breaker"`
	// RateLimit configures the per-client rate limiter.
	RateLimit RateLimit `json:"rate_limit" yaml:"rate_limit"`
	// Retry configures retries of retryable provider failures.
	Retry Retry `json:"retry" yaml:"retry"`
	// Concurrency caps the requests in flight per client actor; 0 means
	// unlimited. Default 64.
	Concurrency int `json:"concurrency" yaml:"concurrency"`
	// RequestTimeout bounds one provider request (one attempt), on top of
	// the caller's context deadline. Default 60s.
	RequestTimeout Duration `json:"request_timeout" yaml:"request_timeout"`
	// Telemetry configures OpenTelemetry export.
	Telemetry Telemetry `json:"telemetry" yaml:"telemetry"`
	// Supervision configures restarts of the runtime's actors.
	Supervision Supervision `json:"supervision" yaml:"supervision"`
	// History configures the record of recent LM calls.
	History History `json:"history" yaml:"history"`
	// Prices adds to or overrides the default price table
	// (pricing.Default), keyed by model name ("gpt-4o-mini") or by
	// "provider/model" for one provider's model.
	Prices map[string]pricing.Price `json:"prices,omitempty" yaml:"prices,omitempty"`
}

// Provider kinds.
const (
	// KindOpenAI is any server speaking the OpenAI chat completions API
	// (OpenAI, vLLM, Ollama, LiteLLM, the embedded simulator...).
	KindOpenAI = "openai"
	// KindAzure is Azure OpenAI; it needs APIVersion and uses deployment
	// names as models.
	KindAzure = "azure"
	// KindAnthropic is Anthropic's Messages API (Claude models). Its key
	// comes from APIKey, APIKeyEnv, or else ANTHROPIC_API_KEY; its base URL
	// is the API root, "https://api.anthropic.com".
	KindAnthropic = "anthropic"
)

// Kinds lists the valid Provider.Kind values (empty means KindOpenAI).
var Kinds = []string{KindOpenAI, KindAzure, KindAnthropic}

// Provider is one LM provider endpoint.
type Provider struct {
	// Name identifies the provider in LM ids ("name/model"). Required,
	// unique, without "/".
	Name string `json:"name" yaml:"name"`
	// Kind is KindOpenAI (default when empty), KindAzure or KindAnthropic.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// BaseURL is the API root, e.g. "https://api.openai.com/v1". Required,
	// http or https.
	BaseURL string `json:"base_url" yaml:"base_url"`
	// APIKey is the key itself. Prefer APIKeyEnv: a key in a file is a key
	// in a file.
	APIKey Secret `json:"api_key,omitempty" yaml:"api_key,omitempty"`
	// APIKeyEnv names the environment variable holding the key; used when
	// APIKey is empty.
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	// Organization is the OpenAI organization id, if any.
	Organization string `json:"organization,omitempty" yaml:"organization,omitempty"`
	// APIVersion is the Azure OpenAI API version (required for KindAzure).
	APIVersion string `json:"api_version,omitempty" yaml:"api_version,omitempty"`
	// Models lists the models the provider serves. When non-empty,
	// DefaultModel must be one of them.
	Models []string `json:"models,omitempty" yaml:"models,omitempty"`
	// DefaultModel is the model used when an LM id names only the provider.
	// Empty means Models[0]; one of the two is required.
	DefaultModel string `json:"default_model,omitempty" yaml:"default_model,omitempty"`
	// Headers are extra HTTP headers sent with every request. Values are
	// secrets (they often carry tokens) and never print.
	Headers map[string]Secret `json:"headers,omitempty" yaml:"headers,omitempty"`
	// RateLimit overrides Config.RateLimit for this provider when non-nil.
	RateLimit *RateLimit `json:"rate_limit,omitempty" yaml:"rate_limit,omitempty"`
	// Concurrency overrides Config.Concurrency for this provider when
	// non-nil.
	Concurrency *int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// StructuredOutputs says the provider supports OpenAI's structured
	// outputs (response_format json_schema, strict): the JSON adapter's
	// requests then carry the signature's schema. Off, they ask for a plain
	// JSON object.
	StructuredOutputs bool `json:"structured_outputs,omitempty" yaml:"structured_outputs,omitempty"`
	// MaxResponseBytes caps the size of one reply body, enforced while it
	// is read (a longer reply fails with lm.ErrResponseTooLarge); 0 means
	// lm.DefaultMaxResponseBytes (8 MiB).
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty" yaml:"max_response_bytes,omitempty"`
	// PromptCache, for KindAnthropic, marks the repeated prefix of each
	// prompt (system message and demos) for Anthropic's prompt cache. nil
	// means on.
	PromptCache *bool `json:"prompt_cache,omitempty" yaml:"prompt_cache,omitempty"`
	// NativeTools says the provider supports native tool calling (OpenAI
	// "tools", Anthropic tool_use). nil means yes; set it to false for an
	// OpenAI-compatible server without tool calling, and programs built
	// with native tools describe the tools in text instead.
	NativeTools *bool `json:"native_tools,omitempty" yaml:"native_tools,omitempty"`
}

// NativeToolsEnabled reports whether p supports native tool calling:
// NativeTools, or true when it is nil.
func (p Provider) NativeToolsEnabled() bool { return p.NativeTools == nil || *p.NativeTools }

// PromptCacheEnabled reports whether prompt caching is on for p: PromptCache,
// or true when it is nil.
func (p Provider) PromptCacheEnabled() bool { return p.PromptCache == nil || *p.PromptCache }

// Key returns the provider's API key: APIKey when set, else the value of
// the environment variable APIKeyEnv read through getenv (os.Getenv in
// production). The result is empty when neither gives a key.
func (p Provider) Key(getenv func(string) string) Secret {
	if p.APIKey != "" {
		return p.APIKey
	}
	if p.APIKeyEnv != "" && getenv != nil {
		return Secret(getenv(p.APIKeyEnv))
	}
	return ""
}

// Model returns the provider's default model: DefaultModel, else Models[0],
// else "".
func (p Provider) Model() string {
	if p.DefaultModel != "" {
		return p.DefaultModel
	}
	if len(p.Models) > 0 {
		return p.Models[0]
	}
	return ""
}

// EffectiveKind returns Kind, or KindOpenAI when Kind is empty.
func (p Provider) EffectiveKind() string {
	if p.Kind == "" {
		return KindOpenAI
	}
	return p.Kind
}

// Clone returns a deep copy of p.
func (p Provider) Clone() Provider {
	p.Models = slices.Clone(p.Models)
	p.Headers = maps.Clone(p.Headers)
	if p.RateLimit != nil {
		rl := *p.RateLimit
		p.RateLimit = &rl
	}
	if p.Concurrency != nil {
		c := *p.Concurrency
		p.Concurrency = &c
	}
	if p.PromptCache != nil {
		b := *p.PromptCache
		p.PromptCache = &b
	}
	if p.NativeTools != nil {
		b := *p.NativeTools
		p.NativeTools = &b
	}
	return p
}

// Cache configures the response cache the client actors share: a memory
// tier, and when Persistent a disk tier behind it that survives the
// process and is shared by processes using the same Dir.
type Cache struct {
	// Enabled turns the cache on. Default true.
	Enabled bool `json:"enabled" yaml:"enabled"`
	// MaxEntries is the expected number of entries (sizes the memory
	// tier's shards). Default 10000.
	MaxEntries int `json:"max_entries" yaml:"max_entries"`
	// MaxSizeMB caps each tier in megabytes: the memory tier overwrites
	// its oldest entries, the disk tier evicts the least recently used.
	// 0 means no cap. Default 64.
	MaxSizeMB int `json:"max_size_mb" yaml:"max_size_mb"`
	// TTL is how long a response stays cached. Default 1h.
	TTL Duration `json:"ttl" yaml:"ttl"`
	// Persistent adds the disk tier in Dir. Default false (the demo
	// turns it on).
	Persistent bool `json:"persistent" yaml:"persistent"`
	// Dir is the disk tier's directory; "" means os.UserCacheDir()/dspex.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
}

// Breaker configures the circuit breaker of each client actor (the fields of
// gobreaker.Settings). It counts requests after their retries, never each
// attempt; rate limits (429), client errors (other 4xx) and requests the
// caller gave up on do not count as failures. The default opens when half
// of the requests of the last minute failed, once at least 10 ended.
type Breaker struct {
	// Enabled turns the breaker on. Default true.
	Enabled bool `json:"enabled" yaml:"enabled"`
	// MaxRequests is the number of trial requests let through while
	// half-open. Default 1.
	MaxRequests uint32 `json:"max_requests" yaml:"max_requests"`
	// Interval is the rolling window the counts cover (in ten buckets);
	// 0 never clears them while closed. Default 60s.
	Interval Duration `json:"interval" yaml:"interval"`
	// Timeout is how long the breaker stays open before going half-open.
	// Default 30s.
	Timeout Duration `json:"timeout" yaml:"timeout"`
	// ConsecutiveFailures, when > 0, also trips the breaker after that
	// many failed requests in a row. Default 0 (off).
	ConsecutiveFailures uint32 `json:"consecutive_failures" yaml:"consecutive_failures"`
	// FailureRatio trips the breaker when the share of failed requests in
	// the window reaches it, once at least MinRequests ended; 0 turns the
	// ratio off (ConsecutiveFailures must then be set). Default 0.5.
	FailureRatio float64 `json:"failure_ratio,omitempty" yaml:"failure_ratio,omitempty"`
	// MinRequests is the minimum volume for FailureRatio. Default 10.
	MinRequests uint32 `json:"min_requests,omitempty" yaml:"min_requests,omitempty"`
}

// RateLimit configures a client's request and token budget. Zero means
// unlimited.
type RateLimit struct {
	// RequestsPerMinute caps requests per minute; 0 means unlimited.
	RequestsPerMinute int `json:"requests_per_minute" yaml:"requests_per_minute"`
	// TokensPerMinute caps prompt+completion tokens per minute; 0 means
	// unlimited.
	TokensPerMinute int `json:"tokens_per_minute" yaml:"tokens_per_minute"`
}

// Retry configures retries of retryable failures (network errors, 408, 409,
// 429, 5xx) with exponential backoff (see Backoff), never waiting less than
// the provider's Retry-After.
type Retry struct {
	// MaxAttempts is the total number of attempts, the first included;
	// 1 disables retries. Default 3.
	MaxAttempts int `json:"max_attempts" yaml:"max_attempts"`
	// Backoff is the delay before each retry: its keys (initial, max,
	// multiplier, jitter) sit directly under retry. Default 250ms doubling
	// up to 10s, with 20% jitter.
	Backoff `yaml:",inline"`
}

// Backoff is the exponential backoff of retries and restarts, spelled the
// same under retry and supervision: the delay before attempt n (n from 1)
// is min(Max, Initial*Multiplier^(n-1)), randomised by ±Jitter and capped
// at Max. Policy gives the backoff.Policy the runtime computes it with.
type Backoff struct {
	// Initial is the delay before the first attempt; 0 means none.
	Initial Duration `json:"initial" yaml:"initial"`
	// Max caps the delay; at least Initial.
	Max Duration `json:"max" yaml:"max"`
	// Multiplier grows the delay after each attempt; at least 1.
	Multiplier float64 `json:"multiplier" yaml:"multiplier"`
	// Jitter is the random fraction in [0, 1] applied to each delay.
	Jitter float64 `json:"jitter" yaml:"jitter"`
}

// Policy returns b as a backoff.Policy.
func (b Backoff) Policy() backoff.Policy {
	return backoff.Policy{Initial: b.Initial.Duration(), Max: b.Max.Duration(), Multiplier: b.Multiplier, Jitter: b.Jitter}
}

// Exporter kinds for Telemetry.Exporter.
const (
	// ExporterNone exports nothing (the default).
	ExporterNone = "none"
	// ExporterStdout writes spans and metrics as JSON to standard output.
	ExporterStdout = "stdout"
	// ExporterOTLPGRPC sends OTLP over gRPC (default endpoint
	// localhost:4317).
	ExporterOTLPGRPC = "otlp-grpc"
	// ExporterOTLPHTTP sends OTLP over HTTP (default endpoint
	// localhost:4318).
	ExporterOTLPHTTP = "otlp-http"
)

// Exporters lists the valid Telemetry.Exporter values.
var Exporters = []string{ExporterNone, ExporterStdout, ExporterOTLPGRPC, ExporterOTLPHTTP}

// Telemetry configures OpenTelemetry traces and metrics.
type Telemetry struct {
	// Exporter is one of Exporters. Default "none".
	Exporter string `json:"exporter" yaml:"exporter"`
	// Endpoint is the OTLP collector address: "host:port" or a URL
	// ("http://host:4318"). Empty means the exporter's default (or the
	// OTEL_EXPORTER_OTLP_* variables the exporter reads itself).
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	// Insecure disables TLS to the collector.
	Insecure bool `json:"insecure,omitempty" yaml:"insecure,omitempty"`
	// Headers are sent with every export (often an auth token: values are
	// secrets).
	Headers map[string]Secret `json:"headers,omitempty" yaml:"headers,omitempty"`
	// ServiceName is the service.name resource attribute. Default "dspex".
	ServiceName string `json:"service_name" yaml:"service_name"`
	// RecordContent records prompts and completions on spans. Off by
	// default: they may hold personal data.
	RecordContent bool `json:"record_content" yaml:"record_content"`
	// StepSpans gives the short steps of a call spans of their own: an
	// adapter's format and parse, and each provider request (attempt) of
	// an LM call. Off by default: a Predict is then two spans (the
	// program's and the LM call's), and a step that fails, or an attempt
	// that is retried, is an "exception" event on its parent span, with
	// dspex.step naming it. Turn it on to see every step's timing.
	StepSpans bool `json:"step_spans" yaml:"step_spans"`
	// SampleRatio is the fraction of traces sampled, in [0, 1]. Default 1.
	SampleRatio float64 `json:"sample_ratio" yaml:"sample_ratio"`
}

// Supervision configures how the runtime restarts failed actors: at most
// MaxRestarts restarts of one actor Within a window, each after an
// exponential backoff.
type Supervision struct {
	// MaxRestarts is the restart intensity: more failures than this within
	// Within stop the actor (or escalate). Default 5.
	MaxRestarts int `json:"max_restarts" yaml:"max_restarts"`
	// Within is the intensity window. Default 30s.
	Within Duration `json:"within" yaml:"within"`
	// Backoff is the delay before each restart: its keys (initial, max,
	// multiplier, jitter) sit directly under supervision; an initial of 0
	// restarts at once. Default 100ms doubling up to 10s, with 20% jitter.
	Backoff `yaml:",inline"`
}

// Default values, exported so that documentation and callers agree.
const (
	DefaultConcurrency        = 64
	DefaultRequestTimeout     = 60 * time.Second
	DefaultServiceName        = "dspex"
	DefaultOpenAIBaseURL      = "https://api.openai.com/v1"
	DefaultOpenAIModel        = "gpt-4o-mini"
	DefaultOpenAIName         = "openai"
	DefaultOpenAIAPIKeyEnv    = "OPENAI_API_KEY"
	DefaultAnthropicBaseURL   = "https://api.anthropic.com"
	DefaultAnthropicModel     = "claude-haiku-5-5"
	DefaultAnthropicName      = "anthropic"
	DefaultAnthropicAPIKeyEnv = "ANTHROPIC_API_KEY"
)

// Default returns the documented defaults. It has no providers: ApplyEnv
// adds an "openai" provider when OPENAI_API_KEY is set, and the runtime,
// when asked to (dspex.WithSimulator), adds the embedded simulator when no
// provider is configured. Default reads no environment.
func Default() Config {
	return Config{
		Cache: Cache{
			Enabled:    true,
			MaxEntries: 10_000,
			MaxSizeMB:  64,
			TTL:        Duration(time.Hour),
		},
		Breaker: Breaker{
			Enabled:             true,
			MaxRequests:         1,
			Interval:            Duration(60 * time.Second),
			Timeout:             Duration(30 * time.Second),
			ConsecutiveFailures: 0,
			FailureRatio:        0.5,
			MinRequests:         10,
		},
		Retry: Retry{
			MaxAttempts: 3,
			Backoff: Backoff{
				Initial:    Duration(250 * time.Millisecond),
				Max:        Duration(10 * time.Second),
				Multiplier: 2,
				Jitter:     0.2,
			},
		},
		History:        History{Size: DefaultHistorySize},
		Concurrency:    DefaultConcurrency,
		RequestTimeout: Duration(DefaultRequestTimeout),
		Telemetry: Telemetry{
			Exporter:    ExporterNone,
			ServiceName: DefaultServiceName,
			SampleRatio: 1,
		},
		Supervision: Supervision{
			MaxRestarts: 5,
			Within:      Duration(30 * time.Second),
			Backoff: Backoff{
				Initial:    Duration(100 * time.Millisecond),
				Max:        Duration(10 * time.Second),
				Multiplier: 2,
				Jitter:     0.2,
			},
		},
	}
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	if c.Providers != nil {
		ps := make([]Provider, len(c.Providers))
		for i, p := range c.Providers {
			ps[i] = p.Clone()
		}
		c.Providers = ps
	}
	c.Telemetry.Headers = maps.Clone(c.Telemetry.Headers)
	c.Prices = maps.Clone(c.Prices)
	return c
}

// Provider returns the provider named name.
func (c Config) Provider(name string) (Provider, bool) {
	for _, p := range c.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// ProviderRateLimit returns the rate limit that applies to p: its override
// or c.RateLimit.
func (c Config) ProviderRateLimit(p Provider) RateLimit {
	if p.RateLimit != nil {
		return *p.RateLimit
	}
	return c.RateLimit
}

// ProviderConcurrency returns the concurrency cap that applies to p: its
// override or c.Concurrency (0 means unlimited).
func (c Config) ProviderConcurrency(p Provider) int {
	if p.Concurrency != nil {
		return *p.Concurrency
	}
	return c.Concurrency
}
