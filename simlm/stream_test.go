package simlm_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/dspex-go/dspex/simlm"
)

// TestStreamMatchesBlocking checks that a streamed reply is the blocking
// reply cut in chunks of a few tokens, with the finish reason and the usage
// last.
func TestStreamMatchesBlocking(t *testing.T) {
	srv, _ := start(t, simlm.WithChunkLatency(time.Millisecond))
	cl := openaiClient(srv)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		spec spec
		max  int
	}{
		{"chat", cot("Who wrote Hamlet?"), 0},
		{"truncated", cot("Who wrote Hamlet?"), 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := openai.ChatCompletionRequest{Model: "m", Messages: toOpenAI(tc.spec), MaxTokens: tc.max}
			want, err := cl.CreateChatCompletion(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			req.Stream = true
			req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
			st, err := cl.CreateChatCompletionStream(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var (
				text       strings.Builder
				chunks     int
				finish     openai.FinishReason
				usage      *openai.Usage
				afterUsage int
			)
			for {
				ev, err := st.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if usage != nil {
					afterUsage++
				}
				for _, c := range ev.Choices {
					if c.Delta.Content != "" {
						chunks++
						if finish != "" {
							t.Errorf("content %q after the finish reason", c.Delta.Content)
						}
					}
					text.WriteString(c.Delta.Content)
					if c.FinishReason != "" {
						finish = c.FinishReason
					}
				}
				if ev.Usage != nil {
					usage = ev.Usage
				}
			}
			if got := text.String(); got != want.Choices[0].Message.Content {
				t.Errorf("streamed text\n%q\nwant\n%q", got, want.Choices[0].Message.Content)
			}
			if chunks < 3 {
				t.Errorf("%d content chunks, want several", chunks)
			}
			if finish != want.Choices[0].FinishReason {
				t.Errorf("finish %q, want %q", finish, want.Choices[0].FinishReason)
			}
			if usage == nil || *usage != want.Usage || afterUsage != 0 {
				t.Errorf("usage %+v (events after it: %d), want %+v last", usage, afterUsage, want.Usage)
			}
		})
	}
}

// TestStreamCut checks that a cut fault breaks the stream mid-way without a
// finish reason, and is logged.
func TestStreamCut(t *testing.T) {
	srv, _ := start(t, simlm.WithFaults(simlm.Faults{RateCut: 1}))
	cl := openaiClient(srv)
	st, err := cl.CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
		Model: "m", Messages: toOpenAI(cot("Who wrote Hamlet?")), Stream: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var text strings.Builder
	var last error
	for {
		ev, err := st.Recv()
		if err != nil {
			last = err
			break
		}
		for _, c := range ev.Choices {
			text.WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				t.Fatalf("a cut stream sent its finish reason")
			}
		}
	}
	if !errors.Is(last, io.ErrUnexpectedEOF) {
		t.Errorf("stream ended with %v, want an unexpected EOF", last)
	}
	if text.Len() == 0 {
		t.Errorf("no text before the cut")
	}
	// The client can see the cut before the handler has returned and
	// logged the request.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	log := srv.Requests()
	if len(log) != 1 || log[0].Fault != "cut" {
		t.Errorf("log %+v, want one cut request", log)
	}
}

// TestStreamClientGone checks that a client leaving mid-stream ends the
// handler: the in-flight counter drops to zero.
func TestStreamClientGone(t *testing.T) {
	srv, _ := start(t, simlm.WithChunkLatency(time.Hour))
	cl := openaiClient(srv)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := cl.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{
		Model: "m", Messages: toOpenAI(cot("Who wrote Hamlet?")), Stream: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil { // the role chunk
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil { // the first content chunk; the next waits an hour
		t.Fatal(err)
	}
	cancel()
	st.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats().ByStatus[499]; got != 1 {
		t.Errorf("ByStatus[499] = %d, want 1", got)
	}
}
