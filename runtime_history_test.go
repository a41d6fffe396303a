package dspex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/telemetry"
)

const sentinelKey = "sk-SENTINEL-do-not-leak-7f3a9c"

// recordingSim serves the embedded simulator on 127.0.0.1 and keeps the
// messages of every chat request it received, their credentials, and the
// usage it replied with.
type recordingSim struct {
	srv   *httptest.Server
	mu    sync.Mutex
	msgs  [][]lm.Message
	auth  []string
	usage []simUsage
}

// simUsage is the usage block of an OpenAI-style chat reply.
type simUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// capture keeps a copy of what a handler writes.
type capture struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *capture) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func startRecordingSim(t *testing.T, model string) *recordingSim {
	t.Helper()
	sim, err := simlm.NewServer(simlm.Config{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	rs := &recordingSim{}
	rs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			sim.Handler().ServeHTTP(w, r)
			return
		}
		var req struct {
			Messages []lm.Message `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		c := &capture{ResponseWriter: w}
		sim.Handler().ServeHTTP(c, r)
		var reply struct {
			Usage simUsage `json:"usage"`
		}
		_ = json.Unmarshal(c.body.Bytes(), &reply)
		rs.mu.Lock()
		rs.msgs = append(rs.msgs, req.Messages)
		rs.auth = append(rs.auth, r.Header.Get("Authorization"))
		rs.usage = append(rs.usage, reply.Usage)
		rs.mu.Unlock()
	}))
	t.Cleanup(func() {
		rs.srv.Close()
		_ = sim.Close()
	})
	return rs
}

type Q struct {
	Question string
}

type A struct {
	Answer string
}

func TestHistoryRecordsWhatTheServerReceived(t *testing.T) {
	ctx := context.Background()
	const model = "gpt-4o-mini"
	rs := startRecordingSim(t, model)
	cfg := config.Default()
	cfg.Providers = []config.Provider{{Name: "openai", BaseURL: rs.srv.URL + "/v1", APIKeyEnv: "HIST_TEST_KEY", DefaultModel: model}}
	cfg.History.Size = 50
	rt, err := dspex.Start(ctx, dspex.WithConfig(cfg), dspex.WithEnv(func(k string) string {
		if k == "HIST_TEST_KEY" {
			return sentinelKey
		}
		return ""
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)

	m := rt.LM("")
	// One program composing a Predict, a ChainOfThought and a ReAct; the
	// history names each call by its predictor's path in it.
	type lookup struct {
		Query string `json:"query" desc:"the question to look up"`
	}
	// The simulated agent tries the tools in order: one fails, the
	// encyclopedia answers, then it finishes and the answer is extracted.
	tools := []programs.Tool{
		programs.MustTool("search_web", "Searches the web.", func(context.Context, lookup) (string, error) {
			return "", errors.New("network unreachable")
		}),
		programs.MustTool("encyclopedia", "Looks a question up.", func(_ context.Context, a lookup) (string, error) {
			it, ok := dataset.Lookup(a.Query)
			if !ok {
				return "", errors.New("no entry")
			}
			return it.Answer, nil
		}),
	}
	react, err := programs.NewReAct[Q, A](tools, programs.WithLM(m))
	if err != nil {
		t.Fatal(err)
	}
	prog := struct {
		QA    *programs.Predict[Q, A]
		CoT   *programs.ChainOfThought[Q, A] `dspy:"cot"`
		React *programs.ReAct[Q, A]
	}{
		QA:    programs.MustPredict[Q, A](programs.WithLM(m), programs.WithName("qa_step")),
		CoT:   programs.MustChainOfThought[Q, A](programs.WithLM(m)),
		React: react,
	}
	named := programs.WithPredictorNames(ctx, prog)
	q := Q{Question: "What is the capital of France?"}
	_, _ = prog.QA.Call(named, q) // a parse failure of the simulated reply is still a call
	_, _ = prog.CoT.Call(named, q)
	_, _ = prog.CoT.Call(named, q) // same request: a cache hit
	reactPred, err := prog.React.Forward(named, programs.Values{"question": "What is the capital of Japan?"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = prog.CoT.Call(ctx, q) // called on its own: named within the ChainOfThought, and a cache hit

	recs := rt.History()
	rs.mu.Lock()
	received := rs.msgs
	auth := rs.auth
	usage := rs.usage
	rs.mu.Unlock()
	if len(recs) != 8 || len(received) != 6 {
		t.Fatalf("%d records, %d requests received", len(recs), len(received))
	}
	names := make([]string, len(recs))
	hits := make([]bool, len(recs))
	for i, r := range recs {
		names[i], hits[i] = r.Predictor, r.CacheHit
	}
	wantNames := []string{"qa", "cot.predict", "cot.predict", "react.react", "react.react", "react.react", "react.extract.predict", "predict"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("predictor names (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, false, true, false, false, false, false, true}, hits); diff != "" {
		t.Errorf("cache hits (-want +got)\n%s", diff)
	}
	// The history holds exactly what the server received, in order, plus
	// the cache hits (records 2 and 7), which it did not.
	sent := append(append([]history.Record(nil), recs[:2]...), recs[3:7]...)
	for i, r := range sent {
		if diff := cmp.Diff(received[i], r.Messages); diff != "" {
			t.Errorf("call %d: messages differ from those received (-received +recorded)\n%s", i, diff)
		}
		got := simUsage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens, TotalTokens: r.Usage.TotalTokens}
		if got != usage[i] || got.TotalTokens == 0 {
			t.Errorf("call %d: usage %+v, the server replied %+v", i, got, usage[i])
		}
		if !r.Cost.Known() || r.Cost.Amount <= 0 {
			t.Errorf("call %d: cost %s", i, r.Cost)
		}
	}
	if u := reactPred.LMUsage["openai/"+model]; u.Calls != 4 {
		t.Errorf("ReAct LMUsage = %+v, want 4 calls", reactPred.LMUsage)
	}
	if auth[0] != "Bearer "+sentinelKey {
		t.Fatalf("the provider did not get the key: %q", auth[0])
	}
	if recs[0].Attempts != 1 || recs[1].Provider != "openai" {
		t.Errorf("attempts = %d, provider %q", recs[0].Attempts, recs[1].Provider)
	}
	hit := recs[2]
	if !hit.CacheHit || hit.Cost.Amount != 0 || hit.Cost.CacheHits != 1 || !strings.Contains(hit.Cost.String(), "cache hit") {
		t.Errorf("repeat = %+v, cost %s", hit, hit.Cost)
	}
	if diff := cmp.Diff(recs[1].Messages, hit.Messages); diff != "" {
		t.Errorf("the repeat sent other messages:\n%s", diff)
	}
	if again := recs[7]; again.Cost.Amount != 0 || again.Cost.CacheHits != 1 || again.Usage != hit.Usage {
		t.Errorf("standalone repeat = %+v", again)
	}

	var out bytes.Buffer
	if err := rt.InspectHistory(&out, -1); err != nil {
		t.Fatal(err)
	}
	if all := fmt.Sprintf("%+v", recs) + out.String(); strings.Contains(all, sentinelKey) || strings.Contains(all, "SENTINEL") {
		t.Fatal("the API key is in the history")
	}
	if !strings.Contains(out.String(), "User message:") || !strings.Contains(out.String(), "cache hit") {
		t.Errorf("inspect output:\n%s", out.String())
	}
}

func TestBudgetSharedByConcurrentCallers(t *testing.T) {
	ctx := context.Background()
	rt, err := dspex.Start(ctx, dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	m := rt.LM("")
	const maxCalls = 25
	bctx := dspex.WithBudget(ctx, dspex.Budget{MaxCalls: maxCalls})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				_, err := m.Chat(bctx, lm.Request{NoCache: true, Messages: []lm.Message{{Role: lm.RoleUser, Content: fmt.Sprintf("q %d %d", g, i)}}})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, dspex.ErrBudgetExceeded):
					refused++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	spent, _ := dspex.Spent(bctx)
	if ok != maxCalls || refused != 80-maxCalls || spent.Calls != maxCalls {
		t.Fatalf("ok %d refused %d spent %+v", ok, refused, spent)
	}
	if n := len(rt.History()); n != maxCalls {
		t.Fatalf("%d calls recorded, want %d", n, maxCalls)
	}
}

func TestEvaluateUnderBudget(t *testing.T) {
	ctx := context.Background()
	rt, err := dspex.Start(ctx, dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	_, dev := dataset.TrainDev(0, 12)
	devset := dataset.Examples(dev)
	prog := programs.MustPredict[Q, A](programs.WithLM(rt.LM("")))
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithRuntime(rt), evaluate.WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	const maxCalls = 5
	res, err := ev.Run(dspex.WithBudget(ctx, dspex.Budget{MaxCalls: maxCalls}), prog, devset)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, row := range res.Rows {
		if errors.Is(row.Err, dspex.ErrBudgetExceeded) {
			refused++
			if row.Status != evaluate.Failed {
				t.Errorf("row %d: status %v", row.Index, row.Status)
			}
		}
	}
	if res.Calls != maxCalls || refused != len(devset)-maxCalls {
		t.Fatalf("calls %d, refused %d of %d: %s", res.Calls, refused, len(devset), res.Summary())
	}
	if !strings.Contains(res.Summary(), "5 LM calls, cost ") {
		t.Errorf("summary %q", res.Summary())
	}
}

func TestCostMetric(t *testing.T) {
	ctx := context.Background()
	const model = "gpt-4o-mini"
	rs := startRecordingSim(t, model)
	cfg := config.Default()
	cfg.Providers = []config.Provider{{Name: "openai", BaseURL: rs.srv.URL + "/v1", APIKeyEnv: "HIST_TEST_KEY", DefaultModel: model}}
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	rt, err := dspex.Start(ctx, dspex.WithConfig(cfg), dspex.WithEnv(func(k string) string {
		if k == "HIST_TEST_KEY" {
			return sentinelKey
		}
		return ""
	}), dspex.WithTelemetry(telemetry.WithMetricReader(reader), telemetry.WithSpanProcessor(spans)))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	if _, err := rt.LM("").Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hello"}}}); err != nil {
		t.Fatal(err)
	}
	want := rt.History()[0].Cost.Amount
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if strings.Contains(fmt.Sprintf("%+v", m), "SENTINEL") {
				t.Fatalf("the key is in metric %s", m.Name)
			}
			if m.Name != telemetry.MetricCost {
				continue
			}
			sum := m.Data.(metricdata.Sum[float64])
			for _, dp := range sum.DataPoints {
				p, _ := dp.Attributes.Value(telemetry.AttrGenAIProviderName)
				cur, _ := dp.Attributes.Value(telemetry.AttrCurrency)
				if p.AsString() == "openai" && cur.AsString() == "USD" && dp.Value == want && want > 0 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no %s data point of %v USD: %+v", telemetry.MetricCost, want, rm)
	}
	spanCost := false
	for _, sp := range spans.Ended() {
		for _, kv := range sp.Attributes() {
			if strings.Contains(kv.Value.Emit(), "SENTINEL") {
				t.Fatalf("the key is in span %s", sp.Name())
			}
			if kv.Key == telemetry.AttrCost && kv.Value.AsFloat64() == want {
				spanCost = true
			}
		}
	}
	if !spanCost {
		t.Fatalf("no LM span with %s = %v", telemetry.AttrCost, want)
	}
}
