// Package history records LM calls: what was sent, what came back, what it
// used and cost, and which predictor made it, in a bounded ring that a
// long optimisation cannot grow. Inspect prints recent calls the way DSPy's
// inspect_history does.
//
// The runtime records every call made through its LMs (dspex.Runtime.History);
// Wrap records the calls of any other lm.LM.
//
// Records never hold API keys: they keep the request's messages and the
// provider's reply, never headers or credentials.
package history

import (
	"context"
	"sync"
	"time"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

// Record is one LM call.
type Record struct {
	// Time is when the call started.
	Time time.Time
	// Provider and Model name the LM that answered (the requested model
	// when the call failed).
	Provider, Model string
	// Messages are the messages sent, unless recording them is off.
	Messages []lm.Message
	// Replies holds the raw text of each choice, unless recording
	// messages is off.
	Replies []string
	// ToolCalls holds the tool calls of each choice (nil for a choice
	// without), unless recording messages is off; nil when no choice
	// called a tool.
	ToolCalls [][]lm.ToolCall
	// FinishReasons holds each choice's finish reason.
	FinishReasons []string
	// Usage counts the tokens.
	Usage lm.Usage
	// Cost is what the call cost: nothing for a cache hit, unknown when
	// the model has no price.
	Cost pricing.Cost
	// Latency is the call's duration, as the caller saw it.
	Latency time.Duration
	// CacheHit reports that the reply came from a cache.
	CacheHit bool
	// Attempts is the number of provider requests made (retries
	// included); 0 for a cache hit or when unknown.
	Attempts int
	// Err is the call's error text, or empty.
	Err string
	// Rollout is the request's rollout id.
	Rollout int
	// Predictor names the predictor that made the call, when known, by its
	// path in the program walk as optimizers and saved programs name it
	// ("predict", "cot.predict", "agent.extract.predict"; "self" for a
	// lone predictor): see programs.WithPredictorNames.
	Predictor string
	// TraceID is the OpenTelemetry trace id of the call, when traced.
	TraceID string
}

// History is a bounded record of the most recent LM calls. It is safe for
// concurrent use; a nil *History records nothing.
type History struct {
	omit bool

	mu    sync.Mutex
	ring  []Record
	next  int   // index of the slot the next record goes in
	total int64 // records ever added
}

// Option configures a History.
type Option interface{ apply(*History) }

type optionFunc func(*History)

func (f optionFunc) apply(h *History) { f(h) }

// OmitMessages keeps messages and replies out of the records, for privacy;
// usage, cost and timings are still kept.
func OmitMessages() Option { return optionFunc(func(h *History) { h.omit = true }) }

// New returns a history that keeps the last size calls; for size <= 0 it
// returns nil, which records nothing.
func New(size int, opts ...Option) *History {
	if size <= 0 {
		return nil
	}
	h := &History{ring: make([]Record, 0, size)}
	for _, o := range opts {
		if o != nil {
			o.apply(h)
		}
	}
	return h
}

// Add records r, dropping the oldest record when the history is full.
func (h *History) Add(r Record) {
	if h == nil {
		return
	}
	if h.omit {
		r.Messages, r.Replies, r.ToolCalls = nil, nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total++
	if len(h.ring) < cap(h.ring) {
		h.ring = append(h.ring, r)
		h.next = len(h.ring) % cap(h.ring)
		return
	}
	h.ring[h.next] = r
	h.next = (h.next + 1) % cap(h.ring)
}

// Records returns the records kept, oldest first.
func (h *History) Records() []Record { return h.Last(-1) }

// Last returns the last n records, oldest first; n < 0 means all.
func (h *History) Last(n int) []Record {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	size := len(h.ring)
	if n < 0 || n > size {
		n = size
	}
	out := make([]Record, 0, n)
	start := 0
	if size == cap(h.ring) {
		start = h.next
	}
	for i := size - n; i < size; i++ {
		out = append(out, h.ring[(start+i)%size])
	}
	return out
}

// Len returns the number of records kept.
func (h *History) Len() int {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ring)
}

// Total returns the number of calls ever recorded, kept or dropped.
func (h *History) Total() int64 {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Size returns the number of records the history keeps at most.
func (h *History) Size() int {
	if h == nil {
		return 0
	}
	return cap(h.ring)
}

type predictorKey struct{}

// WithPredictor returns a copy of ctx that names the predictor making the
// LM calls under it.
func WithPredictor(ctx context.Context, name string) context.Context {
	if name == "self" {
		// The name of a predictor called on its own: a constant in
		// the interface costs no allocation, a variable one does.
		return context.WithValue(ctx, predictorKey{}, "self")
	}
	return context.WithValue(ctx, predictorKey{}, name)
}

// PredictorFrom returns the predictor name ctx carries, or "".
func PredictorFrom(ctx context.Context) string {
	s, _ := ctx.Value(predictorKey{}).(string)
	return s
}
