package history

import (
	"cmp"
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

// Recorder is what every recorded LM call goes through: it admits the call
// under the budgets of its context (budget.Reserve), makes it, prices it,
// and adds it to a History. The runtime has one; Wrap builds one for a
// plain lm.LM. It is safe for concurrent use.
type Recorder struct {
	h      *History
	prices *pricing.Table
	now    func() time.Time
	since  func(time.Time) time.Duration
	onCall func(ctx context.Context, r *Record)
}

// RecorderOption configures a Recorder (and Wrap).
type RecorderOption interface{ applyRecorder(*Recorder) }

type recorderOption func(*Recorder)

func (f recorderOption) applyRecorder(r *Recorder) { f(r) }

// WithPrices prices calls with t instead of pricing.Default().
func WithPrices(t *pricing.Table) RecorderOption {
	return recorderOption(func(r *Recorder) { r.prices = t })
}

// WithClock dates calls with now and measures their latency with it, for
// reproducible records in tests.
func WithClock(now func() time.Time) RecorderOption {
	return recorderOption(func(r *Recorder) {
		r.now = now
		r.since = func(t time.Time) time.Duration { return now().Sub(t) }
	})
}

// WithObserver calls f with each record once its call has finished, before
// the record is added to the history (even when the history is off). f
// runs on the caller's goroutine and must not keep r, which the recorder
// reuses once f returns: f copies what it needs (*r, or fields of it).
func WithObserver(f func(ctx context.Context, r *Record)) RecorderOption {
	return recorderOption(func(r *Recorder) { r.onCall = f })
}

// NewRecorder returns a recorder that records into h (nil: nowhere; the
// calls are still priced and budgeted).
func NewRecorder(h *History, opts ...RecorderOption) *Recorder {
	r := &Recorder{h: h, prices: pricing.Default(), now: time.Now, since: time.Since}
	for _, o := range opts {
		if o != nil {
			o.applyRecorder(r)
		}
	}
	return r
}

// History returns the history the recorder records into.
func (r *Recorder) History() *History { return r.h }

// Prices returns the recorder's price table.
func (r *Recorder) Prices() *pricing.Table { return r.prices }

// Chat makes the call req to m of provider, recording it. A call that
// would go over a budget of ctx is refused before it is sent with an error
// matching budget.ErrExceeded, and is not recorded.
func (r *Recorder) Chat(ctx context.Context, provider string, m lm.LM, req lm.Request) (lm.Response, error) {
	call, err := r.Begin(ctx)
	if err != nil {
		return lm.Response{}, err
	}
	resp, err := m.Chat(ctx, req)
	call.End(ctx, provider, "", &req, &resp, err)
	return resp, err
}

// Call is a call begun with Recorder.Begin: the caller makes the call
// itself, then reports its outcome with End. Callers whose stack holds
// the call while the provider answers use it instead of Chat, which adds
// a frame and an lm.LM of its own.
type Call struct {
	r     *Recorder
	res   *budget.Reservation
	start time.Time
}

// Begin admits a call under the budgets of ctx: it fails with an error
// matching budget.ErrExceeded when the call would go over one, and then
// the call must not be made (and is not recorded). Otherwise the caller
// makes the call and ends it with End, once.
func (r *Recorder) Begin(ctx context.Context) (Call, error) {
	res, err := budget.Reserve(ctx)
	if err != nil {
		return Call{}, err
	}
	return Call{r: r, res: res, start: r.now()}, nil
}

// End records the call c made with req to provider, which answered resp
// or failed with err: it prices it, settles its budget reservations,
// tells the observer, and adds it to the history. model names the model
// the call went to when req names none (the provider's default). req and
// resp are read, not kept.
func (c *Call) End(ctx context.Context, provider, model string, req *lm.Request, resp *lm.Response, err error) {
	r := c.r
	rec := records.Get().(*Record)
	*rec = Record{
		Time:      c.start,
		Provider:  provider,
		Model:     cmp.Or(req.Model, model),
		Latency:   r.since(c.start),
		Rollout:   req.RolloutID,
		Predictor: PredictorFrom(ctx),
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		rec.TraceID = sc.TraceID().String()
	}
	if err == nil {
		if resp.Model != "" {
			rec.Model = resp.Model
		}
		// Two slices, not one split in two: a history that omits replies
		// keeps FinishReasons, which must not keep the replies alive.
		rec.Replies = make([]string, len(resp.Choices))
		rec.FinishReasons = make([]string, len(resp.Choices))
		for i, ch := range resp.Choices {
			rec.Replies[i], rec.FinishReasons[i] = ch.Message.Content, ch.FinishReason
			if len(ch.Message.ToolCalls) > 0 {
				if rec.ToolCalls == nil {
					rec.ToolCalls = make([][]lm.ToolCall, len(resp.Choices))
				}
				rec.ToolCalls[i] = append([]lm.ToolCall(nil), ch.Message.ToolCalls...)
			}
		}
		rec.Usage, rec.CacheHit, rec.Attempts = resp.Usage, resp.Cached, resp.Attempts
		rec.Cost = r.prices.Cost(provider, rec.Model, resp.Usage, resp.Cached)
	} else {
		rec.Err = err.Error()
		// A failed call is billed nothing by the providers we know.
		rec.Cost = pricing.Cost{Calls: 1, Currency: r.prices.Currency()}
		if _, ok := r.prices.Lookup(provider, rec.Model); !ok {
			rec.Cost = pricing.Unknown()
		}
	}
	// A failure may have reached the provider; only a cache hit surely
	// did not.
	c.res.Finish(!rec.CacheHit, rec.Usage, rec.Cost)
	addToMeters(ctx, rec)
	if r.onCall != nil {
		r.onCall(ctx, rec)
	}
	if r.h != nil {
		if !r.h.omit {
			// Images are kept as short placeholders, never their bytes.
			rec.Messages = append([]lm.Message(nil), lm.RedactImages(req.Messages)...)
		}
		r.h.Add(*rec)
	}
	*rec = Record{} // the pool keeps no reply, message or error alive
	records.Put(rec)
}

// records holds the records End builds. Observers must not keep the
// record they are given (WithObserver) and the history keeps a copy, so
// one record serves call after call: handed to an observer, a record of
// End's own would escape to the heap, one allocation of about 300 bytes
// per call.
var records = sync.Pool{New: func() any { return new(Record) }}

// Wrap returns an LM that makes its calls through m and records them in
// h, priced and budgeted like the runtime's calls (see Recorder.Chat).
// provider names m's provider for the records and the price lookup.
func Wrap(m lm.LM, provider string, h *History, opts ...RecorderOption) lm.LM {
	return wrapped{r: NewRecorder(h, opts...), provider: provider, m: m}
}

type wrapped struct {
	r        *Recorder
	provider string
	m        lm.LM
}

// Chat implements lm.LM.
func (w wrapped) Chat(ctx context.Context, req lm.Request) (lm.Response, error) {
	return w.r.Chat(ctx, w.provider, w.m, req)
}

// SupportsTools reports whether the wrapped LM takes native tool calls.
func (w wrapped) SupportsTools() bool { return lm.SupportsTools(w.m) }
