package lm

import (
	"context"
	"errors"
	"iter"
	"strings"
)

// Chunk is one piece of a streamed completion of the first choice.
type Chunk struct {
	// Delta is the text appended to the reply; it may be empty (a chunk
	// that only carries the finish reason or the usage).
	Delta string `json:"delta,omitempty"`
	// FinishReason is set once, on the chunk that ends the reply ("stop",
	// "length", ...).
	FinishReason string `json:"finish_reason,omitempty"`
	// Usage, when not nil, counts the tokens of the whole call. Providers
	// send it on the last chunk, after the finish reason.
	Usage *Usage `json:"usage,omitempty"`
	// ID and Model identify the completion as the provider reports them.
	ID    string `json:"id,omitempty"`
	Model string `json:"model,omitempty"`
	// Cached reports that the chunk replays a cached response.
	Cached bool `json:"cached,omitempty"`
}

// Streamer is an LM that can also stream a completion as it is generated.
// It is optional: use [StreamChat] to stream from any LM.
//
// Stream yields the chunks of the first choice in order, then stops. An
// error is yielded once, as the last value: before any chunk when the
// request failed, or after some chunks when the stream broke (then the
// text received so far is incomplete). Breaking out of the loop, or
// cancelling ctx, stops the stream and releases its connection. A request
// for more than one choice fails with [ErrStreamChoices].
//
// Implementations must be safe for concurrent use; each sequence is meant
// to be iterated once.
type Streamer interface {
	LM
	Stream(ctx context.Context, req Request) iter.Seq2[Chunk, error]
}

// Errors of streamed calls.
var (
	// ErrStreamChoices means a stream was asked for more than one choice.
	ErrStreamChoices = errors.New("lm: a stream carries one choice; N must be 0 or 1")
	// ErrIncompleteStream means a stream ended before the provider said
	// why the reply was finished: the connection was cut mid-way.
	ErrIncompleteStream = errors.New("lm: stream ended before its finish reason")
)

// StreamChat streams req from m: through m's Stream when m is a
// [Streamer], else as a single chunk holding the whole reply of m's Chat
// (with its finish reason and usage). So callers can always consume a
// stream and get the prediction at the end.
func StreamChat(ctx context.Context, m LM, req Request) iter.Seq2[Chunk, error] {
	if s, ok := m.(Streamer); ok {
		return s.Stream(ctx, req)
	}
	return func(yield func(Chunk, error) bool) {
		if req.N > 1 {
			yield(Chunk{}, ErrStreamChoices)
			return
		}
		resp, err := m.Chat(ctx, req)
		if err != nil {
			yield(Chunk{}, err)
			return
		}
		if len(resp.Choices) == 0 {
			yield(Chunk{}, ErrNoChoices)
			return
		}
		yield(ResponseChunk(resp), nil)
	}
}

// ResponseChunk returns the whole first choice of resp as one chunk, for
// replaying a response (a cached one, say) as a stream.
func ResponseChunk(resp Response) Chunk {
	c := Chunk{ID: resp.ID, Model: resp.Model, Usage: &resp.Usage, Cached: resp.Cached}
	if len(resp.Choices) > 0 {
		c.Delta = resp.Choices[0].Message.Content
		c.FinishReason = resp.Choices[0].FinishReason
	}
	return c
}

// Accumulator assembles the chunks of a stream into the Response a
// blocking Chat would have returned. The zero value is ready to use; it is
// not safe for concurrent use.
type Accumulator struct {
	text     strings.Builder
	resp     Response
	finish   string
	finished bool
	chunks   int
	cached   bool
}

// Add records one chunk.
func (a *Accumulator) Add(c Chunk) {
	if a.chunks == 0 {
		a.cached = c.Cached
	}
	a.chunks++
	a.cached = a.cached && c.Cached
	a.text.WriteString(c.Delta)
	if c.ID != "" {
		a.resp.ID = c.ID
	}
	if c.Model != "" {
		a.resp.Model = c.Model
	}
	if c.FinishReason != "" {
		a.finish, a.finished = c.FinishReason, true
	}
	if c.Usage != nil {
		a.resp.Usage = *c.Usage
	}
}

// Text returns the text received so far.
func (a *Accumulator) Text() string { return a.text.String() }

// Finished reports whether a chunk carried a finish reason.
func (a *Accumulator) Finished() bool { return a.finished }

// Response returns the assembled response: one choice holding the text
// received, with the finish reason and usage seen.
func (a *Accumulator) Response() Response {
	r := a.resp
	r.Cached = a.chunks > 0 && a.cached
	r.Choices = []Choice{{
		Message:      Message{Role: RoleAssistant, Content: a.text.String()},
		FinishReason: a.finish,
	}}
	return r
}

// Collect consumes a stream and returns the assembled response, or the
// stream's error.
func Collect(seq iter.Seq2[Chunk, error]) (Response, error) {
	var a Accumulator
	for c, err := range seq {
		if err != nil {
			return Response{}, err
		}
		a.Add(c)
	}
	return a.Response(), nil
}
