package test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/telemetry"
)

// telQ and telA are the signature of the telemetry tests.
type telQ struct {
	Question string `dspy:"question"`
}

type telA struct {
	Answer string `dspy:"answer"`
}

// telConfig is rtConfig with the cache on and quick retries.
func telConfig(srv *simlm.Server) config.Config {
	cfg := rtConfig(srv)
	cfg.Cache.Enabled = true
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = config.Duration(time.Millisecond)
	cfg.Retry.Max = config.Duration(time.Millisecond)
	return cfg
}

// telRuntime starts a runtime on cfg whose spans go to a span recorder and
// whose metrics to a manual reader.
func telRuntime(t *testing.T, cfg config.Config, opts ...dspex.Option) (*dspex.Runtime, *tracetest.SpanRecorder, *sdkmetric.ManualReader) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	opts = append([]dspex.Option{
		dspex.WithConfig(cfg),
		dspex.WithTelemetry(telemetry.WithSpanProcessor(rec), telemetry.WithMetricReader(reader)),
	}, opts...)
	return rtStart(t, opts...), rec, reader
}

// telNode is a span with its children, in start order.
type telNode struct {
	span     sdktrace.ReadOnlySpan
	children []*telNode
}

// telTrees returns the span trees of spans, one per root, in start order.
func telTrees(spans []sdktrace.ReadOnlySpan) []*telNode {
	nodes := make(map[trace.SpanID]*telNode, len(spans))
	for _, s := range spans {
		nodes[s.SpanContext().SpanID()] = &telNode{span: s}
	}
	var roots []*telNode
	for _, s := range spans {
		n := nodes[s.SpanContext().SpanID()]
		if p, ok := nodes[s.Parent().SpanID()]; ok && s.Parent().IsValid() {
			p.children = append(p.children, n)
			continue
		}
		roots = append(roots, n)
	}
	byStart := func(a, b *telNode) int { return a.span.StartTime().Compare(b.span.StartTime()) }
	for _, n := range nodes {
		slices.SortStableFunc(n.children, byStart)
	}
	slices.SortStableFunc(roots, byStart)
	return roots
}

// shape renders a tree as nested names, e.g. "Predict x(format chat, chat m(attempt 1), parse chat)".
func (n *telNode) shape() string {
	if len(n.children) == 0 {
		return n.span.Name()
	}
	parts := make([]string, len(n.children))
	for i, c := range n.children {
		parts[i] = c.shape()
	}
	return n.span.Name() + "(" + strings.Join(parts, ", ") + ")"
}

// child returns the first child whose name starts with prefix.
func (n *telNode) child(t *testing.T, prefix string) *telNode {
	t.Helper()
	for _, c := range n.children {
		if strings.HasPrefix(c.span.Name(), prefix) {
			return c
		}
	}
	t.Fatalf("%s has no child %q: %s", n.span.Name(), prefix, n.shape())
	return nil
}

// telAttr returns the attribute key of span s.
func telAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// telHasEvent reports whether span s has an event named name.
func telHasEvent(s sdktrace.ReadOnlySpan, name string) bool {
	for _, ev := range s.Events() {
		if ev.Name == name {
			return true
		}
	}
	return false
}

// telCollect reads the metrics of reader.
func telCollect(t *testing.T, reader *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// telMetric returns the metric named name.
func telMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// telMatch reports whether set holds every attribute of want.
func telMatch(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// telSum sums the data points of an int64 counter (or up-down counter)
// whose attributes include want; an absent metric sums to 0.
func telSum(t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := telMetric(rm, name)
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, not an int64 sum", name, m.Data)
	}
	var total int64
	for _, dp := range sum.DataPoints {
		if telMatch(dp.Attributes, want) {
			total += dp.Value
		}
	}
	return total
}

// telHist returns the count and sum of the data points of a histogram
// whose attributes include want.
func telHist[N int64 | float64](t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) (uint64, N) {
	t.Helper()
	m, ok := telMetric(rm, name)
	if !ok {
		return 0, 0
	}
	h, ok := m.Data.(metricdata.Histogram[N])
	if !ok {
		t.Fatalf("%s is a %T", name, m.Data)
	}
	var count uint64
	var sum N
	for _, dp := range h.DataPoints {
		if telMatch(dp.Attributes, want) {
			count += dp.Count
			sum += dp.Sum
		}
	}
	return count, sum
}
