package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/serve"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

// BenchmarkServe compares, in the same run, a Predict called directly
// with the same Predict called through the HTTP server of cmd/serve
// (package serve on a loopback listener, JSON in and out), at 256
// concurrent callers against the simulator with 50 ms latency. Every
// question is distinct, so no cache answers. The figure to read is the
// ratio of the two req/s.
func BenchmarkServe(b *testing.B) {
	srv := rtSim(b, simlm.WithLatency(50*time.Millisecond))
	cfg := rtConfig(srv)
	cfg.Concurrency = 0
	rt := rtStart(b, dspex.WithConfig(cfg))
	sig := signature.MustParse("question -> answer")
	pred, err := programs.NewPredictFrom(sig, programs.WithLM(rt.LM("sim")))
	if err != nil {
		b.Fatal(err)
	}
	h, err := serve.New(serve.Config{}, serve.Program{Name: "qa", Signature: sig, Program: pred})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	url := "http://" + ln.Addr().String() + "/v1/programs/qa"
	client := rtHTTPClient(b)

	var seq atomic.Int64
	question := func() string { return fmt.Sprintf("What is the capital of France? (%d)", seq.Add(1)) }
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"direct", func(ctx context.Context) error {
			_, err := pred.Forward(ctx, programs.Values{"question": question()})
			return err
		}},
		{"serve", func(ctx context.Context) error {
			body, _ := json.Marshal(map[string]string{"question": question()})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var r serve.Reply
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 || r.Outputs["answer"] == nil {
				return fmt.Errorf("status %d, reply %+v, %v", resp.StatusCode, r, err)
			}
			return nil
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(128) // 256 callers on 2 cores
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.call(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
