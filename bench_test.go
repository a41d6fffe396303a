package dspex_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/benchkit"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// benchQuestion and benchAnswer are the typed signature of the root
// package's benchmarks: "question -> answer".
type benchQuestion struct {
	Question string `dspy:"question"`
}

type benchAnswer struct {
	Answer string `dspy:"answer"`
}

// benchRuntime starts a runtime with the in-memory response cache,
// telemetry "off" (no exporter: no-op providers) or "noop" (the
// OpenTelemetry SDK records every span and metric and hands them to
// exporters that discard them), and opts: the embedded simulator unless
// opts register a provider.
func benchRuntime(b *testing.B, mode string, opts ...dspex.Option) *dspex.Runtime {
	b.Helper()
	cfg := config.Default()
	cfg.Cache.Enabled = true
	if len(opts) == 0 {
		opts = []dspex.Option{dspex.WithSimulator()}
	}
	opts = append([]dspex.Option{dspex.WithConfig(cfg)}, opts...)
	if mode == "noop" {
		opts = append(opts, dspex.WithTelemetry(
			telemetry.WithSpanExporter(benchkit.DiscardSpans{}),
			telemetry.WithMetricReader(sdkmetric.NewPeriodicReader(benchkit.DiscardMetrics{}, sdkmetric.WithInterval(time.Second)))))
	}
	rt, err := dspex.Start(context.Background(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	return rt
}

// BenchmarkPredictCacheHit measures a cache hit through a typed Predict
// on the runtime's LM: formatting the prompt with the Chat adapter, the
// cache key, the lookup of the front tier on the caller's goroutine, and
// parsing the reply into the typed output. It reports the p50 and p99 of
// one hit, with telemetry off and with the SDK recording into exporters
// that discard (noop). Issue 21 asks for p50 < 10 µs and p99 < 50 µs.
//
//	go test -run '^$' -bench BenchmarkPredictCacheHit -benchmem -benchtime 20000x .
func BenchmarkPredictCacheHit(b *testing.B) {
	for _, mode := range []string{"off", "noop"} {
		b.Run(mode, func(b *testing.B) {
			rt := benchRuntime(b, mode)
			p, err := programs.NewPredict[benchQuestion, benchAnswer](programs.WithLM(rt.LM(dspex.SimulatorProvider)))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			in := benchQuestion{Question: "What is the capital of France?"}
			if _, err := p.Call(ctx, in); err != nil { // fills the cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				_, pred, err := p.Completions(ctx, in)
				lat = append(lat, time.Since(start))
				if err != nil || !pred.Cached {
					b.Fatalf("not a cache hit: cached %v, err %v", pred.Cached, err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// BenchmarkPredictTelemetryCost measures what telemetry adds to a typed
// Predict on the runtime when the cache does not answer: every call is
// distinct (its own rollout id), served by an in-process provider that
// answers at once, so that the runtime's own CPU and allocations are all
// that is measured — client actor, breaker, retries, and with "noop" the
// spans and metrics the SDK records. 64 callers run at once. Compare the
// process CPU time per call (cpu-µs/op, getrusage: the signal that holds
// on a busy machine) and allocs/op of "off" and "noop" (issue 21:
// telemetry on with a no-op exporter costs at most 5% of throughput):
//
//	go test -run '^$' -bench BenchmarkPredictTelemetryCost -benchmem -count 5 .
func BenchmarkPredictTelemetryCost(b *testing.B) {
	reply := lm.Response{Model: "echo-1", Usage: lm.Usage{PromptTokens: 120, CompletionTokens: 12},
		Choices: []lm.Choice{{FinishReason: "stop", Message: lm.Message{Role: lm.RoleAssistant,
			Content: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}}}}
	echo := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply, nil })
	for _, mode := range []string{"off", "noop"} {
		b.Run(mode, func(b *testing.B) {
			rt := benchRuntime(b, mode, dspex.WithProvider("echo", echo))
			p, err := programs.NewPredict[benchQuestion, benchAnswer](programs.WithLM(rt.LM("echo/echo-1")))
			if err != nil {
				b.Fatal(err)
			}
			in := benchQuestion{Question: "What is the capital of France?"}
			benchCallers(b, func(ctx context.Context, i int64) error {
				_, pred, err := p.Completions(ctx, in, programs.WithRollout(int(i)))
				if err == nil && pred.Cached {
					err = errors.New("a cache hit")
				}
				return err
			})
		})
	}
}

// BenchmarkPredictOverhead measures the runtime's own work per call
// against the least a caller of a bare client does, both served by an
// in-process provider that answers at once, with no HTTP: "raw" formats
// the Chat adapter's prompt, calls the provider and parses the reply;
// "runtime" is a typed Predict's Call on the runtime's LM, with its
// prepared formatter, cache key, front-tier lookup, client actor's
// exchange (breaker, gate, request contexts), cache write and history
// record. Every call is distinct (question and rollout id), 64 callers run
// at once, and cpu-µs/op is the process CPU time per call (getrusage). The
// difference is what the runtime adds to every call before the network:
// cmd/bench measures the same paths over HTTP. Every call writes a new
// entry to a memory tier that starts empty and grows as it fills, as in
// cmd/bench, so the figures depend somewhat on the number of calls.
//
//	go test -run '^$' -bench BenchmarkPredictOverhead -benchmem -count 5 .
func BenchmarkPredictOverhead(b *testing.B) {
	reply := lm.Response{Model: "echo-1", Usage: lm.Usage{PromptTokens: 120, CompletionTokens: 12},
		Choices: []lm.Choice{{FinishReason: "stop", Message: lm.Message{Role: lm.RoleAssistant,
			Content: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}}}}
	echo := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply, nil })
	question := func(i int64) string { return "What is the capital of France? (" + strconv.FormatInt(i, 10) + ")" }
	b.Run("raw", func(b *testing.B) {
		sig, err := signature.Of[benchQuestion, benchAnswer]()
		if err != nil {
			b.Fatal(err)
		}
		chat := adapter.NewChat()
		benchCallers(b, func(ctx context.Context, i int64) error {
			req, err := chat.Format(sig, nil, adapter.Values{"question": question(i)})
			if err != nil {
				return err
			}
			resp, err := echo.Chat(ctx, req)
			if err != nil {
				return err
			}
			_, err = chat.Parse(sig, resp.Choices[0].Message.Content)
			return err
		})
	})
	b.Run("runtime", func(b *testing.B) {
		rt := benchRuntime(b, "off", dspex.WithProvider("echo", echo))
		p, err := programs.NewPredict[benchQuestion, benchAnswer](programs.WithLM(rt.LM("echo/echo-1")))
		if err != nil {
			b.Fatal(err)
		}
		benchCallers(b, func(ctx context.Context, i int64) error {
			_, err := p.Call(ctx, benchQuestion{Question: question(i)}, programs.WithRollout(int(i)))
			return err
		})
	})
}

// benchCallers runs b.N calls of call on 64 callers at once, each call
// with its own number from 1, and reports the process CPU time per call
// (cpu-µs/op, getrusage: the signal that holds on a busy machine) with
// the allocations. What b did before it is not measured.
func benchCallers(b *testing.B, call func(ctx context.Context, i int64) error) {
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(64/runtime.GOMAXPROCS(0), 1))
	b.ResetTimer() // a runtime's start is not a call's
	cpu := benchkit.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := call(ctx, seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if cpu := benchkit.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
	}
}
