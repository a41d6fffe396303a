package test

import (
	"fmt"
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// TestTelemetryStreamedCalls streams predictions (fresh ones, then cached
// repeats) and checks that the metrics count them like blocking calls:
// requests, attempts, tokens served, cache hits, nothing left in flight.
func TestTelemetryStreamedCalls(t *testing.T) {
	srv := rtSim(t)
	rt, _, reader := telRuntime(t, telConfig(srv))
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("sim")))
	ctx := rtCtx(t)
	const fresh, repeats = 4, 2
	call := func(i int) {
		for _, err := range qa.Stream(ctx, telQ{Question: fmt.Sprintf("What is %d + %d?", i, i)}) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range fresh {
		call(i)
	}
	for i := range repeats {
		call(i)
	}
	rm := telCollect(t, reader)
	st := srv.Stats()
	sim := telemetry.AttrProvider.String("sim")
	model := telemetry.AttrGenAIRequestModel.String(srv.Model())
	_, outSum := telHist[int64](t, rm, telemetry.MetricTokenUsage, sim, model,
		telemetry.AttrGenAITokenType.String(telemetry.TokenTypeOutput))
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"requests = calls", telSum(t, rm, telemetry.MetricRequests, sim), fresh + repeats},
		{"attempts = server requests", telSum(t, rm, telemetry.MetricAttempts, sim), st.Requests},
		{"server requests = fresh calls", st.Requests, fresh},
		{"output tokens = server completion tokens", outSum, st.CompletionTokens},
		{"cache hits", telSum(t, rm, telemetry.MetricCacheHits, sim), repeats},
		{"in flight at rest", telSum(t, rm, telemetry.MetricInFlight), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}
