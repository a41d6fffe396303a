package telemetry

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Main(m)
}

// unusedAddr returns a loopback address nothing listens on.
func unusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestSetupEachExporter(t *testing.T) {
	addr := unusedAddr(t)
	for _, tc := range []struct {
		name    string
		cfg     config.Telemetry
		enabled bool
	}{
		{"none", config.Telemetry{Exporter: config.ExporterNone}, false},
		{"empty", config.Telemetry{}, false},
		{"stdout", config.Telemetry{Exporter: config.ExporterStdout, SampleRatio: 1}, true},
		{"otlp-grpc", config.Telemetry{Exporter: config.ExporterOTLPGRPC, Endpoint: addr, Insecure: true, SampleRatio: 1,
			Headers: map[string]config.Secret{"authorization": "Bearer t"}}, true},
		{"otlp-grpc url", config.Telemetry{Exporter: config.ExporterOTLPGRPC, Endpoint: "http://" + addr, SampleRatio: 1}, true},
		{"otlp-http", config.Telemetry{Exporter: config.ExporterOTLPHTTP, Endpoint: addr, Insecure: true, SampleRatio: 1,
			Headers: map[string]config.Secret{"authorization": "Bearer t"}}, true},
		{"otlp-http url", config.Telemetry{Exporter: config.ExporterOTLPHTTP, Endpoint: "http://" + addr + "/otlp", SampleRatio: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			p, err := Setup(ctx, tc.cfg, WithWriter(&out))
			if err != nil {
				t.Fatal(err)
			}
			if p.Enabled() != tc.enabled {
				t.Errorf("Enabled = %v, want %v", p.Enabled(), tc.enabled)
			}
			_, span := p.Tracer(InstrumentationName).Start(ctx, "op")
			span.End()
			c, err := p.Meter(InstrumentationName).Int64Counter(MetricCacheHits)
			if err != nil {
				t.Fatal(err)
			}
			c.Add(ctx, 1)
			// An unreachable collector makes Shutdown fail with the
			// context's error, not hang.
			sctx, scancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer scancel()
			err = p.Shutdown(sctx)
			if strings.HasPrefix(tc.name, "otlp") {
				if err == nil {
					t.Log("shutdown reached no collector without error")
				}
			} else if err != nil {
				t.Errorf("Shutdown = %v", err)
			}
			if tc.name == "stdout" && !strings.Contains(out.String(), `"Name": "op"`) {
				t.Errorf("stdout exporter wrote no span:\n%s", out.String())
			}
		})
	}
}

func TestSetupUnknownExporter(t *testing.T) {
	if _, err := Setup(context.Background(), config.Telemetry{Exporter: "jaeger"}); err == nil || !strings.Contains(err.Error(), "jaeger") {
		t.Errorf("Setup = %v, want an error naming the exporter", err)
	}
}

func TestInMemoryExporterAndReader(t *testing.T) {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	reader := sdkmetric.NewManualReader()
	p, err := Setup(ctx, config.Telemetry{Exporter: config.ExporterNone, ServiceName: "svc-test", SampleRatio: 1},
		WithSpanExporter(spans), WithMetricReader(reader))
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer(InstrumentationName).Start(ctx, "chat gpt-4o-mini")
	span.SetAttributes(AttrGenAIOperationName.String(OperationChat), AttrCacheHit.Bool(true))
	span.End()
	if n := len(spans.GetSpans()); n != 0 {
		t.Fatalf("%d spans exported before the batch was flushed", n)
	}
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	got := spans.GetSpans()
	if len(got) != 1 || got[0].Name != "chat gpt-4o-mini" {
		t.Fatalf("spans = %v", got)
	}
	attrs := attribute.NewSet(got[0].Attributes...)
	if v, ok := attrs.Value(AttrCacheHit); !ok || !v.AsBool() {
		t.Errorf("span attributes = %v", got[0].Attributes)
	}
	if v, ok := got[0].Resource.Set().Value("service.name"); !ok || v.AsString() != "svc-test" {
		t.Errorf("resource = %v", got[0].Resource)
	}

	c, err := p.Meter(InstrumentationName).Int64Counter(MetricRetries)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 3)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) != 1 || len(rm.ScopeMetrics[0].Metrics) != 1 {
		t.Fatalf("metrics = %+v", rm)
	}
	sum, ok := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64])
	if !ok || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 3 {
		t.Errorf("metric data = %+v", rm.ScopeMetrics[0].Metrics[0].Data)
	}

	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	_, span = p.Tracer(InstrumentationName).Start(ctx, "after")
	span.End()
	if n := len(spans.GetSpans()); n != 0 {
		// The in-memory exporter is reset by Shutdown; nothing new arrives.
		t.Errorf("%d spans after Shutdown", n)
	}
}

func TestSampleRatioZeroDropsSpans(t *testing.T) {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	p, err := Setup(ctx, config.Telemetry{SampleRatio: 0}, WithSpanExporter(spans))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(ctx)
	_, span := p.Tracer(InstrumentationName).Start(ctx, "op")
	span.End()
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(spans.GetSpans()); n != 0 {
		t.Errorf("%d spans sampled at ratio 0", n)
	}
}

func TestShutdownIdempotentReturnsFirstError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Setup(ctx, config.Telemetry{Exporter: config.ExporterOTLPHTTP, Endpoint: unusedAddr(t), Insecure: true, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer(InstrumentationName).Start(ctx, "op")
	span.End()
	cancel()
	first := p.Shutdown(ctx)
	second := p.Shutdown(context.Background())
	if !errors.Is(second, first) && first != second {
		t.Errorf("second Shutdown = %v, first = %v", second, first)
	}
}

func TestRecordContent(t *testing.T) {
	for _, on := range []bool{false, true} {
		p, err := Setup(context.Background(), config.Telemetry{RecordContent: on})
		if err != nil {
			t.Fatal(err)
		}
		if p.RecordContent() != on {
			t.Errorf("RecordContent = %v, want %v", p.RecordContent(), on)
		}
		_ = p.Shutdown(context.Background())
	}
}
