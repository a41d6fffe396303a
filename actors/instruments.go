package actors

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/telemetry"
)

// instruments are the tracer and metric instruments of the client actors,
// built once for the runtime's telemetry.Providers. A nil *instruments
// means telemetry is off: the client actors then skip every measurement.
type instruments struct {
	tracer  trace.Tracer // nil when tracing is off
	content bool         // record prompts and completions
	steps   bool         // attempts get spans of their own

	requests    metric.Int64Counter
	attempts    metric.Int64Counter
	retries     metric.Int64Counter
	hits        metric.Int64Counter
	misses      metric.Int64Counter
	rejections  metric.Int64Counter
	transitions metric.Int64Counter
	inFlight    metric.Int64UpDownCounter
	duration    metric.Float64Histogram
	tokens      metric.Int64Histogram
	rateWait    metric.Float64Histogram
}

// durationBuckets are the GenAI conventions' advice for
// gen_ai.client.operation.duration (seconds).
var durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}

// tokenBuckets are the GenAI conventions' advice for
// gen_ai.client.token.usage.
var tokenBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}

// newInstruments builds the instruments of p, or returns nil when p
// records neither spans nor metrics.
func newInstruments(p *telemetry.Providers) (*instruments, error) {
	if p == nil || !p.Enabled() && !p.MetricsEnabled() {
		return nil, nil
	}
	ins := &instruments{content: p.RecordContent(), steps: p.StepSpans()}
	if p.Enabled() {
		ins.tracer = p.Tracer(telemetry.InstrumentationName)
	}
	m := p.Meter(telemetry.InstrumentationName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	ins.requests = counter(telemetry.MetricRequests, "{request}", "LM calls received by client actors")
	ins.attempts = counter(telemetry.MetricAttempts, "{request}", "Requests sent to providers, every retry attempt included")
	ins.retries = counter(telemetry.MetricRetries, "{request}", "Retried provider requests")
	ins.hits = counter(telemetry.MetricCacheHits, "{request}", "LM calls answered from the response cache")
	ins.misses = counter(telemetry.MetricCacheMisses, "{request}", "LM calls the response cache could not answer")
	ins.rejections = counter(telemetry.MetricBreakerRejections, "{request}", "Attempts refused by an open circuit breaker")
	ins.transitions = counter(telemetry.MetricBreakerTransitions, "{transition}", "Circuit breaker state changes")
	var err error
	ins.inFlight, err = m.Int64UpDownCounter(telemetry.MetricInFlight, metric.WithUnit("{request}"),
		metric.WithDescription("Provider requests running now"))
	errs = append(errs, err)
	ins.duration, err = m.Float64Histogram(telemetry.MetricOperationDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of LM calls, cache hits included"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	errs = append(errs, err)
	ins.tokens, err = m.Int64Histogram(telemetry.MetricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Tokens used by provider responses"),
		metric.WithExplicitBucketBoundaries(tokenBuckets...))
	errs = append(errs, err)
	ins.rateWait, err = m.Float64Histogram(telemetry.MetricRateLimitWait, metric.WithUnit("s"),
		metric.WithDescription("Waits imposed by the rate limiters"))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ins, nil
}

// clientAttrs are the attributes of one client's calls for one model,
// computed once: the span's, and the metric options for each outcome.
type clientAttrs struct {
	spanName string
	span     []attribute.KeyValue
	base     []attribute.KeyValue // provider and model, for metrics

	failures sync.Map // error type (telemetry.ErrorType) -> *failureOpts

	plain                         []metric.AddOption
	success, cacheHit             []metric.AddOption // for requests and attempts
	durSuccess, durCacheHit       []metric.RecordOption
	tokensIn, tokensOut, rateWait []metric.RecordOption
}

func newClientAttrs(provider, model string, p config.Provider) *clientAttrs {
	genai := provider
	if p.Name != "" {
		switch p.EffectiveKind() {
		case config.KindAzure:
			genai = "azure.ai.openai"
		case config.KindAnthropic:
			genai = "anthropic"
		default:
			genai = "openai"
		}
	}
	base := []attribute.KeyValue{
		telemetry.AttrGenAIOperationName.String(telemetry.OperationChat),
		telemetry.AttrGenAIProviderName.String(genai),
		telemetry.AttrGenAIRequestModel.String(model),
		telemetry.AttrProvider.String(provider),
	}
	span := append(append([]attribute.KeyValue(nil), base...), telemetry.AttrGenAISystem.String(genai))
	if host, port, ok := serverOf(p.BaseURL); ok {
		span = append(span, telemetry.AttrServerAddress.String(host))
		if port > 0 {
			span = append(span, telemetry.AttrServerPort.Int(port))
		}
	}
	with := func(kvs ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(append([]attribute.KeyValue(nil), base...), kvs...)...)
	}
	add := func(s attribute.Set) []metric.AddOption { return []metric.AddOption{metric.WithAttributeSet(s)} }
	rec := func(s attribute.Set) []metric.RecordOption { return []metric.RecordOption{metric.WithAttributeSet(s)} }
	success := with(telemetry.AttrOutcome.String(telemetry.OutcomeSuccess))
	cacheHit := with(telemetry.AttrOutcome.String(telemetry.OutcomeCacheHit))
	name := telemetry.OperationChat
	if model != "" {
		name += " " + model
	}
	return &clientAttrs{
		spanName:    name,
		span:        span,
		base:        base,
		plain:       add(with()),
		success:     add(success),
		cacheHit:    add(cacheHit),
		durSuccess:  rec(success),
		durCacheHit: rec(cacheHit),
		tokensIn:    rec(with(telemetry.AttrGenAITokenType.String(telemetry.TokenTypeInput))),
		tokensOut:   rec(with(telemetry.AttrGenAITokenType.String(telemetry.TokenTypeOutput))),
		rateWait:    rec(with()),
	}
}

// failureOpts are the metric options of the calls and attempts that
// failed with one error type.
type failureOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

// failure returns the metric options of a call or attempt that failed
// with err, built once for each error type: ErrorType has a small, fixed
// set of values.
func (a *clientAttrs) failure(err error) *failureOpts {
	typ := telemetry.ErrorType(err)
	if f, ok := a.failures.Load(typ); ok {
		return f.(*failureOpts)
	}
	set := metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), a.base...),
		telemetry.AttrOutcome.String(telemetry.OutcomeError),
		telemetry.AttrErrorType.String(typ))...))
	f, _ := a.failures.LoadOrStore(typ, &failureOpts{add: []metric.AddOption{set}, rec: []metric.RecordOption{set}})
	return f.(*failureOpts)
}

// serverOf returns the host and port of a base URL, never its user info.
func serverOf(baseURL string) (string, int, bool) {
	if baseURL == "" {
		return "", 0, false
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "", 0, false
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, portStr = u.Host, ""
	}
	port, _ := strconv.Atoi(portStr)
	if port == 0 {
		switch u.Scheme {
		case "https":
			port = 443
		case "http":
			port = 80
		}
	}
	return host, port, host != ""
}

// atomicInstruments holds the instruments of the runtime's current
// telemetry; nil when off.
type atomicInstruments = atomic.Pointer[instruments]

// clientTelemetry is a client's share of the instruments: the runtime's
// current instruments and the attributes of its calls by model.
type clientTelemetry struct {
	ins      *atomicInstruments
	provider string
	model    string
	provCfg  config.Provider
	attrs    sync.Map       // model -> *clientAttrs
	prices   *pricing.Table // nil: calls are not priced
}

// attrsFor returns the attributes of calls of model.
func (t *clientTelemetry) attrsFor(model string) *clientAttrs {
	if a, ok := t.attrs.Load(model); ok {
		return a.(*clientAttrs)
	}
	a, _ := t.attrs.LoadOrStore(model, newClientAttrs(t.provider, model, t.provCfg))
	return a.(*clientAttrs)
}

// lmCall measures one LM call in a client actor: its span (the GenAI
// "chat <model>" span), its attempts (spans of their own with step spans,
// else events of the call's span) and its metrics. A nil *lmCall
// (telemetry off) measures nothing; every method accepts it. The span's
// attributes are set once, when it ends: the SDK copies them at each
// SetAttributes.
//
// It holds in one allocation what every call needs: the caller's span as
// the new span's parent, the span's start options and its first attempt.
type lmCall struct {
	ins   *instruments
	attrs *clientAttrs
	start time.Time
	req   callRequest
	span  trace.Span // nil when tracing is off
	cache int8       // 0: not looked up, 1: hit, -1: miss
	tries int

	provider string
	prices   *pricing.Table

	parent parentSpan               // the caller's span, for startCall
	opts   [2]trace.SpanStartOption // the span's start options
	first  attempt                  // the first attempt
}

// callRequest is what the span of a call records of its request.
type callRequest struct {
	Model       string
	Messages    []lm.Message // only when content is recorded
	Temperature *float64
	Seed        *int
	MaxTokens   int
	N           int
}

// parentSpan stands for the caller's span, of which a client actor has
// only the span context, as the parent of a call's span: the SDK reads
// the parent from the context it starts a span in. Held in the lmCall,
// it saves an allocation per call over trace.ContextWithSpanContext; like
// the span that function makes, it records nothing.
type parentSpan struct {
	tracenoop.Span
	sc trace.SpanContext
}

// SpanContext returns the caller's span context.
func (p *parentSpan) SpanContext() trace.SpanContext { return p.sc }

// on reports whether telemetry is on.
func (t *clientTelemetry) on() bool { return t.ins.Load() != nil }

// startCall begins measuring a call of req received at start (zero:
// now), whose caller's span is parent.
func (t *clientTelemetry) startCall(parent trace.SpanContext, req lm.Request, start time.Time) *lmCall {
	ins := t.ins.Load()
	if ins == nil {
		return nil
	}
	dated := !start.IsZero()
	if !dated {
		start = time.Now()
	}
	c := &lmCall{ins: ins, attrs: t.attrsFor(req.Model), start: start, provider: t.provider, prices: t.prices}
	c.req = callRequest{Model: req.Model, Temperature: req.Temperature, Seed: req.Seed, MaxTokens: req.MaxTokens, N: req.N}
	if ins.content {
		c.req.Messages = req.Messages
	}
	if ins.tracer == nil {
		return c
	}
	ctx := context.Background()
	if parent.IsValid() {
		// The caller's span, in this process: not a remote parent.
		c.parent.sc = parent
		ctx = trace.ContextWithSpan(ctx, &c.parent)
	}
	// The options go in c's own array: a slice made here would escape
	// to the tracer, one more allocation.
	opts := c.opts[:1]
	opts[0] = clientKind
	if dated {
		opts = append(opts, trace.WithTimestamp(start))
	}
	_, c.span = ins.tracer.Start(ctx, c.attrs.spanName, opts...)
	return c
}

// clientKind is the span kind of LM calls and attempts, built once;
// clientKindOnly is the start options of an attempt.
var (
	clientKind     = trace.WithSpanKind(trace.SpanKindClient)
	clientKindOnly = []trace.SpanStartOption{clientKind}
)

// context returns ctx carrying the call's span, for the provider request.
func (c *lmCall) context(ctx context.Context) context.Context {
	if c == nil || c.span == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, c.span)
}

// lookedUp records the cache lookup: a hit or a miss.
func (c *lmCall) lookedUp(hit bool) {
	if c == nil {
		return
	}
	if hit {
		c.cache = 1
		c.ins.hits.Add(context.Background(), 1, c.attrs.plain...)
	} else {
		c.cache = -1
		c.ins.misses.Add(context.Background(), 1, c.attrs.plain...)
	}
}

// end finishes the call with its outcome. The span ends before the reply
// goes out, so that the caller's span always ends after it.
func (c *lmCall) end(resp lm.Response, err error) {
	if c == nil {
		return
	}
	ctx := context.Background()
	elapsed := time.Since(c.start).Seconds()
	switch {
	case err != nil:
		f := c.attrs.failure(err)
		c.ins.requests.Add(ctx, 1, f.add...)
		c.ins.duration.Record(ctx, elapsed, f.rec...)
	case resp.Cached:
		c.ins.requests.Add(ctx, 1, c.attrs.cacheHit...)
		c.ins.duration.Record(ctx, elapsed, c.attrs.durCacheHit...)
	default:
		c.ins.requests.Add(ctx, 1, c.attrs.success...)
		c.ins.duration.Record(ctx, elapsed, c.attrs.durSuccess...)
		c.ins.tokens.Record(ctx, int64(resp.Usage.PromptTokens), c.attrs.tokensIn...)
		c.ins.tokens.Record(ctx, int64(resp.Usage.CompletionTokens), c.attrs.tokensOut...)
	}
	if c.span == nil {
		return
	}
	if c.span.IsRecording() {
		buf := spanAttrBufs.Get().(*[]attribute.KeyValue)
		*buf = c.spanAttrs((*buf)[:0], resp, err)
		c.span.SetAttributes(*buf...)
		clear(*buf) // keep no values alive in the pool
		spanAttrBufs.Put(buf)
		if c.cache > 0 {
			c.span.AddEvent(telemetry.EventCacheHit)
		}
		if err != nil {
			c.span.SetStatus(codes.Error, err.Error())
		}
	}
	c.span.End()
}

// spanAttrBufs hold the attributes of call spans while they are set: the
// SDK copies them (SetAttributes keeps no reference to its argument), so
// one buffer serves call after call instead of a fresh kilobyte each.
var spanAttrBufs = sync.Pool{New: func() any {
	kvs := make([]attribute.KeyValue, 0, 24)
	return &kvs
}}

// spanAttrs appends every attribute of the call's span to kvs.
func (c *lmCall) spanAttrs(kvs []attribute.KeyValue, resp lm.Response, err error) []attribute.KeyValue {
	req := &c.req
	kvs = append(kvs, c.attrs.span...)
	if req.Temperature != nil {
		kvs = append(kvs, telemetry.AttrGenAIRequestTemperature.Float64(*req.Temperature))
	}
	if req.MaxTokens > 0 {
		kvs = append(kvs, telemetry.AttrGenAIRequestMaxTokens.Int(req.MaxTokens))
	}
	if req.Seed != nil {
		kvs = append(kvs, telemetry.AttrGenAIRequestSeed.Int(*req.Seed))
	}
	if req.N > 1 {
		kvs = append(kvs, telemetry.AttrGenAIRequestChoiceCount.Int(req.N))
	}
	if c.cache != 0 {
		kvs = append(kvs, telemetry.AttrCacheHit.Bool(c.cache > 0))
	}
	if c.tries > 1 {
		kvs = append(kvs, telemetry.AttrRetryAttempts.Int(c.tries))
	}
	if c.ins.content {
		if b, err := json.Marshal(lm.RedactImages(req.Messages)); err == nil {
			kvs = append(kvs, telemetry.AttrGenAIInputMessages.String(string(b)))
		}
	}
	if err != nil {
		return append(kvs, telemetry.AttrErrorType.String(telemetry.ErrorType(err)))
	}
	kvs = append(kvs,
		telemetry.AttrGenAIResponseModel.String(resp.Model),
		finishReasons(resp.Choices),
		telemetry.AttrGenAIUsageInputTokens.Int(resp.Usage.PromptTokens),
		telemetry.AttrGenAIUsageOutputTokens.Int(resp.Usage.CompletionTokens),
	)
	if resp.ID != "" {
		kvs = append(kvs, telemetry.AttrGenAIResponseID.String(resp.ID))
	}
	kvs = c.appendCostAttrs(kvs, resp)
	if c.ins.content {
		msgs := make([]lm.Message, len(resp.Choices))
		for i, ch := range resp.Choices {
			msgs[i] = ch.Message
		}
		if b, err := json.Marshal(msgs); err == nil {
			kvs = append(kvs, telemetry.AttrGenAIOutputMessages.String(string(b)))
		}
	}
	return kvs
}

// Finish reasons of the usual single-choice responses, built once
// (attribute values are immutable).
var (
	finishStop   = telemetry.AttrGenAIResponseFinishReasons.StringSlice([]string{"stop"})
	finishLength = telemetry.AttrGenAIResponseFinishReasons.StringSlice([]string{"length"})
)

// finishReasons returns the finish reason of each choice as an attribute.
func finishReasons(choices []lm.Choice) attribute.KeyValue {
	if len(choices) == 1 {
		switch choices[0].FinishReason {
		case "stop":
			return finishStop
		case "length":
			return finishLength
		}
	}
	reasons := make([]string, len(choices))
	for i, ch := range choices {
		reasons[i] = ch.FinishReason
	}
	return telemetry.AttrGenAIResponseFinishReasons.StringSlice(reasons)
}

// inFlight adds d to the provider requests in flight.
func (c *lmCall) inFlight(d int64) {
	if c != nil {
		c.ins.inFlight.Add(context.Background(), d, c.attrs.plain...)
	}
}

// attempt is one provider request of a call, with its span when steps
// have spans of their own. The first is held in its lmCall.
type attempt struct {
	c    *lmCall
	n    int
	wait time.Duration // imposed by the rate limiter
	span trace.Span    // nil when tracing is off or steps have no spans
}

// events returns the span the attempt's events go to: its own, else its
// call's when tracing is on; nil when neither records.
func (a *attempt) events() trace.Span {
	span := a.span
	if span == nil {
		span = a.c.span
	}
	if span == nil || !span.IsRecording() {
		return nil
	}
	return span
}

// attemptNames are the span names of the first attempts, and
// attemptNumbers their dspex.retry.attempt attributes, as slices for
// SetAttributes: a variadic argument built at each call would be
// allocated.
var (
	attemptNames   = [...]string{"attempt 0", "attempt 1", "attempt 2", "attempt 3", "attempt 4", "attempt 5", "attempt 6", "attempt 7", "attempt 8"}
	attemptNumbers = func() (n [len(attemptNames)][]attribute.KeyValue) {
		for i := range n {
			n[i] = []attribute.KeyValue{telemetry.AttrRetryAttempt.Int(i)}
		}
		return n
	}()
)

// startAttempt begins measuring the next attempt; ctx is the call's
// context, and the returned one holds the attempt's span.
func (c *lmCall) startAttempt(ctx context.Context) (context.Context, *attempt) {
	if c == nil {
		return ctx, nil
	}
	c.tries++
	var a *attempt
	if c.tries == 1 {
		a = &c.first
		*a = attempt{c: c, n: 1}
	} else {
		a = &attempt{c: c, n: c.tries}
		c.ins.retries.Add(context.Background(), 1, c.attrs.plain...)
	}
	if c.span != nil && c.ins.steps {
		var name string
		if a.n < len(attemptNames) {
			name = attemptNames[a.n]
		} else {
			name = "attempt " + strconv.Itoa(a.n)
		}
		ctx, a.span = c.ins.tracer.Start(ctx, name, clientKindOnly...)
	}
	return ctx, a
}

// rateLimited records a wait the rate limiter imposed (d > 0), or its
// refusal (err != nil).
func (a *attempt) rateLimited(d time.Duration, err error) {
	if a == nil || d <= 0 && err == nil {
		return
	}
	a.wait = d
	if d > 0 {
		a.c.ins.rateWait.Record(context.Background(), d.Seconds(), a.c.attrs.rateWait...)
	}
	span := a.events()
	if span == nil {
		return
	}
	if err != nil {
		span.AddEvent(telemetry.EventRateLimited)
		return
	}
	span.AddEvent(telemetry.EventRateLimitWait, trace.WithAttributes(telemetry.AttrRateLimitWait.Float64(d.Seconds())))
}

// end finishes the attempt with its outcome; sent reports that the
// request went to the provider (an open breaker or the rate limiter may
// refuse it first).
func (a *attempt) end(err error, sent bool) {
	if a == nil {
		return
	}
	c := a.c
	ctx := context.Background()
	rejected := !sent && errors.Is(err, lm.ErrCircuitOpen)
	switch {
	case rejected:
		c.ins.rejections.Add(ctx, 1, c.attrs.plain...)
	case !sent:
	case err == nil:
		c.ins.attempts.Add(ctx, 1, c.attrs.success...)
	default:
		c.ins.attempts.Add(ctx, 1, c.attrs.failure(err).add...)
	}
	if a.span == nil {
		a.recordOnCall(err, rejected)
		return
	}
	if a.span.IsRecording() {
		if err == nil && a.wait <= 0 && a.n < len(attemptNumbers) {
			a.span.SetAttributes(attemptNumbers[a.n]...)
		} else {
			a.span.SetAttributes(a.attrs(err, true)...)
		}
		if rejected {
			a.span.AddEvent(telemetry.EventBreakerRejected)
		}
		if err != nil {
			a.span.SetStatus(codes.Error, err.Error())
		}
	}
	a.span.End()
}

// recordOnCall records the outcome of an attempt without a span of its
// own on its call's span: a breaker rejection as its event, a failure as
// an "exception" event (telemetry.StepFailed) with the attempt's
// attributes. An attempt that succeeds records nothing more: the call's
// span has its outcome, and dspex.retry.attempts when it took more than
// one.
func (a *attempt) recordOnCall(err error, rejected bool) {
	span := a.events() // the call's: the attempt has no span
	if err == nil || span == nil {
		return
	}
	if rejected {
		span.AddEvent(telemetry.EventBreakerRejected)
	}
	telemetry.StepFailed(span, telemetry.StepAttempt, err, a.attrs(err, false)...)
}

// attrs returns the attributes of the attempt: its number, the rate
// limiter's wait, and with err the failure's HTTP status, and its
// error.type when withType.
func (a *attempt) attrs(err error, withType bool) []attribute.KeyValue {
	kvs := make([]attribute.KeyValue, 0, 4)
	kvs = append(kvs, telemetry.AttrRetryAttempt.Int(a.n))
	if a.wait > 0 {
		kvs = append(kvs, telemetry.AttrRateLimitWait.Float64(a.wait.Seconds()))
	}
	if err != nil {
		if withType {
			kvs = append(kvs, telemetry.AttrErrorType.String(telemetry.ErrorType(err)))
		}
		var pe *lm.ProviderError
		if errors.As(err, &pe) && pe.Status != 0 {
			kvs = append(kvs, telemetry.AttrHTTPStatus.Int(pe.Status))
		}
	}
	return kvs
}

// breakerChanged counts a breaker state change of the client.
func (t *clientTelemetry) breakerChanged(from, to BreakerState) {
	ins := t.ins.Load()
	if ins == nil {
		return
	}
	a := t.attrsFor(t.model)
	set := attribute.NewSet(append(append([]attribute.KeyValue(nil), a.base...),
		telemetry.AttrBreakerFrom.String(string(from)), telemetry.AttrBreakerState.String(string(to)))...)
	ins.transitions.Add(context.Background(), 1, metric.WithAttributeSet(set))
}
