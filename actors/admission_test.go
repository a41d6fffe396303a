package actors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/supervision"
)

// TestAdmissionFollowsTheActor checks when a request the cache does not
// answer is admitted on its caller's goroutine, with the snapshot the
// client actor published, and when it must queue in the mailbox instead:
// before the actor starts, while a crash or a settings change is on its
// way to it, and until a restarted actor has loaded again.
func TestAdmissionFollowsTheActor(t *testing.T) {
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		return reply("ok"), nil
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	ctx := context.Background()
	admit := func(text string) *work {
		t.Helper()
		cs := h.clients.shared("fake/m")
		if cs == nil {
			t.Fatal("no client for fake/m")
		}
		msg := &chatRequest{req: hello(text)}
		msg.req.Model = "m"
		var out lm.Response
		w, hit := cs.prepare(msg, &msg.req, &out)
		if hit {
			t.Fatalf("%q: a cache hit", text)
		}
		return w
	}

	if _, err := h.clients.Chat(ctx, "fake/m", hello("first"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cs := h.clients.shared("fake/m")
	w := admit("second")
	if w == nil {
		t.Fatal("a started client's miss was not admitted on the caller's goroutine")
	}
	if w.breaker != cs.breaker.Load() || w.key == "" || !w.keyed {
		t.Fatalf("admitted work = breaker %p (client's %p), key %q", w.breaker, cs.breaker.Load(), w.key)
	}
	before := cs.requests.Load()
	admit("third")
	if got := cs.requests.Load(); got != before+1 {
		t.Errorf("requests counted = %d, want %d", got, before+1)
	}

	cs.queued.Add(1) // as the ClientManager does before it sends a change
	if w := admit("queued"); w != nil {
		t.Error("a miss was admitted while a change was on its way to the actor")
	}
	cs.arrived()

	// A crash: requests queue until the restarted actor has loaded, and
	// the restarted actor's snapshot has its new breaker.
	old := cs.breaker.Load()
	if ok, err := h.clients.Kill(ctx, "fake/m"); err != nil || !ok {
		t.Fatalf("Kill = %v, %v", ok, err)
	}
	if w := admit("after kill"); w != nil && w.breaker == old {
		t.Error("a request made after the crash was queued was admitted with the old breaker")
	}
	deadline := time.Now().Add(5 * time.Second)
	for admit("restarted") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the restarted client never published its snapshot")
		}
		time.Sleep(time.Millisecond)
	}
	if w := admit("restarted"); w.breaker == old || w.breaker != cs.breaker.Load() {
		t.Error("the restarted client's snapshot kept the old breaker")
	}
	if cs.restarts.Load() != 1 {
		t.Errorf("restarts = %d, want 1", cs.restarts.Load())
	}
}

// TestSettingsReachRequestsMadeAfterSync changes the retry settings over
// and over while other callers keep the client busy (and so re-route it
// at once after each change), and checks that every request made after
// the change is synced runs under the new settings: a request whose
// first attempt fails succeeds with 3 attempts and fails with 1.
func TestSettingsReachRequestsMadeAfterSync(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		text := req.Messages[0].Content
		if strings.HasPrefix(text, "flaky") {
			mu.Lock()
			first := !seen[text]
			seen[text] = true
			mu.Unlock()
			if first {
				return lm.Response{}, &lm.ProviderError{Provider: "fake", Status: 503, Retryable: true, Err: errors.New("try again")}
			}
		}
		return reply("ok"), nil
	})
	withAttempts := func(n int) config.Config {
		cfg := testConfig()
		cfg.Retry.MaxAttempts = n
		cfg.Retry.Initial = config.Duration(time.Millisecond)
		cfg.Retry.Max = config.Duration(time.Millisecond)
		cfg.Breaker.Enabled = false
		return cfg
	}
	h := newHarness(t, withAttempts(1), map[string]lm.LM{"fake": provider})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var busy sync.WaitGroup
	var n atomic.Int64
	for range 4 {
		busy.Go(func() {
			for ctx.Err() == nil {
				_, _ = h.clients.Chat(ctx, "fake/m", hello(fmt.Sprint("busy ", n.Add(1))), 5*time.Second)
			}
		})
	}
	defer busy.Wait()
	defer cancel()

	for i := range 60 {
		attempts := 1 + 2*(i%2)
		h.system.Root.Send(h.pid, &configChanged{cfg: withAttempts(attempts)})
		if err := h.clients.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := h.clients.Chat(ctx, "fake/m", hello(fmt.Sprint("flaky ", i)), 5*time.Second)
		if (err == nil) != (attempts == 3) {
			t.Fatalf("change %d (%d attempts): a request whose first attempt fails returned %v", i, attempts, err)
		}
	}
}

// TestAdmissionUnderRestartsAndChanges hammers a client with requests
// and streams while its actor is made to crash, past its restart
// intensity too, and
// its settings change, over and over. The provider never fails, so every
// request must succeed, or, when each actor it was routed to stopped
// before serving it, fail at once with ErrClientStopped: none is lost in
// a stopped actor's mailbox to time out.
func TestAdmissionUnderRestartsAndChanges(t *testing.T) {
	var calls atomic.Int64
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		calls.Add(1)
		return reply("ok"), nil
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := h.clients.Chat(ctx, "fake/m", hello("first"), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	var (
		callers         sync.WaitGroup
		served, stopped atomic.Int64
		failed          atomic.Pointer[error]
	)
	// call makes requests with do until the test ends or one fails with
	// anything but ErrClientStopped.
	call := func(do func(i int) error) {
		callers.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				switch err := do(i); {
				case err == nil:
					served.Add(1)
				case errors.Is(err, ErrClientStopped):
					stopped.Add(1)
				default:
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	for c := range 8 {
		call(func(i int) error {
			_, err := h.clients.Chat(context.Background(), "fake/m", hello(fmt.Sprint(c, " ", i)), 5*time.Second)
			return err
		})
	}
	for c := range 2 {
		call(func(i int) error {
			var err error
			for _, e := range h.clients.Stream(context.Background(), "fake/m", hello(fmt.Sprint("stream ", c, " ", i)), 5*time.Second) {
				err = cmp.Or(e, err)
			}
			return err
		})
	}
	for i := range 40 {
		if i%2 == 0 {
			if _, err := h.clients.Kill(context.Background(), "fake/m"); err != nil {
				t.Fatal(err)
			}
		} else {
			cfg := testConfig()
			cfg.Retry.MaxAttempts = 1 + i%3
			h.system.Root.Send(h.pid, &configChanged{cfg: cfg})
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	callers.Wait()
	if err := failed.Load(); err != nil {
		h.clients.inbox.m.Range(func(k, v any) bool {
			p := v.(posted)
			_, alive := h.system.ProcessRegistry.GetLocal(p.process)
			_, rerouted := p.msg.routing()
			t.Logf("left in the inbox: request %v to %s (alive %v), rerouted %d times", k, p.process, alive, *rerouted)
			return true
		})
		t.Fatalf("a request failed: %v", *err)
	}
	st, err := h.clients.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 1 {
		t.Fatalf("status = %+v", st)
	}
	c := st.Clients[0]
	if want := served.Load() + 1; c.Requests != want || calls.Load() != want {
		t.Errorf("client counted %d requests and the provider got %d, want %d each", c.Requests, calls.Load(), want)
	}
	if c.Restarts == 0 {
		t.Error("the client never restarted")
	}
	t.Logf("%d served, %d failed with ErrClientStopped, %d restarts", served.Load(), stopped.Load(), c.Restarts)
}

// TestCrashThatReachesNoActorReleasesTheClient makes a request whose
// provider panics after its client actor has stopped (its ClientManager
// restarted): the crash it sends reaches no actor. The client must not
// keep counting it as on its way, which would send every later request,
// cache hits included, through the mailbox for good.
func TestCrashThatReachesNoActorReleasesTheClient(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		if req.Messages[0].Content == "boom" {
			entered <- struct{}{}
			<-release
			panic("boom")
		}
		return reply("ok"), nil
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	ctx := context.Background()
	if _, err := h.clients.Chat(ctx, "fake/m", hello("first"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.clients.Chat(ctx, "fake/m", hello("boom"), 5*time.Second)
		done <- err
	}()
	<-entered
	if _, err := h.clients.Kill(ctx, ""); err != nil { // the ClientManager restarts; its client stops
		t.Fatal(err)
	}
	cs := h.clients.shared("fake/m")
	waitFor(t, "the client actor to stop", func() bool { return cs.admission.Load() == nil })
	if _, err := h.clients.Chat(ctx, "fake/m", hello("respawn"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; !errors.Is(err, ErrProviderPanic) {
		t.Fatalf("panicking call = %v, want ErrProviderPanic", err)
	}
	waitFor(t, "the lost crash to be released", func() bool { return cs.queued.Load() == 0 })
	msg := &chatRequest{req: hello("after")}
	msg.req.Model = "m"
	var out lm.Response
	if w, _ := cs.prepare(msg, &msg.req, &out); w == nil {
		t.Error("a miss after the lost crash was not admitted on the caller's goroutine")
	}
}

// TestCloseStopsWithRequestsQueued stops a ClientManager, with and
// without closing its clients first (as Runtime.Close does), while
// requests wait in the mailbox of a client actor suspended in a long
// restart backoff. The requests its stop gives back must fail, not make
// the stopping ClientManager spawn a new client that nothing would stop.
func TestCloseStopsWithRequestsQueued(t *testing.T) {
	for _, closeFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("close first ", closeFirst), func(t *testing.T) {
			provider := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply("ok"), nil })
			h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
			slow := supervision.NewPolicy(supervision.Spec{Name: "slow",
				Intensity: supervision.Intensity{MaxRestarts: 10, Within: time.Minute},
				Backoff:   backoff.Policy{Initial: 10 * time.Second, Max: 10 * time.Second, Multiplier: 1}})
			defer slow.Close()
			c := NewClients(ClientsOptions{Config: testConfig(), Custom: map[string]lm.LM{"fake": provider}})
			defer c.Close(context.Background())
			pid := h.system.Root.Spawn(ClientManagerProps(c, slow))
			ctx := context.Background()
			if _, err := c.Chat(ctx, "fake/m", hello("first"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Kill(ctx, "fake/m"); err != nil { // restarts in 10 s: requests queue meanwhile
				t.Fatal(err)
			}
			var queued sync.WaitGroup
			var served atomic.Int64
			for i := range 200 {
				queued.Go(func() {
					if _, err := c.Chat(ctx, "fake/m", hello(fmt.Sprint(i)), 3*time.Second); err == nil {
						served.Add(1)
					}
				})
			}
			time.Sleep(100 * time.Millisecond)
			if closeFirst {
				if err := c.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			h.system.Root.Poison(pid)
			waitFor(t, "the ClientManager to stop", func() bool {
				_, ok := h.system.ProcessRegistry.GetLocal(pid.Id)
				return !ok
			})
			queued.Wait()
			if n := served.Load(); n > 0 {
				t.Errorf("%d requests queued behind the crash were served after the stop", n)
			}
		})
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
