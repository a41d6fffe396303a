// Package telemetry builds and owns the OpenTelemetry tracer and meter
// providers of a dspex runtime, from a config.Telemetry, and holds what
// dspex instrumentation shares: attribute keys, metric names, how
// instrumented code finds its providers, trace context propagation, and a
// readable console view of traces.
//
// # Lifecycle
//
//	p, err := telemetry.Setup(ctx, cfg.Telemetry)
//	if err != nil { ... }
//	defer p.Shutdown(context.WithoutCancel(ctx)) // flushes
//	tracer := p.Tracer(telemetry.InstrumentationName)
//
// Setup never blocks on a collector: OTLP exporters connect lazily, and
// ForceFlush and Shutdown are bounded by their context. The providers are
// not installed as the otel globals; the runtime passes them explicitly.
// The dspex runtime's TelemetrySetup actor calls Setup (with the options
// of dspex.WithTelemetry) and shuts the providers down when it stops;
// Runtime.Telemetry returns them.
//
// # Exporters
//
// "none" (the default) uses the otel no-op providers, so instrumentation
// costs almost nothing; "stdout" prints JSON; "otlp-grpc" and "otlp-http"
// send OTLP to a collector. Tests inject exporters with WithSpanExporter
// (tracetest.NewInMemoryExporter), WithSpanProcessor
// (tracetest.NewSpanRecorder, synchronous) and WithMetricReader
// (sdkmetric.NewManualReader).
//
// # How instrumented code finds its providers
//
// Nothing is global, and nothing is looked up: the providers travel in the
// context. The client actors get the runtime's Providers from the
// ClientManager. Everything else — programs, adapters, evaluations and
// their examples, optimizers and their trials — starts its spans with
// Start and ends them with End, and takes metrics from MeterProviderFrom,
// under one rule (TracerProviderFrom): the provider of the recording span
// in the context, so that children join their caller's trace; else the
// Source the context carries; else telemetry is off there. When it is off,
// Start returns the context unchanged and a span that records nothing,
// without allocating: with telemetry off, instrumentation has no
// measurable cost.
//
// An entry point puts a Source into the context once:
//
//   - the caller, with NewContext(ctx, providers) or Runtime.Context(ctx);
//   - a program call given an LM that is a Source (the dspex runtime's
//     LMs are), through WithDefault, when the context carries none;
//   - evaluate.Evaluator.Run, with its LM or runtime (WithLM,
//     WithRuntime), when the context carries none: its examples run on
//     evaluator actors under contexts derived from it;
//   - an optimizer's Compile, with its evaluator's, likewise.
//
// Work handed to other goroutines must run under a context derived from
// the caller's, so that the Source travels with it.
//
// Across actor messages the caller's span context travels in the message;
// across processes, Traceparent and ContextWithTraceparent carry it as a
// W3C traceparent string.
//
// # Spans
//
// One Predict through the runtime gives two spans:
//
//	Predict <name>            dspex.program.type, dspex.program, dspex.signature
//	└─ chat <model>           GenAI attributes (client span, in the client actor)
//
// and with step spans (config.Telemetry.StepSpans, Providers.StepSpans)
// five, the short steps of the call getting spans of their own:
//
//	Predict <name>            dspex.program.type, dspex.program, dspex.signature
//	├─ format chat            dspex.adapter
//	├─ chat <model>           GenAI attributes (client span, in the client actor)
//	│  └─ attempt 1           dspex.retry.attempt, error.type, http.response.status_code
//	└─ parse chat             dspex.adapter
//
// Step spans are off by default: each takes the SDK about as long to
// record as a whole format or parse takes, and a backend bills them like
// any other span. Without them a step that fails is an "exception" event
// (StepFailed) on its parent span, with dspex.step (StepFormat,
// StepParse, StepAttempt) and error.type; a failed attempt's event also
// has dspex.retry.attempt and http.response.status_code, and a call that
// took several attempts has dspex.retry.attempts. A step that succeeds
// records nothing of its own.
//
// The "chat <model>" span follows the GenAI semantic conventions:
// gen_ai.operation.name, gen_ai.provider.name (and the older
// gen_ai.system), gen_ai.request.model, .temperature, .max_tokens, .seed,
// .choice.count, gen_ai.response.model, .id, .finish_reasons,
// gen_ai.usage.input_tokens and .output_tokens, server.address and
// server.port, plus dspex.provider and dspex.cache.hit (a cache hit also
// adds the dspex.cache.hit event, and has no attempt). With step spans
// each provider request is an "attempt N" child; a breaker rejection is
// the dspex.breaker.rejected event on its attempt, a rate-limiter wait
// the dspex.rate_limit.wait event and attribute of its attempt; without
// step spans both are events of the call's span (the wait's duration an
// attribute of its event). Modules (ChainOfThought,
// ReAct, BestOfN, Refine, MultiChainComparison) wrap their predictors'
// spans in their own. An evaluation is an "evaluate <description>" span
// with one "example" child per example (dspex.example.index, .status,
// dspex.score); an optimizer's compilation is a "compile <optimizer>" span
// with one "trial" child per candidate or bootstrapping round
// (dspex.trial, dspex.candidate, dspex.score).
//
// # Metrics
//
// gen_ai.client.operation.duration (s) and dspex.lm.requests count LM
// calls by provider, model and dspex.outcome (success, cache_hit, error
// with error.type); gen_ai.client.token.usage records the tokens of each
// provider response by gen_ai.token.type; dspex.lm.attempts counts the
// requests sent to providers; dspex.retries, dspex.cache.hits and
// dspex.cache.misses, dspex.breaker.transitions and
// dspex.breaker.rejections, dspex.rate_limit.wait, the dspex.lm.in_flight
// UpDownCounter, dspex.supervision.restarts by dspex.actor; and for
// evaluations dspex.evaluate.examples (by status: its rate is the
// throughput), dspex.evaluate.example.duration, dspex.evaluate.score and
// dspex.evaluate.run.score.
//
// # Content and secrets
//
// Prompt and completion content (AttrGenAIInputMessages,
// AttrGenAIOutputMessages) is recorded only when Providers.RecordContent
// reports true (config.Telemetry.RecordContent). API keys are never
// recorded: no attribute, event, status or metric label is built from
// credentials, and server.address is the host alone.
//
// # Console view
//
// PrintSpanTree writes spans as indented trees; a TreePrinter, given to
// WithSpanProcessor, prints each trace when its root span ends.
package telemetry
