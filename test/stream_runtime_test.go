package test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
)

// streamQuestion is a prompt in the Chat adapter's format that the
// simulator answers in a few dozen tokens.
var streamQuestion = lm.Request{Messages: []lm.Message{
	{Role: lm.RoleSystem, Content: "Your input fields are:\n1. `question` (str)\nYour output fields are:\n1. `reasoning` (str)\n2. `answer` (str)\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given the fields `question`, produce the fields `reasoning`, `answer`."},
	{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nWho wrote Hamlet?\n\nRespond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."},
}}

func streamOf(t *testing.T, m lm.LM) lm.Streamer {
	t.Helper()
	s, ok := m.(lm.Streamer)
	if !ok {
		t.Fatalf("%v is not an lm.Streamer", m)
	}
	return s
}

// TestRuntimeStreamCacheAndRetry streams through the client actor: the
// stream equals the blocking call, a failure before the first chunk is
// retried, and a finished stream is cached and replays as a stream.
func TestRuntimeStreamCacheAndRetry(t *testing.T) {
	srv := rtSim(t, simlm.WithChunkLatency(time.Millisecond))
	cfg := rtConfig(srv)
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = 0
	cfg.Cache.Enabled = true
	rt := rtStart(t, dspex.WithConfig(cfg))
	m := streamOf(t, rt.LM("sim"))
	ctx := rtCtx(t)

	blocking := streamQuestion
	blocking.NoCache = true
	want, err := m.Chat(ctx, blocking)
	if err != nil {
		t.Fatal(err)
	}

	srv.FailNext(1, 503)
	before := srv.Stats().Requests
	var chunks int
	var acc lm.Accumulator
	for c, err := range m.Stream(ctx, streamQuestion) {
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		acc.Add(c)
	}
	got := acc.Response()
	if chunks < 3 || got.Cached {
		t.Errorf("%d chunks (cached %v), want several fresh ones", chunks, got.Cached)
	}
	if got.Choices[0].Message.Content != want.Choices[0].Message.Content || got.Usage != want.Usage {
		t.Errorf("streamed %+v\nwant %+v", got, want)
	}
	if n := srv.Stats().Requests - before; n != 2 {
		t.Errorf("%d provider requests, want 2 (one retry before the first chunk)", n)
	}

	before = srv.Stats().Requests
	chunks = 0
	acc = lm.Accumulator{}
	for c, err := range m.Stream(ctx, streamQuestion) {
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		acc.Add(c)
	}
	if again := acc.Response(); !again.Cached || again.Choices[0].Message.Content != got.Choices[0].Message.Content || chunks != 1 {
		t.Errorf("second stream: %d chunks, cached %v, text %q", chunks, again.Cached, again.Choices[0].Message.Content)
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("a cache hit sent %d provider requests", n)
	}
	// The blocking call finds the streamed response in the cache too.
	if r, err := m.Chat(ctx, streamQuestion); err != nil || !r.Cached {
		t.Errorf("Chat after the stream: cached %v, %v", r.Cached, err)
	}
	st, err := rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Clients {
		if c.InFlight != 0 {
			t.Errorf("client %s has %d requests in flight", c.ID, c.InFlight)
		}
	}
}

// TestRuntimeStreamCancel cancels a stream mid-way: the provider request
// ends (the simulator's in-flight count drops to zero) and the error is
// the cancellation.
func TestRuntimeStreamCancel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		leave func(cancel context.CancelFunc) bool // false: break out of the loop
	}{
		{"cancel the context", func(cancel context.CancelFunc) bool { cancel(); return true }},
		{"break out of the loop", func(context.CancelFunc) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rtSim(t, simlm.WithChunkLatency(time.Hour))
			rt := rtStart(t, dspex.WithConfig(rtConfig(srv)))
			m := streamOf(t, rt.LM("sim"))
			ctx, cancel := context.WithCancel(rtCtx(t))
			defer cancel()
			var last error
			chunks := 0
			for _, err := range m.Stream(ctx, streamQuestion) {
				if err != nil {
					last = err
					break
				}
				chunks++
				if !tc.leave(cancel) {
					break
				}
			}
			if chunks != 1 {
				t.Errorf("%d chunks before leaving, want 1", chunks)
			}
			if ctx.Err() != nil && !errors.Is(last, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", last)
			}
			if err := srv.WaitIdle(rtCtx(t)); err != nil {
				t.Fatal(err)
			}
			if n := srv.Stats().ByStatus[499]; n != 1 {
				t.Errorf("simulator saw %d requests abandoned, want 1", n)
			}
		})
	}
}

// TestRuntimeStreamPlainProvider streams from a provider that cannot
// stream: the reply arrives as one chunk.
func TestRuntimeStreamPlainProvider(t *testing.T) {
	plain := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Model: "plain", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "[[ ## answer ## ]]\n4"}, FinishReason: "stop"}}}, nil
	})
	cfg := rtConfig(rtSim(t))
	rt := rtStart(t, dspex.WithConfig(cfg), dspex.WithProvider("plain", plain))
	resp, err := lm.Collect(streamOf(t, rt.LM("plain/x")).Stream(rtCtx(t), rtAsk("2+2?")))
	if err != nil || resp.Choices[0].Message.Content != "[[ ## answer ## ]]\n4" {
		t.Errorf("Collect = %+v, %v", resp, err)
	}
}
