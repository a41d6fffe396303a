package config

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by ApplyEnv. Unset or empty variables change
// nothing.
const (
	// EnvOpenAIAPIKey (OPENAI_API_KEY) adds an "openai" provider (base URL
	// EnvOpenAIBaseURL or DefaultOpenAIBaseURL, model from EnvModel or
	// DefaultOpenAIModel) reading its key from this variable, when no
	// provider named "openai" exists; an existing "openai" provider without
	// a key gets APIKeyEnv = OPENAI_API_KEY. The key itself is never copied
	// into the Config.
	EnvOpenAIAPIKey = "OPENAI_API_KEY"
	// EnvOpenAIBaseURL (OPENAI_BASE_URL) sets the "openai" provider's base
	// URL. Set without EnvOpenAIAPIKey, it adds a keyless "openai" provider
	// (as EnvOpenAIAPIKey would, without the key): local servers such as
	// Ollama or vLLM need none.
	EnvOpenAIBaseURL = "OPENAI_BASE_URL"
	// EnvAnthropicAPIKey (ANTHROPIC_API_KEY) adds an "anthropic" provider
	// of KindAnthropic (model from EnvModel when it is "anthropic/MODEL",
	// or a bare model name and OPENAI_API_KEY is unset; else
	// DefaultAnthropicModel) reading its key from this variable, when no
	// provider named "anthropic" exists. It comes after the "openai"
	// provider, so with both keys set the default LM stays OpenAI's unless
	// DSPEX_MODEL says otherwise. The key is never copied into the Config.
	EnvAnthropicAPIKey = "ANTHROPIC_API_KEY"
	// EnvModel (DSPEX_MODEL) sets Config.Model ("provider/model" or
	// "model"). A model without a known provider prefix also becomes the
	// default model of an "openai" provider that ApplyEnv adds.
	EnvModel = "DSPEX_MODEL"
	// EnvCache (DSPEX_CACHE) sets Cache.Enabled (a strconv.ParseBool value).
	EnvCache = "DSPEX_CACHE"
	// EnvCacheTTL (DSPEX_CACHE_TTL) sets Cache.TTL ("1h").
	EnvCacheTTL = "DSPEX_CACHE_TTL"
	// EnvCachePersistent (DSPEX_CACHE_PERSISTENT) sets Cache.Persistent
	// (a strconv.ParseBool value).
	EnvCachePersistent = "DSPEX_CACHE_PERSISTENT"
	// EnvCacheDir (DSPEX_CACHE_DIR) sets Cache.Dir.
	EnvCacheDir = "DSPEX_CACHE_DIR"
	// EnvConcurrency (DSPEX_CONCURRENCY) sets Concurrency.
	EnvConcurrency = "DSPEX_CONCURRENCY"
	// EnvRequestTimeout (DSPEX_REQUEST_TIMEOUT) sets RequestTimeout.
	EnvRequestTimeout = "DSPEX_REQUEST_TIMEOUT"
	// EnvRetryMaxAttempts (DSPEX_RETRY_MAX_ATTEMPTS) sets Retry.MaxAttempts.
	EnvRetryMaxAttempts = "DSPEX_RETRY_MAX_ATTEMPTS"
	// EnvRateLimitRPM (DSPEX_RATE_LIMIT_RPM) sets
	// RateLimit.RequestsPerMinute.
	EnvRateLimitRPM = "DSPEX_RATE_LIMIT_RPM"
	// EnvRateLimitTPM (DSPEX_RATE_LIMIT_TPM) sets RateLimit.TokensPerMinute.
	EnvRateLimitTPM = "DSPEX_RATE_LIMIT_TPM"
	// EnvTelemetryExporter (DSPEX_TELEMETRY_EXPORTER) sets
	// Telemetry.Exporter.
	EnvTelemetryExporter = "DSPEX_TELEMETRY_EXPORTER"
	// EnvTelemetryEndpoint (DSPEX_TELEMETRY_ENDPOINT) sets
	// Telemetry.Endpoint.
	EnvTelemetryEndpoint = "DSPEX_TELEMETRY_ENDPOINT"
	// EnvTelemetryInsecure (DSPEX_TELEMETRY_INSECURE) sets
	// Telemetry.Insecure.
	EnvTelemetryInsecure = "DSPEX_TELEMETRY_INSECURE"
	// EnvTelemetryRecordContent (DSPEX_TELEMETRY_RECORD_CONTENT) sets
	// Telemetry.RecordContent.
	EnvTelemetryRecordContent = "DSPEX_TELEMETRY_RECORD_CONTENT"
	// EnvTelemetryStepSpans (DSPEX_TELEMETRY_STEP_SPANS) sets
	// Telemetry.StepSpans.
	EnvTelemetryStepSpans = "DSPEX_TELEMETRY_STEP_SPANS"
	// EnvTelemetrySampleRatio (DSPEX_TELEMETRY_SAMPLE_RATIO) sets
	// Telemetry.SampleRatio.
	EnvTelemetrySampleRatio = "DSPEX_TELEMETRY_SAMPLE_RATIO"
	// EnvServiceName (OTEL_SERVICE_NAME) sets Telemetry.ServiceName.
	EnvServiceName = "OTEL_SERVICE_NAME"
)

// FromEnv returns Default() with the environment applied: the usual
// configuration of a program without a configuration file.
func FromEnv(getenv func(string) string) (Config, error) {
	return ApplyEnv(Default(), getenv)
}

// ApplyEnv returns a copy of cfg with the environment variables documented
// on the Env constants applied, read through getenv (os.Getenv in
// production, a map lookup in tests). A value that does not parse is a
// *ValidationError whose Key is the variable name; all such errors are
// joined. cfg is not modified. ApplyEnv does not Validate the result.
func ApplyEnv(cfg Config, getenv func(string) string) (Config, error) {
	cfg = cfg.Clone()
	var errs []error
	bad := func(key, value string, err error) {
		reason := "invalid value"
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			reason = ne.Err.Error()
		} else if err != nil {
			reason = err.Error()
		}
		errs = append(errs, &ValidationError{Key: key, Value: value, Reason: reason})
	}
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	integer := func(key string, dst *int) {
		if v := getenv(key); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				bad(key, v, err)
				return
			}
			*dst = n
		}
	}
	boolean := func(key string, dst *bool) {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				bad(key, v, err)
				return
			}
			*dst = b
		}
	}
	float := func(key string, dst *float64) {
		if v := getenv(key); v != "" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				bad(key, v, err)
				return
			}
			*dst = f
		}
	}
	duration := func(key string, dst *Duration) {
		if v := getenv(key); v != "" {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				bad(key, v, errors.New(`want a duration like "30s"`))
				return
			}
			*dst = Duration(d)
		}
	}

	boolean(EnvCache, &cfg.Cache.Enabled)
	duration(EnvCacheTTL, &cfg.Cache.TTL)
	boolean(EnvCachePersistent, &cfg.Cache.Persistent)
	str(EnvCacheDir, &cfg.Cache.Dir)
	integer(EnvConcurrency, &cfg.Concurrency)
	duration(EnvRequestTimeout, &cfg.RequestTimeout)
	integer(EnvRetryMaxAttempts, &cfg.Retry.MaxAttempts)
	integer(EnvRateLimitRPM, &cfg.RateLimit.RequestsPerMinute)
	integer(EnvRateLimitTPM, &cfg.RateLimit.TokensPerMinute)
	str(EnvTelemetryExporter, &cfg.Telemetry.Exporter)
	str(EnvTelemetryEndpoint, &cfg.Telemetry.Endpoint)
	boolean(EnvTelemetryInsecure, &cfg.Telemetry.Insecure)
	boolean(EnvTelemetryRecordContent, &cfg.Telemetry.RecordContent)
	boolean(EnvTelemetryStepSpans, &cfg.Telemetry.StepSpans)
	float(EnvTelemetrySampleRatio, &cfg.Telemetry.SampleRatio)
	str(EnvServiceName, &cfg.Telemetry.ServiceName)

	model := strings.TrimSpace(getenv(EnvModel))
	if model != "" {
		cfg.Model = model
	}
	i := slices.IndexFunc(cfg.Providers, func(p Provider) bool { return p.Name == DefaultOpenAIName })
	addAnthropic := getenv(EnvAnthropicAPIKey) != "" &&
		!slices.ContainsFunc(cfg.Providers, func(p Provider) bool { return p.Name == DefaultAnthropicName })
	hasKey := getenv(EnvOpenAIAPIKey) != ""
	// A base URL without a key is a local server (Ollama, vLLM, llama.cpp)
	// that needs none: it gets a keyless provider.
	if hasKey || getenv(EnvOpenAIBaseURL) != "" {
		if i < 0 {
			m := DefaultOpenAIModel
			if model != "" {
				if name, rest, ok := strings.Cut(model, "/"); ok && name == DefaultOpenAIName && rest != "" {
					m = rest
				} else if !ok || !slices.ContainsFunc(cfg.Providers, func(p Provider) bool { return p.Name == name }) &&
					(!addAnthropic || name != DefaultAnthropicName) {
					m = model
				}
			}
			cfg.Providers = append(cfg.Providers, Provider{
				Name:         DefaultOpenAIName,
				Kind:         KindOpenAI,
				BaseURL:      DefaultOpenAIBaseURL,
				DefaultModel: m,
			})
			i = len(cfg.Providers) - 1
		}
		if hasKey && cfg.Providers[i].APIKey == "" && cfg.Providers[i].APIKeyEnv == "" {
			cfg.Providers[i].APIKeyEnv = EnvOpenAIAPIKey
		}
	}
	if i >= 0 {
		str(EnvOpenAIBaseURL, &cfg.Providers[i].BaseURL)
	}
	if addAnthropic {
		m := DefaultAnthropicModel
		if name, rest, ok := strings.Cut(model, "/"); ok && name == DefaultAnthropicName && rest != "" {
			m = rest
		} else if !ok && model != "" && getenv(EnvOpenAIAPIKey) == "" {
			m = model
		}
		cfg.Providers = append(cfg.Providers, Provider{
			Name:         DefaultAnthropicName,
			Kind:         KindAnthropic,
			BaseURL:      DefaultAnthropicBaseURL,
			APIKeyEnv:    EnvAnthropicAPIKey,
			DefaultModel: m,
		})
	}
	return cfg, errors.Join(errs...)
}
