package lm_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
)

// hamlet is a question in the Chat adapter's format that simlm answers.
var hamlet = lm.Request{Messages: []lm.Message{
	{Role: lm.RoleSystem, Content: "Your input fields are:\n1. `question` (str)\nYour output fields are:\n1. `answer` (str)\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given the fields `question`, produce the fields `answer`."},
	{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nWho wrote Hamlet?\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."},
}}

func simOpenAI(t *testing.T, opts ...simlm.Option) (*simlm.Server, *lm.OpenAI) {
	t.Helper()
	srv, err := simlm.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
	})
	return srv, newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL(), Model: "sim", HTTPClient: &http.Client{Transport: tr}})
}

func TestOpenAIStreamEqualsChat(t *testing.T) {
	_, c := simOpenAI(t)
	ctx := context.Background()
	want, err := c.Chat(ctx, hamlet)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []lm.Chunk
	var acc lm.Accumulator
	for ch, err := range c.Stream(ctx, hamlet) {
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, ch)
		acc.Add(ch)
	}
	if len(chunks) < 3 {
		t.Fatalf("%d chunks, want several", len(chunks))
	}
	got := acc.Response()
	if got.Choices[0].Message.Content != want.Choices[0].Message.Content ||
		got.Choices[0].FinishReason != want.Choices[0].FinishReason || got.Usage != want.Usage || got.Model != want.Model {
		t.Errorf("streamed %+v\nblocking %+v", got, want)
	}
	if last := chunks[len(chunks)-1]; last.Usage == nil {
		t.Errorf("last chunk %+v has no usage", last)
	}
	if got, err := lm.Collect(c.Stream(ctx, hamlet)); err != nil || got.Choices[0].Message.Content != want.Choices[0].Message.Content {
		t.Errorf("Collect = %+v, %v", got, err)
	}
}

func TestOpenAIStreamErrors(t *testing.T) {
	tests := []struct {
		name      string
		faults    simlm.Faults
		req       lm.Request
		status    int
		sentinel  error
		retryable bool
	}{
		{name: "status before the stream", faults: simlm.Faults{Rate500: 1}, req: hamlet, status: 500, retryable: true},
		{name: "rate limited", faults: simlm.Faults{Rate429: 1}, req: hamlet, status: 429, sentinel: lm.ErrRateLimited, retryable: true},
		{name: "cut mid-way", faults: simlm.Faults{RateCut: 1}, req: hamlet, status: 200, retryable: true},
		{name: "several choices", req: lm.Request{Messages: hamlet.Messages, N: 2}, sentinel: lm.ErrStreamChoices},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := simOpenAI(t, simlm.WithFaults(tc.faults))
			var last error
			n := 0
			for _, err := range c.Stream(context.Background(), tc.req) {
				if err != nil {
					last = err
					break
				}
				n++
			}
			var pe *lm.ProviderError
			if !errors.As(last, &pe) {
				t.Fatalf("error %v (after %d chunks) is not a *ProviderError", last, n)
			}
			if pe.Status != tc.status || pe.Retryable != tc.retryable {
				t.Errorf("error %+v, want status %d retryable %v", pe, tc.status, tc.retryable)
			}
			if tc.sentinel != nil && !errors.Is(last, tc.sentinel) {
				t.Errorf("error %v does not match %v", last, tc.sentinel)
			}
		})
	}
}

func TestOpenAIStreamCancel(t *testing.T) {
	srv, c := simOpenAI(t, simlm.WithChunkLatency(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	for _, err := range c.Stream(ctx, hamlet) {
		if err != nil {
			last = err
			break
		}
		cancel() // after the first chunk; the next would take an hour
	}
	if !errors.Is(last, context.Canceled) || lm.IsRetryable(last) {
		t.Errorf("error %v, want context.Canceled, not retryable", last)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
}

func TestStreamChatOverPlainLM(t *testing.T) {
	m := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{ID: "x", Model: "plain", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "hi"}, FinishReason: "stop"}},
			Usage: lm.Usage{TotalTokens: 3}}, nil
	})
	got, err := lm.Collect(lm.StreamChat(context.Background(), m, hamlet))
	if err != nil || got.Choices[0].Message.Content != "hi" || got.Usage.TotalTokens != 3 || got.Model != "plain" {
		t.Errorf("Collect(StreamChat(plain)) = %+v, %v", got, err)
	}
}
