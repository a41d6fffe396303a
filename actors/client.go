package actors

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// ErrClosed means the runtime was closed before or while a request ran.
var ErrClosed = errors.New("dspex: runtime closed")

// ErrProviderPanic means the provider panicked while serving a request.
// The request fails with it, and the client actor restarts.
var ErrProviderPanic = errors.New("actors: provider panicked")

// ClientSettings configures one client actor: what protects and shapes the
// traffic to one provider's model.
type ClientSettings struct {
	// Cache configures the response cache. It applies when the client is
	// first created; later changes take effect for new clients only.
	Cache config.Cache
	// Breaker configures the circuit breaker.
	Breaker config.Breaker
	// RateLimit caps request and token rates.
	RateLimit config.RateLimit
	// Retry configures retries with backoff.
	Retry config.Retry
	// MaxInFlight caps concurrent provider requests; 0 means no cap.
	MaxInFlight int
	// RequestTimeout bounds each attempt, on top of the caller's
	// deadline; 0 means no bound.
	RequestTimeout time.Duration
}

// ClientStatus is a snapshot of one client actor.
type ClientStatus struct {
	// ID is the client's "provider/model".
	ID string
	// Breaker is the circuit breaker's state.
	Breaker BreakerState
	// InFlight is the number of provider requests running now.
	InFlight int
	// Requests counts the requests the client received.
	Requests int64
	// CacheHits and CacheMisses count cache lookups.
	CacheHits, CacheMisses int64
	// CacheEntries is the number of responses in the cache the client
	// uses: the runtime's shared store (every client's entries, and for
	// a disk tier every process's), or the client's own.
	CacheEntries int
	// Restarts counts the client actor's restarts by its supervisor.
	Restarts int64
}

// clientShared is what a client keeps across restarts of its actor: the
// cache, the counters, the in-flight gate, the rate limiters, the registry
// of running requests, and the latest settings and provider that a
// restarted actor starts from. The ClientManager creates and closes it.
type clientShared struct {
	id, provider, model string
	provCfg             config.Provider // guarded by the Clients' mutex
	cache               *responseCache
	keys                *keyMemo // nil without a cache
	gate                gate
	uncapped            *gate // shared by the clients without a cap; nil: none
	limits              *limits
	tel                 *clientTelemetry

	requests, hits, misses, restarts atomic.Int64
	spawns                           atomic.Int64 // of its actor, by the ClientManager
	// queued counts the messages on their way to the client actor that
	// change what it serves requests with: crashes (a restart follows)
	// and settings changes. While one is, every request goes through
	// the mailbox, so that it comes after them.
	queued atomic.Int64
	// admission is the snapshot the client actor serves requests with
	// (see exchange), published when it loads its settings, and nil
	// while it has none: before it starts, while it restarts, once it
	// stops. A caller reads queued before it, so that a request made
	// after a message was queued sees the snapshot taken after it.
	admission atomic.Pointer[exchange]
	breaker   atomic.Pointer[breaker]

	base     context.Context // canceled with ErrClosed on close
	closeAll context.CancelCauseFunc
	cancels  cancelRegistry
	// active counts the requests being served on their callers'
	// goroutines (see serve), with closedBit set once the client closes;
	// idle is closed when it is closed and none is left.
	active     atomic.Int64
	idle       chan struct{}
	idleOnce   sync.Once
	running    sync.WaitGroup // stream goroutines
	tasks      chan func()    // to idle stream goroutines
	closeCache sync.Once

	mu       sync.Mutex
	settings ClientSettings
	lm       lm.LM
}

func newClientShared(id, provider, model string, s ClientSettings, m lm.LM, store cache.Store) (*clientShared, error) {
	rc, err := newResponseCache(s.Cache, store)
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancelCause(context.Background())
	cs := &clientShared{
		id: id, provider: provider, model: model,
		cache:    rc,
		keys:     newKeyMemoFor(rc),
		limits:   newLimits(s.RateLimit),
		base:     base,
		closeAll: cancel,
		settings: s,
		lm:       m,
		tasks:    make(chan func()),
		idle:     make(chan struct{}),
		tel:      &clientTelemetry{ins: new(atomicInstruments), provider: provider, model: model},
	}
	cs.gate.setLimit(s.MaxInFlight)
	return cs, nil
}

// current returns the latest settings and provider.
func (cs *clientShared) current() (ClientSettings, lm.LM) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.settings, cs.lm
}

// update records new settings (and a new provider when m is not nil) and
// applies the parts that live here.
func (cs *clientShared) update(s ClientSettings, m lm.LM) {
	cs.mu.Lock()
	cs.settings = s
	if m != nil {
		cs.lm = m
	}
	cs.mu.Unlock()
	cs.gate.setLimit(s.MaxInFlight)
	cs.limits.set(s.RateLimit)
}

// register records the cancel func of a running request.
func (cs *clientShared) register(id uint64, cancel context.CancelCauseFunc) {
	cs.cancels.store(id, cancel)
}

// unregister forgets a request.
func (cs *clientShared) unregister(id uint64) { cs.cancels.delete(id) }

// cancelRegistry holds the cancel funcs of a client's running requests by
// id, in shards each under a lock of its own. Registering is a map write
// under a lock few requests share: a sync.Map allocated an entry (and a
// boxed id) for every request.
type cancelRegistry struct {
	shards [cancelShards]cancelShard
}

// cancelShards is the number of shards of a cancelRegistry; ids are
// consecutive, so requests spread evenly over them.
const cancelShards = 16

type cancelShard struct {
	mu sync.Mutex
	m  map[uint64]context.CancelCauseFunc
	_  [48]byte // 64 bytes each: two shards' locks never share a cache line
}

func (r *cancelRegistry) store(id uint64, cancel context.CancelCauseFunc) {
	s := &r.shards[id%cancelShards]
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]context.CancelCauseFunc)
	}
	s.m[id] = cancel
	s.mu.Unlock()
}

func (r *cancelRegistry) delete(id uint64) {
	s := &r.shards[id%cancelShards]
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// cancelAll cancels every request registered, with cause. A request
// registered meanwhile may be missed: open checks for a close after it
// registers.
func (r *cancelRegistry) cancelAll(cause error) {
	var cancels []context.CancelCauseFunc
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, c := range s.m {
			cancels = append(cancels, c)
		}
		s.mu.Unlock()
	}
	for _, c := range cancels {
		c(cause)
	}
}

// status returns a snapshot.
func (cs *clientShared) status() ClientStatus {
	st := ClientStatus{
		ID:           cs.id,
		Breaker:      BreakerDisabled,
		InFlight:     cs.gate.inFlight(),
		Requests:     cs.requests.Load(),
		CacheHits:    cs.hits.Load(),
		CacheMisses:  cs.misses.Load(),
		CacheEntries: cs.cache.len(),
		Restarts:     cs.restarts.Load(),
	}
	if b := cs.breaker.Load(); b != nil {
		st.Breaker = breakerState(b.State())
	}
	return st
}

// close fails the running requests with ErrClosed and waits for them to
// reply, or for ctx to end; then it closes the cache.
func (cs *clientShared) close(ctx context.Context) error {
	cs.closeAll(ErrClosed)
	if cs.active.Or(closedBit)&^closedBit == 0 {
		cs.idleOnce.Do(func() { close(cs.idle) })
	}
	cs.cancels.cancelAll(ErrClosed)
	done := make(chan struct{})
	go func() {
		cs.running.Wait()
		<-cs.idle
		close(done)
	}()
	select {
	case <-done:
		var err error
		cs.closeCache.Do(func() { err = cs.cache.close() })
		return err
	case <-ctx.Done():
		return fmt.Errorf("actors: client %s: requests still running: %w", cs.id, context.Cause(ctx))
	}
}

// closedBit marks clientShared.active once the client closed.
const closedBit = 1 << 62

// enter counts a request served on its caller's goroutine; it reports
// false, counting nothing, once the client has closed.
func (cs *clientShared) enter() bool {
	if cs.active.Add(1)&closedBit != 0 {
		cs.leave()
		return false
	}
	return true
}

// leave ends a request that entered.
func (cs *clientShared) leave() {
	if cs.active.Add(-1) == closedBit {
		cs.idleOnce.Do(func() { close(cs.idle) })
	}
}

// Messages of the client actor. They never leave this package.
type (
	// chatRequest asks for one completion. The reply goes to the reply
	// channel: Clients.Chat sends every chatRequest and waits on it.
	chatRequest struct {
		id       uint64
		client   string // "provider/model"
		req      lm.Request
		deadline time.Time // zero: none
		// hasDeadline tells the deadline is the caller's (its context's),
		// not the default one.
		hasDeadline bool
		span        trace.SpanContext
		// embed, when set, makes this an embedding request (see
		// embed.go); req then describes it to the rate limiter and
		// telemetry.
		embed *lm.EmbedRequest
		// reply receives the one reply (buffered: the actor never
		// blocks on it). No future to register.
		reply chan *chatReply
		// keyed tells the cache key was computed by the caller: key,
		// or no key when key is empty. The caller has looked the key
		// up in the front tier already, and missed.
		keyed bool
		key   string
		// rerouted counts the times it was handed back to the
		// ClientManager (see Clients.reroute).
		rerouted int
	}
	// chatReply answers a chatRequest: with the response or error, or
	// with the admitted work for the caller to run.
	chatReply struct {
		resp lm.Response
		err  error
		work *work
	}
	// settingsChanged tells a client to reload its settings. cs, when
	// set, counted it in queued (see Clients.deadLetter).
	settingsChanged struct{ cs *clientShared }
	// crash makes the receiving actor panic, so its supervisor handles
	// it. cs, when set, counted it in queued.
	crash struct {
		reason any
		cs     *clientShared
	}
	// breakerChanged reports a state change of the breaker b.
	breakerChanged struct {
		b        *breaker
		from, to gobreaker.State
		at       time.Time
	}
	// breakerProbe asks the client to look at its open breaker again, so
	// it turns half-open when its timeout has passed.
	breakerProbe struct{ b *breaker }
)

// clientActor serves one provider's model. Its mailbox does only cheap
// work — cache lookups and admitting requests — and each provider request
// runs on its caller's goroutine (a stream on a goroutine of its own), so
// calls are never serialised.
type clientActor struct {
	shared   *clientShared
	observer func(BreakerEvent)
	// inbox is where the requests sent to this actor are posted.
	inbox *inbox

	settings ClientSettings
	provider lm.LM
	breaker  *breaker
	probe    *time.Timer
	// admission is the snapshot requests are served with, made by load
	// and published as clientShared.admission.
	admission *exchange
}

func (a *clientActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.load(ctx, true)
	case *actor.Restarting:
		a.shared.restarts.Add(1)
		a.shared.admission.Store(nil) // until the new incarnation loads
		a.shared.arrived()
		a.stopProbe()
	case *actor.Stopping:
		a.shared.admission.Store(nil)
		a.stopProbe()
	case *actor.Stopped:
		// What reached the mailbox before the actor left the registry is
		// dropped with it; what is sent from now on is a dead letter.
		a.shared.queued.Store(0)
		a.inbox.giveBack(ctx.Self())
	case *chatRequest:
		if a.inbox.take(msg, ctx.Self()) {
			a.chat(ctx, msg)
		}
	case *streamRequest:
		if a.inbox.take(msg, ctx.Self()) {
			a.stream(ctx, msg)
		}
	case *settingsChanged:
		a.load(ctx, false)
		a.shared.arrived()
	case *breakerChanged:
		a.breakerChanged(ctx, msg)
	case *breakerProbe:
		if msg.b == a.breaker {
			msg.b.State() // Turns it half-open once its timeout has passed.
		}
	case *crash:
		panic(fmt.Sprintf("actors: client %s crashed: %v", a.shared.id, msg.reason))
	}
}

// load takes the latest settings and provider, rebuilding the breaker when
// its settings changed (or always, at start).
func (a *clientActor) load(ctx actor.Context, start bool) {
	s, m := a.shared.current()
	rebuild := start || s.Breaker != a.settings.Breaker
	a.settings, a.provider = s, m
	if rebuild {
		a.stopProbe()
		self, root := ctx.Self(), ctx.ActorSystem().Root
		var b *breaker
		b = newBreaker(a.shared.id, s.Breaker, func(from, to gobreaker.State) {
			// Called under the breaker's lock: hand over, never block.
			root.Send(self, &breakerChanged{b: b, from: from, to: to, at: time.Now()})
		})
		a.breaker = b
		a.shared.breaker.Store(b)
	}
	x := a.newExchange(ctx.Self(), ctx.ActorSystem().Root)
	a.admission = &x
	a.shared.admission.Store(a.admission)
}

func (a *clientActor) stopProbe() {
	if a.probe != nil {
		a.probe.Stop()
		a.probe = nil
	}
}

func (a *clientActor) breakerChanged(ctx actor.Context, msg *breakerChanged) {
	if msg.b != a.breaker {
		return
	}
	if msg.to == gobreaker.StateOpen {
		// gobreaker turns half-open lazily, when asked: ask once the
		// timeout has passed, so observers learn of it without traffic.
		a.stopProbe()
		self, root, b := ctx.Self(), ctx.ActorSystem().Root, msg.b
		timeout := a.settings.Breaker.Timeout.Duration()
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		a.probe = time.AfterFunc(timeout+time.Millisecond, func() { root.Send(self, &breakerProbe{b: b}) })
	}
	a.shared.tel.breakerChanged(breakerState(msg.from), breakerState(msg.to))
	if a.observer != nil {
		a.observer(BreakerEvent{Client: a.shared.id, From: breakerState(msg.from), To: breakerState(msg.to), At: msg.at})
	}
}

// chat answers from the cache, or admits the request and hands it back
// to its caller to run (see work).
func (a *clientActor) chat(ctx actor.Context, msg *chatRequest) {
	cs := a.shared
	cs.requests.Add(1)
	// The caller waits for the reply: msg is the actor's until then.
	if msg.req.Model == "" {
		msg.req.Model = cs.model
	}
	req := &msg.req
	// The call's span starts on the caller's goroutine, not in the
	// mailbox; it is dated from now.
	var received time.Time
	if cs.tel.on() {
		received = time.Now()
	}
	fail := func(err error) {
		call := cs.tel.startCall(msg.span, *req, received)
		call.end(telemetryView(msg, lm.Response{}), err)
		msg.respond(&chatReply{err: err})
	}
	if err := cs.base.Err(); err != nil {
		fail(context.Cause(cs.base))
		return
	}
	if err := embedUnsupported(msg, a.provider, cs.provider, req.Model); err != nil {
		fail(err)
		return
	}
	key, keyed, looked := "", false, false
	switch {
	case msg.keyed:
		key, keyed, looked = msg.key, msg.key != "", true
	case cs.cache == nil || req.NoCache:
	case msg.embed != nil:
		key, keyed = embedCacheKey(cs.provider, req.Model, msg.embed.Inputs)
	default:
		key, keyed = cs.keys.key(cs.provider, req.Model, req)
	}
	if keyed && !looked {
		if resp, ok := cs.cache.getFront(key); ok {
			cs.hits.Add(1)
			call := cs.tel.startCall(msg.span, *req, received)
			call.lookedUp(true)
			resp.Attempts = 0
			call.end(telemetryView(msg, resp), nil)
			msg.respond(&chatReply{resp: resp})
			return
		}
	}
	msg.respond(&chatReply{work: &work{
		exchange: *a.admission,
		key:      key,
		keyed:    keyed,
		received: received,
	}})
}

// work is an admitted request, with the client actor's snapshot of
// provider, breaker and settings (see clientShared.admit), which the
// caller in Clients.Chat runs on its own goroutine: it would only wait
// otherwise. No goroutine is started per request. The request itself is
// the message's (chatRequest.req, its model set). A work of its own,
// rather than a field of the message, keeps the message of a cache hit
// small.
type work struct {
	exchange
	key      string // the cache key, when keyed
	keyed    bool
	received time.Time // zero when telemetry is off
}

// serve runs w for msg within parent (the caller's context), writing the
// response to out: the cache's back tier, then the exchange, then the
// cache write. Close waits for it, and fails it with ErrClosed when it
// comes first. It and the functions it calls keep their frames small: the
// caller's stack holds them while the provider answers, so everything
// cold or large is done in helpers of its own.
func (w *work) serve(parent context.Context, msg *chatRequest, out *lm.Response) error {
	cs := w.shared
	if !cs.enter() {
		return w.closed(msg, out)
	}
	defer cs.leave()
	w.start(msg)
	if w.keyed && w.lookBack(msg, out) {
		return nil
	}
	err := w.run(parent, msg, &msg.req, out)
	if err == nil && w.keyed {
		w.store(out)
	}
	w.end(msg, out, err)
	return err
}

// closed fails w, which came after its client closed.
//
//go:noinline
func (w *work) closed(msg *chatRequest, out *lm.Response) error {
	w.end(msg, nil, ErrClosed)
	*out = lm.Response{}
	return ErrClosed
}

// start starts measuring w's call (kept out of serve's frame).
//
//go:noinline
func (w *work) start(msg *chatRequest) {
	w.call = w.shared.tel.startCall(msg.span, msg.req, w.received)
}

// store writes resp to the cache under w's key.
//
//go:noinline
func (w *work) store(resp *lm.Response) {
	w.shared.cache.put(w.shared.base, w.key, *resp)
}

// lookBack looks w up in the back tier (disk) of the cache, off the
// mailbox, without a cancellable context: a lookup is short, and watching
// a context would cost more than it. On a hit it writes the response to
// out and reports true.
//
//go:noinline
func (w *work) lookBack(msg *chatRequest, out *lm.Response) bool {
	cs := w.shared
	resp, ok := cs.cache.getBack(context.Background(), w.key)
	if !ok {
		cs.misses.Add(1)
		w.call.lookedUp(false)
		return false
	}
	cs.hits.Add(1)
	w.call.lookedUp(true)
	w.end(msg, &resp, nil)
	*out = resp
	return true
}

// end records the outcome of w's call (resp nil: none), starting the
// call when the request never started.
//
//go:noinline
func (w *work) end(msg *chatRequest, resp *lm.Response, err error) {
	if w.call == nil {
		w.call = w.shared.tel.startCall(msg.span, msg.req, w.received)
	}
	var r lm.Response
	if resp != nil {
		r = telemetryView(msg, *resp)
	}
	w.call.end(r, err)
}

// crash makes the client actor pid crash for reason.
func (cs *clientShared) crash(root actor.SenderContext, pid *actor.PID, reason any) {
	if cs != nil {
		cs.queued.Add(1)
	}
	root.Send(pid, &crash{reason: reason, cs: cs})
}

// arrived records that a message counted in queued has been handled, or
// will never be.
func (cs *clientShared) arrived() {
	if cs == nil {
		return
	}
	for {
		n := cs.queued.Load()
		if n <= 0 || cs.queued.CompareAndSwap(n, n-1) {
			return
		}
	}
}

// respond sends r to the caller waiting for the request.
func (msg *chatRequest) respond(r *chatReply) {
	select {
	case msg.reply <- r:
	default: // Answered already; there is one reply per request.
	}
}

// prepare computes msg's cache key on the caller's goroutine, so the
// client actor's mailbox never hashes a prompt, and answers it from the
// front tier of the cache when it can, writing the response to out and
// reporting true: a hit costs no mailbox round trip. On a miss it admits
// the request itself, returning the work for the caller to run, when the
// client actor has published its snapshot and nothing that changes it is
// on its way to the actor (see admit). req is msg.req with its model set.
// With neither, the request must go to the client actor.
func (cs *clientShared) prepare(msg *chatRequest, req *lm.Request, out *lm.Response) (*work, bool) {
	if msg.embed != nil || cs.base.Err() != nil || cs.queued.Load() > 0 {
		return nil, false // the actor keys embeddings and reports a close
	}
	if cs.cache == nil || req.NoCache {
		msg.keyed = true
		return cs.admit(msg), false
	}
	key, ok := cs.keys.key(cs.provider, req.Model, req)
	msg.key, msg.keyed = key, true
	if !ok {
		return cs.admit(msg), false
	}
	resp, ok := cs.cache.getFront(key)
	if !ok {
		return cs.admit(msg), false
	}
	cs.requests.Add(1)
	cs.hits.Add(1)
	call := cs.tel.startCall(msg.span, *req, time.Time{}) // dated now
	call.lookedUp(true)
	resp.Attempts = 0
	call.end(telemetryView(msg, resp), nil)
	*out = resp
	return nil, true
}

// admit admits msg, which missed the front tier of the cache, as the
// client actor would: with the snapshot it published last. It returns
// nil when the actor has none: msg must then go through the mailbox.
// prepare has found no crash or settings change on its way to the actor
// (queued) before admit reads the snapshot, and the actor publishes
// before it counts such a message handled, so a request made after the
// message was queued is served with the snapshot taken after it.
func (cs *clientShared) admit(msg *chatRequest) *work {
	x := cs.admission.Load()
	if x == nil {
		return nil
	}
	cs.requests.Add(1)
	w := &work{exchange: *x, key: msg.key, keyed: msg.key != ""}
	if cs.tel.on() {
		w.received = time.Now()
	}
	return w
}

// workerIdle is how long a stream goroutine waits for another stream
// before it exits.
const workerIdle = 2 * time.Second

// spawn runs task in a goroutine of its own, reusing an idle one when
// there is one (a goroutine that has made an HTTP call has grown its stack
// already). It never blocks. The goroutines exit when idle for workerIdle
// or when the client closes; close waits for them.
func (cs *clientShared) spawn(task func()) {
	select {
	case cs.tasks <- task:
		return
	default:
	}
	cs.running.Add(1)
	go func() {
		defer cs.running.Done()
		idle := time.NewTimer(workerIdle)
		defer idle.Stop()
		for {
			task()
			task = nil
			idle.Reset(workerIdle)
			select {
			case task = <-cs.tasks:
			case <-idle.C:
				return
			case <-cs.base.Done():
				return
			}
		}
	}()
}

// exchange is what running one request needs: a snapshot taken by the
// actor when the request arrived.
type exchange struct {
	shared   *clientShared
	provider lm.LM
	inPlace  lm.InPlace // provider, by pointer (lm.InPlaceOf)
	breaker  *breaker
	retry    config.Retry
	timeout  time.Duration
	// uncapped is the clients' shared gate when this client has no
	// cap of its own; nil otherwise.
	uncapped *gate
	self     *actor.PID
	root     *actor.RootContext
	call     *lmCall // nil when telemetry is off
	// scope is the running request's (see run), here rather than in
	// run's frame, which the caller's stack holds while the provider
	// answers.
	scope requestScope
}

// newExchange takes the snapshot the actor serves requests with, when it
// loads its settings; self and root are where a provider's panic crashes
// it.
func (a *clientActor) newExchange(self *actor.PID, root *actor.RootContext) exchange {
	x := exchange{
		shared:   a.shared,
		provider: a.provider,
		inPlace:  lm.InPlaceOf(a.provider), // once per load, not per call
		breaker:  a.breaker,
		retry:    a.settings.Retry,
		timeout:  a.settings.RequestTimeout,
		self:     self,
		root:     root,
	}
	if a.settings.MaxInFlight <= 0 {
		x.uncapped = a.shared.uncapped
	}
	return x
}

// admit takes a slot of the client's in-flight cap, waiting within ctx,
// and for a client without a cap one of the gate it shares with the
// others; release them with leave.
func (x *exchange) admit(ctx context.Context) error {
	return x.admitWithin(func() context.Context { return ctx })
}

// admitWithin is admit within the context within returns, asked for only
// when there is a wait.
func (x *exchange) admitWithin(within func() context.Context) error {
	if err := x.shared.gate.acquireWithin(within); err != nil {
		return err
	}
	if x.uncapped != nil {
		if err := x.uncapped.acquireWithin(within); err != nil {
			x.shared.gate.release()
			return err
		}
	}
	return nil
}

// leave releases the slots admit took.
func (x *exchange) leave() {
	if x.uncapped != nil {
		x.uncapped.release()
	}
	x.shared.gate.release()
}

// requestScope is the context one request runs in, registered so that
// close cancels it.
type requestScope struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc // of the deadline; nil without one
	cs     *clientShared
	id     uint64
	// deadline, in a lazy scope, bounds the request beyond ctx (zero:
	// nothing does) until bound puts it in ctx.
	deadline time.Time
}

// open returns the scope of request id: parent (the caller's context for
// a blocking call, context.Background for a stream) bounded by deadline
// (zero: none) and carrying the call's span. Close it when the request
// ends.
//
// It is never derived from cs.base: a context shared by every request
// would serialise them on its lock; close cancels registered requests
// itself. A caller's context shared by many concurrent calls is such a
// parent too, but only for the calls made with it.
//
// A lazy scope leaves the deadline out of ctx: its users ask bound for
// the bounded context when they wait, and attempt bounds each attempt's,
// so that a request that waits for nothing but the provider makes one
// deadline context instead of two.
func (x *exchange) open(parent context.Context, id uint64, deadline time.Time, span trace.SpanContext, lazy bool) requestScope {
	cs := x.shared
	sc := requestScope{cs: cs, id: id}
	sc.ctx, sc.cancel = context.WithCancelCause(parent)
	if !deadline.IsZero() {
		if dl, ok := parent.Deadline(); !ok || deadline.Before(dl) {
			if lazy {
				sc.deadline = deadline
			} else {
				sc.ctx, sc.stop = context.WithDeadline(sc.ctx, deadline)
			}
		}
	}
	if x.call != nil {
		sc.ctx = x.call.context(sc.ctx)
	} else if span.IsValid() {
		sc.ctx = trace.ContextWithRemoteSpanContext(sc.ctx, span)
	}
	cs.register(id, sc.cancel)
	if cs.base.Err() != nil {
		sc.cancel(ErrClosed) // closed while registering
	}
	return sc
}

// bound returns the request's context with its deadline, made on first
// use: most requests wait for nothing but the provider.
//
//go:noinline
func (sc *requestScope) bound() context.Context {
	if !sc.deadline.IsZero() && sc.stop == nil {
		sc.ctx, sc.stop = context.WithDeadline(sc.ctx, sc.deadline)
	}
	return sc.ctx
}

// ended reports whether the request's context has ended: cancelled, or
// past its deadline.
//
//go:noinline
func (sc *requestScope) ended() bool {
	return sc.ctx.Err() != nil || !sc.deadline.IsZero() && !time.Now().Before(sc.deadline)
}

// attempt returns the context of one attempt, derived from actx (the
// scope's context with the attempt's span): bounded by timeout (0: none)
// and by the request's deadline. cancel is nil when it has no bound.
//
//go:noinline
func (sc *requestScope) attempt(actx context.Context, timeout time.Duration) (ctx context.Context, cancel context.CancelFunc) {
	dl := sc.deadline
	if timeout > 0 {
		if at := time.Now().Add(timeout); dl.IsZero() || at.Before(dl) {
			dl = at
		}
	}
	if dl.IsZero() {
		return actx, nil
	}
	return context.WithDeadline(actx, dl)
}

// close forgets the request and releases its context.
func (sc *requestScope) close() {
	sc.cs.unregister(sc.id)
	if sc.stop != nil {
		sc.stop()
	}
	sc.cancel(nil)
}

// withoutEmbed hides an embedding request's embedKey from the provider,
// which might call the runtime in turn: a chat it makes must stay a chat.
type withoutEmbed struct{ context.Context }

func (c withoutEmbed) Value(key any) any {
	if _, ok := key.(embedKey); ok {
		return nil
	}
	return c.Context.Value(key)
}

// run serves one request within parent, writing its response to out:
// admission, rate limits, breaker, retries. A panic in the provider fails
// the request and crashes the actor.
//
// It is one flat frame down to the provider call: the caller's stack
// holds it while the provider answers, so there is no closure between
// the breaker and the provider (the breaker is two-step: a ticket, then
// the outcome), the retries are a loop here, and every cold path
// (refusals, rate-limit waits, backoff and giving up, panics, embeddings)
// is a helper of its own.
func (x *exchange) run(parent context.Context, msg *chatRequest, req *lm.Request, out *lm.Response) (err error) {
	var st runState
	x.openRun(parent, msg)
	defer x.finish(&st, req, out, &err)

	if x.provider == nil {
		return x.noProvider(req, out)
	}
	// ctx has no deadline of its own: x.scope.bound adds it when the
	// request waits, x.scope.attempt to each attempt.
	ctx := x.scope.ctx
	if err := x.admitScope(); err != nil {
		*out = lm.Response{}
		return err
	}
	st.admitted = true
	x.call.inFlight(1)

	// The breaker counts the request once, after its retries.
	if x.breaker != nil {
		if st.done, err = x.breaker.Allow(); err != nil {
			return x.refused(ctx, err, req, out)
		}
	}
	tokens := estimateTokens(req)
	for {
		st.n++
		actx, at := x.call.startAttempt(ctx)
		switch {
		case st.n > 1 && x.breaker.isOpen():
			// The breaker opened while this request waited to retry:
			// stop sending to a provider that is failing.
			err = x.openedMeanwhile(at, req)
		case x.limit(at, tokens, req, &err):
			at.end(err, false)
		default:
			var cancel context.CancelFunc
			actx, cancel = x.scope.attempt(actx, x.timeout)
			st.at = at
			if msg.embed != nil {
				err = x.embed(actx, msg, req, out)
			} else {
				err = x.inPlace.ChatInto(actx, req, out)
			}
			st.at = nil
			if cancel != nil {
				cancel()
			}
			at.end(err, true)
		}
		if err == nil {
			break
		}
		if err = afterFailure(x.scope.bound(), &x.retry, backoff.System(), rand.Float64, st.n, err); err != nil {
			break
		}
	}
	if st.done != nil {
		done := st.done
		st.done = nil
		settle(err != nil && x.scope.ended(), done, err)
	}
	if err != nil {
		*out = lm.Response{}
	}
	out.Attempts = st.n
	return err
}

// runState is what run's deferred finish needs to know of the request.
type runState struct {
	admitted bool        // admit took slots, and the call is in flight
	n        int         // attempts started
	done     func(error) // the breaker's ticket, until the outcome is reported
	at       *attempt    // the attempt waiting for the provider, if any
}

// openRun opens x.scope for msg's request within parent (kept out of
// run's frame).
//
//go:noinline
func (x *exchange) openRun(parent context.Context, msg *chatRequest) {
	if msg.embed != nil {
		parent = withoutEmbed{parent}
	}
	x.scope = x.open(parent, msg.id, msg.deadline, msg.span, true)
}

// finish, deferred by run, ends the request: it releases what admit took,
// closes the request's scope, and turns a panic into the request's
// error: the running attempt ends as it did before the panic, the breaker
// counts a failure, and the client actor crashes, so that its supervisor
// handles it.
func (x *exchange) finish(st *runState, req *lm.Request, out *lm.Response, err *error) {
	v := recover()
	if st.admitted {
		x.call.inFlight(-1)
		x.leave()
	}
	if v != nil {
		x.panicked(v, st, req, out, err)
	}
	x.scope.close()
}

// panicked fails the request whose provider panicked with v.
//
//go:noinline
func (x *exchange) panicked(v any, st *runState, req *lm.Request, out *lm.Response, err *error) {
	cs := x.shared
	*out = lm.Response{}
	*err = &lm.ProviderError{Provider: cs.provider, Model: req.Model,
		Err: fmt.Errorf("%w: %v", ErrProviderPanic, v)}
	if st.at != nil {
		// The attempt the provider panicked in failed with the request.
		st.at.end(*err, true)
	}
	if st.done != nil {
		st.done(panicFailure(v))
	}
	cs.crash(x.root, x.self, v)
}

// openedMeanwhile fails attempt at: the breaker opened while the request
// waited to retry.
//
//go:noinline
func (x *exchange) openedMeanwhile(at *attempt, req *lm.Request) error {
	err := x.breaker.refusal(x.shared.provider, req.Model)
	at.end(err, false)
	return err
}

// noProvider fails a request to a client without a provider.
//
//go:noinline
func (x *exchange) noProvider(req *lm.Request, out *lm.Response) error {
	*out = lm.Response{}
	return &lm.ProviderError{Provider: x.shared.provider, Model: req.Model, Err: lm.ErrNoLM}
}

// refused fails a request the breaker refused (err is Allow's error),
// recording the refusal as an attempt.
//
//go:noinline
func (x *exchange) refused(ctx context.Context, err error, req *lm.Request, out *lm.Response) error {
	err = x.breaker.refused(err, x.shared.provider, req.Model)
	if errors.Is(err, lm.ErrCircuitOpen) {
		_, at := x.call.startAttempt(ctx)
		at.end(err, false)
	}
	*out = lm.Response{}
	return err
}

// admitScope is admit within x.scope.
//
//go:noinline
func (x *exchange) admitScope() error {
	return x.admitWithin(x.scope.bound)
}

// limit waits within x.scope for the rate limiters to let an attempt of tokens
// go, recording the wait on at. It reports true when the attempt may not
// go, with the reason in *err.
//
//go:noinline
func (x *exchange) limit(at *attempt, tokens int, req *lm.Request, err *error) bool {
	waited, e := x.shared.limits.waitWithin(x.scope.bound, tokens)
	at.rateLimited(waited, e)
	if e == nil {
		return false
	}
	if errors.Is(e, lm.ErrRateLimited) {
		e = &lm.ProviderError{Provider: x.shared.provider, Model: req.Model, Err: e}
	}
	*err = e
	return true
}

// embed makes the provider request of an embedding request.
//
//go:noinline
func (x *exchange) embed(ctx context.Context, msg *chatRequest, req *lm.Request, out *lm.Response) (err error) {
	*out, err = embed(ctx, x.provider, x.shared.provider, req.Model, msg.embed.Inputs)
	return err
}
