package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// TestTelemetryNeverRecordsAPIKey runs successes, cache hits, retried and
// failed requests and a breaker rejection with prompt recording on, and
// checks that no span name, attribute, event, status or metric label holds
// the API key or a secret provider header — while the prompts, which the
// user opted into, are there. It runs with and without step spans: without,
// the failed attempts are events that hold their errors' messages.
func TestTelemetryNeverRecordsAPIKey(t *testing.T) {
	for _, steps := range []bool{false, true} {
		t.Run(fmt.Sprintf("step spans %v", steps), func(t *testing.T) { testNeverRecordsAPIKey(t, steps) })
	}
}

func testNeverRecordsAPIKey(t *testing.T, steps bool) {
	const key = "sk-telemetry-SECRET-7f3a9c"
	const header = "hdr-SECRET-0b1e"
	srv := rtSim(t)
	cfg := telConfig(srv)
	cfg.Telemetry.StepSpans = steps
	cfg.Providers[0].APIKey = config.Secret(key)
	cfg.Providers[0].Headers = map[string]config.Secret{"X-Extra-Auth": config.Secret(header)}
	cfg.Telemetry.RecordContent = true
	cfg.Retry.MaxAttempts = 2
	// The breaker counts requests after their retries: two failed
	// requests in a row open it.
	cfg.Breaker = config.Breaker{Enabled: true, ConsecutiveFailures: 2, Timeout: config.Duration(time.Hour), MaxRequests: 1}
	rt, rec, reader := telRuntime(t, cfg)
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("sim")))
	ctx := rtCtx(t)
	ask := func(q string) error {
		_, err := qa.Call(ctx, telQ{Question: q})
		return err
	}
	if err := ask("What is the capital of Peru?"); err != nil {
		t.Fatal(err)
	}
	if err := ask("What is the capital of Peru?"); err != nil { // cached
		t.Fatal(err)
	}
	srv.FailNext(1, 503)
	if err := ask("What is the capital of Chile?"); err != nil { // retried
		t.Fatal(err)
	}
	srv.FailNext(1, 401)
	if err := ask("What is the capital of Bolivia?"); err == nil {
		t.Fatal("HTTP 401 succeeded")
	}
	srv.FailNext(4, 500)
	_ = ask("What is the capital of Ecuador?") // two 500s: a failed request
	_ = ask("What is the capital of Uruguay?") // two 500s: the breaker opens
	if err := ask("What is the capital of Paraguay?"); err == nil {
		t.Fatal("the open breaker let a request through")
	}

	var texts []string
	kv := func(kvs []attribute.KeyValue) {
		for _, a := range kvs {
			texts = append(texts, string(a.Key)+"="+a.Value.Emit())
		}
	}
	spans := rec.Ended()
	for _, s := range spans {
		texts = append(texts, s.Name(), s.Status().Description)
		kv(s.Attributes())
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			kv(ev.Attributes)
		}
		kv(s.Resource().Attributes())
	}
	rm := telCollect(t, reader)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, m.Name)
			for _, set := range telMetricSets(m.Data) {
				kv(set.ToSlice())
			}
		}
	}
	prompts := 0
	for _, s := range texts {
		if strings.Contains(s, key) || strings.Contains(s, header) || strings.Contains(s, "SECRET") {
			t.Errorf("telemetry holds a secret: %.200s", s)
		}
		if strings.HasPrefix(s, string(telemetry.AttrGenAIInputMessages)+"=") && strings.Contains(s, "capital of Peru") {
			prompts++
		}
	}
	if prompts == 0 {
		t.Errorf("RecordContent is on but no span holds the prompt (%d spans)", len(spans))
	}
	// 7 predictions: with step spans each has its format, parse and
	// attempt spans; without, its failed attempts are events.
	events := 0
	for _, s := range spans {
		events += len(s.Events())
	}
	if steps && len(spans) < 20 || !steps && (len(spans) < 13 || events < 5) {
		t.Errorf("only %d spans and %d events: the scenario did not run as planned", len(spans), events)
	}
}

// telMetricSets returns the attribute sets of every data point of data.
func telMetricSets(data metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	}
	return out
}
