package telemetry

import "go.opentelemetry.io/otel/attribute"

// InstrumentationName is the tracer and meter name of the dspex
// instrumentation.
const InstrumentationName = "github.com/dspex-go/dspex"

// Attribute keys of the OpenTelemetry GenAI semantic conventions, used on LM
// call spans and metrics.
const (
	// AttrGenAIOperationName is the operation: OperationChat for chat
	// completions.
	AttrGenAIOperationName = attribute.Key("gen_ai.operation.name")
	// AttrGenAIProviderName is the GenAI provider as the conventions name it
	// ("openai", "azure.ai.openai"); dspex's own provider name is
	// AttrProvider.
	AttrGenAIProviderName = attribute.Key("gen_ai.provider.name")
	// AttrGenAISystem is the older name of AttrGenAIProviderName, still
	// read by many backends; set both.
	AttrGenAISystem = attribute.Key("gen_ai.system")
	// AttrGenAIRequestModel is the model requested.
	AttrGenAIRequestModel = attribute.Key("gen_ai.request.model")
	// AttrGenAIRequestTemperature is the sampling temperature requested.
	AttrGenAIRequestTemperature = attribute.Key("gen_ai.request.temperature")
	// AttrGenAIRequestMaxTokens is the completion length cap requested.
	AttrGenAIRequestMaxTokens = attribute.Key("gen_ai.request.max_tokens")
	// AttrGenAIRequestSeed is the sampling seed requested.
	AttrGenAIRequestSeed = attribute.Key("gen_ai.request.seed")
	// AttrGenAIRequestChoiceCount is the number of choices requested (n).
	AttrGenAIRequestChoiceCount = attribute.Key("gen_ai.request.choice.count")
	// AttrGenAIResponseModel is the model that answered.
	AttrGenAIResponseModel = attribute.Key("gen_ai.response.model")
	// AttrCost is the cost of an LM call, in AttrCurrency (0 for a cache
	// hit; absent when the model has no known price).
	AttrCost = attribute.Key("dspex.lm.cost")
	// AttrCurrency is the ISO 4217 currency of an LM cost.
	AttrCurrency = attribute.Key("dspex.cost.currency")
	// AttrGenAIResponseID is the provider's completion id.
	AttrGenAIResponseID = attribute.Key("gen_ai.response.id")
	// AttrGenAIResponseFinishReasons lists the finish reason of each choice
	// (a string slice).
	AttrGenAIResponseFinishReasons = attribute.Key("gen_ai.response.finish_reasons")
	// AttrGenAIUsageInputTokens counts prompt tokens.
	AttrGenAIUsageInputTokens = attribute.Key("gen_ai.usage.input_tokens")
	// AttrGenAIUsageOutputTokens counts completion tokens.
	AttrGenAIUsageOutputTokens = attribute.Key("gen_ai.usage.output_tokens")
	// AttrGenAITokenType is "input" or "output" on the token usage metric.
	AttrGenAITokenType = attribute.Key("gen_ai.token.type")
	// AttrGenAIInputMessages holds the prompt messages as JSON. Content:
	// recorded only when config.Telemetry.RecordContent is set.
	AttrGenAIInputMessages = attribute.Key("gen_ai.input.messages")
	// AttrGenAIOutputMessages holds the completions as JSON. Content:
	// recorded only when config.Telemetry.RecordContent is set.
	AttrGenAIOutputMessages = attribute.Key("gen_ai.output.messages")
	// AttrErrorType is the class of a failure (an HTTP status, a sentinel
	// name such as "circuit_open").
	AttrErrorType = attribute.Key("error.type")
	// AttrServerAddress is the provider's host.
	AttrServerAddress = attribute.Key("server.address")
	// AttrServerPort is the provider's port.
	AttrServerPort = attribute.Key("server.port")
	// AttrHTTPStatus is the HTTP status of a provider response.
	AttrHTTPStatus = attribute.Key("http.response.status_code")
)

// Values of AttrGenAIOperationName and AttrGenAITokenType.
const (
	OperationChat   = "chat"
	TokenTypeInput  = "input"
	TokenTypeOutput = "output"
)

// Values of AttrOutcome.
const (
	// OutcomeSuccess is an LM call answered by the provider.
	OutcomeSuccess = "success"
	// OutcomeCacheHit is an LM call answered from the response cache.
	OutcomeCacheHit = "cache_hit"
	// OutcomeError is a failed LM call or attempt.
	OutcomeError = "error"
)

// Values of AttrStep: the steps of a call, which are also the first word
// of their spans' names when they have spans of their own.
const (
	// StepFormat is an adapter formatting a prompt.
	StepFormat = "format"
	// StepParse is an adapter parsing a reply.
	StepParse = "parse"
	// StepAttempt is one provider request of an LM call.
	StepAttempt = "attempt"
)

// Attribute keys specific to dspex.
const (
	// AttrProvider is the dspex provider name (config.Provider.Name).
	AttrProvider = attribute.Key("dspex.provider")
	// AttrCacheHit reports whether a response came from the cache (bool).
	AttrCacheHit = attribute.Key("dspex.cache.hit")
	// AttrRetryAttempt is the attempt number of a provider request, from 1.
	AttrRetryAttempt = attribute.Key("dspex.retry.attempt")
	// AttrRetryAttempts is the number of provider requests an LM call
	// made, on its span when it made more than one.
	AttrRetryAttempts = attribute.Key("dspex.retry.attempts")
	// AttrStep names the step ("format", "parse", "attempt") an
	// "exception" event of a failed step belongs to, when steps have no
	// spans of their own (StepFailed).
	AttrStep = attribute.Key("dspex.step")
	// AttrBreakerState is the circuit breaker state ("closed", "open",
	// "half-open").
	AttrBreakerState = attribute.Key("dspex.breaker.state")
	// AttrRateLimitWait is the time a request waited for the rate limiter,
	// in seconds (float64).
	AttrRateLimitWait = attribute.Key("dspex.rate_limit.wait")
	// AttrProgram is the name of the program (module) running.
	AttrProgram = attribute.Key("dspex.program")
	// AttrPredictor is the path of the predictor within its program.
	AttrPredictor = attribute.Key("dspex.predictor")
	// AttrSignature is the signature string ("question -> answer").
	AttrSignature = attribute.Key("dspex.signature")
	// AttrAdapter is the adapter used ("chat", "json").
	AttrAdapter = attribute.Key("dspex.adapter")
	// AttrOptimizer is the optimizer compiling a program.
	AttrOptimizer = attribute.Key("dspex.optimizer")
	// AttrExampleCount is the number of examples evaluated or used.
	AttrExampleCount = attribute.Key("dspex.example.count")
	// AttrScore is an evaluation score (float64).
	AttrScore = attribute.Key("dspex.score")
	// AttrActor is the actor name a span or metric belongs to.
	AttrActor = attribute.Key("dspex.actor")
	// AttrProgramType is the Go type of the program (module) running:
	// "Predict", "ChainOfThought", "ReAct"...
	AttrProgramType = attribute.Key("dspex.program.type")
	// AttrOutcome is how an LM call or attempt ended: OutcomeSuccess,
	// OutcomeCacheHit or OutcomeError.
	AttrOutcome = attribute.Key("dspex.outcome")
	// AttrBreakerFrom is the state a breaker left (AttrBreakerState is the
	// state it entered).
	AttrBreakerFrom = attribute.Key("dspex.breaker.from")
	// AttrFallback reports that the adapter fell back from Chat to JSON.
	AttrFallback = attribute.Key("dspex.adapter.fallback")
	// AttrExampleIndex is the index of an example in its dev set.
	AttrExampleIndex = attribute.Key("dspex.example.index")
	// AttrExampleStatus is how an example ended: "scored", "failed" or
	// "not_run".
	AttrExampleStatus = attribute.Key("dspex.example.status")
	// AttrFailedCount is the number of failed examples of a run.
	AttrFailedCount = attribute.Key("dspex.example.failed")
	// AttrScoredCount is the number of scored examples of a run.
	AttrScoredCount = attribute.Key("dspex.example.scored")
	// AttrNotRunCount is the number of examples a run did not finish.
	AttrNotRunCount = attribute.Key("dspex.example.not_run")
	// AttrDescription is the label of an evaluation run.
	AttrDescription = attribute.Key("dspex.evaluate.description")
	// AttrTrial is the number (seed) of an optimisation trial.
	AttrTrial = attribute.Key("dspex.trial")
	// AttrCandidate describes the candidate program a trial scores.
	AttrCandidate = attribute.Key("dspex.candidate")
	// AttrRound is a bootstrapping round, from 0.
	AttrRound = attribute.Key("dspex.round")
)

// Names of span events.
const (
	// EventCacheHit marks an LM call answered from the response cache.
	EventCacheHit = "dspex.cache.hit"
	// EventBreakerRejected marks an attempt refused by an open breaker.
	EventBreakerRejected = "dspex.breaker.rejected"
	// EventRateLimitWait marks an attempt that waited for the rate
	// limiter; AttrRateLimitWait holds the wait.
	EventRateLimitWait = "dspex.rate_limit.wait"
	// EventRateLimited marks an attempt refused by the rate limiter.
	EventRateLimited = "dspex.rate_limited"
	// EventFallback marks the adapter's fallback from Chat to JSON.
	EventFallback = "dspex.adapter.fallback"
)

// Metric names of the GenAI conventions and of dspex.
const (
	// MetricTokenUsage is the histogram of tokens per request
	// ({token}), split by AttrGenAITokenType.
	MetricTokenUsage = "gen_ai.client.token.usage"
	// MetricOperationDuration is the histogram of LM call durations (s).
	MetricOperationDuration = "gen_ai.client.operation.duration"
	// MetricCacheHits counts cache hits.
	MetricCacheHits = "dspex.cache.hits"
	// MetricCacheMisses counts cache misses.
	MetricCacheMisses = "dspex.cache.misses"
	// MetricRetries counts retried provider requests.
	MetricRetries = "dspex.retries"
	// MetricBreakerRejections counts requests refused by an open breaker.
	MetricBreakerRejections = "dspex.breaker.rejections"
	// MetricRestarts counts actor restarts by supervisors, by AttrActor.
	MetricRestarts = "dspex.supervision.restarts"
	// MetricCost sums the cost of priced LM calls, by provider, model
	// and currency (AttrCurrency); unpriced calls are not counted.
	MetricCost = "dspex.lm.cost"
	// MetricRequests counts the LM calls client actors received, by
	// provider, model and AttrOutcome.
	MetricRequests = "dspex.lm.requests"
	// MetricAttempts counts the requests sent to providers (every retry
	// attempt), by provider, model and AttrOutcome.
	MetricAttempts = "dspex.lm.attempts"
	// MetricInFlight is the number of provider requests running now
	// (an UpDownCounter).
	MetricInFlight = "dspex.lm.in_flight"
	// MetricBreakerTransitions counts circuit breaker state changes, by
	// AttrBreakerFrom and AttrBreakerState.
	MetricBreakerTransitions = "dspex.breaker.transitions"
	// MetricRateLimitWait is the histogram of the waits rate limiters
	// imposed (s).
	MetricRateLimitWait = "dspex.rate_limit.wait"
	// MetricEvalExamples counts evaluated examples by AttrExampleStatus:
	// its rate is the evaluation throughput.
	MetricEvalExamples = "dspex.evaluate.examples"
	// MetricEvalExampleDuration is the histogram of per-example latencies
	// (s).
	MetricEvalExampleDuration = "dspex.evaluate.example.duration"
	// MetricEvalScore is the histogram of per-example scores.
	MetricEvalScore = "dspex.evaluate.score"
	// MetricEvalRunScore is the histogram of whole-run scores (the mean
	// score, as evaluate.Result.Score).
	MetricEvalRunScore = "dspex.evaluate.run.score"
)
