package actors

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/lm"
)

// streamBuffer is the number of chunks a stream's producer may run ahead
// of its consumer.
const streamBuffer = 16

type (
	// streamRequest asks for one streamed completion. It only travels
	// between actors of this process: the chunks go to events, which the
	// last handler of the request closes, and the consumer closes stop
	// when it stops listening.
	streamRequest struct {
		id       uint64
		client   string // "provider/model"
		req      lm.Request
		deadline time.Time // zero: none
		span     trace.SpanContext
		events   chan streamEvent
		stop     <-chan struct{}
		// rerouted counts the times it was handed back to the
		// ClientManager (see Clients.reroute).
		rerouted int
	}
	// streamEvent is one chunk, or the error that ends a stream.
	streamEvent struct {
		chunk lm.Chunk
		err   error
	}
)

// fail ends the stream with err, unless the consumer has stopped
// listening.
func (m *streamRequest) fail(err error) {
	select {
	case m.events <- streamEvent{err: err}:
	case <-m.stop:
	}
	close(m.events)
}

// Stream streams req from the client actor serving the LM id, as Chat
// does: through its cache (a hit replays as one chunk), in-flight cap,
// rate limits, circuit breaker and retries. Retries happen only before
// the first chunk; a stream that breaks later yields its error. The
// provider streams when it is an lm.Streamer and answers in one chunk
// otherwise. A finished stream is stored in the cache.
//
// The client actor only starts the request: the stream runs in a
// goroutine of its own and sends its chunks straight to the consumer.
// Breaking out of the loop or cancelling ctx stops the provider request.
// The ctx deadline bounds the whole stream; without one defaultTimeout
// does, as for Chat. The client's RequestTimeout bounds each attempt from
// its start to the stream's end. The circuit breaker counts an attempt as
// a success once its first chunk arrived; a later break is the caller's
// error only.
func (c *Clients) Stream(ctx context.Context, id string, req lm.Request, defaultTimeout time.Duration) iter.Seq2[lm.Chunk, error] {
	return func(yield func(lm.Chunk, error) bool) {
		if c.closed.Load() {
			yield(lm.Chunk{}, ErrClosed)
			return
		}
		if err := context.Cause(ctx); err != nil {
			yield(lm.Chunk{}, err)
			return
		}
		root, pid, err := c.target(ctx)
		if err != nil {
			yield(lm.Chunk{}, err)
			return
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			if defaultTimeout <= 0 {
				defaultTimeout = c.requestBudget()
			}
			deadline = time.Now().Add(defaultTimeout)
		}
		timeout := time.Until(deadline)
		if timeout <= 0 {
			yield(lm.Chunk{}, context.DeadlineExceeded)
			return
		}
		stop := make(chan struct{})
		defer close(stop)
		msg := &streamRequest{
			id:       c.nextID.Add(1),
			client:   id,
			req:      req,
			deadline: deadline,
			span:     trace.SpanContextFromContext(ctx),
			events:   make(chan streamEvent, streamBuffer),
			stop:     stop,
		}
		c.inbox.post(msg, pid)
		root.Send(pid, msg)
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		for {
			select {
			case ev, ok := <-msg.events:
				switch {
				case !ok:
					return
				case ev.err != nil:
					yield(lm.Chunk{}, ev.err)
					return
				case !yield(ev.chunk, nil):
					return
				}
			case <-ctx.Done():
				yield(lm.Chunk{}, context.Cause(ctx))
				return
			case <-timer.C:
				if c.closed.Load() {
					yield(lm.Chunk{}, ErrClosed)
				} else {
					yield(lm.Chunk{}, fmt.Errorf("actors: stream not finished in time: %w", context.DeadlineExceeded))
				}
				return
			}
		}
	}
}

// stream answers from the cache or starts the streamed request in a
// goroutine; the mailbox is free again at once.
func (a *clientActor) stream(ctx actor.Context, msg *streamRequest) {
	cs := a.shared
	cs.requests.Add(1)
	req := msg.req
	if req.Model == "" {
		req.Model = cs.model
	}
	var received time.Time
	if cs.tel.on() {
		received = time.Now()
	}
	if err := cs.base.Err(); err != nil {
		err = context.Cause(cs.base)
		cs.tel.startCall(msg.span, req, received).end(lm.Response{}, err)
		msg.fail(err)
		return
	}
	key, keyed := "", false
	if cs.cache != nil && !req.NoCache {
		key, keyed = cs.keys.key(cs.provider, req.Model, &req)
	}
	if keyed {
		if resp, ok := cs.cache.getFront(key); ok {
			cs.hits.Add(1)
			call := cs.tel.startCall(msg.span, req, received)
			call.lookedUp(true)
			call.end(resp, nil)
			msg.events <- streamEvent{chunk: lm.ResponseChunk(resp)}
			close(msg.events)
			return
		}
	}
	x := *a.admission
	cs.spawn(func() {
		x.call = cs.tel.startCall(msg.span, req, received)
		if keyed {
			// The back tier (disk) is looked up here, off the mailbox,
			// as for a blocking call.
			if resp, ok := cs.cache.getBack(context.Background(), key); ok {
				cs.hits.Add(1)
				x.call.lookedUp(true)
				x.call.end(resp, nil)
				msg.events <- streamEvent{chunk: lm.ResponseChunk(resp)}
				close(msg.events)
				return
			}
			cs.misses.Add(1)
			x.call.lookedUp(false)
		}
		resp, err := x.runStream(msg, req)
		if err == nil && keyed {
			cs.cache.put(cs.base, key, resp)
		}
		x.call.end(resp, err)
		if err != nil {
			msg.fail(err)
			return
		}
		close(msg.events)
	})
}

// errStreamAbandoned ends a stream whose consumer stopped listening.
var errStreamAbandoned = errors.New("actors: stream abandoned by its consumer")

// runStream serves one streamed request: admission, rate limits, breaker
// and retries until the first chunk, then the chunks, each sent to the
// consumer as it arrives. It returns the assembled response. A panic in
// the provider fails the request and crashes the actor.
func (x exchange) runStream(msg *streamRequest, req lm.Request) (resp lm.Response, err error) {
	cs := x.shared
	sc := x.open(context.Background(), msg.id, msg.deadline, msg.span, false)
	defer sc.close()
	ctx, cancel := sc.ctx, sc.cancel
	// The consumer's going away cancels the provider request.
	watch := make(chan struct{})
	defer close(watch)
	go func() {
		select {
		case <-msg.stop:
			cancel(errStreamAbandoned)
		case <-watch:
		}
	}()

	defer func() {
		if v := recover(); v != nil {
			resp = lm.Response{}
			err = &lm.ProviderError{Provider: cs.provider, Model: req.Model,
				Err: fmt.Errorf("%w: %v", ErrProviderPanic, v)}
			x.shared.crash(x.root, x.self, v)
		}
	}()

	if x.provider == nil {
		return lm.Response{}, &lm.ProviderError{Provider: cs.provider, Model: req.Model, Err: lm.ErrNoLM}
	}
	if err := x.admit(ctx); err != nil {
		return lm.Response{}, err
	}
	defer x.leave()
	x.call.inFlight(1)
	defer x.call.inFlight(-1)

	var (
		first       lm.Chunk
		next        func() (lm.Chunk, error, bool)
		stopPull    func()
		stopAttempt context.CancelFunc = func() {}
	)
	defer func() {
		if stopPull != nil {
			stopPull()
		}
		stopAttempt()
	}()
	tokens := estimateTokens(&req)
	_, err = retry(ctx, x.retry, backoff.System(), rand.Float64, func(ctx context.Context) (_ lm.Response, err error) {
		attemptCtx, at := x.call.startAttempt(ctx)
		sent := false
		defer func() { at.end(err, sent) }()
		waited, err := cs.limits.wait(ctx, tokens)
		at.rateLimited(waited, err)
		if err != nil {
			if errors.Is(err, lm.ErrRateLimited) {
				return lm.Response{}, &lm.ProviderError{Provider: cs.provider, Model: req.Model, Err: err}
			}
			return lm.Response{}, err
		}
		cancelAttempt := context.CancelFunc(func() {})
		if x.timeout > 0 {
			attemptCtx, cancelAttempt = context.WithTimeout(attemptCtx, x.timeout)
		}
		_, err = throughBreaker(ctx, x.breaker, cs.provider, req.Model, func() (lm.Response, error) {
			sent = true
			n, s := iter.Pull2(lm.StreamChat(attemptCtx, x.provider, req))
			c, err, ok := n()
			switch {
			case !ok:
				err = &lm.ProviderError{Provider: cs.provider, Model: req.Model, Err: lm.ErrIncompleteStream}
			case err == nil:
				// Open: the stream (and its attempt's context) now
				// belongs to runStream.
				first, next, stopPull, stopAttempt = c, n, s, cancelAttempt
				return lm.Response{}, nil
			}
			s()
			return lm.Response{}, err
		})
		if err != nil {
			cancelAttempt()
		}
		return lm.Response{}, err
	})
	if err != nil {
		return lm.Response{}, err
	}

	var acc lm.Accumulator
	send := func(c lm.Chunk) error {
		acc.Add(c)
		select {
		case msg.events <- streamEvent{chunk: c}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if err := send(first); err != nil {
		return lm.Response{}, err
	}
	for {
		c, err, ok := next()
		if !ok {
			return acc.Response(), nil
		}
		if err != nil {
			return lm.Response{}, err
		}
		if err := send(c); err != nil {
			return lm.Response{}, err
		}
	}
}
