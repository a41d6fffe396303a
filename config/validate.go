package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/lm"
)

// Validate checks every value and returns nil or the *ValidationError of
// each invalid key, joined with errors.Join. It checks: provider names
// non-empty, unique and without "/"; kinds known; base URLs absolute http or
// https; a default model for each provider, among Models when they are
// listed; Azure providers have an API version; Model names a known provider
// when it has a provider prefix; cache, retry, breaker and supervision
// durations positive where required and counts non-negative; retry and
// backoff multipliers >= 1; jitters and ratios in [0, 1]; the telemetry
// exporter is one of Exporters and its endpoint parses. API keys are not
// checked: they are resolved when a client starts.
func (c Config) Validate() error {
	var errs []error
	add := func(key string, value any, reason string) {
		errs = append(errs, &ValidationError{Key: key, Value: fmt.Sprint(value), Reason: reason})
	}
	names := make(map[string]int)
	for i, p := range c.Providers {
		k := func(field string) string { return "providers[" + strconv.Itoa(i) + "]." + field }
		switch {
		case p.Name == "":
			add(k("name"), "", "must not be empty")
		case strings.Contains(p.Name, "/"):
			add(k("name"), p.Name, `must not contain "/"`)
		default:
			if j, dup := names[p.Name]; dup {
				add(k("name"), p.Name, fmt.Sprintf("duplicates providers[%d].name", j))
			} else {
				names[p.Name] = i
			}
		}
		if !slices.Contains(Kinds, p.EffectiveKind()) {
			add(k("kind"), p.Kind, `must be "openai", "azure" or "anthropic"`)
		}
		if p.BaseURL == "" {
			add(k("base_url"), "", "must not be empty")
		} else if u, err := url.Parse(p.BaseURL); err != nil {
			add(k("base_url"), lm.RedactURL(p.BaseURL), "does not parse as a URL")
		} else if u.Scheme != "http" && u.Scheme != "https" {
			add(k("base_url"), lm.RedactURL(p.BaseURL), "scheme must be http or https")
		} else if u.Host == "" {
			add(k("base_url"), lm.RedactURL(p.BaseURL), "has no host")
		}
		if p.Model() == "" {
			add(k("default_model"), "", "must be set (or models listed)")
		} else if len(p.Models) > 0 && !slices.Contains(p.Models, p.Model()) {
			add(k("default_model"), p.DefaultModel, "is not in models")
		}
		for j, m := range p.Models {
			if m == "" {
				add(k("models["+strconv.Itoa(j)+"]"), "", "must not be empty")
			}
		}
		if p.EffectiveKind() == KindAzure && p.APIVersion == "" {
			add(k("api_version"), "", "is required for azure providers")
		}
		if p.RateLimit != nil {
			checkRate(add, k("rate_limit"), *p.RateLimit)
		}
		if p.Concurrency != nil && *p.Concurrency < 0 {
			add(k("concurrency"), *p.Concurrency, "must be >= 0 (0 means unlimited)")
		}
		if p.MaxResponseBytes < 0 {
			add(k("max_response_bytes"), p.MaxResponseBytes, "must be >= 0 (0 means 8 MiB)")
		}
	}
	if name, _, ok := strings.Cut(c.Model, "/"); ok && name == "" {
		add("model", c.Model, "has an empty provider name")
	}

	if c.Cache.Enabled {
		if c.Cache.TTL <= 0 {
			add("cache.ttl", c.Cache.TTL, "must be positive")
		}
		if c.Cache.MaxEntries <= 0 {
			add("cache.max_entries", c.Cache.MaxEntries, "must be positive")
		}
	}
	if c.Cache.MaxSizeMB < 0 {
		add("cache.max_size_mb", c.Cache.MaxSizeMB, "must be >= 0 (0 means no cap)")
	}

	if c.Breaker.Enabled {
		if c.Breaker.Timeout <= 0 {
			add("breaker.timeout", c.Breaker.Timeout, "must be positive")
		}
		if c.Breaker.ConsecutiveFailures == 0 && c.Breaker.FailureRatio == 0 {
			add("breaker.consecutive_failures", 0, "must be positive unless failure_ratio is set")
		}
	}
	if c.Breaker.Interval < 0 {
		add("breaker.interval", c.Breaker.Interval, "must be >= 0")
	}
	if c.Breaker.FailureRatio < 0 || c.Breaker.FailureRatio > 1 {
		add("breaker.failure_ratio", c.Breaker.FailureRatio, "must be in [0, 1]")
	}

	checkRate(add, "rate_limit", c.RateLimit)

	if c.Retry.MaxAttempts < 1 {
		add("retry.max_attempts", c.Retry.MaxAttempts, "must be >= 1 (1 disables retries)")
	}
	checkBackoff(add, "retry", c.Retry.Backoff)

	if c.Concurrency < 0 {
		add("concurrency", c.Concurrency, "must be >= 0 (0 means unlimited)")
	}
	if c.RequestTimeout <= 0 {
		add("request_timeout", c.RequestTimeout, "must be positive")
	}

	t := c.Telemetry
	if !slices.Contains(Exporters, t.Exporter) {
		add("telemetry.exporter", t.Exporter, "must be one of "+strings.Join(Exporters, ", "))
	}
	if t.Endpoint != "" && strings.Contains(t.Endpoint, "://") {
		if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("telemetry.endpoint", t.Endpoint, "must be host:port or an http(s) URL")
		}
	}
	if t.ServiceName == "" {
		add("telemetry.service_name", "", "must not be empty")
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		add("telemetry.sample_ratio", t.SampleRatio, "must be in [0, 1]")
	}

	s := c.Supervision
	if s.MaxRestarts < 0 {
		add("supervision.max_restarts", s.MaxRestarts, "must be >= 0")
	}
	if s.Within <= 0 {
		add("supervision.within", s.Within, "must be positive")
	}
	checkBackoff(add, "supervision", s.Backoff)
	c.validateHistoryPrices(add)
	return errors.Join(errs...)
}

// checkBackoff checks the backoff keys under key (retry or supervision).
func checkBackoff(add func(string, any, string), key string, b Backoff) {
	if b.Initial < 0 {
		add(key+".initial", b.Initial, "must be >= 0")
	}
	if b.Max < b.Initial {
		add(key+".max", b.Max, "must be >= initial")
	}
	if !(b.Multiplier >= 1) {
		add(key+".multiplier", b.Multiplier, "must be >= 1")
	}
	if !(b.Jitter >= 0 && b.Jitter <= 1) {
		add(key+".jitter", b.Jitter, "must be in [0, 1]")
	}
}

func checkRate(add func(string, any, string), key string, r RateLimit) {
	if r.RequestsPerMinute < 0 {
		add(key+".requests_per_minute", r.RequestsPerMinute, "must be >= 0 (0 means unlimited)")
	}
	if r.TokensPerMinute < 0 {
		add(key+".tokens_per_minute", r.TokensPerMinute, "must be >= 0 (0 means unlimited)")
	}
}

// ResolveModel resolves an LM id to its provider and model. An empty id
// means c.Model; an empty c.Model means the first provider's default model.
// "name/model" selects provider name and model; "name" alone selects that
// provider's default model; any other id (including ids with a "/" whose
// prefix is not a provider name, like "meta-llama/Llama-3") is a model of
// the first provider. It returns ErrNoProvider when c has no providers.
func (c Config) ResolveModel(id string) (Provider, string, error) {
	if len(c.Providers) == 0 {
		return Provider{}, "", ErrNoProvider
	}
	if id == "" {
		id = c.Model
	}
	if id == "" {
		p := c.Providers[0]
		return p, p.Model(), nil
	}
	if p, ok := c.Provider(id); ok {
		return p, p.Model(), nil
	}
	if name, model, ok := strings.Cut(id, "/"); ok {
		if p, found := c.Provider(name); found {
			if model == "" {
				model = p.Model()
			}
			return p, model, nil
		}
	}
	return c.Providers[0], id, nil
}
