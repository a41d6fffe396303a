package simlm

import (
	"fmt"
	"strings"
	"time"
)

// Faults makes the server misbehave, so that retries, breakers, rate limits
// and parse-error handling can be tested. The zero Faults is a perfect
// server. Rates are probabilities in [0, 1], drawn from the server's seeded
// random source; each request draws them independently in this order:
// Script, FailNext, Rate429, Rate500, RateTimeout, RateGarbled (the first
// that fires wins). Faults can be changed while the server runs with
// (*Server).SetFaults.
type Faults struct {
	// Latency delays every chat and embeddings request before it is
	// answered (or failed). The delay ends early when the client goes away
	// or the server closes.
	Latency time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter).
	Jitter time.Duration
	// Rate429 is the share of requests refused with 429 Too Many Requests.
	Rate429 float64
	// RetryAfter is sent with 429 and 503 replies as Retry-After (whole
	// seconds, rounded up) and retry-after-ms (milliseconds), as OpenAI
	// does. Zero sends neither header.
	RetryAfter time.Duration
	// Rate500 is the share of requests failed with 500 Internal Server
	// Error.
	Rate500 float64
	// RateTimeout is the share of requests that hang: no reply until the
	// client goes away, the server closes, or TimeoutMax passes (then 504
	// Gateway Timeout). TimeoutMax zero means no limit.
	RateTimeout float64
	TimeoutMax  time.Duration
	// RateGarbled is the share of chat completions answered 200 with a
	// mangled reply: the [[ ## field ## ]] markers are damaged, or the JSON
	// object is cut short, so that an adapter cannot parse it.
	RateGarbled float64
	// RateCut is the share of streamed chat completions (stream=true) cut
	// off mid-way: the connection closes after about half of the chunks,
	// without a finish reason. Requests without stream=true are not
	// affected.
	RateCut float64
	// ChunkLatency delays every chunk of a streamed reply after the first
	// (Latency delays the first). It ends early when the client goes away.
	ChunkLatency time.Duration
	// ChunkTokens is the number of tokens per streamed chunk; 0 means
	// DefaultChunkTokens.
	ChunkTokens int
	// Script, when set, is called for every chat and embeddings request
	// before anything else; a non-nil *Fault it returns is applied to that
	// request. It runs on the request's goroutine, concurrently with other
	// requests, and must be safe for that.
	Script func(RequestInfo) *Fault
}

// Fault is one scripted failure.
type Fault struct {
	// Status, when not zero, answers with this HTTP status and an OpenAI
	// style error body.
	Status int
	// RetryAfter overrides Faults.RetryAfter for this reply.
	RetryAfter time.Duration
	// Delay is added to the latency before the reply.
	Delay time.Duration
	// Hang makes the request hang as with RateTimeout.
	Hang bool
	// Garble answers 200 with a garbled completion (chat only).
	Garble bool
	// Cut cuts a streamed reply off mid-way (streamed chat only).
	Cut bool
}

// RequestInfo describes a request to a Faults.Script.
type RequestInfo struct {
	// Seq numbers the requests the server has received, from 1.
	Seq int64
	// Path is the URL path, such as "/v1/chat/completions".
	Path string
	// Model is the requested model.
	Model string
	// Body is the raw request body; the script must not modify it.
	Body []byte
}

func (f Faults) validate() error {
	for name, r := range map[string]float64{
		"Rate429": f.Rate429, "Rate500": f.Rate500, "RateTimeout": f.RateTimeout, "RateGarbled": f.RateGarbled,
		"RateCut": f.RateCut,
	} {
		if r < 0 || r > 1 || r != r {
			return fmt.Errorf("simlm: Faults.%s = %v is not in [0, 1]", name, r)
		}
	}
	if f.Latency < 0 || f.Jitter < 0 || f.RetryAfter < 0 || f.TimeoutMax < 0 || f.ChunkLatency < 0 {
		return fmt.Errorf("simlm: Faults durations must not be negative")
	}
	if f.ChunkTokens < 0 {
		return fmt.Errorf("simlm: Faults.ChunkTokens = %d is negative", f.ChunkTokens)
	}
	return nil
}

// fault kinds, as recorded in RequestLog.Fault.
const (
	faultStatus  = "status"
	faultHang    = "timeout"
	faultGarbled = "garbled"
	faultCut     = "cut"
)

// pickFault decides the fault for one request.
func (s *Server) pickFault(f *Faults, info RequestInfo) (Fault, bool) {
	if f.Script != nil {
		if sf := f.Script(info); sf != nil {
			return *sf, true
		}
	}
	s.failMu.Lock()
	if len(s.failQueue) > 0 {
		st := s.failQueue[0]
		s.failQueue = s.failQueue[1:]
		s.failMu.Unlock()
		return Fault{Status: st}, true
	}
	s.failMu.Unlock()
	draw := func(rate float64) bool { return rate > 0 && s.float() < rate }
	switch {
	case draw(f.Rate429):
		return Fault{Status: 429}, true
	case draw(f.Rate500):
		return Fault{Status: 500}, true
	case draw(f.RateTimeout):
		return Fault{Hang: true}, true
	case draw(f.RateGarbled):
		return Fault{Garble: true}, true
	case draw(f.RateCut):
		return Fault{Cut: true}, true
	}
	return Fault{}, false
}

// FailNext makes the next n chat or embeddings requests fail with status
// (with Faults.RetryAfter for 429 and 503), before any random fault. Calls
// add up: FailNext(2, 500) then FailNext(1, 429) fails three requests.
func (s *Server) FailNext(n int, status int) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	for range n {
		s.failQueue = append(s.failQueue, status)
	}
}

// SetFaults replaces the server's faults; requests already delayed or
// hanging keep the faults they started with. It is safe to call while the
// server runs.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.Store(&f)
	return nil
}

// Faults returns the faults in effect.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// float draws from the server's seeded random source.
func (s *Server) float() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

// garble damages a completion so that no adapter can parse it.
func garble(content string, wantJSON bool) string {
	if wantJSON {
		// Half an object, with every closing brace removed: no JSON parser
		// can find a complete object in it.
		return "{" + strings.ReplaceAll(content[:len(content)/2], "}", "")
	}
	var out []byte
	for i := 0; i < len(content); i++ {
		switch {
		case i+6 <= len(content) && content[i:i+6] == "[[ ## ":
			out = append(out, "[[ #"...)
			i += 5
		case i+6 <= len(content) && content[i:i+6] == " ## ]]":
			out = append(out, " # ]"...)
			i += 5
		default:
			out = append(out, content[i])
		}
	}
	if len(out) == len(content) {
		out = append(out, " [[ ## ..."...)
	}
	return string(out)
}
