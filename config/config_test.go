package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func intp(n int) *int { return &n }

func wantGood() Config {
	c := Default()
	c.Providers = []Provider{
		{
			Name: "openai", BaseURL: "https://api.openai.com/v1", APIKeyEnv: "OPENAI_API_KEY",
			Models: []string{"gpt-4o-mini", "gpt-4o"}, DefaultModel: "gpt-4o-mini",
		},
		{
			Name: "local", Kind: "openai", BaseURL: "http://127.0.0.1:8000/v1", APIKey: "sk-local-secret-value",
			DefaultModel: "llama3", Headers: map[string]Secret{"X-Team": "research"},
			RateLimit: &RateLimit{RequestsPerMinute: 30}, Concurrency: intp(4),
		},
	}
	c.Model = "local/llama3"
	c.Cache.TTL = Duration(30 * time.Minute)
	c.Retry.MaxAttempts = 5
	c.Retry.Initial = Duration(100 * time.Millisecond)
	c.Breaker.Timeout = Duration(time.Minute)
	c.RateLimit.RequestsPerMinute = 500
	c.Concurrency = 16
	c.RequestTimeout = Duration(45 * time.Second)
	c.Telemetry.Exporter = ExporterOTLPGRPC
	c.Telemetry.Endpoint = "localhost:4317"
	c.Telemetry.Insecure = true
	c.Telemetry.Headers = map[string]Secret{"authorization": "Bearer collector-token"}
	c.Supervision.MaxRestarts = 3
	c.Supervision.Within = Duration(10 * time.Second)
	return c
}

func TestLoadGood(t *testing.T) {
	for _, file := range []string{"good.yaml", "good.json"} {
		t.Run(file, func(t *testing.T) {
			got, err := Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantGood(), got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // substrings of the error
		key  string   // the *ValidationError key, for validation failures
	}{
		{file: "unknown_key.yaml", want: []string{"unknown_key.yaml", "max_entires", "line 3"}},
		{file: "unknown_key.json", want: []string{"unknown_key.json", "max_entires"}},
		{file: "bad_duration.yaml", want: []string{"bad_duration.yaml", "line 3", "3 parsecs"}},
		{file: "bad_duration.json", want: []string{"bad_duration.json", "retry.initial", "3 parsecs"}},
		{file: "bad_url.yaml", want: []string{"providers[1].base_url", "ftp://example.com/v1", "http or https"}, key: "providers[1].base_url"},
		{file: "bad_url.json", want: []string{"providers[1].base_url"}, key: "providers[1].base_url"},
		{file: "missing.yaml", want: []string{"missing.yaml", "no such file"}},
		{file: "good.toml", want: []string{"unknown extension"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tc.file))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ve *ValidationError
			var le *LoadError
			switch {
			case tc.key != "":
				if !errors.As(err, &ve) || ve.Key != tc.key {
					t.Errorf("error %v: want a *ValidationError for %s", err, tc.key)
				}
			case !errors.As(err, &le):
				t.Errorf("error %T: want a *LoadError", err)
			}
		})
	}
}

func TestParseKeepsDefaults(t *testing.T) {
	for _, tc := range []struct{ format, data string }{
		{FormatYAML, "cache:\n  ttl: 5m\n"},
		{FormatJSON, `{"cache": {"ttl": "5m"}}`},
	} {
		got, err := Parse([]byte(tc.data), tc.format)
		if err != nil {
			t.Fatal(err)
		}
		want := Default()
		want.Cache.TTL = Duration(5 * time.Minute)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.format, diff)
		}
	}
	if got, err := Parse(nil, FormatYAML); err != nil || !cmp.Equal(got, Default()) {
		t.Errorf("empty YAML = %+v, %v; want the defaults", got, err)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func validProvider() Provider {
	return Provider{Name: "p", BaseURL: "https://example.com/v1", DefaultModel: "m"}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"providers[0].name", func(c *Config) { c.Providers[0].Name = "" }},
		{"providers[0].name", func(c *Config) { c.Providers[0].Name = "a/b" }},
		{"providers[1].name", func(c *Config) { c.Providers = append(c.Providers, validProvider()) }},
		{"providers[0].kind", func(c *Config) { c.Providers[0].Kind = "cohere" }},
		{"providers[0].base_url", func(c *Config) { c.Providers[0].BaseURL = "" }},
		{"providers[0].base_url", func(c *Config) { c.Providers[0].BaseURL = "ftp://x" }},
		{"providers[0].base_url", func(c *Config) { c.Providers[0].BaseURL = "http://" }},
		{"providers[0].base_url", func(c *Config) { c.Providers[0].BaseURL = "://bad" }},
		{"providers[0].default_model", func(c *Config) { c.Providers[0].DefaultModel = "" }},
		{"providers[0].default_model", func(c *Config) { c.Providers[0].Models = []string{"other"} }},
		{"providers[0].models[1]", func(c *Config) { c.Providers[0].Models = []string{"m", ""} }},
		{"providers[0].api_version", func(c *Config) { c.Providers[0].Kind = KindAzure }},
		{"providers[0].rate_limit.requests_per_minute", func(c *Config) { c.Providers[0].RateLimit = &RateLimit{RequestsPerMinute: -1} }},
		{"providers[0].concurrency", func(c *Config) { c.Providers[0].Concurrency = intp(-1) }},
		{"model", func(c *Config) { c.Model = "/m" }},
		{"cache.ttl", func(c *Config) { c.Cache.TTL = 0 }},
		{"cache.max_entries", func(c *Config) { c.Cache.MaxEntries = 0 }},
		{"cache.max_size_mb", func(c *Config) { c.Cache.MaxSizeMB = -1 }},
		{"breaker.timeout", func(c *Config) { c.Breaker.Timeout = -1 }},
		{"breaker.consecutive_failures", func(c *Config) { c.Breaker.ConsecutiveFailures, c.Breaker.FailureRatio = 0, 0 }},
		{"breaker.interval", func(c *Config) { c.Breaker.Interval = -1 }},
		{"breaker.failure_ratio", func(c *Config) { c.Breaker.FailureRatio = 1.5 }},
		{"rate_limit.requests_per_minute", func(c *Config) { c.RateLimit.RequestsPerMinute = -5 }},
		{"rate_limit.tokens_per_minute", func(c *Config) { c.RateLimit.TokensPerMinute = -5 }},
		{"retry.max_attempts", func(c *Config) { c.Retry.MaxAttempts = 0 }},
		{"retry.initial", func(c *Config) { c.Retry.Initial = -1 }},
		{"retry.max", func(c *Config) { c.Retry.Max = Duration(time.Millisecond) }},
		{"retry.multiplier", func(c *Config) { c.Retry.Multiplier = 0.5 }},
		{"retry.jitter", func(c *Config) { c.Retry.Jitter = 2 }},
		{"concurrency", func(c *Config) { c.Concurrency = -1 }},
		{"request_timeout", func(c *Config) { c.RequestTimeout = 0 }},
		{"telemetry.exporter", func(c *Config) { c.Telemetry.Exporter = "jaeger" }},
		{"telemetry.endpoint", func(c *Config) { c.Telemetry.Endpoint = "grpc://collector:4317" }},
		{"telemetry.service_name", func(c *Config) { c.Telemetry.ServiceName = "" }},
		{"telemetry.sample_ratio", func(c *Config) { c.Telemetry.SampleRatio = -0.1 }},
		{"supervision.max_restarts", func(c *Config) { c.Supervision.MaxRestarts = -1 }},
		{"supervision.within", func(c *Config) { c.Supervision.Within = 0 }},
		{"supervision.initial", func(c *Config) { c.Supervision.Initial = -1 }},
		{"supervision.max", func(c *Config) { c.Supervision.Max = Duration(time.Millisecond) }},
		{"supervision.multiplier", func(c *Config) { c.Supervision.Multiplier = 0 }},
		{"supervision.jitter", func(c *Config) { c.Supervision.Jitter = 1.1 }},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := Default()
			c.Providers = []Provider{validProvider()}
			if err := c.Validate(); err != nil {
				t.Fatalf("valid config: %v", err)
			}
			tc.mutate(&c)
			err := c.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if ve.Key != tc.key {
				t.Errorf("key = %q, want %q (error %v)", ve.Key, tc.key, err)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("message %q does not name %q", err, tc.key)
			}
		})
	}
}

func TestValidateJoinsErrors(t *testing.T) {
	c := Default()
	c.Concurrency = -1
	c.Retry.Jitter = 3
	err := c.Validate()
	for _, key := range []string{"concurrency", "retry.jitter"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("%v does not name %s", err, key)
		}
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestApplyEnv(t *testing.T) {
	openai := func(model string) Provider {
		return Provider{Name: "openai", Kind: KindOpenAI, BaseURL: DefaultOpenAIBaseURL, APIKeyEnv: "OPENAI_API_KEY", DefaultModel: model}
	}
	anthropic := func(model string) Provider {
		return Provider{Name: "anthropic", Kind: KindAnthropic, BaseURL: DefaultAnthropicBaseURL, APIKeyEnv: "ANTHROPIC_API_KEY", DefaultModel: model}
	}
	for _, tc := range []struct {
		name string
		base Config
		env  map[string]string
		want func(*Config)
	}{
		{"nothing", Default(), nil, func(*Config) {}},
		{"base url without key adds a keyless provider", Default(), map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "DSPEX_MODEL": "llama3"},
			func(c *Config) {
				p := openai("llama3")
				p.BaseURL, p.APIKeyEnv = "http://127.0.0.1:11434/v1", ""
				c.Providers = []Provider{p}
				c.Model = "llama3"
			}},
		{"key adds openai", Default(), map[string]string{"OPENAI_API_KEY": "sk-env"}, func(c *Config) {
			c.Providers = []Provider{openai(DefaultOpenAIModel)}
		}},
		{"key, base url and model", Default(), map[string]string{
			"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "DSPEX_MODEL": "gpt-4o",
		}, func(c *Config) {
			p := openai("gpt-4o")
			p.BaseURL = "http://127.0.0.1:9/v1"
			c.Providers = []Provider{p}
			c.Model = "gpt-4o"
		}},
		{"anthropic key adds anthropic", Default(), map[string]string{"ANTHROPIC_API_KEY": "sk-ant"}, func(c *Config) {
			c.Providers = []Provider{anthropic(DefaultAnthropicModel)}
		}},
		{"anthropic key and bare model", Default(), map[string]string{"ANTHROPIC_API_KEY": "sk-ant", "DSPEX_MODEL": "claude-x"}, func(c *Config) {
			c.Providers = []Provider{anthropic("claude-x")}
			c.Model = "claude-x"
		}},
		{"both keys, anthropic model", Default(), map[string]string{
			"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "sk-ant", "DSPEX_MODEL": "anthropic/claude-x",
		}, func(c *Config) {
			c.Providers = []Provider{openai(DefaultOpenAIModel), anthropic("claude-x")}
			c.Model = "anthropic/claude-x"
		}},
		{"both keys, bare model goes to openai", Default(), map[string]string{
			"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "sk-ant", "DSPEX_MODEL": "gpt-x",
		}, func(c *Config) {
			c.Providers = []Provider{openai("gpt-x"), anthropic(DefaultAnthropicModel)}
			c.Model = "gpt-x"
		}},
		{"existing anthropic provider is kept", func() Config {
			c := Default()
			c.Providers = []Provider{{Name: "anthropic", Kind: KindAnthropic, BaseURL: "http://127.0.0.1:1", DefaultModel: "m"}}
			return c
		}(), map[string]string{"ANTHROPIC_API_KEY": "sk-ant"}, func(*Config) {}},
		{"prefixed model", Default(), map[string]string{"OPENAI_API_KEY": "k", "DSPEX_MODEL": "openai/gpt-4.1"}, func(c *Config) {
			c.Providers = []Provider{openai("gpt-4.1")}
			c.Model = "openai/gpt-4.1"
		}},
		{"existing openai provider gets the key variable and base url", func() Config {
			c := Default()
			c.Providers = []Provider{{Name: "openai", BaseURL: "https://a/v1", DefaultModel: "m"}}
			return c
		}(), map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://b/v1"}, func(c *Config) {
			c.Providers = []Provider{{Name: "openai", BaseURL: "https://b/v1", DefaultModel: "m", APIKeyEnv: "OPENAI_API_KEY"}}
		}},
		{"cache", Default(), map[string]string{
			"DSPEX_CACHE_PERSISTENT": "true", "DSPEX_CACHE_DIR": "/tmp/c",
		}, func(c *Config) {
			c.Cache.Persistent = true
			c.Cache.Dir = "/tmp/c"
		}},
		{"settings", Default(), map[string]string{
			"DSPEX_CACHE": "false", "DSPEX_CACHE_TTL": "2m", "DSPEX_CONCURRENCY": "8", "DSPEX_REQUEST_TIMEOUT": "5s",
			"DSPEX_RETRY_MAX_ATTEMPTS": "7", "DSPEX_RATE_LIMIT_RPM": "60", "DSPEX_RATE_LIMIT_TPM": "1000",
			"DSPEX_TELEMETRY_EXPORTER": "stdout", "DSPEX_TELEMETRY_ENDPOINT": "h:1", "DSPEX_TELEMETRY_INSECURE": "1",
			"DSPEX_TELEMETRY_RECORD_CONTENT": "true", "DSPEX_TELEMETRY_STEP_SPANS": "true", "DSPEX_TELEMETRY_SAMPLE_RATIO": "0.25", "OTEL_SERVICE_NAME": "svc",
		}, func(c *Config) {
			c.Cache.Enabled = false
			c.Cache.TTL = Duration(2 * time.Minute)
			c.Concurrency = 8
			c.RequestTimeout = Duration(5 * time.Second)
			c.Retry.MaxAttempts = 7
			c.RateLimit = RateLimit{RequestsPerMinute: 60, TokensPerMinute: 1000}
			c.Telemetry.Exporter = ExporterStdout
			c.Telemetry.Endpoint = "h:1"
			c.Telemetry.Insecure = true
			c.Telemetry.RecordContent = true
			c.Telemetry.StepSpans = true
			c.Telemetry.SampleRatio = 0.25
			c.Telemetry.ServiceName = "svc"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base.Clone()
			got, err := ApplyEnv(tc.base, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.base.Clone()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ApplyEnv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(base, tc.base); diff != "" {
				t.Errorf("ApplyEnv modified its argument:\n%s", diff)
			}
		})
	}
}

func TestApplyEnvErrors(t *testing.T) {
	_, err := ApplyEnv(Default(), env(map[string]string{
		"DSPEX_CACHE_TTL": "soon", "DSPEX_CONCURRENCY": "many", "DSPEX_CACHE": "perhaps",
	}))
	for _, key := range []string{"DSPEX_CACHE_TTL", "DSPEX_CONCURRENCY", "DSPEX_CACHE"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("error %T is not a *ValidationError", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const key, header, token = "sk-very-secret-key", "header-secret", "otlp-secret-token"
	c := Default()
	c.Providers = []Provider{{Name: "p", BaseURL: "https://x/v1", DefaultModel: "m", APIKey: key,
		Headers: map[string]Secret{"Authorization": header}}}
	c.Telemetry.Headers = map[string]Secret{"authorization": token}

	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs, fmt.Sprintf(format, c), fmt.Sprintf(format, c.Providers[0]), fmt.Sprintf(format, c.Providers[0].APIKey))
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("config", "cfg", c, "key", c.Providers[0].APIKey, "provider", c.Providers[0])
	}
	outputs = append(outputs, string(js), string(ys), logs.String())
	for i, out := range outputs {
		for _, secret := range []string{key, header, token} {
			if strings.Contains(out, secret) {
				t.Errorf("output %d reveals %q: %s", i, secret, out)
			}
		}
	}
	if !strings.Contains(string(js), Redacted) {
		t.Errorf("JSON has no redaction marker: %s", js)
	}
	if got := c.Providers[0].APIKey.Reveal(); got != key {
		t.Errorf("Reveal = %q", got)
	}
	if got := Secret("").String(); got != "" {
		t.Errorf("empty secret prints %q", got)
	}
}

func TestProviderKey(t *testing.T) {
	getenv := env(map[string]string{"MY_KEY": "from-env"})
	for _, tc := range []struct {
		p    Provider
		want Secret
	}{
		{Provider{APIKey: "direct", APIKeyEnv: "MY_KEY"}, "direct"},
		{Provider{APIKeyEnv: "MY_KEY"}, "from-env"},
		{Provider{APIKeyEnv: "UNSET"}, ""},
		{Provider{}, ""},
	} {
		if got := tc.p.Key(getenv); got != tc.want {
			t.Errorf("%+v.Key() = %q, want %q", tc.p, got.Reveal(), tc.want.Reveal())
		}
	}
}

func TestResolveModel(t *testing.T) {
	c := Default()
	if _, _, err := c.ResolveModel(""); !errors.Is(err, ErrNoProvider) {
		t.Errorf("no providers: %v", err)
	}
	c.Providers = []Provider{
		{Name: "a", BaseURL: "https://a/v1", DefaultModel: "a1"},
		{Name: "b", BaseURL: "https://b/v1", Models: []string{"b1", "b2"}},
	}
	for _, tc := range []struct {
		model, id, provider, want string
	}{
		{"", "", "a", "a1"},
		{"b", "", "b", "b1"},
		{"b/b2", "", "b", "b2"},
		{"", "b", "b", "b1"},
		{"", "b/", "b", "b1"},
		{"", "b/x", "b", "x"},
		{"", "gpt-4o", "a", "gpt-4o"},
		{"", "meta-llama/Llama-3", "a", "meta-llama/Llama-3"},
	} {
		c.Model = tc.model
		p, m, err := c.ResolveModel(tc.id)
		if err != nil || p.Name != tc.provider || m != tc.want {
			t.Errorf("Model %q ResolveModel(%q) = %s, %s, %v; want %s, %s", tc.model, tc.id, p.Name, m, err, tc.provider, tc.want)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := wantGood()
	d := c.Clone()
	d.Providers[0].Models[0] = "changed"
	d.Providers[1].Headers["X-Team"] = "changed"
	d.Providers[1].RateLimit.RequestsPerMinute = 1
	*d.Providers[1].Concurrency = 1
	d.Telemetry.Headers["authorization"] = "changed"
	if diff := cmp.Diff(wantGood(), c); diff != "" {
		t.Errorf("Clone shares memory (-want +got):\n%s", diff)
	}
}

func TestDurationRoundTrip(t *testing.T) {
	d := Duration(90 * time.Second)
	js, _ := json.Marshal(d)
	ys, _ := yaml.Marshal(d)
	if string(js) != `"1m30s"` || strings.TrimSpace(string(ys)) != "1m30s" {
		t.Errorf("marshal: %s / %s", js, ys)
	}
	var back Duration
	if err := json.Unmarshal(js, &back); err != nil || back != d {
		t.Errorf("JSON round trip: %v, %v", back, err)
	}
	if err := yaml.Unmarshal(ys, &back); err != nil || back != d {
		t.Errorf("YAML round trip: %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`30`), &back); err == nil {
		t.Error("a JSON number parsed as a duration")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"good.yaml", "good.json", "unknown_key.yaml", "bad_duration.json", "bad_url.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(name, ".json"))
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		format := FormatYAML
		if isJSON {
			format = FormatJSON
		}
		c, err := Parse(data, format)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid config: %v", err)
		}
	})
}

// TestOldBackoffKeys: the backoff keys of earlier versions fail to load
// with an error that names the key that replaced them.
func TestOldBackoffKeys(t *testing.T) {
	for _, tc := range []struct {
		name, format, data, want string
	}{
		{"yaml retry", FormatYAML, "retry:\n  initial_backoff: 1s\n", "retry.initial"},
		{"yaml retry max", FormatYAML, "retry:\n  max_backoff: 1s\n", "retry.max"},
		{"yaml supervision", FormatYAML, "supervision:\n  backoff_jitter: 0.1\n", "supervision.jitter"},
		{"json retry", FormatJSON, `{"retry": {"max_backoff": "1s"}}`, "retry.max"},
		{"json supervision", FormatJSON, `{"supervision": {"backoff_initial": "1s"}}`, "supervision.initial"},
		{"json supervision multiplier", FormatJSON, `{"supervision": {"backoff_multiplier": 3}}`, "supervision.multiplier"},
		{"yaml supervision max", FormatYAML, "supervision:\n  backoff_max: 1s\n", "supervision.max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), tc.format)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse = %v, want a *LoadError", err)
			}
			if !strings.Contains(err.Error(), "renamed "+tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ format, data string }{
		{FormatYAML, "retry:\n  initial: 1s\n  max: 2s\n  multiplier: 3\n  jitter: 0.1\nsupervision:\n  initial: 1ms\n  max: 5ms\n  multiplier: 1.5\n  jitter: 0\n"},
		{FormatJSON, `{"retry": {"initial": "1s", "max": "2s", "multiplier": 3, "jitter": 0.1}, "supervision": {"initial": "1ms", "max": "5ms", "multiplier": 1.5, "jitter": 0}}`},
	} {
		c, err := Parse([]byte(tc.data), tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		want := Default()
		want.Retry.Backoff = Backoff{Initial: Duration(time.Second), Max: Duration(2 * time.Second), Multiplier: 3, Jitter: 0.1}
		want.Supervision.Backoff = Backoff{Initial: Duration(time.Millisecond), Max: Duration(5 * time.Millisecond), Multiplier: 1.5}
		if c.Retry != want.Retry || c.Supervision != want.Supervision {
			t.Errorf("%s: retry %+v supervision %+v, want %+v %+v", tc.format, c.Retry, c.Supervision, want.Retry, want.Supervision)
		}
	}
}
