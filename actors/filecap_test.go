package actors

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/supervision"
)

// waiting returns the number of requests queued at g.
func (g *gate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters.Len()
}

// TestFileCapQueuesUncappedClients checks that clients without a
// concurrency cap share ClientsOptions.FileCap: past it, their requests
// queue and run as slots free, rather than reaching the provider (and, over
// HTTP, failing with "too many open files").
func TestFileCapQueuesUncappedClients(t *testing.T) {
	const fileCap, calls = 2, 5
	entered := make(chan struct{}, calls)
	release := make(chan struct{})
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		entered <- struct{}{}
		select {
		case <-release:
			return reply("ok"), nil
		case <-ctx.Done():
			return lm.Response{}, ctx.Err()
		}
	})
	cfg := testConfig()
	cfg.Concurrency = 0 // no cap of their own
	clients := NewClients(ClientsOptions{Config: cfg, FileCap: fileCap,
		Custom: map[string]lm.LM{"a": provider, "b": provider}})
	system := supervision.NewSystem(nil)
	policy := supervision.NewPolicy(supervision.Spec{Name: "clients", Backoff: backoff.Policy{Multiplier: 1}})
	pid := system.Root.Spawn(ClientManagerProps(clients, policy))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := clients.Close(ctx); err != nil {
			t.Error(err)
		}
		policy.Close()
		_ = system.Root.StopFuture(pid).Wait()
		system.Shutdown()
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		id := []string{"a/m", "b/m"}[i%2]
		wg.Go(func() {
			_, err := clients.Chat(ctx, id, hello(string(rune('a'+i))), 0)
			errs <- err
		})
	}
	// fileCap requests reach the providers, the others queue.
	for range fileCap {
		<-entered
	}
	for clients.uncapped.waiting() < calls-fileCap {
		if ctx.Err() != nil {
			t.Fatalf("%d requests queued, want %d", clients.uncapped.waiting(), calls-fileCap)
		}
		runtime.Gosched()
	}
	select {
	case <-entered:
		t.Fatal("a request passed the file cap")
	default:
	}
	if n := clients.uncapped.inFlight(); n != fileCap {
		t.Fatalf("in flight = %d, want %d", n, fileCap)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Chat = %v, want success once admitted", err)
		}
	}
	if n := len(entered); n != calls-fileCap {
		t.Fatalf("%d queued requests reached the provider, want %d", n, calls-fileCap)
	}
}

func TestNewExchangeUsesTheSharedGateOnlyWithoutACap(t *testing.T) {
	shared := new(gate)
	for _, tc := range []struct {
		name string
		cap  int
		want *gate
	}{
		{"no cap", 0, shared},
		{"own cap", 8, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &clientActor{shared: &clientShared{uncapped: shared}, settings: ClientSettings{MaxInFlight: tc.cap}}
			if got := a.newExchange(nil, nil).uncapped; got != tc.want {
				t.Fatalf("uncapped = %p, want %p", got, tc.want)
			}
		})
	}
}
