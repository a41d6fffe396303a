package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
)

func hi() lm.Request {
	return lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}}
}

// TestGatewayConformance runs the provider conformance suite against a
// GatewayLM whose gateway serves the suite's provider: through the
// gateway, the LM behaves as the provider itself.
func TestGatewayConformance(t *testing.T) {
	lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
		p := startGatewayProcess(t, "openai", gwEnvURL+"="+baseURL, gwEnvKey+"=sk-conformance-key-0123")
		return gatewayLM(t, p.addr)
	})
}

// TestGatewayKeyNeverCrossesWire checks that the key the gateway's LM
// sends to its provider is in no reply of the gateway, even when the
// provider echoes it in its errors, and that requests carry none.
func TestGatewayKeyNeverCrossesWire(t *testing.T) {
	const key = "sk-gateway-only-7f3a9c"
	echo := func(c lmtest.Call) string {
		return fmt.Sprintf("Authorization=%q api-key=%q", c.Header.Get("Authorization"), c.Header.Get("Api-Key"))
	}
	tests := []struct {
		name   string
		script func(c lmtest.Call) lmtest.Script
	}{
		{"success", func(lmtest.Call) lmtest.Script { return lmtest.Script{Replies: []string{"fine"}} }},
		{"401 echoing the key", func(c lmtest.Call) lmtest.Script {
			return lmtest.Script{Status: 401, Error: "Incorrect API key provided: " + echo(c)}
		}},
		{"500 plain text echoing the key", func(c lmtest.Call) lmtest.Script {
			return lmtest.Script{Status: 500, Body: "upstream rejected headers: " + echo(c)}
		}},
		{"429 echoing the key", func(c lmtest.Call) lmtest.Script {
			return lmtest.Script{Status: 429, Error: "key " + echo(c) + " is over quota", RetryAfter: "1"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := lmtest.NewServer(tt.script)
			t.Cleanup(srv.Close)
			p := startGatewayProcess(t, "openai", gwEnvURL+"="+srv.URL(), gwEnvKey+"="+key)
			client := gatewayLM(t, p.addr)
			failing := tt.name != "success"

			// The raw reply, as it crosses the wire.
			req := chatToWire(hi())
			req.Id = 1
			if b, _ := proto.Marshal(req); strings.Contains(string(b), key) {
				t.Fatal("the request carries the key")
			}
			raw, err := client.system.Root.RequestFuture(actor.NewPID(p.addr, gatewayName), req, gwWatchdog).Result()
			if err != nil {
				t.Fatal(err)
			}
			reply, ok := raw.(*pb.ChatResponse)
			if !ok {
				t.Fatalf("gateway answered %T", raw)
			}
			wire, err := proto.Marshal(reply)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(wire), key) || strings.Contains(prototext.Format(reply), key) {
				t.Errorf("the reply reveals the key: %v", prototext.Format(reply))
			}
			if (reply.Error != nil) != failing {
				t.Errorf("reply %v", prototext.Format(reply))
			}

			// The error a GatewayLM returns, and everything it wraps.
			_, err = client.Chat(t.Context(), hi())
			if (err != nil) != failing {
				t.Fatalf("Chat: %v", err)
			}
			texts := []string{fmt.Sprint(client), fmt.Sprintf("%#v", client)}
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error(), fmt.Sprintf("%+v", e))
			}
			for _, text := range texts {
				if strings.Contains(text, key) {
					t.Errorf("reveals the key: %s", text)
				}
			}
			calls := srv.Calls()
			for _, c := range calls {
				if got := c.Header.Get("Authorization"); got != "Bearer "+key {
					t.Errorf("the provider got Authorization %q, want the gateway's key", got)
				}
			}
			if len(calls) != 2 {
				t.Errorf("the provider got %d calls, want 2", len(calls))
			}
		})
	}
}

// gatewayErrorCase is a failure of a gateway's LM, and what a GatewayLM
// must make of it.
type gatewayErrorCase struct {
	name      string
	err       error
	panics    bool
	provider  *lm.ProviderError // nil: a *GatewayError
	sentinels []error
	text      string // in the error's text
}

var gatewayErrorCases = []gatewayErrorCase{
	{
		name:      "429",
		err:       &lm.ProviderError{Provider: "p", Model: "m1", Status: 429, Retryable: true, RetryAfter: 2500 * time.Millisecond, Err: errors.New("slow down")},
		provider:  &lm.ProviderError{Provider: "p", Model: "m1", Status: 429, Retryable: true, RetryAfter: 2500 * time.Millisecond},
		sentinels: []error{lm.ErrRateLimited},
		text:      "lm: provider p model m1: HTTP 429: slow down",
	},
	{
		name:      "local rate limiter",
		err:       &lm.ProviderError{Provider: "p", Model: "m1", Retryable: true, Err: fmt.Errorf("limiter: %w", lm.ErrRateLimited)},
		provider:  &lm.ProviderError{Provider: "p", Model: "m1", Retryable: true},
		sentinels: []error{lm.ErrRateLimited},
	},
	{
		name:      "circuit open",
		err:       &lm.ProviderError{Provider: "p", Model: "m1", Err: lm.ErrCircuitOpen},
		provider:  &lm.ProviderError{Provider: "p", Model: "m1"},
		sentinels: []error{lm.ErrCircuitOpen},
		text:      lm.ErrCircuitOpen.Error(),
	},
	{
		name:      "no choices",
		err:       &lm.ProviderError{Provider: "p", Status: 200, Err: lm.ErrNoChoices},
		provider:  &lm.ProviderError{Provider: "p", Status: 200},
		sentinels: []error{lm.ErrNoChoices},
	},
	{
		name:     "wrapped by retries",
		err:      fmt.Errorf("dspex: 3 attempts: %w", &lm.ProviderError{Provider: "p", Model: "m2", Status: 503, Retryable: true, Err: errors.New("overloaded")}),
		provider: &lm.ProviderError{Provider: "p", Model: "m2", Status: 503, Retryable: true},
		text:     "HTTP 503: overloaded",
	},
	{
		// Not retryable although marked so: the caller's deadline passed.
		name:      "provider timeout",
		err:       &lm.ProviderError{Provider: "p", Retryable: true, Err: fmt.Errorf("request: %w", context.DeadlineExceeded)},
		provider:  &lm.ProviderError{Provider: "p", Retryable: true},
		sentinels: []error{context.DeadlineExceeded},
	},
	{name: "plain error", err: errors.New("runtime closed"), text: "runtime closed"},
	{name: "no LM", err: lm.ErrNoLM, sentinels: []error{lm.ErrNoLM}},
	{name: "panic", panics: true, text: "panicked: kaboom"},
}

// TestGatewayErrors checks that failures keep their meaning across the
// wire: a provider failure is an *lm.ProviderError with the same fields
// and sentinels, anything else a *GatewayError naming the gateway.
func TestGatewayErrors(t *testing.T) {
	for _, tt := range gatewayErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			p := startGatewayProcess(t, "error:"+tt.name)
			c := gatewayLM(t, p.addr)
			_, err := c.Chat(t.Context(), hi())
			if err == nil {
				t.Fatal("no error")
			}
			var pe *lm.ProviderError
			var ge *GatewayError
			if tt.provider != nil {
				if !errors.As(err, &pe) {
					t.Fatalf("%v (%T) is not a *lm.ProviderError", err, err)
				}
				if d := cmp.Diff(tt.provider, pe, cmpopts.IgnoreFields(lm.ProviderError{}, "Err")); d != "" {
					t.Errorf("provider error (-want +got):\n%s", d)
				}
			} else {
				if !errors.As(err, &ge) || ge.Gateway != p.addr {
					t.Fatalf("%v (%T) is not a *GatewayError naming %s", err, err, p.addr)
				}
				if errors.Is(err, ErrGatewayUnreachable) {
					t.Errorf("%v matches ErrGatewayUnreachable", err)
				}
			}
			if got, want := lm.IsRetryable(err), lm.IsRetryable(tt.err); got != want {
				t.Errorf("IsRetryable = %v, want %v", got, want)
			}
			for _, s := range tt.sentinels {
				if !errors.Is(err, s) {
					t.Errorf("%v does not match %v", err, s)
				}
			}
			for _, s := range []error{lm.ErrRateLimited, lm.ErrCircuitOpen, lm.ErrNoChoices, lm.ErrNoLM, context.DeadlineExceeded, context.Canceled} {
				if errors.Is(err, s) && (tt.err == nil || !errors.Is(tt.err, s)) {
					t.Errorf("%v matches %v, the original did not", err, s)
				}
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not contain %q", err, tt.text)
			}
			if st := p.stats(t); st != "stats served=0 failed=1 peak=1 running=0" {
				t.Errorf("gateway %s", st)
			}
		})
	}
}

// TestGatewayConcurrent checks that the gateway does not serialise calls:
// its LM answers only once 8 calls are in it at the same time.
func TestGatewayConcurrent(t *testing.T) {
	const calls = 8
	p := startGatewayProcess(t, fmt.Sprintf("barrier:%d", calls))
	c := gatewayLM(t, p.addr)
	ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			q := fmt.Sprintf("question %d", i)
			resp, err := c.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: q}}})
			switch {
			case err != nil:
				errs <- err
			case len(resp.Choices) != 1 || resp.Choices[0].Message.Content != q:
				errs <- fmt.Errorf("reply to %q: %+v", q, resp)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st, want := p.stats(t), fmt.Sprintf("stats served=%d failed=0 peak=%d running=0", calls, calls); st != want {
		t.Errorf("gateway %s, want %s", st, want)
	}
}

// TestGatewayMaxInFlight checks the gateway's own cap: 8 calls at once,
// at most 2 in its LM at a time, which lets them through 2 by 2.
func TestGatewayMaxInFlight(t *testing.T) {
	const calls, limit = 8, 2
	p := startGatewayProcess(t, fmt.Sprintf("hold:%d", limit), fmt.Sprintf("%s=%d", gwEnvMaxInFlight, limit))
	c := gatewayLM(t, p.addr)
	ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
	defer cancel()
	var wg sync.WaitGroup
	replies := make(chan string, calls)
	for range calls {
		wg.Go(func() {
			resp, err := c.Chat(ctx, hi())
			if err != nil {
				t.Error(err)
				return
			}
			replies <- resp.Choices[0].Message.Content
		})
	}
	wg.Wait()
	close(replies)
	n := 0
	for r := range replies {
		n++
		if r != fmt.Sprintf("peak=%d", limit) {
			t.Errorf("the LM said %s, want peak=%d", r, limit)
		}
	}
	if n != calls {
		t.Errorf("%d calls answered, want %d", n, calls)
	}
	if st, want := p.stats(t), fmt.Sprintf("stats served=%d failed=0 peak=%d running=0", calls, limit); st != want {
		t.Errorf("gateway %s, want %s", st, want)
	}
}

// TestGatewayContext checks that the caller's deadline and trace context
// reach the gateway's LM, and that cancelling a call cancels it there.
func TestGatewayContext(t *testing.T) {
	traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	inspect := func(t *testing.T, ctx context.Context, c *GatewayLM) (deadline string, trace string) {
		t.Helper()
		resp, err := c.Chat(ctx, hi())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscanf(resp.Choices[0].Message.Content, "deadline=%s trace=%s", &deadline, &trace); err != nil {
			t.Fatalf("reply %q: %v", resp.Choices[0].Message.Content, err)
		}
		return deadline, trace
	}
	t.Run("deadline and trace", func(t *testing.T) {
		c := gatewayLM(t, startGatewayProcess(t, "inspect").addr)
		deadline := time.Now().Add(5 * time.Minute) // within DefaultGatewayMaxTimeout
		ctx, cancel := context.WithDeadline(trace.ContextWithSpanContext(t.Context(), sc), deadline)
		defer cancel()
		dl, tr := inspect(t, ctx, c)
		got, err := time.Parse(time.RFC3339Nano, dl)
		if err != nil || got.Sub(deadline).Abs() > time.Minute {
			t.Errorf("the gateway's call has deadline %s, want about the caller's %v", dl, deadline)
		}
		if tr != traceID.String() {
			t.Errorf("the gateway's call has trace %s, want %v", tr, traceID)
		}
	})
	t.Run("no deadline", func(t *testing.T) {
		c := gatewayLM(t, startGatewayProcess(t, "inspect").addr)
		if dl, _ := inspect(t, t.Context(), c); dl == "none" {
			t.Error("the gateway's call has no deadline, want the client's default bound")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		p := startGatewayProcess(t, "block")
		c := gatewayLM(t, p.addr)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := c.Chat(ctx, hi())
			done <- err
		}()
		p.next(t, "entered") // the call runs at the gateway
		cancel()
		select {
		case err := <-done:
			var ge *GatewayError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &ge) || lm.IsRetryable(err) {
				t.Errorf("Chat after cancel: %v", err)
			}
		case <-time.After(gwWatchdog):
			t.Fatal("Chat did not return after its context was cancelled")
		}
		if got := p.next(t, "cancelled"); got != "cancelled context canceled" {
			t.Errorf("the gateway's call ended with %q, want context.Canceled", got)
		}
	})
}

// checkUnreachable checks that err is a *GatewayError for addr matching
// ErrGatewayUnreachable, and no timeout.
func checkUnreachable(t *testing.T, err error, addr string) {
	t.Helper()
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.Gateway != addr || !errors.Is(err, ErrGatewayUnreachable) {
		t.Fatalf("error %v (%T), want a *GatewayError for %s matching ErrGatewayUnreachable", err, err, addr)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the gateway", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || lm.IsRetryable(err) {
		t.Errorf("error %v is a timeout or retryable", err)
	}
}

// chatAsync runs a Chat on its own goroutine.
func chatAsync(ctx context.Context, c *GatewayLM) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(ctx, hi())
		done <- err
	}()
	return done
}

// TestGatewayUnreachable checks that calls fail at once, with a typed
// error naming the gateway, when nothing listens at its address, when the
// process there runs no gateway, and when the gateway goes away during a
// call; and that a gateway back at the address serves again.
func TestGatewayUnreachable(t *testing.T) {
	t.Run("nothing listens", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
		defer cancel()
		addr := freeAddr(t)
		_, err := gatewayLM(t, addr).Chat(ctx, hi())
		checkUnreachable(t, err, addr)
	})
	t.Run("no gateway there", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
		defer cancel()
		p := startGatewayProcess(t, "bare")
		c := gatewayLM(t, p.addr)
		for range 2 {
			_, err := c.Chat(ctx, hi())
			checkUnreachable(t, err, p.addr)
			if !strings.Contains(err.Error(), noGateway) {
				t.Errorf("error %q does not say that no gateway runs there", err)
			}
		}
	})
	t.Run("closed during a call", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
		defer cancel()
		p := startGatewayProcess(t, "block")
		c := gatewayLM(t, p.addr)
		done := chatAsync(ctx, c)
		p.next(t, "entered")
		if st := p.close(t); st != "stats served=0 failed=1 peak=1 running=0" {
			t.Errorf("gateway %s", st)
		}
		checkUnreachable(t, <-done, p.addr)
	})
	t.Run("killed during a call, and back", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
		defer cancel()
		p := startGatewayProcess(t, "block")
		c := gatewayLM(t, p.addr)
		done := chatAsync(ctx, c)
		p.next(t, "entered")
		p.kill()
		checkUnreachable(t, <-done, p.addr)

		// A new gateway at the same address.
		p2 := startGatewayProcess(t, "echo:back", gwEnvListen+"="+p.addr)
		if p2.addr != p.addr {
			t.Fatalf("restarted at %s, want %s", p2.addr, p.addr)
		}
		resp, err := c.Chat(ctx, hi())
		if err != nil || resp.Choices[0].Message.Content != "back" {
			t.Fatalf("after the gateway came back: %+v, %v", resp, err)
		}
	})
	t.Run("closed client", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), gwWatchdog)
		defer cancel()
		p := startGatewayProcess(t, "block")
		c := gatewayLM(t, p.addr)
		done := chatAsync(ctx, c)
		p.next(t, "entered")
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		_ = c.Close(ctx) // idempotent
		for _, err := range []error{<-done, <-chatAsync(ctx, c)} {
			var ge *GatewayError
			if !errors.As(err, &ge) || !errors.Is(err, errClosed) {
				t.Errorf("Chat on a closed GatewayLM: %v", err)
			}
		}
	})
}

// TestGatewayConfig checks the configurations StartGateway, DialGateway
// and StartNode refuse.
func TestGatewayConfig(t *testing.T) {
	ctx := t.Context()
	echo := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return lm.Response{}, nil })
	if _, err := StartGateway(ctx, GatewayConfig{}); err == nil {
		t.Error("StartGateway without an LM succeeded")
	}
	if _, err := StartGateway(ctx, GatewayConfig{LM: echo, MaxInFlight: -1}); err == nil {
		t.Error("StartGateway with a negative MaxInFlight succeeded")
	}
	if _, err := DialGateway(ctx, GatewayClientConfig{}); err == nil {
		t.Error("DialGateway without an address succeeded")
	}
	for _, cfg := range []NodeConfig{{}, {LM: echo, Gateway: "127.0.0.1:1"}} {
		if n, err := StartNode(ctx, cfg); err == nil {
			_ = n.Close(ctx)
			t.Errorf("StartNode with LM %v and Gateway %q succeeded", cfg.LM != nil, cfg.Gateway)
		}
	}
}

// FuzzChatWire checks that requests and responses survive the wire.
func FuzzChatWire(f *testing.F) {
	f.Add("m", "system", "hello", 0.7, true, 64, 2, "END", 42, false, "json_object", 3, true, "id", "stop", 5)
	f.Add("", "user", "", 0.0, false, 0, 0, "", 0, true, "", 0, false, "", "", 0)
	f.Fuzz(func(t *testing.T, model, role, content string, temp float64, hasTemp bool, maxTokens, n int, stop string,
		seed int, hasSeed bool, format string, rollout int, noCache bool, id, finish string, tokens int) {
		req := lm.Request{Model: model, Messages: []lm.Message{{Role: lm.Role(role), Content: content}}, MaxTokens: maxTokens,
			N: n, ResponseFormat: lm.Format(format), RolloutID: rollout, NoCache: noCache}
		if hasTemp {
			req.Temperature = lm.Float(temp)
		}
		if hasSeed {
			req.Seed = lm.Int(seed)
		}
		if stop != "" {
			req.Stop = []string{stop, stop + "!"}
		}
		b, err := proto.Marshal(chatToWire(req))
		if err != nil {
			t.Skip() // not UTF-8: proto strings must be
		}
		var m pb.ChatRequest
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(req, chatFromWire(&m), cmpopts.EquateNaNs()); d != "" {
			t.Errorf("request (-want +got):\n%s", d)
		}
		resp := lm.Response{ID: id, Model: model, Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: content},
			FinishReason: finish}}, Usage: lm.Usage{PromptTokens: tokens, CompletionTokens: n, TotalTokens: tokens + n}, Cached: noCache}
		if b, err = proto.Marshal(responseToWire(resp)); err != nil {
			t.Skip()
		}
		var r pb.ChatResponse
		if err := proto.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(resp, responseFromWire(&r)); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
	})
}

// TestChatWireTools checks that native tool calling survives the wire: the
// tools and tool choice of a request, the calls and results in its
// messages, and the calls of a reply.
func TestChatWireTools(t *testing.T) {
	req := lm.Request{
		Model: "m",
		Messages: []lm.Message{
			{Role: lm.RoleUser, Content: "weather in Paris?"},
			{Role: lm.RoleAssistant, Content: "looking", ToolCalls: []lm.ToolCall{{ID: "c1", Name: "weather", Arguments: `{"city":"Paris"}`}}},
			{Role: lm.RoleTool, ToolCallID: "c1", Content: "sunny"},
			{Role: lm.RoleUser, Content: "what is this? " + lm.ImagePlaceholder("https://example.com/a.png"), Parts: []lm.ContentPart{
				lm.TextPart("what is this? "), lm.ImageURLPart("https://example.com/a.png"), lm.ImageDataPart("image/png", []byte{0x89, 'P', 'N', 'G'}),
			}},
		},
		Tools: []lm.ToolDef{
			{Name: "weather", Description: "Gives the weather.", Parameters: []byte(`{"type":"object"}`)},
			{Name: "finish"},
		},
		ToolChoice: lm.ToolChoiceRequired,
	}
	b, err := proto.Marshal(chatToWire(req))
	if err != nil {
		t.Fatal(err)
	}
	var m pb.ChatRequest
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(req, chatFromWire(&m)); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
	resp := lm.Response{ID: "r", Model: "m", Choices: []lm.Choice{{FinishReason: "tool_calls",
		Message: lm.Message{Role: lm.RoleAssistant, ToolCalls: []lm.ToolCall{{ID: "c2", Name: "finish", Arguments: "{}"}}}}}}
	if b, err = proto.Marshal(responseToWire(resp)); err != nil {
		t.Fatal(err)
	}
	var r pb.ChatResponse
	if err := proto.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(resp, responseFromWire(&r)); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
}
