package lmtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/lm"
	"github.com/google/go-cmp/cmp"
)

// watchdog bounds how long the suite waits for a call that must return
// promptly (after cancellation). It only catches hangs; nothing is timed.
const watchdog = 30 * time.Second

// Run checks that the LMs built by newLM behave as an OpenAI-compatible
// provider must: requests reach the server as the OpenAI chat completions
// JSON, responses map back to lm.Response, failures are *lm.ProviderError
// classified by status (retryable or not, 429 as lm.ErrRateLimited with
// Retry-After), cancellation is honoured promptly, concurrent calls are
// safe and the API key never appears in errors. If the LM is an
// lm.Embedder, its embeddings are checked too, and if it is an
// lm.InPlace, its ChatInto against its Chat.
//
// newLM must return an LM with no retries, caching or rate limiting, that
// talks to the OpenAI-compatible API at baseURL (which ends in "/v1", like
// "https://api.openai.com/v1") and sends a non-empty API key as an
// "Authorization: Bearer" or "api-key" header. It has no default model
// requirement: every request names its model. Run starts a fresh Server for
// each subtest and calls newLM with that subtest's t.
//
// With WithProtocol(Anthropic) the suite checks a provider of Anthropic's
// Messages API instead: requests go to POST .../v1/messages with the system
// prompt apart and max_tokens always set, a Request with N > 1 becomes N
// calls, errors come in Anthropic's shape (529 overloaded among them), and
// the API key may be sent as "x-api-key" too. baseURL is then the server's
// root, like "https://api.anthropic.com".
func Run(t *testing.T, newLM func(t *testing.T, baseURL string) lm.LM, opts ...Option) {
	t.Helper()
	s := suite{newLM: newLM}
	for _, o := range opts {
		o.apply(&s)
	}
	t.Run("RequestMapping", s.requestMapping)
	t.Run("ResponseMapping", s.responseMapping)
	t.Run("NoChoices", s.noChoices)
	t.Run("HTTPStatus", s.httpStatus)
	t.Run("NetworkError", s.networkError)
	t.Run("ContextCanceled", s.contextCanceled)
	t.Run("DeadlineExceeded", s.deadlineExceeded)
	t.Run("Concurrent", s.concurrent)
	t.Run("APIKeyNotInErrors", s.apiKeyNotInErrors)
	t.Run("Embeddings", s.embeddings)
	t.Run("ToolCalling", s.toolCalling)
	t.Run("InPlace", s.inPlace)
}

// Protocol is the wire protocol a provider under test speaks.
type Protocol int

// The protocols Run checks.
const (
	// OpenAI is the OpenAI chat completions API (the default).
	OpenAI Protocol = iota
	// Anthropic is Anthropic's Messages API.
	Anthropic
)

// Option configures Run.
type Option interface{ apply(*suite) }

type optionFunc func(*suite)

func (f optionFunc) apply(s *suite) { f(s) }

// WithProtocol makes Run check a provider of the given protocol.
func WithProtocol(p Protocol) Option { return optionFunc(func(s *suite) { s.protocol = p }) }

type suite struct {
	newLM    func(t *testing.T, baseURL string) lm.LM
	protocol Protocol
}

// start returns a Server answering with h and an LM pointed at it.
func (s suite) start(t *testing.T, h Handler) (*Server, lm.LM) {
	t.Helper()
	srv := NewServer(h)
	t.Cleanup(srv.Close)
	url := srv.URL()
	if s.protocol == Anthropic {
		url = srv.RootURL()
	}
	m := s.newLM(t, url)
	if m == nil {
		t.Fatal("newLM returned nil")
	}
	return srv, m
}

// lastCall returns the only chat call srv received.
func lastCall(t *testing.T, srv *Server) Call {
	t.Helper()
	calls := srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("server received %d calls, want 1", len(calls))
	}
	return calls[0]
}

// providerError returns err as a *lm.ProviderError or fails.
func providerError(t *testing.T, err error) *lm.ProviderError {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	var pe *lm.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *lm.ProviderError", err, err)
	}
	if pe.Provider == "" {
		t.Errorf("ProviderError.Provider is empty: %v", err)
	}
	return pe
}

func (s suite) requestMapping(t *testing.T) {
	msgs := []lm.Message{
		{Role: lm.RoleSystem, Content: "You are terse."},
		{Role: lm.RoleUser, Content: "What is 2+2?"},
		{Role: lm.RoleAssistant, Content: "4"},
		{Role: lm.RoleUser, Content: "And 3+3?"},
	}
	tests := []struct {
		name string
		req  lm.Request
		want ChatRequest // Stop nil means "absent or empty"; pointers nil mean absent
	}{
		{
			name: "all fields",
			req: lm.Request{
				Model: "model-a", Messages: msgs, Temperature: lm.Float(0.7), MaxTokens: 64,
				N: 2, Stop: []string{"\n\n", "END"}, Seed: lm.Int(42), ResponseFormat: lm.FormatJSON,
			},
			want: ChatRequest{
				Model: "model-a", Messages: msgs, Temperature: lm.Float(0.7), MaxTokens: lm.Int(64),
				N: lm.Int(2), Stop: []string{"\n\n", "END"}, Seed: lm.Int(42), ResponseFormat: "json_object",
			},
		},
		{
			name: "explicit zero temperature and seed",
			req:  lm.Request{Model: "model-b", Messages: msgs[1:2], Temperature: lm.Float(0), Seed: lm.Int(0)},
			want: ChatRequest{Model: "model-b", Messages: msgs[1:2], Temperature: lm.Float(0), Seed: lm.Int(0)},
		},
		{
			name: "temperature 1.5",
			req:  lm.Request{Model: "model-c", Messages: msgs[:2], Temperature: lm.Float(1.5), MaxTokens: 1},
			want: ChatRequest{Model: "model-c", Messages: msgs[:2], Temperature: lm.Float(1.5), MaxTokens: lm.Int(1)},
		},
		{
			name: "defaults omitted",
			req:  lm.Request{Model: "model-d", Messages: msgs[1:2]},
			want: ChatRequest{Model: "model-d", Messages: msgs[1:2]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, m := s.start(t, nil)
			resp, err := m.Chat(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			n := 1
			if tt.req.N > 0 {
				n = tt.req.N
			}
			if len(resp.Choices) != n {
				t.Errorf("got %d choices, want %d", len(resp.Choices), n)
			}
			if s.protocol == Anthropic {
				s.checkAnthropicRequest(t, srv, tt.req, tt.want, n)
				return
			}
			c := lastCall(t, srv)
			if c.Method != http.MethodPost || !strings.HasSuffix(c.Path, "/chat/completions") {
				t.Errorf("request %s %s, want POST .../chat/completions", c.Method, c.Path)
			}
			got := *c.Chat
			if diff := cmp.Diff(tt.want.Model, got.Model); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Messages, got.Messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			checkFloat(t, "temperature", tt.want.Temperature, got.Temperature)
			// max_tokens or its successor max_completion_tokens.
			maxTokens := got.MaxTokens
			if maxTokens == nil {
				maxTokens = got.MaxCompletionTokens
			} else if got.MaxCompletionTokens != nil {
				t.Errorf("both max_tokens and max_completion_tokens sent")
			}
			checkInt(t, "max_tokens", tt.want.MaxTokens, maxTokens)
			checkInt(t, "seed", tt.want.Seed, got.Seed)
			wantN := tt.want.N
			if wantN == nil && got.N != nil && *got.N == 1 {
				wantN = lm.Int(1) // n=1 is the default, sending it is fine
			}
			checkInt(t, "n", wantN, got.N)
			if diff := cmp.Diff(tt.want.Stop, got.Stop, cmpEmpty); diff != "" {
				t.Errorf("stop (-want +got):\n%s", diff)
			}
			if got.ResponseFormat != tt.want.ResponseFormat && (tt.want.ResponseFormat != "" || got.ResponseFormat != "text") {
				t.Errorf("response_format type = %q, want %q", got.ResponseFormat, tt.want.ResponseFormat)
			}
		})
	}
}

// checkAnthropicRequest checks the n Messages API calls of one request:
// each carries the request, with the system prompt apart, max_tokens always
// set, the temperature capped at the API's maximum of 1, and no seed, n or
// response format (the API has none).
func (s suite) checkAnthropicRequest(t *testing.T, srv *Server, req lm.Request, want ChatRequest, n int) {
	t.Helper()
	calls := srv.Calls()
	if len(calls) != n {
		t.Fatalf("server received %d calls, want %d (one per choice)", len(calls), n)
	}
	if want.Temperature != nil {
		want.Temperature = lm.Float(min(*want.Temperature, 1))
	}
	for _, c := range calls {
		if c.Method != http.MethodPost || !strings.HasSuffix(c.Path, "/v1/messages") || c.Anthropic == nil {
			t.Fatalf("request %s %s, want POST .../v1/messages", c.Method, c.Path)
		}
		got := *c.Chat
		if diff := cmp.Diff(want.Model, got.Model); diff != "" {
			t.Errorf("model (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want.Messages, got.Messages); diff != "" {
			t.Errorf("messages, system first (-want +got):\n%s", diff)
		}
		for _, m := range c.Anthropic.Messages {
			if m.Role == string(lm.RoleSystem) {
				t.Errorf("system message sent as a turn: %+v", m)
			}
		}
		checkFloat(t, "temperature", want.Temperature, got.Temperature)
		if want.MaxTokens != nil {
			checkInt(t, "max_tokens", want.MaxTokens, got.MaxTokens)
		} else if got.MaxTokens == nil || *got.MaxTokens < 1 {
			t.Errorf("max_tokens = %v, want a positive default (the API requires it)", got.MaxTokens)
		}
		if diff := cmp.Diff(want.Stop, c.Anthropic.StopSequences, cmpEmpty); diff != "" {
			t.Errorf("stop_sequences (-want +got):\n%s", diff)
		}
		for _, field := range []string{"n", "seed", "response_format", "stop"} {
			if _, ok := c.Fields[field]; ok {
				t.Errorf("field %q sent; the Messages API has none", field)
			}
		}
	}
}

// cmpEmpty equates nil and empty slices.
var cmpEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func checkFloat(t *testing.T, name string, want, got *float64) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %v sent, want it absent", name, *got)
	case want != nil && got == nil:
		t.Errorf("%s absent, want %v", name, *want)
	case want != nil && math.Abs(*want-*got) > 1e-6:
		t.Errorf("%s = %v, want %v", name, *got, *want)
	}
}

func checkInt(t *testing.T, name string, want, got *int) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %d sent, want it absent", name, *got)
	case want != nil && got == nil:
		t.Errorf("%s absent, want %d", name, *want)
	case want != nil && *want != *got:
		t.Errorf("%s = %d, want %d", name, *got, *want)
	}
}

func (s suite) responseMapping(t *testing.T) {
	h := func(Call) Script {
		return Script{
			ID: "chatcmpl-abc", Model: "served-model-2024",
			Replies:       []string{"first answer", "second answer"},
			FinishReasons: []string{"stop", "length"},
			Usage:         &lm.Usage{PromptTokens: 11, CompletionTokens: 7, TotalTokens: 18},
		}
	}
	if s.protocol == Anthropic {
		// One choice per call: the two calls' usages add up.
		var mu sync.Mutex
		calls := 0
		h = func(Call) Script {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return Script{ID: "chatcmpl-abc", Model: "served-model-2024", Replies: []string{"first answer"},
					Usage: &lm.Usage{PromptTokens: 6, CompletionTokens: 3, TotalTokens: 9}}
			}
			return Script{ID: "chatcmpl-def", Model: "served-model-2024", Replies: []string{"second answer"},
				FinishReasons: []string{"length"}, Usage: &lm.Usage{PromptTokens: 5, CompletionTokens: 4, TotalTokens: 9}}
		}
	}
	_, m := s.start(t, h)
	got, err := m.Chat(t.Context(), lm.Request{Model: "asked-model", N: 2, Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := lm.Response{
		ID:    "chatcmpl-abc",
		Model: "served-model-2024",
		Choices: []lm.Choice{
			{Message: lm.Message{Role: lm.RoleAssistant, Content: "first answer"}, FinishReason: "stop"},
			{Message: lm.Message{Role: lm.RoleAssistant, Content: "second answer"}, FinishReason: "length"},
		},
		Usage: lm.Usage{PromptTokens: 11, CompletionTokens: 7, TotalTokens: 18},
	}
	// Attempts is 0 (a bare provider) or 1 (through a runtime, which
	// counts them); this request needed no retry.
	if got.Attempts > 1 {
		t.Errorf("Attempts = %d for a request that succeeded at once", got.Attempts)
	}
	got.Attempts = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// inPlace checks an lm.InPlace LM's ChatInto against its Chat: the same
// response, written over whatever *resp held, on success and on failure
// (with a *lm.ProviderError), and *req left as it was.
func (s suite) inPlace(t *testing.T) {
	_, m := s.start(t, func(c Call) Script {
		if c.Chat != nil && len(c.Chat.Messages) > 0 && strings.Contains(c.Chat.Messages[len(c.Chat.Messages)-1].Content, "fail") {
			return Script{Status: 500, Error: "down"}
		}
		return Script{ID: "chatcmpl-in", Model: "served-model-2024", Replies: []string{"in place"},
			Usage: &lm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}}
	})
	p, ok := m.(lm.InPlace)
	if !ok {
		t.Skip("not an lm.InPlace")
	}
	for _, content := range []string{"hi", "fail"} {
		t.Run(content, func(t *testing.T) {
			req := lm.Request{Model: "in-place-model", Messages: []lm.Message{{Role: lm.RoleUser, Content: content}}, Stop: []string{"END"}}
			want, wantErr := m.Chat(t.Context(), req)
			sent := req
			sent.Messages, sent.Stop = slices.Clone(req.Messages), slices.Clone(req.Stop)
			got := lm.Response{ID: "stale", Choices: []lm.Choice{{FinishReason: "stale"}}}
			err := p.ChatInto(t.Context(), &req, &got)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("ChatInto error %v, Chat error %v", err, wantErr)
			}
			if err != nil {
				providerError(t, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ChatInto response differs from Chat's (-chat +into):\n%s", diff)
			}
			if diff := cmp.Diff(sent, req); diff != "" {
				t.Errorf("ChatInto changed the request (-before +after):\n%s", diff)
			}
		})
	}
}

func (s suite) noChoices(t *testing.T) {
	_, m := s.start(t, func(Call) Script { return Script{NoChoices: true} })
	_, err := m.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
	providerError(t, err)
	if !errors.Is(err, lm.ErrNoChoices) {
		t.Errorf("error %v does not match lm.ErrNoChoices", err)
	}
}

func (s suite) httpStatus(t *testing.T) {
	tests := []struct {
		name       string
		script     Script
		retryable  bool
		retryAfter time.Duration
	}{
		{name: "400", script: Script{Status: 400, Error: "bad request"}},
		{name: "401", script: Script{Status: 401, Error: "invalid api key"}},
		{name: "403", script: Script{Status: 403}},
		{name: "404", script: Script{Status: 404, Error: "model not found"}},
		{name: "422", script: Script{Status: 422}},
		{name: "408", script: Script{Status: 408}, retryable: true},
		{name: "409", script: Script{Status: 409}, retryable: true},
		{name: "429", script: Script{Status: 429, Error: "slow down", RetryAfter: "7"}, retryable: true, retryAfter: 7 * time.Second},
		{name: "429 without Retry-After", script: Script{Status: 429}, retryable: true},
		{name: "500", script: Script{Status: 500}, retryable: true},
		{name: "502 HTML body", script: Script{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}, retryable: true},
		{name: "503 with Retry-After", script: Script{Status: 503, RetryAfter: "2"}, retryable: true, retryAfter: 2 * time.Second},
		{name: "529 overloaded", script: Script{Status: 529, RetryAfter: "3"}, retryable: true, retryAfter: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m := s.start(t, func(Call) Script { return tt.script })
			_, err := m.Chat(t.Context(), lm.Request{Model: "status-model", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
			pe := providerError(t, err)
			if pe.Status != tt.script.Status {
				t.Errorf("Status = %d, want %d", pe.Status, tt.script.Status)
			}
			if pe.Model != "status-model" {
				t.Errorf("Model = %q, want %q", pe.Model, "status-model")
			}
			if pe.Retryable != tt.retryable || lm.IsRetryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, IsRetryable = %v, want %v", pe.Retryable, lm.IsRetryable(err), tt.retryable)
			}
			if got, want := errors.Is(err, lm.ErrRateLimited), tt.script.Status == 429; got != want {
				t.Errorf("errors.Is(err, lm.ErrRateLimited) = %v, want %v", got, want)
			}
			if pe.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tt.retryAfter)
			}
		})
	}
	t.Run("Retry-After HTTP-date", func(t *testing.T) {
		date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
		_, m := s.start(t, func(Call) Script { return Script{Status: 429, RetryAfter: date} })
		_, err := m.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
		pe := providerError(t, err)
		// The date has one-second resolution; allow for a slow machine.
		if pe.RetryAfter <= 50*time.Minute || pe.RetryAfter > time.Hour {
			t.Errorf("RetryAfter = %v for %q, want about an hour", pe.RetryAfter, date)
		}
	})
}

func (s suite) networkError(t *testing.T) {
	_, m := s.start(t, func(Call) Script { return Script{Hangup: true} })
	_, err := m.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
	pe := providerError(t, err)
	if pe.Status != 0 {
		t.Errorf("Status = %d, want 0 (no response)", pe.Status)
	}
	if !pe.Retryable || !lm.IsRetryable(err) {
		t.Errorf("network error %v is not retryable", err)
	}
}

// callAsync runs Chat on its own goroutine and returns its error, failing
// the test if the call hangs.
func callAsync(t *testing.T, ctx context.Context, m lm.LM) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := m.Chat(ctx, lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "slow"}}})
		done <- err
	}()
	timer := time.NewTimer(watchdog)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		t.Fatalf("Chat did not return within %v after its context ended", watchdog)
		return nil
	}
}

func checkContextError(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("error %v does not match %v", err, target)
	}
	if lm.IsRetryable(err) {
		t.Errorf("error %v is retryable, want not (the caller gave up)", err)
	}
	if pe := (*lm.ProviderError)(nil); errors.As(err, &pe) && pe.Retryable {
		t.Errorf("ProviderError.Retryable = true for %v", err)
	}
}

func (s suite) contextCanceled(t *testing.T) {
	t.Run("during the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		never := make(chan struct{}) // the server answers only when the client gives up
		_, m := s.start(t, func(Call) Script {
			cancel()
			return Script{Wait: never, Replies: []string{"too late"}}
		})
		checkContextError(t, callAsync(t, ctx, m), context.Canceled)
	})
	t.Run("before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, m := s.start(t, nil)
		checkContextError(t, callAsync(t, ctx, m), context.Canceled)
	})
}

func (s suite) deadlineExceeded(t *testing.T) {
	never := make(chan struct{})
	_, m := s.start(t, func(Call) Script { return Script{Wait: never} })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	checkContextError(t, callAsync(t, ctx, m), context.DeadlineExceeded)
}

func (s suite) concurrent(t *testing.T) {
	srv, m := s.start(t, nil)
	const workers, calls = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				q := fmt.Sprintf("question %d-%d", w, i)
				resp, err := m.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: q}}})
				switch {
				case err != nil:
					errs <- err
				case len(resp.Choices) != 1 || resp.Choices[0].Message.Content != q:
					errs <- fmt.Errorf("reply to %q is %+v", q, resp.Choices)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(srv.Calls()); got != workers*calls {
		t.Errorf("server received %d calls, want %d", got, workers*calls)
	}
}

// credential returns the API key a call carried.
func credential(c Call) string {
	if key, ok := strings.CutPrefix(c.Header.Get("Authorization"), "Bearer "); ok && key != "" {
		return key
	}
	if key := c.Header.Get("X-Api-Key"); key != "" {
		return key
	}
	return c.Header.Get("Api-Key")
}

func (s suite) apiKeyNotInErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(echo string) Script
	}{
		{"JSON error echoing the key", func(echo string) Script {
			return Script{Status: 401, Error: "Incorrect API key provided: " + echo}
		}},
		{"plain-text error echoing the key", func(echo string) Script {
			return Script{Status: 500, Body: "upstream rejected headers: " + echo}
		}},
		{"rate limit echoing the key", func(echo string) Script {
			return Script{Status: 429, Error: "key " + echo + " is over quota", RetryAfter: "1"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, m := s.start(t, func(c Call) Script {
				return tt.script(fmt.Sprintf("Authorization=%q api-key=%q x-api-key=%q",
					c.Header.Get("Authorization"), c.Header.Get("Api-Key"), c.Header.Get("X-Api-Key")))
			})
			_, err := m.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
			providerError(t, err)
			key := credential(lastCall(t, srv))
			if key == "" {
				t.Fatal("no API key reached the server; newLM must configure one for this check")
			}
			texts := map[string]string{
				"Error()":   err.Error(),
				"%+v":       fmt.Sprintf("%+v", err),
				"%v of LM":  fmt.Sprintf("%v", m),
				"%+v of LM": fmt.Sprintf("%+v", m),
				"%#v of LM": fmt.Sprintf("%#v", m),
			}
			for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
				texts[fmt.Sprintf("wrapped %T", inner)] = inner.Error()
			}
			for what, text := range texts {
				if strings.Contains(text, key) {
					t.Errorf("%s reveals the API key: %s", what, text)
				}
			}
		})
	}
}

func (s suite) embeddings(t *testing.T) {
	srv, m := s.start(t, func(Call) Script {
		return Script{
			Model:       "embed-served",
			Vectors:     [][]float32{{1, 0}, {0, 1}, {0.5, 0.5}},
			ReverseData: true,
			Usage:       &lm.Usage{PromptTokens: 6, TotalTokens: 6},
		}
	})
	e, ok := m.(lm.Embedder)
	if !ok {
		t.Skipf("%T is not an lm.Embedder", m)
	}
	got, err := e.Embed(t.Context(), lm.EmbedRequest{Model: "embed-model", Inputs: []string{"alpha", "beta", "gamma"}})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	want := lm.EmbedResponse{
		Model:   "embed-served",
		Vectors: [][]float32{{1, 0}, {0, 1}, {0.5, 0.5}},
		Usage:   lm.Usage{PromptTokens: 6, TotalTokens: 6},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("embeddings (-want +got):\n%s", diff)
	}
	c := lastCall(t, srv)
	if !strings.HasSuffix(c.Path, "/embeddings") || c.Embed == nil {
		t.Fatalf("request went to %s, want .../embeddings", c.Path)
	}
	if diff := cmp.Diff(&EmbedRequest{Model: "embed-model", Input: []string{"alpha", "beta", "gamma"}}, c.Embed); diff != "" {
		t.Errorf("embeddings request (-want +got):\n%s", diff)
	}

	t.Run("503", func(t *testing.T) {
		srv.SetHandler(func(Call) Script { return Script{Status: 503} })
		_, err := e.Embed(t.Context(), lm.EmbedRequest{Model: "embed-model", Inputs: []string{"x"}})
		pe := providerError(t, err)
		if pe.Status != 503 || !pe.Retryable {
			t.Errorf("got Status %d Retryable %v, want 503 true", pe.Status, pe.Retryable)
		}
	})
}
