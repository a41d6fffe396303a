package evaluate

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dspex-go/dspex/telemetry"
)

// source returns the telemetry providers the evaluator was given: its LM
// (WithLM) when that hands some out, as the dspex runtime's LMs do, else
// its runtime (WithRuntime) when that does; nil for neither.
func (e *Evaluator) source() telemetry.Source {
	if s, ok := e.cfg.model.(telemetry.Source); ok {
		return s
	}
	if s, ok := e.cfg.runtime.(telemetry.Source); ok {
		return s
	}
	return nil
}

// TracerProvider returns the tracer provider of the evaluator's LM
// (WithLM) or runtime (WithRuntime) when either hands out telemetry
// providers (the dspex runtime and its LMs do), else a no-op one. It makes
// an Evaluator a telemetry.Source: Run puts it into its context at the
// start (telemetry.WithDefault: providers the context already carries
// win), and optimizers do the same with their evaluator when they start a
// compilation.
func (e *Evaluator) TracerProvider() trace.TracerProvider {
	if s := e.source(); s != nil {
		return s.TracerProvider()
	}
	return tracenoop.NewTracerProvider()
}

// MeterProvider returns the meter provider of the evaluator's LM or
// runtime, as TracerProvider does, else a no-op one.
func (e *Evaluator) MeterProvider() metric.MeterProvider {
	if s := e.source(); s != nil {
		return s.MeterProvider()
	}
	return metricnoop.NewMeterProvider()
}

// StepSpans reports the StepSpans of the evaluator's LM or runtime, as
// TracerProvider does (see telemetry.StepSpanner), else false.
func (e *Evaluator) StepSpans() bool {
	st, ok := e.source().(telemetry.StepSpanner)
	return ok && st.StepSpans()
}

// runTelemetry measures one run: its "evaluate" span, whose context is the
// parent of the examples' "example" spans, and the evaluation metrics. A
// nil *runTelemetry (telemetry off) does nothing.
type runTelemetry struct {
	span     trace.Span // records nothing when tracing is off
	metrics  bool
	examples metric.Int64Counter
	duration metric.Float64Histogram
	score    metric.Float64Histogram
	runScore metric.Float64Histogram
	desc     attribute.KeyValue
	// byDesc and byStatus are the metrics' attribute sets, built once per
	// run: the description, and with it each example status (by
	// Status).
	byDesc   metric.MeasurementOption
	byStatus [Failed + 1]metric.MeasurementOption
}

// startRun starts the telemetry of a run on n examples, with the providers
// of ctx, where Run has put the evaluator's; the returned context holds
// the run's span.
func (e *Evaluator) startRun(ctx context.Context, n int) (context.Context, *runTelemetry) {
	mp, metering := telemetry.MeterProviderFrom(ctx)
	if _, tracing := telemetry.TracerProviderFrom(ctx); !tracing && !metering {
		return ctx, nil
	}
	t := &runTelemetry{desc: telemetry.AttrDescription.String(e.cfg.description)}
	if metering {
		if err := t.instruments(mp.Meter(telemetry.InstrumentationName)); err == nil {
			t.metrics = true
			t.byDesc = metric.WithAttributeSet(attribute.NewSet(t.desc))
			for st := range t.byStatus {
				t.byStatus[st] = metric.WithAttributeSet(attribute.NewSet(t.desc,
					telemetry.AttrExampleStatus.String(statusName(Status(st)))))
			}
		}
	}
	target := e.cfg.description
	if target == "evaluate" {
		target = ""
	}
	ctx, t.span = telemetry.Start(ctx, "evaluate", target)
	if t.span.IsRecording() {
		t.span.SetAttributes(t.desc, telemetry.AttrExampleCount.Int(n))
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

// statusSet returns the attribute set of examples that ended with s.
func (t *runTelemetry) statusSet(s Status) metric.MeasurementOption {
	if int(s) < len(t.byStatus) {
		return t.byStatus[s]
	}
	return metric.WithAttributeSet(attribute.NewSet(t.desc, telemetry.AttrExampleStatus.String(statusName(s))))
}

// execTraced is exec inside the example's span, measured.
func (r *run) execTraced(ctx context.Context, index int, deadline time.Time) Row {
	t := r.tel
	if t == nil {
		return r.exec(ctx, index, deadline)
	}
	ctx, span := telemetry.Start(ctx, "example", "")
	row := r.exec(ctx, index, deadline)
	if t.metrics {
		set := t.statusSet(row.Status)
		t.examples.Add(context.Background(), 1, set)
		t.duration.Record(context.Background(), row.Latency.Seconds(), set)
		if row.Status == Scored {
			t.score.Record(context.Background(), row.Score, t.byDesc)
		}
	}
	if span.IsRecording() {
		span.SetAttributes(
			telemetry.AttrExampleIndex.Int(index),
			telemetry.AttrExampleStatus.String(statusName(row.Status)),
			telemetry.AttrScore.Float64(row.Score),
		)
	}
	telemetry.End(span, row.Err)
	return row
}

// end finishes the run's telemetry with its result.
func (t *runTelemetry) end(res Result, err error) {
	if t == nil {
		return
	}
	if t.metrics && res.Scored+res.Failed > 0 {
		t.runScore.Record(context.Background(), res.Score, t.byDesc)
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
