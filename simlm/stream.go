package simlm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// DefaultChunkTokens is the number of tokens per chunk of a streamed reply
// when Faults.ChunkTokens is 0.
const DefaultChunkTokens = 3

// WithChunkLatency sets Faults.ChunkLatency, the delay between the chunks
// of a streamed reply, keeping the other faults.
func WithChunkLatency(d time.Duration) Option {
	return optionFunc(func(c *Config) { c.Faults.ChunkLatency = d })
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type streamDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

type streamChoice struct {
	Index        int         `json:"index"`
	Delta        streamDelta `json:"delta"`
	FinishReason *string     `json:"finish_reason"`
}

type streamEvent struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Choices           []streamChoice `json:"choices"`
	Usage             *usage         `json:"usage,omitempty"`
}

// chunkText splits s into pieces of n tokens each (see tokenEnds); the
// pieces concatenate to s, the spaces before a token starting its piece.
func chunkText(s string, n int) []string {
	ends := tokenEnds(s)
	var out []string
	start := 0
	for i := n - 1; i < len(ends)-1; i += n {
		out = append(out, s[start:ends[i]])
		start = ends[i]
	}
	if start < len(s) || len(out) == 0 {
		out = append(out, s[start:])
	}
	return out
}

// writeStream answers a stream=true request with the completed response
// as server-sent events, as OpenAI does: a role chunk, content chunks of a
// few tokens each, a chunk with the finish reason per choice, the usage
// when stream_options.include_usage asks for it, then "[DONE]". Chunks
// after the first wait Faults.ChunkLatency. A cut fault closes the
// connection after about half of the chunks.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, req *chatRequest, resp chatResponse, out outcome) outcome {
	f := s.faults.Load()
	per := f.ChunkTokens
	if per <= 0 {
		per = DefaultChunkTokens
	}
	type piece struct {
		choice int
		text   string
		finish string
	}
	var pieces []piece
	for _, c := range resp.Choices {
		pieces = append(pieces, piece{choice: c.Index})
		for _, t := range chunkText(c.Message.Content, per) {
			pieces = append(pieces, piece{choice: c.Index, text: t})
		}
		pieces = append(pieces, piece{choice: c.Index, finish: c.FinishReason})
	}
	cutAt := -1
	if out.fault == faultCut {
		cutAt = max(len(pieces)/2, 1)
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(ev streamEvent) error {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		return rc.Flush()
	}
	event := func() streamEvent {
		return streamEvent{ID: resp.ID, Object: "chat.completion.chunk", Created: resp.Created,
			Model: resp.Model, SystemFingerprint: resp.SystemFingerprint, Choices: []streamChoice{}}
	}
	out.status = http.StatusOK
	texts := 0
	for i, p := range pieces {
		if i == cutAt {
			// Close the connection without ending the chunked body: the
			// client sees the stream break.
			if conn, _, err := rc.Hijack(); err == nil {
				_ = conn.Close()
			}
			return out
		}
		if p.text != "" {
			texts++
		}
		if texts > 1 && p.text != "" && !s.wait(r.Context(), f.ChunkLatency) {
			if r.Context().Err() != nil {
				return outcome{status: statusClientGone, fault: out.fault}
			}
			return out // shutting down: the body ends without [DONE]
		}
		ev := event()
		ch := streamChoice{Index: p.choice, Delta: streamDelta{Content: p.text}}
		switch {
		case p.finish != "":
			ch.FinishReason = &p.finish
		case p.text == "":
			ch.Delta.Role = "assistant"
		}
		ev.Choices = append(ev.Choices, ch)
		if err := send(ev); err != nil {
			return outcome{status: statusClientGone, fault: out.fault}
		}
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		ev := event()
		u := resp.Usage
		ev.Usage = &u
		if err := send(ev); err != nil {
			return outcome{status: statusClientGone, fault: out.fault}
		}
	}
	if _, err := fmt.Fprint(w, "data: [DONE]\n\n"); err != nil {
		return outcome{status: statusClientGone, fault: out.fault}
	}
	_ = rc.Flush()
	return out
}
