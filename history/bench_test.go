package history_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
)

// BenchmarkRecorder records b.N calls into a history of 100 and reports
// the live heap after them: it stays flat however large b.N is (compare
// -benchtime=10000x with -benchtime=1000000x).
func BenchmarkRecorder(b *testing.B) {
	resp := reply(cotReply)
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return resp, nil })
	h := history.New(100)
	model := history.Wrap(fake, "openai", h)
	req := lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "What is the capital of France?"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := model.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1024, "heap-KiB")
	if h.Len() > 100 {
		b.Fatalf("%d records kept", h.Len())
	}
}
