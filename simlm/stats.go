package simlm

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what the server has done since it started or since the last
// ResetStats. Every request counts, whatever its endpoint; the simulator
// knows nothing of client-side caches.
type Stats struct {
	// Requests is the number of requests received.
	Requests int64
	// ByStatus counts finished requests by HTTP status. A request whose
	// client went away before the reply counts as 499.
	ByStatus map[int]int64
	// InFlight is the number of requests being handled now.
	InFlight int64
	// MaxInFlight is the highest InFlight seen: the peak concurrency the
	// clients achieved.
	MaxInFlight int64
	// PromptTokens and CompletionTokens count the tokens of the successful
	// chat completions served (PromptTokens includes embeddings input).
	PromptTokens     int64
	CompletionTokens int64
	// Completions counts the chat completion choices generated.
	Completions int64
	// Garbled counts the replies garbled on purpose.
	Garbled int64
}

// RequestLog records one finished request, for tests that check what
// clients did (for example that retries honoured Retry-After).
type RequestLog struct {
	// Seq numbers the requests in arrival order, from 1.
	Seq int64
	// Path is the URL path.
	Path string
	// Start is when the request arrived, End when its handler returned.
	Start, End time.Time
	// Status is the HTTP status sent (499 when the client went away).
	Status int
	// Fault says which fault was applied: "", "status", "timeout",
	// "garbled" or "cut".
	Fault string
	// RetryAfter is the delay announced in the Retry-After headers, or 0.
	RetryAfter time.Duration
}

// statusClientGone is logged for requests whose client went away.
const statusClientGone = 499

// DefaultMaxRequestLog is the default number of entries Requests keeps.
const DefaultMaxRequestLog = 10000

type counters struct {
	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	prompt      atomic.Int64
	completion  atomic.Int64
	completions atomic.Int64
	garbled     atomic.Int64

	mu       sync.Mutex
	idle     []chan struct{} // closed when InFlight next drops to zero
	byStatus map[int]int64
	log      []RequestLog
	maxLog   int
}

func (c *counters) enter() {
	n := c.inFlight.Add(1)
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

// leave records a finished request, then counts it out of flight: one who
// sees the request out of flight (WaitIdle) finds it in the log and the
// status counts.
func (c *counters) leave(entry RequestLog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byStatus == nil {
		c.byStatus = map[int]int64{}
	}
	c.byStatus[entry.Status]++
	if c.maxLog > 0 {
		if len(c.log) >= 2*c.maxLog {
			c.log = append(c.log[:0], c.log[len(c.log)-c.maxLog+1:]...)
		}
		c.log = append(c.log, entry)
	}
	if c.inFlight.Add(-1) == 0 {
		for _, ch := range c.idle {
			close(ch)
		}
		c.idle = nil
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	c.mu.Lock()
	by := maps.Clone(c.byStatus)
	c.mu.Unlock()
	if by == nil {
		by = map[int]int64{}
	}
	return Stats{
		Requests:         c.requests.Load(),
		ByStatus:         by,
		InFlight:         c.inFlight.Load(),
		MaxInFlight:      c.maxInFlight.Load(),
		PromptTokens:     c.prompt.Load(),
		CompletionTokens: c.completion.Load(),
		Completions:      c.completions.Load(),
		Garbled:          c.garbled.Load(),
	}
}

// ResetStats zeroes the counters and the request log. MaxInFlight restarts
// from the current InFlight.
func (s *Server) ResetStats() {
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests.Store(0)
	c.maxInFlight.Store(c.inFlight.Load())
	c.prompt.Store(0)
	c.completion.Store(0)
	c.completions.Store(0)
	c.garbled.Store(0)
	c.byStatus = map[int]int64{}
	c.log = nil
}

// Requests returns the log of finished requests in the order they
// finished, at most Config.MaxRequestLog of the latest.
func (s *Server) Requests() []RequestLog {
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	start := max(0, len(c.log)-c.maxLog)
	out := make([]RequestLog, len(c.log)-start)
	copy(out, c.log[start:])
	return out
}

// WaitIdle waits until no request is in flight, or ctx ends. Tests use it
// to check that cancelled clients really ended their requests.
func (s *Server) WaitIdle(ctx context.Context) error {
	c := &s.stats
	ch := make(chan struct{})
	c.mu.Lock()
	c.idle = append(c.idle, ch)
	c.mu.Unlock()
	if c.inFlight.Load() == 0 {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("simlm: %d requests still in flight: %w", c.inFlight.Load(), context.Cause(ctx))
	}
}
