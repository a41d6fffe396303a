package actors

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/supervision"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func reply(text string) lm.Response {
	return lm.Response{ID: "x", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: text}, FinishReason: "stop"}}}
}

func hello(text string) lm.Request {
	return lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: text}}}
}

// harness runs a ClientManager over custom providers in its own system.
type harness struct {
	system  *actor.ActorSystem
	clients *Clients
	policy  *supervision.Policy
	pid     *actor.PID
}

func newHarness(t *testing.T, cfg config.Config, custom map[string]lm.LM) *harness {
	t.Helper()
	h := &harness{system: supervision.NewSystem(nil)}
	h.clients = NewClients(ClientsOptions{Config: cfg, Custom: custom})
	h.policy = supervision.NewPolicy(supervision.Spec{Name: "clients", Backoff: backoff.Policy{Multiplier: 1}})
	h.pid = h.system.Root.Spawn(ClientManagerProps(h.clients, h.policy))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.clients.Close(ctx); err != nil {
			t.Error(err)
		}
		h.policy.Close()
		_ = h.system.Root.StopFuture(h.pid).Wait()
		h.system.Shutdown()
	})
	return h
}

func testConfig() config.Config {
	cfg := config.Default()
	cfg.Retry.MaxAttempts = 1
	return cfg
}

func TestCacheKeyIgnoresNothingThatMatters(t *testing.T) {
	base := hello("hi")
	k0, _ := cacheKey("p", "m", base)
	variants := map[string]lm.Request{
		"temperature": {Messages: base.Messages, Temperature: lm.Float(0.5)},
		"n":           {Messages: base.Messages, N: 2},
		"max tokens":  {Messages: base.Messages, MaxTokens: 10},
		"stop":        {Messages: base.Messages, Stop: []string{"x"}},
		"seed":        {Messages: base.Messages, Seed: lm.Int(1)},
		"format":      {Messages: base.Messages, ResponseFormat: lm.FormatJSON},
		"rollout":     {Messages: base.Messages, RolloutID: 1},
		"message":     hello("ho"),
		"tools":       {Messages: base.Messages, Tools: []lm.ToolDef{{Name: "lookup"}}},
		"tool schema": {Messages: base.Messages, Tools: []lm.ToolDef{{Name: "lookup", Parameters: []byte(`{"type":"object"}`)}}},
		"tool choice": {Messages: base.Messages, Tools: []lm.ToolDef{{Name: "lookup"}}, ToolChoice: lm.ToolChoiceRequired},
		"tool calls": {Messages: append(append([]lm.Message(nil), base.Messages...),
			lm.Message{Role: lm.RoleAssistant, ToolCalls: []lm.ToolCall{{ID: "c1", Name: "lookup", Arguments: "{}"}}},
			lm.Message{Role: lm.RoleTool, ToolCallID: "c1", Content: "ok"})},
	}
	for name, req := range variants {
		t.Run(name, func(t *testing.T) {
			k, ok := cacheKey("p", "m", req)
			if !ok || k == k0 {
				t.Fatalf("key %q unchanged (ok=%v)", name, ok)
			}
		})
	}
	if k, _ := cacheKey("q", "m", base); k == k0 {
		t.Error("provider not in key")
	}
	if k, _ := cacheKey("p", "n", base); k == k0 {
		t.Error("model not in key")
	}
	if k, _ := cacheKey("p", "m", lm.Request{Messages: base.Messages, NoCache: true}); k != k0 {
		t.Error("NoCache changed the key")
	}
}

// stepClock is a fake backoff.Clock: each AfterFunc advances its time by
// the delay, records the delay, and fires at once.
type stepClock struct {
	now    time.Time
	delays []time.Duration
}

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.delays = append(c.delays, d)
	c.now = c.now.Add(d)
	f()
	return func() bool { return false }
}

// TestRetryWaitsTheBackoff: retries wait the backoff.Policy delays, on the
// injected clock, jittered by the injected source, at least Retry-After,
// and give up when the next wait would outlast the deadline.
func TestRetryWaitsTheBackoff(t *testing.T) {
	retryable := &lm.ProviderError{Provider: "p", Retryable: true, Err: errors.New("503")}
	s := config.Retry{MaxAttempts: 5, Backoff: config.Backoff{
		Initial: config.Duration(100 * time.Millisecond), Max: config.Duration(time.Second), Multiplier: 2, Jitter: 0.2}}
	seeded := func() func() float64 { return rand.New(rand.NewPCG(1, 2)).Float64 }
	want := func(s config.Retry, n int) []time.Duration {
		r := seeded()
		var out []time.Duration
		for i := 1; i <= n; i++ {
			out = append(out, s.Policy().Delay(i, r()))
		}
		return out
	}
	// slow is s in minutes: the deadline case runs against a real context
	// deadline, far enough that the test's own run time does not matter.
	slow := config.Retry{MaxAttempts: 5, Backoff: config.Backoff{
		Initial: config.Duration(10 * time.Minute), Max: config.Duration(time.Hour), Multiplier: 2, Jitter: 0.2}}
	for _, tc := range []struct {
		name      string
		s         config.Retry
		fails     int   // failing attempts before a success
		errs      error // the failure
		deadline  time.Duration
		wantErr   bool
		wantWaits []time.Duration
	}{
		{name: "succeeds after two", s: s, fails: 2, errs: retryable, wantWaits: want(s, 2)},
		{name: "gives up after max attempts", s: s, fails: 9, errs: retryable, wantErr: true, wantWaits: want(s, 4)},
		{name: "not retryable", s: s, fails: 9, errs: errors.New("bad request"), wantErr: true},
		{name: "retry-after wins", s: s, fails: 1, errs: &lm.ProviderError{Retryable: true, RetryAfter: 5 * time.Second, Err: errors.New("429")},
			wantWaits: []time.Duration{5 * time.Second}},
		// waits ~10m, then ~20m would pass the 25m deadline
		{name: "deadline too near", s: slow, fails: 9, errs: retryable, deadline: 25 * time.Minute, wantErr: true, wantWaits: want(slow, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &stepClock{now: time.Now()}
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.now.Add(tc.deadline))
				defer cancel()
			}
			calls := 0
			_, err := retry(ctx, tc.s, clk, seeded(), func(context.Context) (lm.Response, error) {
				calls++
				if calls <= tc.fails {
					return lm.Response{}, tc.errs
				}
				return reply("ok"), nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("retry = %v, want error %v", err, tc.wantErr)
			}
			if len(clk.delays) != len(tc.wantWaits) {
				t.Fatalf("waits %v, want %v", clk.delays, tc.wantWaits)
			}
			for i, d := range clk.delays {
				if d != tc.wantWaits[i] {
					t.Errorf("wait %d = %v, want %v", i+1, d, tc.wantWaits[i])
				}
			}
			var re *RetryError
			if tc.wantErr && len(clk.delays) > 0 && (!errors.As(err, &re) || re.Attempts != len(clk.delays)+1) {
				t.Errorf("error %v, want a *RetryError after %d attempts", err, len(clk.delays)+1)
			}
		})
	}
}

func TestGateCapsAndAdmitsInOrder(t *testing.T) {
	var g gate
	g.setLimit(1)
	if err := g.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire on a full gate with a cancelled ctx = %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- g.acquire(context.Background()) }()
	g.setLimit(2) // admits the waiter
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if n := g.inFlight(); n != 2 {
		t.Fatalf("inFlight = %d, want 2", n)
	}
	g.release()
	g.release()
	if n := g.inFlight(); n != 0 {
		t.Fatalf("inFlight = %d, want 0", n)
	}
}

func TestRateLimitFailsFastBeyondDeadline(t *testing.T) {
	l := newLimits(config.RateLimit{RequestsPerMinute: 1})
	if _, err := l.wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := l.wait(ctx, 1); !errors.Is(err, lm.ErrRateLimited) {
		t.Fatalf("second request within the minute = %v, want ErrRateLimited", err)
	}
}

// TestRateLimitSetInPlace changes a client's limits in place, as a
// settings change does: a cap lifted lets requests through at once, and a
// cap set again applies to the next request (the uncapped shortcut never
// skips a limiter that has a cap).
func TestRateLimitSetInPlace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l := newLimits(config.RateLimit{RequestsPerMinute: 1})
	if _, err := l.wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := l.wait(ctx, 1); !errors.Is(err, lm.ErrRateLimited) {
		t.Fatalf("capped: second request = %v, want ErrRateLimited", err)
	}
	l.set(config.RateLimit{})
	for i := range 100 {
		if d, err := l.wait(ctx, 1_000_000); d != 0 || err != nil {
			t.Fatalf("uncapped: request %d waited %v, err %v", i, d, err)
		}
	}
	for _, capped := range []config.RateLimit{{TokensPerMinute: 10}, {RequestsPerMinute: 1}} {
		l.set(capped)
		if _, err := l.wait(ctx, 10); err != nil {
			t.Fatalf("%+v: first request: %v", capped, err)
		}
		if _, err := l.wait(ctx, 10); !errors.Is(err, lm.ErrRateLimited) {
			t.Fatalf("%+v: second request = %v, want ErrRateLimited", capped, err)
		}
		l.set(config.RateLimit{})
	}
}

func TestClientCachesAndRecoversFromPanic(t *testing.T) {
	var calls atomic.Int64
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		calls.Add(1)
		if strings.Contains(req.Messages[0].Content, "panic") {
			panic("boom")
		}
		return reply("ok " + req.Messages[0].Content), nil
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	ctx := context.Background()

	resp, err := h.clients.Chat(ctx, "fake/m", hello("a"), 5*time.Second)
	if err != nil || resp.Cached || resp.Choices[0].Message.Content != "ok a" {
		t.Fatalf("first call = %+v, %v", resp, err)
	}
	if _, err := h.clients.Chat(ctx, "fake/m", hello("panic"), 5*time.Second); !errors.Is(err, ErrProviderPanic) {
		t.Fatalf("panicking call = %v, want ErrProviderPanic", err)
	}
	resp, err = h.clients.Chat(ctx, "fake/m", hello("a"), 5*time.Second)
	if err != nil || !resp.Cached {
		t.Fatalf("after restart = %+v, %v; want a cache hit", resp, err)
	}
	st, err := h.clients.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 1 || st.Clients[0].Restarts != 1 || st.Clients[0].CacheHits != 1 {
		t.Fatalf("status = %+v", st)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("provider calls = %d, want 2", n)
	}
}

func TestCancelReachesProvider(t *testing.T) {
	started := make(chan struct{})
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		close(started)
		<-ctx.Done()
		return lm.Response{}, ctx.Err()
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.clients.Chat(ctx, "fake", hello("x"), 0)
		errc <- err
	}()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("Chat returned before the provider was called: %v", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Chat = %v, want context.Canceled", err)
	}
	// Close waits for the provider call to end: it only ends if the cancel
	// reached it.
}

// TestChatIntoLeavesRequest checks that ChatInto sends a request that
// names no model to its client's model, on the first call (routed through
// the ClientManager) and on later ones (straight to the client), without
// writing the model, or anything else, into the caller's request.
func TestChatIntoLeavesRequest(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		mu.Lock()
		seen = append(seen, req.Model)
		mu.Unlock()
		return reply("ok"), nil
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	for i, text := range []string{"first", "second"} {
		req := hello(text)
		var resp lm.Response
		if err := h.clients.ChatInto(context.Background(), "fake/m", &req, &resp, 5*time.Second); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if diff := cmp.Diff(hello(text), req); diff != "" {
			t.Errorf("call %d changed the request (-before +after):\n%s", i, diff)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"m", "m"}; !slices.Equal(seen, want) {
		t.Errorf("provider saw models %q, want %q", seen, want)
	}
}
