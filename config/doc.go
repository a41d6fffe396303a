// Package config is the typed configuration of the dspex runtime: LM
// providers, the per-client cache, circuit breaker, rate limit, retry and
// concurrency settings, telemetry export and supervision.
//
// # Sources
//
// A Config is built in three steps, each optional:
//
//	cfg := config.Default()                    // documented defaults, no providers
//	cfg, err := config.Load("dspex.yaml")      // a file decoded over Default()
//	cfg, err = config.ApplyEnv(cfg, os.Getenv) // environment overrides
//	err = cfg.Validate()
//
// FromEnv(os.Getenv) is Default() followed by ApplyEnv. Load and Parse
// reject unknown keys (a typo is an error, not a silently ignored
// setting) and validate what they decoded.
//
// # Files
//
// YAML (.yaml, .yml) and JSON (.json) files use the same snake_case keys:
//
//	providers:
//	  - name: openai
//	    base_url: https://api.openai.com/v1
//	    api_key_env: OPENAI_API_KEY
//	    default_model: gpt-4o-mini
//	cache:
//	  ttl: 30m
//	  persistent: true       # a disk tier, shared by processes
//	  dir: /var/cache/dspex  # default: os.UserCacheDir()/dspex
//	retry:
//	  max_attempts: 5
//	  initial: 250ms
//	  max: 10s
//	  multiplier: 2
//	  jitter: 0.2
//	supervision:
//	  max_restarts: 5
//	  within: 30s
//	  initial: 100ms
//	telemetry:
//	  exporter: otlp-grpc
//	  endpoint: localhost:4317
//	  insecure: true
//
// Durations are Go duration strings ("30s", "1m30s"). The backoff keys
// (initial, max, multiplier, jitter) are spelled the same under retry and
// supervision; the older initial_backoff, max_backoff and backoff_* keys
// are rejected with an error that names their replacement.
//
// # Environment
//
// ApplyEnv reads the variables documented on the Env constants, among them
// OPENAI_API_KEY (adds an "openai" provider), OPENAI_BASE_URL, DSPEX_MODEL,
// DSPEX_CACHE_TTL, DSPEX_CONCURRENCY, DSPEX_RETRY_MAX_ATTEMPTS and
// DSPEX_TELEMETRY_EXPORTER. It takes the lookup function as an argument so
// tests never touch the process environment.
//
// # Secrets
//
// API keys and header values are Secret values: they print, log (slog),
// marshal to JSON and YAML as "[REDACTED]". Only Secret.Reveal returns the
// value. Prefer Provider.APIKeyEnv to a key in a file; Provider.Key
// resolves either.
//
// # Errors
//
// Invalid values are reported as *ValidationError, whose Key names the
// setting in file syntax ("providers[1].base_url") or the environment
// variable; several are joined with errors.Join, and errors.As finds them.
// Unreadable or undecodable files are *LoadError.
package config
