package actors

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// TestAttemptDeadline: the provider's context ends at the earliest of the
// attempt's timeout and the request's deadline (the caller's, or the
// default one when the caller has none), whichever of them the request
// scope holds lazily.
func TestAttemptDeadline(t *testing.T) {
	for _, tc := range []struct {
		name           string
		requestTimeout time.Duration // per attempt
		callerDeadline time.Duration // 0: none
		defaultTimeout time.Duration
		want           time.Duration // from the call
	}{
		{"default deadline first", time.Hour, 0, 30 * time.Second, 30 * time.Second},
		{"attempt timeout first", 10 * time.Second, 0, 30 * time.Second, 10 * time.Second},
		{"caller's deadline first", time.Hour, 20 * time.Second, 0, 20 * time.Second},
		{"attempt timeout before the caller's", 10 * time.Second, 20 * time.Second, 0, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan time.Time, 1)
			provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
				dl, ok := ctx.Deadline()
				if !ok {
					t.Error("provider's context has no deadline")
				}
				seen <- dl
				return reply("ok"), nil
			})
			cfg := testConfig()
			cfg.Cache.Enabled = false
			cfg.RequestTimeout = config.Duration(tc.requestTimeout)
			h := newHarness(t, cfg, map[string]lm.LM{"fake": provider})
			before := time.Now()
			ctx := context.Background()
			if tc.callerDeadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.callerDeadline)
				defer cancel()
			}
			if _, err := h.clients.Chat(ctx, "fake", hello("hi"), tc.defaultTimeout); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			dl := <-seen
			if dl.Before(before.Add(tc.want)) || dl.After(after.Add(tc.want)) {
				t.Fatalf("provider's deadline %v after the call's start, want %v", dl.Sub(before), tc.want)
			}
		})
	}
}

// TestCancelRegistry: cancelAll cancels, with its cause, exactly the
// requests still registered, whatever shard they fall in.
func TestCancelRegistry(t *testing.T) {
	var r cancelRegistry
	ctxs := make(map[uint64]context.Context)
	for id := uint64(1); id <= 3*cancelShards+5; id++ {
		ctx, cancel := context.WithCancelCause(context.Background())
		ctxs[id] = ctx
		r.store(id, cancel)
	}
	for id := range ctxs {
		if id%3 == 0 {
			r.delete(id)
		}
	}
	r.delete(1000) // never registered
	cause := errors.New("closing")
	r.cancelAll(cause)
	for id, ctx := range ctxs {
		got := context.Cause(ctx)
		switch {
		case id%3 == 0 && got != nil:
			t.Errorf("request %d, unregistered, was cancelled: %v", id, got)
		case id%3 != 0 && got != cause:
			t.Errorf("request %d: cause %v, want %v", id, got, cause)
		}
	}
}

// TestCancelRegistryDuringClose: requests that register while the client
// closes, checking for the close after they register as open does, all
// end with ErrClosed: cancelAll either finds them or they find the close.
func TestCancelRegistryDuringClose(t *testing.T) {
	for round := range 50 {
		base, closeAll := context.WithCancelCause(context.Background())
		var r cancelRegistry
		const n = 32
		ctxs := make([]context.Context, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ctx, cancel := context.WithCancelCause(context.Background())
				r.store(uint64(i), cancel)
				if base.Err() != nil {
					cancel(ErrClosed) // closed while registering
				}
				ctxs[i] = ctx
			})
		}
		closeAll(ErrClosed)
		r.cancelAll(ErrClosed)
		wg.Wait()
		for i, ctx := range ctxs {
			if got := context.Cause(ctx); got != ErrClosed {
				t.Fatalf("round %d, request %d: cause %v, want ErrClosed", round, i, got)
			}
		}
	}
}
