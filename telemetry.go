package dspex

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dspex-go/dspex/actors"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/supervision"
	"github.com/dspex-go/dspex/telemetry"
)

// runtimeTelemetry is the runtime's handle on the telemetry the
// TelemetrySetup actor installed: the providers, and the instruments the
// runtime records itself.
type runtimeTelemetry struct {
	providers atomic.Pointer[telemetry.Providers]
	restarts  atomic.Pointer[metric.Int64Counter]
	cost      atomic.Pointer[metric.Float64Counter]
	cache     cache.Store // observed by the cache instruments; nil: none
}

// setup returns what the TelemetrySetup actor runs for cfg: it builds the
// configured exporters, hands the providers to the client actors and the
// runtime, and returns the function that takes them back and flushes and
// shuts them down.
func (t *runtimeTelemetry) setup(cfg config.Telemetry, clients *actors.Clients, opts []telemetry.Option) actors.TelemetrySetupFunc {
	return func(ctx context.Context) (func(context.Context) error, error) {
		p, err := telemetry.Setup(ctx, cfg, opts...)
		if err != nil {
			return nil, err
		}
		if err := clients.SetTelemetry(p); err != nil {
			_ = p.Shutdown(ctx)
			return nil, err
		}
		if p.MetricsEnabled() {
			c, err := p.Meter(telemetry.InstrumentationName).Int64Counter(telemetry.MetricRestarts,
				metric.WithUnit("{restart}"), metric.WithDescription("Actor restarts by supervisors"))
			if err != nil {
				_ = clients.SetTelemetry(nil)
				_ = p.Shutdown(ctx)
				return nil, err
			}
			t.restarts.Store(&c)
			cost, err := p.Meter(telemetry.InstrumentationName).Float64Counter(telemetry.MetricCost,
				metric.WithUnit("{currency}"), metric.WithDescription("Cost of priced LM calls, in the unit of dspex.cost.currency"))
			if err != nil {
				_ = clients.SetTelemetry(nil)
				_ = p.Shutdown(ctx)
				return nil, err
			}
			t.cost.Store(&cost)
		}
		var cacheReg metric.Registration
		if p.MetricsEnabled() && t.cache != nil {
			if cacheReg, err = cache.RegisterMetrics(p.Meter(telemetry.InstrumentationName), t.cache); err != nil {
				_ = clients.SetTelemetry(nil)
				t.restarts.Store(nil)
				_ = p.Shutdown(ctx)
				return nil, err
			}
		}
		t.providers.Store(p)
		return func(ctx context.Context) error {
			if t.providers.CompareAndSwap(p, nil) {
				_ = clients.SetTelemetry(nil)
				t.restarts.Store(nil)
				t.cost.Store(nil)
			}
			if cacheReg != nil {
				_ = cacheReg.Unregister()
			}
			return p.Shutdown(ctx)
		}, nil
	}
}

// observe counts the restarts among supervision events.
func (t *runtimeTelemetry) observe(ev supervision.Event) {
	if ev.Kind != supervision.EventRestart {
		return
	}
	if c := t.restarts.Load(); c != nil {
		(*c).Add(context.Background(), 1, metric.WithAttributes(telemetry.AttrActor.String(ev.Child)))
	}
}

// Telemetry returns the runtime's OpenTelemetry providers, built by its
// TelemetrySetup actor from config.Telemetry and the WithTelemetry
// options; nil once the runtime is closed. Use it to flush (ForceFlush) or
// to instrument your own code with the same providers. The providers are
// never installed as the otel globals.
func (r *Runtime) Telemetry() *telemetry.Providers { return r.tel.providers.Load() }

// Context returns a copy of ctx that carries the runtime's telemetry
// providers (telemetry.NewContext): programs, evaluations and optimizers
// called under it record their spans and metrics with them, whatever LM
// they use. It is how a caller hands the providers to an entry point that
// is not given a runtime LM or the runtime itself:
//
//	compiled, err := opt.Compile(rt.Context(ctx), student, trainset)
//
// The providers are read when used, so a context made before Close records
// nothing after it.
func (r *Runtime) Context(ctx context.Context) context.Context {
	return telemetry.NewContext(ctx, r)
}

// TracerProvider returns the runtime's tracer provider (a no-op one when
// telemetry is off or the runtime is closed). With MeterProvider it makes
// the runtime a telemetry.Source (see Context): evaluate.WithRuntime(rt)
// records evaluations with it.
func (r *Runtime) TracerProvider() trace.TracerProvider {
	if p := r.tel.providers.Load(); p != nil {
		return p.TracerProvider()
	}
	return tracenoop.NewTracerProvider()
}

// MeterProvider returns the runtime's meter provider (a no-op one when
// telemetry is off or the runtime is closed).
func (r *Runtime) MeterProvider() metric.MeterProvider {
	if p := r.tel.providers.Load(); p != nil {
		return p.MeterProvider()
	}
	return metricnoop.NewMeterProvider()
}

// StepSpans reports whether the short steps of a call get spans of their
// own (config.Telemetry.StepSpans); false when telemetry is off or the
// runtime is closed. It makes the runtime a telemetry.StepSpanner.
func (r *Runtime) StepSpans() bool {
	p := r.tel.providers.Load()
	return p != nil && p.StepSpans()
}

// TracerProvider returns the runtime's tracer provider. It makes the LM a
// telemetry.Source: a program call given this LM, under a context that
// carries no providers, puts the runtime's into it at its entry, so that
// its spans and those below record with them.
func (m runtimeLM) TracerProvider() trace.TracerProvider { return m.r.TracerProvider() }

// MeterProvider returns the runtime's meter provider.
func (m runtimeLM) MeterProvider() metric.MeterProvider { return m.r.MeterProvider() }

// StepSpans reports the runtime's StepSpans.
func (m runtimeLM) StepSpans() bool { return m.r.StepSpans() }

// recordCost adds the cost of a priced, non-cached LM call to the cost
// counter.
func (t *runtimeTelemetry) recordCost(ctx context.Context, r *history.Record) {
	c := t.cost.Load()
	if c == nil || r.CacheHit || r.Cost.Unpriced > 0 || r.Cost.Amount == 0 {
		return
	}
	(*c).Add(ctx, r.Cost.Amount, metric.WithAttributes(
		telemetry.AttrGenAIProviderName.String(r.Provider),
		telemetry.AttrGenAIResponseModel.String(r.Model),
		telemetry.AttrCurrency.String(r.Cost.Currency)))
}
