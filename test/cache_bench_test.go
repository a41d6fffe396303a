package test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/programs"
)

// benchQuestion and benchAnswer are the typed signature of the cache-hit
// benchmark through a Predict: "question -> answer".
type benchQuestion struct {
	Question string `dspy:"question"`
}

type benchAnswer struct {
	Answer string `dspy:"answer"`
}

// BenchmarkCacheHit measures cache hits through the runtime (Runtime.LM,
// client actor, store) for each tier alone: "memory" (bigcache, looked up
// in the client's mailbox) and "disk" (SQLite, looked up on the request's
// goroutine). "latency" runs one caller and reports the p50 and p99 of a
// hit; "predict" does the same through a typed Predict; "c64" runs 64 callers and reports hits per second. Every request
// is the same, answered once by the simulator before the timer starts.
//
//	go test ./test -run '^$' -bench BenchmarkCacheHit -benchtime 2s
func BenchmarkCacheHit(b *testing.B) {
	srv := rtSim(b)
	for _, tier := range []string{"memory", "disk"} {
		b.Run(tier, func(b *testing.B) {
			var store cache.Store
			var err error
			if tier == "memory" {
				store, err = cache.NewMemory(cache.MemoryConfig{TTL: time.Hour})
			} else {
				store, err = cache.OpenDisk(context.Background(), cache.DiskConfig{Dir: b.TempDir()})
			}
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			cfg := rtConfig(srv)
			cfg.Cache.Enabled = true
			rt, err := dspex.Start(context.Background(), dspex.WithConfig(cfg), dspex.WithCache(store))
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = rt.Close(ctx)
			}()
			m := rt.LM("sim")
			ctx := context.Background()
			req := rtAsk("What is the capital of France? (%d)", 1)
			if _, err := m.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
			hit := func() {
				resp, err := m.Chat(ctx, req)
				if err != nil || !resp.Cached {
					b.Fatalf("not a cache hit: cached %v, err %v", resp.Cached, err)
				}
			}
			b.Run("latency", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					hit()
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			})
			// A hit through a typed Predict: formatting, the cache
			// lookup on the caller's goroutine, parsing.
			b.Run("predict", func(b *testing.B) {
				p, err := programs.NewPredict[benchQuestion, benchAnswer](programs.WithLM(m))
				if err != nil {
					b.Fatal(err)
				}
				in := benchQuestion{Question: "What is the capital of France? (typed)"}
				if _, err := p.Call(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					if _, pred, err := p.Completions(ctx, in); err != nil || !pred.Cached {
						b.Fatalf("not a cache hit: cached %v, err %v", pred.Cached, err)
					}
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			})
			b.Run("c64", func(b *testing.B) {
				b.SetParallelism(max(64/runtime.GOMAXPROCS(0), 1))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						resp, err := m.Chat(ctx, req)
						if err != nil || !resp.Cached {
							b.Errorf("not a cache hit: cached %v, err %v", resp.Cached, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
			})
		})
	}
}
