package evaluate

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// TracerProvider returns the tracer provider of the evaluator's LM
// (WithLM) or runtime (WithRuntime) when either is a
// telemetry.TracerSource (the dspex runtime and its LMs are), else a no-op
// one. Runs trace with it unless their context already holds a recording
// span or a telemetry.NewContext source. It makes an Evaluator a
// telemetry.Source, so optimizers trace their trials with it.
func (e *Evaluator) TracerProvider() trace.TracerProvider {
	if s, ok := e.cfg.model.(telemetry.TracerSource); ok {
		return s.TracerProvider()
	}
	if s, ok := e.cfg.runtime.(telemetry.TracerSource); ok {
		return s.TracerProvider()
	}
	return tracenoop.NewTracerProvider()
}

// MeterProvider returns the meter provider of the evaluator's LM or
// runtime, as TracerProvider does, else a no-op one.
func (e *Evaluator) MeterProvider() metric.MeterProvider {
	if s, ok := e.cfg.model.(telemetry.MeterSource); ok {
		return s.MeterProvider()
	}
	if s, ok := e.cfg.runtime.(telemetry.MeterSource); ok {
		return s.MeterProvider()
	}
	return metricnoop.NewMeterProvider()
}

// runTelemetry traces and measures one run: its "evaluate" span with one
// "example" child span per example, and the evaluation metrics. A nil
// *runTelemetry (telemetry off) does nothing.
type runTelemetry struct {
	span     trace.Span // nil when tracing is off
	tracer   trace.Tracer
	metrics  bool
	examples metric.Int64Counter
	duration metric.Float64Histogram
	score    metric.Float64Histogram
	runScore metric.Float64Histogram
	desc     attribute.KeyValue
}

// source returns where a run of prog takes its providers from: the
// evaluator's LM or runtime, else the LM of prog's predictors.
func (e *Evaluator) source(prog programs.Program) telemetry.Source {
	_, tracing := telemetry.TracerProviderFor(context.Background(), e)
	_, metering := telemetry.MeterProviderFor(context.Background(), e)
	if tracing || metering {
		return e
	}
	if s := programs.TelemetrySource(prog); s != nil {
		return s
	}
	return e
}

// startRun starts the telemetry of a run of prog on n examples; the
// returned context holds the run's span.
func (e *Evaluator) startRun(ctx context.Context, prog programs.Program, n int) (context.Context, *runTelemetry) {
	src := e.source(prog)
	tp, tracing := telemetry.TracerProviderFor(ctx, src)
	mp, metering := telemetry.MeterProviderFor(ctx, src)
	if !tracing && !metering {
		return ctx, nil
	}
	t := &runTelemetry{desc: telemetry.AttrDescription.String(e.cfg.description)}
	if metering {
		if err := t.instruments(mp.Meter(telemetry.InstrumentationName)); err == nil {
			t.metrics = true
		}
	}
	if tracing {
		name := "evaluate"
		if d := e.cfg.description; d != "" && d != name {
			name += " " + d
		}
		t.tracer = tp.Tracer(telemetry.InstrumentationName)
		ctx, t.span = t.tracer.Start(ctx, name)
		if t.span.IsRecording() {
			t.span.SetAttributes(t.desc, telemetry.AttrExampleCount.Int(n))
		}
	}
	return ctx, t
}

func (t *runTelemetry) instruments(m metric.Meter) error {
	var errs [4]error
	t.examples, errs[0] = m.Int64Counter(telemetry.MetricEvalExamples, metric.WithUnit("{example}"),
		metric.WithDescription("Evaluated examples, by status"))
	t.duration, errs[1] = m.Float64Histogram(telemetry.MetricEvalExampleDuration, metric.WithUnit("s"),
		metric.WithDescription("Time to run and score one example"))
	t.score, errs[2] = m.Float64Histogram(telemetry.MetricEvalScore, metric.WithUnit("1"),
		metric.WithDescription("Scores of the examples that ran"),
		metric.WithExplicitBucketBoundaries(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1))
	t.runScore, errs[3] = m.Float64Histogram(telemetry.MetricEvalRunScore, metric.WithUnit("1"),
		metric.WithDescription("Mean scores of evaluation runs"),
		metric.WithExplicitBucketBoundaries(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1))
	return errors.Join(errs[:]...)
}

// statusName is a Status as an attribute value.
func statusName(s Status) string {
	switch s {
	case Scored:
		return "scored"
	case Failed:
		return "failed"
	}
	return "not_run"
}

// execTraced is exec inside the example's span, measured.
func (r *run) execTraced(ctx context.Context, index int, deadline time.Time) Row {
	t := r.tel
	if t == nil {
		return r.exec(ctx, index, deadline)
	}
	var span trace.Span
	if t.tracer != nil {
		ctx, span = t.tracer.Start(ctx, "example")
	}
	row := r.exec(ctx, index, deadline)
	if t.metrics {
		set := metric.WithAttributeSet(attribute.NewSet(t.desc, telemetry.AttrExampleStatus.String(statusName(row.Status))))
		t.examples.Add(context.Background(), 1, set)
		t.duration.Record(context.Background(), row.Latency.Seconds(), set)
		if row.Status == Scored {
			t.score.Record(context.Background(), row.Score, metric.WithAttributeSet(attribute.NewSet(t.desc)))
		}
	}
	if span != nil {
		if span.IsRecording() {
			span.SetAttributes(
				telemetry.AttrExampleIndex.Int(index),
				telemetry.AttrExampleStatus.String(statusName(row.Status)),
				telemetry.AttrScore.Float64(row.Score),
			)
			if row.Err != nil {
				span.SetAttributes(telemetry.AttrErrorType.String(telemetry.ErrorType(row.Err)))
				span.SetStatus(codes.Error, row.Err.Error())
			}
		}
		span.End()
	}
	return row
}

// end finishes the run's telemetry with its result.
func (t *runTelemetry) end(res Result, err error) {
	if t == nil {
		return
	}
	if t.metrics && res.Scored+res.Failed > 0 {
		t.runScore.Record(context.Background(), res.Score, metric.WithAttributeSet(attribute.NewSet(t.desc)))
	}
	if t.span == nil {
		return
	}
	if t.span.IsRecording() {
		t.span.SetAttributes(
			telemetry.AttrScore.Float64(res.Score),
			telemetry.AttrFailedCount.Int(res.Failed),
			telemetry.AttrScoredCount.Int(res.Scored),
			telemetry.AttrNotRunCount.Int(res.NotRun),
		)
	}
	telemetry.End(t.span, err)
}
