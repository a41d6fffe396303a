package serve

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var fuzzSig = signature.MustParse("question: str, k: int, tags: list[str], extra: dict[str, float] -> answer")

// FuzzReadInputs checks that any body either gives inputs of exactly the
// signature's fields and types, or a typed error with a documented code
// and status; nothing panics.
func FuzzReadInputs(f *testing.F) {
	for _, seed := range []string{
		`{"question": "q", "k": 3, "tags": ["a"], "extra": {"x": 1.5}}`,
		`{"question": "q", "k": 3.5, "tags": [], "extra": {}}`,
		`{"question": null}`, `[]`, `{}`, `{"question": "q", "k": 1, "tags": [1], "extra": {}}`,
		`{"question": "q", "k": 1, "tags": [], "extra": {}, "z": 0}`, `{"a":1} x`, ``,
	} {
		f.Add(seed)
	}
	s := &Server{cfg: Config{MaxBodyBytes: 1 << 12}}
	codes := map[string]int{"not_json": 400, "missing_input": 400, "wrong_type": 400, "unknown_field": 400,
		"body_too_large": 413, "bad_request": 400}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/programs/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		in, err := s.readInputs(httptest.NewRecorder(), r, fuzzSig.Inputs())
		if err != nil {
			var ie *inputError
			if !errors.As(err, &ie) || codes[ie.code] != ie.status || ie.msg == "" {
				t.Fatalf("error %#v", err)
			}
			if (ie.code == "missing_input" || ie.code == "wrong_type" || ie.code == "unknown_field") && ie.field == "" {
				t.Fatalf("%s names no field", ie.code)
			}
			return
		}
		if len(in) != 4 {
			t.Fatalf("inputs %v", in)
		}
		if _, ok := in["question"].(string); !ok {
			t.Fatalf("question %T", in["question"])
		}
		if _, ok := in["k"].(int64); !ok {
			t.Fatalf("k %T", in["k"])
		}
		for _, tag := range in["tags"].([]any) {
			if _, ok := tag.(string); !ok {
				t.Fatalf("tag %T", tag)
			}
		}
		for _, v := range in["extra"].(map[string]any) {
			if _, ok := v.(float64); !ok {
				t.Fatalf("extra value %T", v)
			}
		}
	})
}

func TestWantsStream(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    false,
		"application/json":                    false,
		"text/event-stream":                   true,
		"application/json, text/event-stream": true,
		"text/event-stream; q=0.9":            true,
		"text/plain":                          false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsStream(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}

// echoProgram answers {"answer": question} at once, or fails with err.
type echoProgram struct{ err error }

func (p echoProgram) Forward(_ context.Context, in programs.Values) (programs.Prediction, error) {
	if p.err != nil {
		return programs.Prediction{}, p.err
	}
	return programs.Prediction{Values: programs.Values{"answer": in["question"]},
		Usage: lm.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}, Model: "echo"}, nil
}

func (p echoProgram) StreamForward(ctx context.Context, in programs.Values) iter.Seq2[programs.StreamEvent[programs.Values], error] {
	return func(yield func(programs.StreamEvent[programs.Values], error) bool) {
		pred, err := p.Forward(ctx, in)
		if err != nil {
			yield(programs.StreamEvent[programs.Values]{}, err)
			return
		}
		yield(programs.StreamEvent[programs.Values]{Prediction: &pred}, nil)
	}
}

// TestClassifyBudget checks which budget a refused call names: the
// server-wide one once it is spent (503, Retry-After), else the
// per-request one (422, none).
func TestClassifyBudget(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	refused := &budget.ExceededError{Limit: "calls", Budget: budget.Budget{MaxCalls: 1}, Spent: budget.Spend{Calls: 1}}
	for _, tc := range []struct {
		name        string
		serverCalls int // calls already spent under the server-wide budget of 1; -1: no server budget
		status      int
		code        string
		retry       bool
	}{
		{"per-request cap, no server budget", -1, 422, "request_budget_exceeded", false},
		{"per-request cap, server budget left", 0, 422, "request_budget_exceeded", false},
		{"server budget spent", 1, 503, "budget_exceeded", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{RequestBudget: budget.Budget{MaxCalls: 1}}
			if tc.serverCalls >= 0 {
				cfg.Budget = budget.Budget{MaxCalls: 1}
			}
			s, err := New(cfg, Program{Name: "qa", Signature: sig, Program: echoProgram{err: refused}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.serverCalls > 0 {
				r, err := budget.Reserve(s.budget)
				if err != nil {
					t.Fatal(err)
				}
				r.Finish(true, lm.Usage{}, pricing.Cost{})
			}
			status, e, retry := s.classify(refused)
			if status != tc.status || e.Code != tc.code || (retry > 0) != tc.retry || !strings.Contains(e.Message, "1 of 1 calls") {
				t.Errorf("%d %+v retry %v", status, e, retry)
			}
		})
	}
}

// BenchmarkHandler measures the server's own work per call, with a
// program that answers at once and no network: reading and checking the
// inputs, routing, encoding the reply.
func BenchmarkHandler(b *testing.B) {
	sig := signature.MustParse("question -> answer")
	s, err := New(Config{}, Program{Name: "qa", Signature: sig, Program: echoProgram{}})
	if err != nil {
		b.Fatal(err)
	}
	const body = `{"question": "What is the capital of France?"}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/programs/qa", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// TestHTTPMetrics serves a JSON call, a streamed call and a bad request
// through a server with a meter provider: the stream still flushes
// through the status-recording writer, and the duration histogram counts
// each request under its route and status.
func TestHTTPMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	sig := signature.MustParse("question -> answer")
	s, err := New(Config{MeterProvider: mp}, Program{Name: "qa", Signature: sig, Program: echoProgram{}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(accept, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/v1/programs/qa", strings.NewReader(body))
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	if w := do("", `{"question": "q"}`); w.Code != 200 {
		t.Fatalf("JSON call: %d %s", w.Code, w.Body)
	}
	w := do("text/event-stream", `{"question": "q"}`)
	if !w.Flushed || !strings.Contains(w.Body.String(), "event: prediction\ndata: {\"outputs\":{\"answer\":\"q\"}") {
		t.Errorf("stream: flushed %v, body %q", w.Flushed, w.Body)
	}
	if w := do("", `{}`); w.Code != 400 {
		t.Fatalf("bad call: %d", w.Code)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{} // "status route" -> requests
	active := int64(-1)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				if m.Name != metricRequestDuration || m.Unit != "s" {
					continue
				}
				for _, dp := range d.DataPoints {
					status, _ := dp.Attributes.Value(attrStatus)
					route, _ := dp.Attributes.Value(attrRoute)
					counts[status.Emit()+" "+route.AsString()] += dp.Count
				}
			case metricdata.Sum[int64]:
				if m.Name == metricActiveRequests {
					active = 0
					for _, dp := range d.DataPoints {
						active += dp.Value
					}
				}
			}
		}
	}
	want := map[string]uint64{"200 /v1/programs/{name}": 2, "400 /v1/programs/{name}": 1}
	if len(counts) != len(want) || counts["200 /v1/programs/{name}"] != 2 || counts["400 /v1/programs/{name}"] != 1 {
		t.Errorf("request counts %v, want %v", counts, want)
	}
	if active != 0 {
		t.Errorf("active requests at rest = %d, want 0", active)
	}
}
