// Package lmtest helps test language model providers and the code that
// uses them, without a network: a fake OpenAI-compatible server and a
// conformance suite.
//
// # The fake server
//
// [NewServer] starts a [Server] on 127.0.0.1 that implements the chat
// completions and embeddings endpoints of the OpenAI API. It validates
// requests like the real API (a model and messages are required), records
// every [Call] with its decoded body and headers, and answers as a
// [Handler] scripts each call: reply texts, number of choices, finish
// reasons, usage, HTTP status and error message, Retry-After, a raw body,
// a delay, a wait for a channel, or a dropped connection ([Script]). The
// zero Script echoes the last user message, so a Server with a nil Handler
// is a working model. Point a client at [Server.URL].
//
//	srv := lmtest.NewServer(func(c lmtest.Call) lmtest.Script {
//		if c.Chat != nil && c.Chat.Model == "busy" {
//			return lmtest.Script{Status: 429, RetryAfter: "2"}
//		}
//		return lmtest.Script{Replies: []string{"42"}}
//	})
//	defer srv.Close()
//
// # The conformance suite
//
// [Run] checks that an [github.com/dspex-go/dspex/lm.LM] behaves as an
// OpenAI-compatible provider (or, with [WithProtocol]([Anthropic]), an
// Anthropic Messages API provider) must: request and response mapping, error
// classification (retryable statuses, rate limiting, Retry-After), native
// tool calling (tools, tool choice, tool calls and results),
// cancellation, concurrency and that the API key never leaks into errors.
// It starts its own Server for each subtest; the factory builds the LM
// under test for the given base URL, with no retries or caching:
//
//	func TestConformance(t *testing.T) {
//		lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
//			c, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: baseURL, APIKey: "sk-test"})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return c
//		})
//	}
package lmtest
