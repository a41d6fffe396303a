package lm

import (
	"cmp"
	"context"
	"errors"
	"io"
	"iter"

	openai "github.com/sashabaranov/go-openai"
)

var _ Streamer = (*OpenAI)(nil)

// errStreamTools refuses to stream a request with tools: chunks carry
// text only, and the tool calls would be lost.
var errStreamTools = errors.New("lm: a request with tools cannot be streamed; use Chat")

// Stream sends req to the chat completions endpoint with stream=true and
// stream_options.include_usage, and yields the server-sent events of the
// first choice as chunks: text deltas, then the finish reason, then the
// usage. Breaking out of the loop or cancelling ctx closes the HTTP body.
//
// Errors are *ProviderError as for Chat. A stream that ends without a
// finish reason (the connection was cut) fails with ErrIncompleteStream,
// which is retryable.
func (c *OpenAI) Stream(ctx context.Context, req Request) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		model := cmp.Or(req.Model, c.model)
		if model == "" {
			yield(Chunk{}, c.localError(model, errNoModel))
			return
		}
		if req.N > 1 {
			yield(Chunk{}, c.localError(model, ErrStreamChoices))
			return
		}
		if len(req.Tools) > 0 {
			yield(Chunk{}, c.localError(model, errStreamTools))
			return
		}
		var creq openai.ChatCompletionRequest
		set, err := c.chatRequest(model, &req, &creq)
		if err != nil {
			yield(Chunk{}, c.localError(model, err))
			return
		}
		creq.Stream = true
		creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		ex := &exchange{set: set}
		stream, err := c.client.CreateChatCompletionStream(context.WithValue(ctx, exchangeKey{}, ex), creq)
		if err != nil {
			yield(Chunk{}, c.callError(ctx, model, ex, err))
			return
		}
		defer stream.Close()
		finished := false
		for {
			ev, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				if !finished {
					yield(Chunk{}, &ProviderError{Provider: c.provider, Model: model, Status: ex.status,
						Retryable: true, Err: ErrIncompleteStream})
				}
				return
			}
			if err != nil {
				pe := c.callError(ctx, model, ex, err)
				if errors.Is(err, io.ErrUnexpectedEOF) && ctx.Err() == nil {
					pe.Retryable = true
				}
				yield(Chunk{}, pe)
				return
			}
			ch := Chunk{ID: ev.ID, Model: ev.Model}
			for _, choice := range ev.Choices {
				if choice.Index != 0 {
					continue
				}
				ch.Delta += choice.Delta.Content
				if choice.FinishReason != "" {
					ch.FinishReason = string(choice.FinishReason)
					finished = true
				}
			}
			if ev.Usage != nil {
				u := usage(*ev.Usage)
				ch.Usage = &u
			}
			if ch.Delta == "" && ch.FinishReason == "" && ch.Usage == nil {
				continue // a role-only or keep-alive event
			}
			if !yield(ch, nil) {
				return
			}
		}
	}
}
