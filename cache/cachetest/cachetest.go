// Package cachetest is the conformance suite of cache.Store: every store
// — the shipped ones, and a Redis or memcached store of your own — must
// pass Run.
package cachetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cache"
)

// Run runs the conformance suite against fresh stores from newStore, each
// an empty store that reads the time from now (so that the suite can
// check expiry without waiting). Run closes them.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) cache.Store) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s cache.Store, clk *clock)
	}{
		{"absent key misses", func(t *testing.T, s cache.Store, _ *clock) {
			if _, ok, err := s.Get(ctx, "nope"); ok || err != nil {
				t.Fatalf("Get(absent) = ok %v, err %v; want a plain miss", ok, err)
			}
		}},
		{"set then get", func(t *testing.T, s cache.Store, clk *clock) {
			want := cache.Entry{Value: []byte(`{"a":1}`), Expires: clk.now().Add(time.Minute)}
			mustSet(t, s, "k", want)
			got := mustGet(t, s, "k")
			if !bytes.Equal(got.Value, want.Value) || !got.Expires.Equal(want.Expires) {
				t.Fatalf("Get = %+v, want %+v", got, want)
			}
		}},
		{"set replaces", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("one"), Expires: clk.now().Add(time.Minute)})
			mustSet(t, s, "k", cache.Entry{Value: []byte("two"), Expires: clk.now().Add(time.Minute)})
			if got := mustGet(t, s, "k"); string(got.Value) != "two" {
				t.Fatalf("Get = %q, want two", got.Value)
			}
		}},
		{"expired entry misses", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)})
			clk.advance(time.Minute)
			if _, ok, _ := s.Get(ctx, "k"); ok {
				t.Fatal("Get returned an expired entry")
			}
		}},
		{"zero expiry never expires", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("v")})
			clk.advance(30 * time.Minute)
			mustGet(t, s, "k")
		}},
		{"empty value", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte{}, Expires: clk.now().Add(time.Minute)})
			if got := mustGet(t, s, "k"); len(got.Value) != 0 {
				t.Fatalf("Get = %q, want empty", got.Value)
			}
		}},
		{"delete", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)})
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "absent"); err != nil {
				t.Fatalf("Delete(absent) = %v, want nil", err)
			}
			if _, ok, _ := s.Get(ctx, "k"); ok {
				t.Fatal("Get after Delete hit")
			}
		}},
		{"clear", func(t *testing.T, s cache.Store, clk *clock) {
			for i := range 10 {
				mustSet(t, s, fmt.Sprint(i), cache.Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)})
			}
			if err := s.Clear(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if _, ok, _ := s.Get(ctx, fmt.Sprint(i)); ok {
					t.Fatalf("Get(%d) after Clear hit", i)
				}
			}
			if st := s.Stats(); st.Entries != 0 {
				t.Fatalf("Stats().Entries after Clear = %d, want 0", st.Entries)
			}
		}},
		{"stats count hits and misses", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)})
			mustGet(t, s, "k")
			mustGet(t, s, "k")
			_, _, _ = s.Get(ctx, "absent")
			st := s.Stats()
			if st.Hits != 2 || st.Misses != 1 || st.Entries != 1 || st.Bytes <= 0 {
				t.Fatalf("Stats = %+v, want 2 hits, 1 miss, 1 entry, some bytes", st)
			}
		}},
		{"concurrent use", func(t *testing.T, s cache.Store, clk *clock) {
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 50 {
						k := fmt.Sprintf("%d-%d", g, i)
						if err := s.Set(ctx, k, cache.Entry{Value: []byte(k), Expires: clk.now().Add(time.Minute)}); err != nil {
							t.Error(err)
							return
						}
						if e, ok, err := s.Get(ctx, k); !ok || err != nil || string(e.Value) != k {
							t.Errorf("Get(%s) = %q, %v, %v", k, e.Value, ok, err)
							return
						}
					}
				})
			}
			wg.Wait()
		}},
		{"closed", func(t *testing.T, s cache.Store, clk *clock) {
			mustSet(t, s, "k", cache.Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close = %v, want nil", err)
			}
			if _, ok, _ := s.Get(ctx, "k"); ok {
				t.Fatal("Get after Close hit")
			}
			if err := s.Set(ctx, "k", cache.Entry{}); !errors.Is(err, cache.ErrClosed) {
				t.Fatalf("Set after Close = %v, want ErrClosed", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := newStore(t, clk.now)
			defer s.Close()
			tt.run(t, s, clk)
		})
	}
}

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func mustSet(t *testing.T, s cache.Store, key string, e cache.Entry) {
	t.Helper()
	if err := s.Set(context.Background(), key, e); err != nil {
		t.Fatalf("Set(%q) = %v", key, err)
	}
}

func mustGet(t *testing.T, s cache.Store, key string) cache.Entry {
	t.Helper()
	e, ok, err := s.Get(context.Background(), key)
	if !ok || err != nil {
		t.Fatalf("Get(%q) = ok %v, err %v; want a hit", key, ok, err)
	}
	return e
}
