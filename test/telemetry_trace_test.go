package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/actors"
	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/telemetry"
)

// telStepSpans is telConfig with step spans: the adapter's format and
// parse, and each attempt, get spans of their own.
func telStepSpans(srv *simlm.Server) config.Config {
	cfg := telConfig(srv)
	cfg.Telemetry.StepSpans = true
	return cfg
}

// TestTelemetryPredictSpanTree runs one typed Predict through the runtime
// and checks the span tree it leaves: the program's span and the client
// actor's GenAI "chat" span, in one trace across the actor message; with
// step spans, also the adapter's format and parse spans and one attempt.
func TestTelemetryPredictSpanTree(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*simlm.Server) config.Config
		want string // %s: the model
	}{
		{"default", telConfig, "Predict qa(chat %s)"},
		{"step spans", telStepSpans, "Predict qa(format chat, chat %s(attempt 1), parse chat)"},
	} {
		t.Run(tc.name, func(t *testing.T) { testPredictSpanTree(t, tc.cfg, tc.want) })
	}
}

func testPredictSpanTree(t *testing.T, cfgOf func(*simlm.Server) config.Config, shape string) {
	srv := rtSim(t)
	rt, rec, _ := telRuntime(t, cfgOf(srv))
	qa, err := programs.NewPredict[telQ, telA](programs.WithLM(rt.LM("sim")), programs.WithName("qa"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := rtCtx(t)
	if _, err := qa.Call(ctx, telQ{Question: "What is the capital of France?"}, programs.WithTemperature(0.5)); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	trees := telTrees(spans)
	if len(trees) != 1 {
		t.Fatalf("%d root spans, want 1: %v", len(trees), spanNames(spans))
	}
	root := trees[0]
	model := srv.Model()
	if got, want := root.shape(), fmt.Sprintf(shape, model); got != want {
		t.Fatalf("span tree = %s\nwant        %s", got, want)
	}
	for _, n := range append([]*telNode{root}, root.children...) {
		if evs := n.span.Events(); len(evs) != 0 {
			t.Errorf("span %s has events %v", n.span.Name(), evs)
		}
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() != root.span.SpanContext().TraceID() {
			t.Errorf("span %s is in another trace", s.Name())
		}
	}
	if v, _ := telAttr(root.span, telemetry.AttrProgramType); v.AsString() != "Predict" {
		t.Errorf("program type = %q", v.AsString())
	}
	if v, _ := telAttr(root.span, telemetry.AttrSignature); v.AsString() != "question: str -> answer: str" {
		t.Errorf("signature = %q", v.AsString())
	}

	chat := root.child(t, "chat ").span
	st := srv.Stats()
	for _, c := range []struct {
		key  attribute.Key
		want any
	}{
		{telemetry.AttrGenAIOperationName, "chat"},
		{telemetry.AttrGenAISystem, "openai"},
		{telemetry.AttrGenAIProviderName, "openai"},
		{telemetry.AttrProvider, "sim"},
		{telemetry.AttrGenAIRequestModel, model},
		{telemetry.AttrGenAIRequestTemperature, 0.5},
		{telemetry.AttrGenAIResponseModel, model},
		{telemetry.AttrGenAIResponseFinishReasons, []string{"stop"}},
		{telemetry.AttrGenAIUsageInputTokens, st.PromptTokens},
		{telemetry.AttrGenAIUsageOutputTokens, st.CompletionTokens},
		{telemetry.AttrCacheHit, false},
		{telemetry.AttrServerAddress, "127.0.0.1"},
	} {
		v, ok := telAttr(chat, c.key)
		if !ok {
			t.Errorf("chat span has no %s: %v", c.key, chat.Attributes())
			continue
		}
		if diff := cmp.Diff(c.want, v.AsInterface()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.key, diff)
		}
	}
	if _, ok := telAttr(chat, telemetry.AttrGenAIInputMessages); ok {
		t.Error("prompt recorded without RecordContent")
	}
	if chat.SpanKind().String() != "client" {
		t.Errorf("chat span kind = %v", chat.SpanKind())
	}
}

// TestTelemetryCachedRepeat repeats a call, with step spans: the second
// chat span reports the cache hit (attribute and event) and has no
// attempt.
func TestTelemetryCachedRepeat(t *testing.T) {
	srv := rtSim(t)
	rt, rec, _ := telRuntime(t, telStepSpans(srv))
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("sim")))
	ctx := rtCtx(t)
	for range 2 {
		if _, err := qa.Call(ctx, telQ{Question: "What is the capital of Italy?"}); err != nil {
			t.Fatal(err)
		}
	}
	trees := telTrees(rec.Ended())
	if len(trees) != 2 {
		t.Fatalf("%d traces, want 2", len(trees))
	}
	first, second := trees[0].child(t, "chat "), trees[1].child(t, "chat ")
	if v, _ := telAttr(first.span, telemetry.AttrCacheHit); v.AsBool() || len(first.children) != 1 {
		t.Errorf("first call: cache hit %v, %d attempts", v.AsBool(), len(first.children))
	}
	if v, _ := telAttr(second.span, telemetry.AttrCacheHit); !v.AsBool() {
		t.Errorf("second call: cache hit = %v", v.AsBool())
	}
	if !telHasEvent(second.span, telemetry.EventCacheHit) {
		t.Errorf("second call has no %s event", telemetry.EventCacheHit)
	}
	if len(second.children) != 0 {
		t.Errorf("cached call has attempts: %s", second.shape())
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestTelemetryRetryAttempts makes the first attempt fail with HTTP 500,
// with step spans: the chat span has two attempt spans, the first failed
// with the status.
func TestTelemetryRetryAttempts(t *testing.T) {
	srv := rtSim(t)
	rt, rec, _ := telRuntime(t, telStepSpans(srv))
	chat := telRetried(t, srv, rt, rec).child(t, "chat ")
	if got, want := chat.shape(), "chat "+srv.Model()+"(attempt 1, attempt 2)"; got != want {
		t.Fatalf("chat span = %s, want %s", got, want)
	}
	a1, a2 := chat.children[0].span, chat.children[1].span
	if a1.Status().Code != codes.Error {
		t.Errorf("attempt 1 status = %v", a1.Status())
	}
	if v, _ := telAttr(a1, telemetry.AttrHTTPStatus); v.AsInt64() != 500 {
		t.Errorf("attempt 1 status code = %v", v.Emit())
	}
	if v, _ := telAttr(a1, telemetry.AttrErrorType); v.AsString() != "500" {
		t.Errorf("attempt 1 error.type = %q", v.AsString())
	}
	if v, _ := telAttr(a2, telemetry.AttrRetryAttempt); v.AsInt64() != 2 {
		t.Errorf("attempt 2 number = %v", v.Emit())
	}
	if a2.Status().Code == codes.Error || chat.span.Status().Code == codes.Error {
		t.Errorf("the retried call is marked failed: %v / %v", a2.Status(), chat.span.Status())
	}
}

// telRetried runs a Predict named qa on rt whose first attempt fails
// with HTTP 500, and returns its trace.
func telRetried(t *testing.T, srv *simlm.Server, rt *dspex.Runtime, rec *tracetest.SpanRecorder) *telNode {
	t.Helper()
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("sim")), programs.WithName("qa"))
	srv.FailNext(1, 500)
	if _, err := qa.Call(rtCtx(t), telQ{Question: "What is the capital of Spain?"}); err != nil {
		t.Fatal(err)
	}
	trees := telTrees(rec.Ended())
	if len(trees) != 1 {
		t.Fatalf("%d traces", len(trees))
	}
	return trees[0]
}

// TestTelemetryRetryWithoutStepSpans makes the first attempt fail with
// HTTP 500, and a reply fail to parse, without step spans: the chat span
// is alone under the program's, with the failed attempt as its
// "exception" event and the number of attempts; the parse failure is an
// "exception" event of the program's span, which fails.
func TestTelemetryRetryWithoutStepSpans(t *testing.T) {
	srv := rtSim(t)
	junk := lm.Func(func(context.Context, lm.Request) (lm.Response, error) {
		return lm.Response{Model: "junk-1", Choices: []lm.Choice{{FinishReason: "stop",
			Message: lm.Message{Role: lm.RoleAssistant, Content: "no fields here"}}}}, nil
	})
	rt, rec, _ := telRuntime(t, telConfig(srv), dspex.WithProvider("junk", junk))
	root := telRetried(t, srv, rt, rec)
	if got, want := root.shape(), "Predict qa(chat "+srv.Model()+")"; got != want {
		t.Fatalf("span tree = %s, want %s", got, want)
	}
	chat := root.children[0].span
	if v, _ := telAttr(chat, telemetry.AttrRetryAttempts); v.AsInt64() != 2 {
		t.Errorf("dspex.retry.attempts = %v, want 2", v.Emit())
	}
	if chat.Status().Code == codes.Error {
		t.Errorf("the retried call is marked failed: %v", chat.Status())
	}
	want := []map[attribute.Key]string{{"dspex.step": "attempt", "dspex.retry.attempt": "1", "error.type": "500", "http.response.status_code": "500"}}
	if diff := cmp.Diff(want, telExceptions(chat)); diff != "" {
		t.Errorf("attempt 1's event (-want +got):\n%s", diff)
	}

	// A reply that does not parse: the program's span says which step.
	bad := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("junk")), programs.WithName("bad"))
	rec.Reset()
	_, err := bad.Call(rtCtx(t), telQ{Question: "What is 2 + 2?"})
	var pe *adapter.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a parse error", err)
	}
	trees := telTrees(rec.Ended())
	if len(trees) != 1 || trees[0].span.Status().Code != codes.Error {
		t.Fatalf("traces %d, want 1 failed", len(trees))
	}
	// The chat adapter's parse fails, then the JSON adapter's it falls
	// back to.
	want = []map[attribute.Key]string{
		{"dspex.step": "parse", "dspex.adapter": "chat", "error.type": telemetry.ErrorType(pe)},
		{"dspex.step": "parse", "dspex.adapter": "json", "error.type": telemetry.ErrorType(pe)},
	}
	if diff := cmp.Diff(want, telExceptions(trees[0].span)); diff != "" {
		t.Errorf("parse failures' events (-want +got):\n%s", diff)
	}
}

// telExceptions returns the attributes of the "exception" events of s,
// without their messages and types.
func telExceptions(s sdktrace.ReadOnlySpan) []map[attribute.Key]string {
	var found []map[attribute.Key]string
	for _, ev := range s.Events() {
		if ev.Name != "exception" {
			continue
		}
		m := make(map[attribute.Key]string)
		for _, kv := range ev.Attributes {
			if kv.Key != "exception.message" && kv.Key != "exception.type" {
				m[kv.Key] = kv.Value.Emit()
			}
		}
		found = append(found, m)
	}
	return found
}

// TestTelemetryProviderPanicFailsAttempt checks that the attempt in which
// a provider panicked is recorded as failed, on its span (with step
// spans) and in the attempts metric, like the call it fails.
func TestTelemetryProviderPanicFailsAttempt(t *testing.T) {
	srv := rtSim(t)
	cfg := telStepSpans(srv)
	cfg.Retry.MaxAttempts = 1
	rt, rec, reader := telRuntime(t, cfg, dspex.WithProvider("flaky", rtPanicky(t, srv)))
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("flaky")))
	if _, err := qa.Call(rtCtx(t), telQ{Question: "PANIC please"}); !errors.Is(err, actors.ErrProviderPanic) {
		t.Fatalf("err = %v, want ErrProviderPanic", err)
	}
	trees := telTrees(rec.Ended())
	if len(trees) != 1 {
		t.Fatalf("%d traces", len(trees))
	}
	chat := trees[0].child(t, "chat")
	if len(chat.children) != 1 {
		t.Fatalf("chat span = %s, want one attempt", chat.shape())
	}
	if a := chat.children[0].span; a.Status().Code != codes.Error {
		t.Errorf("attempt status = %v, want an error", a.Status())
	}
	if chat.span.Status().Code != codes.Error {
		t.Errorf("chat status = %v, want an error", chat.span.Status())
	}
	rm := telCollect(t, reader)
	if n := telSum(t, rm, telemetry.MetricAttempts, telemetry.AttrOutcome.String(telemetry.OutcomeError)); n != 1 {
		t.Errorf("failed attempts = %d, want 1", n)
	}
	if n := telSum(t, rm, telemetry.MetricAttempts, telemetry.AttrOutcome.String(telemetry.OutcomeSuccess)); n != 0 {
		t.Errorf("successful attempts = %d, want 0", n)
	}
}

// TestTelemetryPrintSpanTree prints the tree of one prediction, as the
// demo's --trace does, through a TreePrinter.
func TestTelemetryPrintSpanTree(t *testing.T) {
	srv := rtSim(t)
	var out bytes.Buffer
	printer := telemetry.NewTreePrinter(&out)
	cfg := telConfig(srv)
	rt := rtStart(t, dspex.WithConfig(cfg), dspex.WithTelemetry(telemetry.WithSpanProcessor(printer)))
	qa := programs.MustPredict[telQ, telA](programs.WithLM(rt.LM("sim")), programs.WithName("qa"))
	if _, err := qa.Call(rtCtx(t), telQ{Question: "What is the capital of Germany?"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	var names []string
	for _, l := range lines {
		if strings.Contains(l, "·") { // an event line
			continue
		}
		body := strings.TrimLeft(l, "│├└─ ")
		prefix := l[:len(l)-len(body)]
		names = append(names, prefix+strings.SplitN(body, "  ", 2)[0])
	}
	want := []string{
		"Predict qa",
		"└─ chat " + srv.Model(),
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("printed tree (-want +got):\n%s\n%s", diff, out.String())
	}
	if !strings.Contains(out.String(), "gen_ai.usage.input_tokens=") {
		t.Errorf("tree lacks the token usage:\n%s", out.String())
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// TestTelemetryModuleSpans checks that modules wrap their predictors'
// spans in their own. A module given its LM (WithLM) takes the providers
// from it at its entry; one that is not (BestOfN wraps a program) takes
// them from the caller's context (rt.Context).
func TestTelemetryModuleSpans(t *testing.T) {
	srv := rtSim(t)
	rt, rec, _ := telRuntime(t, telConfig(srv))
	withLM := programs.WithLM(rt.LM("sim"))
	cot, err := programs.NewChainOfThoughtFrom(evSig(t, "question -> answer"), withLM, programs.WithName("cot"))
	if err != nil {
		t.Fatal(err)
	}
	inner := programs.MustPredictFrom(evSig(t, "question -> answer"), withLM, programs.WithName("inner"))
	best, err := programs.NewBestOfN(inner, 1, func(context.Context, programs.Values, programs.Prediction) (float64, error) { return 1, nil }, 1)
	if err != nil {
		t.Fatal(err)
	}
	model := srv.Model()
	for _, c := range []struct {
		name string
		prog programs.Program
		ctx  func(context.Context) context.Context
		want string
	}{
		{"ChainOfThought", cot, nil, "ChainOfThought cot(Predict cot(chat " + model + "))"},
		{"BestOfN", best, rt.Context, "BestOfN(Predict inner(chat " + model + "))"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(rec.Ended())
			ctx := rtCtx(t)
			if c.ctx != nil {
				ctx = c.ctx(ctx)
			}
			if _, err := c.prog.Forward(ctx, programs.Values{"question": "What is 2 + 3? (" + c.name + ")"}); err != nil {
				t.Fatal(err)
			}
			trees := telTrees(rec.Ended()[before:])
			if len(trees) != 1 {
				t.Fatalf("%d traces", len(trees))
			}
			if got := trees[0].shape(); got != c.want {
				t.Errorf("span tree = %s\nwant        %s", got, c.want)
			}
		})
	}
}
