package telemetry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
)

var traceparentRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

func TestTraceparentCrossesABoundary(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdkProvider(t, sdktrace.WithSpanProcessor(rec))
	ctx, span := tp.Tracer("t").Start(context.Background(), "caller")
	header := Traceparent(ctx)
	if !traceparentRE.MatchString(header) {
		t.Fatalf("Traceparent = %q", header)
	}
	// The receiving side: a fresh context, the header, and its own tracer.
	remote := ContextWithTraceparent(context.Background(), header)
	sc := trace.SpanContextFromContext(remote)
	if !sc.IsRemote() || sc.TraceID() != span.SpanContext().TraceID() || sc.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("extracted %v from %q", sc, header)
	}
	_, child := Start(NewContext(remote, source{tp, nil}), "callee", "")
	child.End()
	span.End()
	spans := rec.Ended()
	if spans[0].Parent().SpanID() != span.SpanContext().SpanID() || spans[0].SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Errorf("the remote child is not in the caller's trace")
	}
}

func TestTraceparentWithoutSpan(t *testing.T) {
	if got := Traceparent(context.Background()); got != "" {
		t.Errorf("Traceparent of an empty context = %q", got)
	}
	ctx := context.Background()
	for _, bad := range []string{"", "garbage", "00-00000000000000000000000000000000-0000000000000000-01"} {
		if got := ContextWithTraceparent(ctx, bad); trace.SpanContextFromContext(got).IsValid() {
			t.Errorf("ContextWithTraceparent(%q) holds a span", bad)
		}
	}
}

func FuzzContextWithTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	f.Add("ff-x-y-z")
	f.Add("")
	f.Fuzz(func(t *testing.T, tp string) {
		ctx := ContextWithTraceparent(context.Background(), tp)
		sc := trace.SpanContextFromContext(ctx)
		if !sc.IsValid() {
			return
		}
		// A valid extraction round-trips.
		if got := Traceparent(ctx); !traceparentRE.MatchString(got) ||
			trace.SpanContextFromContext(ContextWithTraceparent(context.Background(), got)).TraceID() != sc.TraceID() {
			t.Errorf("%q extracted to %v, injected back as %q", tp, sc, got)
		}
	})
}

func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&lm.ProviderError{Provider: "p", Status: 503, Err: errors.New("unavailable: sk-secret")}, "503"},
		{fmt.Errorf("wrapped: %w", &lm.ProviderError{Status: 429}), "429"},
		{&lm.ProviderError{Err: lm.ErrCircuitOpen}, "circuit_open"},
		{&lm.ProviderError{Err: lm.ErrRateLimited}, "rate_limited"},
		{&lm.ProviderError{Err: context.DeadlineExceeded}, "timeout"},
		{context.Canceled, "canceled"},
		{&lm.ProviderError{Err: lm.ErrNoChoices}, "no_choices"},
		{&lm.ProviderError{Err: errors.New("connection reset")}, "network"},
		{errors.New("something else"), "_OTHER"},
	} {
		if got := ErrorType(c.err); got != c.want {
			t.Errorf("ErrorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
