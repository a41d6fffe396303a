package test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/simlm"
)

// BenchmarkClusterThroughput measures evaluation throughput over 1, 2 and
// 3 node processes when the model server is the bottleneck: every request
// takes 20 ms and each node's client actor has at most 8 requests in
// flight, so one node serves at most 400 examples/s.
//
//	go test -run '^$' -bench ClusterThroughput -benchtime 4x ./test/
func BenchmarkClusterThroughput(b *testing.B) {
	bin := clBuild(b)
	const perIter = 400
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			sim := evSim(b, simlm.WithLatency(20*time.Millisecond))
			c, _ := clCluster(b, bin, sim, n, "-capacity", "8", "-client-concurrency", "8")
			prog := clQA(b)
			devset := clDevset(perIter)
			ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
				evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(16*n))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				res, err := ev.Run(context.Background(), prog, devset)
				if err != nil || res.Scored != perIter {
					b.Fatalf("%s: %v", res.Summary(), err)
				}
			}
			b.ReportMetric(float64(b.N*perIter)/time.Since(start).Seconds(), "examples/s")
		})
	}
}
