// Package lm defines what dspex needs from a language model and provides
// OpenAI-compatible and Anthropic implementations.
//
// # Language models
//
// An [LM] completes chats: [LM.Chat] takes a [Request] (model, messages,
// sampling options) and returns a [Response] holding one or more [Choice]s
// and the token [Usage]. Every implementation must be safe for concurrent
// use. [Func] adapts a plain function, which is handy for tests and
// middleware. Zero values in a Request mean "the provider's default";
// pointer fields ([Request.Temperature], [Request.Seed]) distinguish an
// explicit zero from "unset" ([Float] and [Int] build the pointers).
//
// A [Message] is text ([Message.Content]), or, when it carries images,
// content parts ([Message.Parts], [ContentPart]: text, and images by URL
// or as base64 data: URLs) that the providers send as OpenAI image_url
// parts and Anthropic image blocks. [RedactImages] and [ImagePlaceholder]
// keep image bytes out of logs, traces and history.
//
// An [Embedder] turns texts into vectors ([EmbedRequest], [EmbedResponse]),
// for optimizers that pick demonstrations by similarity.
//
// # Providers
//
// [NewOpenAI] builds an [OpenAI] client for any server that speaks the
// OpenAI chat completions API: OpenAI itself, Azure OpenAI
// ([APITypeAzure]), Gemini's OpenAI-compatible endpoint, Ollama, vLLM, the
// llama.cpp server, LiteLLM and the dspex simulator. [OpenAIConfig] names
// the base URL, key, default models and extra headers; the API key is read
// from OPENAI_API_KEY when not given and never appears in errors or in the
// client's String.
//
// [NewAnthropic] builds an [Anthropic] client for Anthropic's Messages API
// (Claude models) on the official SDK. [AnthropicConfig] names the base URL,
// key (ANTHROPIC_API_KEY when not given), default model and max_tokens.
// System messages become the system prompt; the repeated prefix of a DSPy
// prompt (system prompt and demos) is marked for Anthropic's prompt cache
// unless [AnthropicConfig.NoPromptCache] is set, and [Usage] reports the
// tokens read from and written to that cache. API errors unwrap to an
// [*AnthropicError].
//
// A provider does one HTTP request per call (an Anthropic request for N
// completions makes N): no retries, caching or rate limiting. The dspex runtime layers those around it (client actors with a
// cache, circuit breaker, rate limiter and backoff), driven by the error
// classification below.
//
// An explicit zero temperature is sent as "temperature": 0, although
// go-openai's request type drops a zero temperature; without it, servers
// would sample at their default (often 1). Request.MaxTokens is sent as
// max_tokens, which every compatible server accepts, except for OpenAI
// reasoning models, which get max_completion_tokens (see
// [OpenAIConfig.MaxCompletionTokens]).
//
// # Errors
//
// Every failure of a provider call is a *[ProviderError] naming the
// provider, model and HTTP status, and saying whether the request may
// succeed if sent again (Retryable: network errors, 408, 409, 429 and 5xx)
// and how long the provider asked to wait (RetryAfter, from the Retry-After
// or retry-after-ms header). It wraps the cause, so errors.As reaches
// go-openai's *openai.APIError or *openai.RequestError. Callers branch on
// sentinels with errors.Is:
//
//   - [ErrRateLimited]: HTTP 429, or a local rate limiter said no;
//   - [ErrCircuitOpen]: a circuit breaker refused to send the request
//     (a [*CircuitOpenError], which unwraps to the failure that opened it);
//   - [ErrNoChoices]: the provider answered without any completion;
//   - [ErrNoLM]: a program ran without a language model;
//   - [ErrResponseTooLarge]: the reply passed the size cap
//     (OpenAIConfig.MaxResponseBytes, 8 MiB by default).
//
// [IsRetryable] tells a retry loop whether to try again. When the caller's
// context ends, the error matches context.Canceled or
// context.DeadlineExceeded and is never retryable; a timeout of the
// provider's own http.Client is a retryable network error instead.
// Invalid configurations are reported as a *[ConfigError] naming the field.
//
// # Streaming
//
// An LM may also implement [Streamer]: Stream yields the reply of the
// first choice as [Chunk] values (text deltas, then the finish reason,
// then the usage) as an iter.Seq2, and an error as its last value when the
// request or the stream fails (a stream cut off before its finish reason
// is [ErrIncompleteStream], retryable). [OpenAI] streams over server-sent
// events. [StreamChat] streams from any LM, answering in one chunk when it
// cannot stream; [Accumulator] and [Collect] assemble chunks into the
// Response a blocking Chat returns.
//
// # The context LM
//
// [NewContext] attaches a default LM to a context and [FromContext]
// retrieves it, so that programs run with that context use it when they
// were not given one explicitly.
//
// # Testing
//
// Package [github.com/dspex-go/dspex/lm/lmtest] holds a fake
// OpenAI-compatible server and a conformance suite that every provider
// must pass.
package lm
