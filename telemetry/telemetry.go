package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dspex-go/dspex/config"
)

// Option configures Setup.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	spanExporter   sdktrace.SpanExporter
	processors     []sdktrace.SpanProcessor
	metricReader   sdkmetric.Reader
	writer         io.Writer
	metricInterval time.Duration
	attrs          []attribute.KeyValue
}

// WithSpanExporter sends spans to e (through a batch span processor)
// instead of the exporter cfg.Exporter names; with ExporterNone it turns on
// a real SDK tracer provider. Providers.Shutdown shuts e down. For tests:
// tracetest.NewInMemoryExporter.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return optionFunc(func(o *options) { o.spanExporter = e })
}

// WithSpanProcessor adds a span processor to the tracer provider, next to
// the configured exporter's (if any); with ExporterNone it turns on a real
// SDK tracer provider. Providers.Shutdown shuts it down. Processors see
// spans synchronously as they end: tracetest.NewSpanRecorder for tests, a
// TreePrinter for a console view.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return optionFunc(func(o *options) {
		if sp != nil {
			o.processors = append(o.processors, sp)
		}
	})
}

// WithMetricReader collects metrics with r instead of the periodic reader
// of the configured exporter; with ExporterNone it turns on a real SDK
// meter provider. For tests: sdkmetric.NewManualReader.
func WithMetricReader(r sdkmetric.Reader) Option {
	return optionFunc(func(o *options) { o.metricReader = r })
}

// WithWriter makes the stdout exporter write to w instead of os.Stdout.
func WithWriter(w io.Writer) Option {
	return optionFunc(func(o *options) { o.writer = w })
}

// WithMetricInterval sets the export period of the periodic metric reader
// (default 60s, the OpenTelemetry default).
func WithMetricInterval(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.metricInterval = d
		}
	})
}

// WithResourceAttributes adds attributes to the resource (service.name is
// always set from the configuration).
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(o *options) { o.attrs = append(o.attrs, attrs...) })
}

// Providers owns a tracer provider and a meter provider built from a
// config.Telemetry. Its methods are safe for concurrent use. Providers are
// not installed globally: pass them where they are needed (or call
// otel.SetTracerProvider yourself).
type Providers struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	sdkTP   *sdktrace.TracerProvider // nil when no-op
	sdkMP   *sdkmetric.MeterProvider // nil when no-op
	bsp     *batcher                 // batches spans for the exporter; nil when none
	content bool
	steps   bool

	once sync.Once
	err  error
}

// Setup builds the providers cfg declares:
//
//   - config.ExporterNone: the otel no-op providers, the cheapest (spans are
//     not even recorded), unless WithSpanExporter, WithSpanProcessor or
//     WithMetricReader supplies one, in which case that side is a real SDK
//     provider.
//   - config.ExporterStdout: stdouttrace and stdoutmetric, pretty-printed
//     JSON to os.Stdout or the WithWriter writer.
//   - config.ExporterOTLPGRPC, config.ExporterOTLPHTTP: OTLP exporters to
//     cfg.Endpoint ("host:port" or a URL; empty means the exporter's
//     default or OTEL_EXPORTER_OTLP_ENDPOINT), with cfg.Insecure and
//     cfg.Headers. They connect lazily: Setup does not wait for the
//     collector.
//
// Spans are sampled with ParentBased(TraceIDRatioBased(cfg.SampleRatio))
// and batched for the exporter as the SDK's batch span processor does, with
// the same defaults and OTEL_BSP_* variables (batches of 512, every 5 s, a
// queue of 2048 that drops spans when full), but without waking a
// goroutine for every span; the resource carries service.name =
// cfg.ServiceName.
// ctx bounds the exporters' construction only. Call Shutdown when done.
func Setup(ctx context.Context, cfg config.Telemetry, opts ...Option) (*Providers, error) {
	o := options{writer: os.Stdout, metricInterval: 60 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = config.DefaultServiceName
	}
	p := &Providers{content: cfg.RecordContent, steps: cfg.StepSpans}

	spanExp, reader := o.spanExporter, o.metricReader
	var err error
	if spanExp == nil {
		spanExp, err = newSpanExporter(ctx, cfg, o)
		if err != nil {
			return nil, err
		}
	}
	if reader == nil {
		var exp sdkmetric.Exporter
		exp, err = newMetricExporter(ctx, cfg, o)
		if err != nil {
			if spanExp != nil {
				_ = spanExp.Shutdown(ctx)
			}
			return nil, err
		}
		if exp != nil {
			reader = sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(o.metricInterval))
		}
	}

	res := resource.NewSchemaless(append([]attribute.KeyValue{
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("telemetry.sdk.language", "go"),
	}, o.attrs...)...)

	if spanExp != nil || len(o.processors) > 0 {
		tpOpts := []sdktrace.TracerProviderOption{
			sdktrace.WithResource(res),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
		}
		if spanExp != nil {
			p.bsp = newBatcher(spanExp, os.Getenv)
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p.bsp))
		}
		for _, sp := range o.processors {
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sp))
		}
		p.sdkTP = sdktrace.NewTracerProvider(tpOpts...)
		p.tp = p.sdkTP
	} else {
		p.tp = tracenoop.NewTracerProvider()
	}
	if reader != nil {
		p.sdkMP = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(reader))
		p.mp = p.sdkMP
	} else {
		p.mp = metricnoop.NewMeterProvider()
	}
	return p, nil
}

func newSpanExporter(ctx context.Context, cfg config.Telemetry, o options) (sdktrace.SpanExporter, error) {
	switch cfg.Exporter {
	case config.ExporterNone, "":
		return nil, nil
	case config.ExporterStdout:
		return stdouttrace.New(stdouttrace.WithWriter(o.writer), stdouttrace.WithPrettyPrint())
	case config.ExporterOTLPGRPC:
		opts := []otlptracegrpc.Option{}
		if cfg.Endpoint != "" {
			if strings.Contains(cfg.Endpoint, "://") {
				opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
			} else {
				opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
			}
		}
		if cfg.Insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(reveal(cfg.Headers)))
		}
		e, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp-grpc span exporter: %w", err)
		}
		return e, nil
	case config.ExporterOTLPHTTP:
		opts := []otlptracehttp.Option{}
		if cfg.Endpoint != "" {
			if strings.Contains(cfg.Endpoint, "://") {
				opts = append(opts, otlptracehttp.WithEndpointURL(cfg.Endpoint))
			} else {
				opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
			}
		}
		if cfg.Insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(reveal(cfg.Headers)))
		}
		e, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp-http span exporter: %w", err)
		}
		return e, nil
	}
	return nil, fmt.Errorf("telemetry: unknown exporter %q (want one of %s)", cfg.Exporter, strings.Join(config.Exporters, ", "))
}

func newMetricExporter(ctx context.Context, cfg config.Telemetry, o options) (sdkmetric.Exporter, error) {
	switch cfg.Exporter {
	case config.ExporterNone, "":
		return nil, nil
	case config.ExporterStdout:
		return stdoutmetric.New(stdoutmetric.WithWriter(o.writer), stdoutmetric.WithPrettyPrint())
	case config.ExporterOTLPGRPC:
		opts := []otlpmetricgrpc.Option{}
		if cfg.Endpoint != "" {
			if strings.Contains(cfg.Endpoint, "://") {
				opts = append(opts, otlpmetricgrpc.WithEndpointURL(cfg.Endpoint))
			} else {
				opts = append(opts, otlpmetricgrpc.WithEndpoint(cfg.Endpoint))
			}
		}
		if cfg.Insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(reveal(cfg.Headers)))
		}
		e, err := otlpmetricgrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp-grpc metric exporter: %w", err)
		}
		return e, nil
	case config.ExporterOTLPHTTP:
		opts := []otlpmetrichttp.Option{}
		if cfg.Endpoint != "" {
			if strings.Contains(cfg.Endpoint, "://") {
				opts = append(opts, otlpmetrichttp.WithEndpointURL(cfg.Endpoint))
			} else {
				opts = append(opts, otlpmetrichttp.WithEndpoint(cfg.Endpoint))
			}
		}
		if cfg.Insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlpmetrichttp.WithHeaders(reveal(cfg.Headers)))
		}
		e, err := otlpmetrichttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp-http metric exporter: %w", err)
		}
		return e, nil
	}
	return nil, fmt.Errorf("telemetry: unknown exporter %q (want one of %s)", cfg.Exporter, strings.Join(config.Exporters, ", "))
}

func reveal(h map[string]config.Secret) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v.Reveal()
	}
	return out
}

// Tracer returns a tracer of the tracer provider.
func (p *Providers) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return p.tp.Tracer(name, opts...)
}

// Meter returns a meter of the meter provider.
func (p *Providers) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return p.mp.Meter(name, opts...)
}

// TracerProvider returns the tracer provider (a no-op one with
// ExporterNone).
func (p *Providers) TracerProvider() trace.TracerProvider { return p.tp }

// MeterProvider returns the meter provider (a no-op one with ExporterNone).
func (p *Providers) MeterProvider() metric.MeterProvider { return p.mp }

// RecordContent reports whether prompts and completions may be recorded on
// spans (config.Telemetry.RecordContent).
func (p *Providers) RecordContent() bool { return p.content }

// StepSpans reports whether the short steps of a call get spans of their
// own (config.Telemetry.StepSpans). It makes Providers a StepSpanner.
func (p *Providers) StepSpans() bool { return p.steps }

// Enabled reports whether spans are recorded and exported (false with the
// no-op providers): instrumentation may skip building attributes otherwise.
func (p *Providers) Enabled() bool { return p.sdkTP != nil }

// MetricsEnabled reports whether metrics are collected (false with the
// no-op meter provider).
func (p *Providers) MetricsEnabled() bool { return p.sdkMP != nil }

// ForceFlush exports the spans and metrics collected so far, within ctx.
func (p *Providers) ForceFlush(ctx context.Context) error {
	var errs []error
	if p.sdkTP != nil {
		errs = append(errs, p.sdkTP.ForceFlush(ctx))
	}
	if p.sdkMP != nil {
		errs = append(errs, p.sdkMP.ForceFlush(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: flush: %w", err)
	}
	return nil
}

// Shutdown flushes and stops the providers and their exporters, within
// ctx: an unreachable collector makes it return ctx's error, not hang.
// Shutdown is idempotent: later calls return the first result. Spans and
// metrics recorded afterwards are dropped.
func (p *Providers) Shutdown(ctx context.Context) error {
	p.once.Do(func() {
		var errs []error
		if p.sdkTP != nil {
			err := p.sdkTP.Shutdown(ctx)
			if err != nil && p.bsp != nil {
				// The SDK skips the span processors when ctx is already
				// done. Stop the batcher (idempotent), which shuts the
				// exporter down with the expired ctx: that cancels an
				// export still retrying in its goroutine (up to the OTLP
				// retry budget, a minute), so that no goroutine outlives
				// Shutdown for long.
				_ = p.bsp.Shutdown(ctx)
			}
			errs = append(errs, err)
		}
		if p.sdkMP != nil {
			errs = append(errs, p.sdkMP.Shutdown(ctx))
		}
		if err := errors.Join(errs...); err != nil {
			p.err = fmt.Errorf("telemetry: shutdown: %w", err)
		}
	})
	return p.err
}
