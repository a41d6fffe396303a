package actors

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/telemetry"
)

// ProviderFactory builds the LM that serves a configured provider's model.
// The ClientManager calls it once for each client it creates, and again
// when the provider's configuration changes.
type ProviderFactory func(p config.Provider, model string) (lm.LM, error)

// ClientsOptions configures NewClients.
type ClientsOptions struct {
	// Prices prices each call for its LM span (dspex.lm.cost); nil: no
	// cost attribute.
	Prices *pricing.Table
	// Config is the initial configuration; the ConfigManager's updates
	// replace it.
	Config config.Config
	// Factory builds the LMs of configured providers.
	Factory ProviderFactory
	// Custom holds LMs registered under a provider name. A custom provider
	// takes precedence over a configured one of the same name; it has no
	// default model (requests go out with the model they name).
	Custom map[string]lm.LM
	// Configs, when set, is the ConfigManager the ClientManager subscribes
	// to for configuration changes.
	Configs *Configs
	// OnBreakerChange, when set, is told of every breaker state change.
	// It runs in a client actor: it must not block.
	OnBreakerChange func(BreakerEvent)
	// Cache, when set, is the response store every client shares (its
	// keys name provider and model); the caller closes it after the
	// Clients. When nil, each client caches in a memory store of its own.
	// Either way the configuration's cache.enabled and cache.ttl apply.
	Cache cache.Store
	// FileCap, when positive, caps the requests in flight across every
	// client that has no concurrency cap of its own (concurrency 0):
	// past it they queue, as under a cap, instead of failing with "too
	// many open files". The runtime derives it from the open-file limit.
	FileCap int
}

// Clients is the durable side of the ClientManager and its callers' typed
// entry to it. It holds what outlives restarts of the actors — the
// configuration, and for each client its cache, counters and running
// requests — and turns Go calls into messages. It is safe for concurrent use.
type Clients struct {
	factory  ProviderFactory
	custom   map[string]lm.LM
	observer func(BreakerEvent)
	prices   *pricing.Table
	configs  *Configs
	store    cache.Store

	root     atomic.Pointer[actor.RootContext]
	manager  atomic.Pointer[actor.PID]
	ready    chan struct{} // closed when the ClientManager first started
	readyOne sync.Once
	nextID   atomic.Uint64
	restarts atomic.Int64 // of the ClientManager
	closed   atomic.Bool
	ins      atomicInstruments // nil: telemetry off
	// routes maps an LM id to its client actor, so that callers send to
	// it directly, not through the ClientManager's mailbox. The
	// ClientManager fills it as it routes, and empties it when the
	// configuration changes or when it restarts; a request sent to a
	// client actor that is gone comes back as a dead letter and is sent
	// to the ClientManager (see deadLetter).
	routes sync.Map // LM id -> *route
	// inbox holds the requests and streams sent to an actor's mailbox,
	// until the actor takes them or, when it stops first, gives them
	// back.
	inbox inbox
	// unsubscribe ends deadLetter's subscription to the actor system's
	// event stream.
	unsubscribe atomic.Pointer[func()]
	// uncapped is the gate of every client without a concurrency cap of
	// its own (ClientsOptions.FileCap); nil: none.
	uncapped *gate

	mu      sync.Mutex
	cfg     config.Config
	clients map[string]*clientShared
}

// NewClients returns the durable state for a ClientManager.
func NewClients(o ClientsOptions) *Clients {
	var uncapped *gate
	if o.FileCap > 0 {
		uncapped = new(gate)
		uncapped.setLimit(o.FileCap)
	}
	c := &Clients{
		factory:  o.Factory,
		custom:   o.Custom,
		observer: o.OnBreakerChange,
		prices:   o.Prices,
		configs:  o.Configs,
		store:    o.Cache,
		ready:    make(chan struct{}),
		cfg:      o.Config.Clone(),
		clients:  make(map[string]*clientShared),
		uncapped: uncapped,
	}
	c.inbox.reroute = c.reroute
	return c
}

// ClientManagerProps returns the props of the ClientManager actor over c.
// Client actors are spawned under it with strategy as their supervisor.
func ClientManagerProps(c *Clients, strategy actor.SupervisorStrategy) *actor.Props {
	opts := []actor.PropsOption{}
	if strategy != nil {
		opts = append(opts, actor.WithSupervisor(strategy))
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &clientManager{c: c, children: make(map[string]*actor.PID)}
	}, opts...)
}

// route is where requests for one LM id go.
type route struct {
	cs  *clientShared
	pid *actor.PID
	// provider and model are what Resolve reports for the id.
	provider, model string
}

// forget drops the routes to pid (every route when pid is nil).
func (c *Clients) forget(pid *actor.PID) {
	c.routes.Range(func(id, r any) bool {
		if pid == nil || r.(*route).pid.Equal(pid) {
			c.routes.Delete(id)
		}
		return true
	})
}

// deadLetter takes a request sent straight to a client actor that had
// stopped (its ClientManager restarted, say) and hands it back to the
// ClientManager (see reroute), unless the stopped actor's Stopped did. A
// crash or a settings change that reached no actor no longer holds the
// client's requests in the mailbox (see clientShared.queued).
func (c *Clients) deadLetter(ev any) {
	dl, ok := ev.(*actor.DeadLetterEvent)
	if !ok {
		return
	}
	switch msg := dl.Message.(type) {
	case *crash:
		msg.cs.arrived() // its actor stopped: nothing to restart
	case *settingsChanged:
		msg.cs.arrived() // the next actor loads the latest settings
	case mailed:
		// A request no longer in the inbox was served, or handed back.
		if c.inbox.take(msg, dl.PID) {
			c.reroute(msg, dl.PID)
		}
	}
}

// maxReroutes is how many times a request is handed back to the
// ClientManager: the next time its actor stops it fails. Its client actor
// keeps stopping before it serves the request, not a route that will
// settle.
const maxReroutes = 3

// notRunning is the error of a request that no ClientManager will route:
// ErrClosed once Close was called.
func (c *Clients) notRunning() error {
	if c.closed.Load() {
		return ErrClosed
	}
	return errors.New("actors: ClientManager not running")
}

// ErrClientStopped means a request's client actor stopped, each time it
// was routed to one, before serving it (supervision stops a client that
// fails past its restart intensity).
var ErrClientStopped = errors.New("actors: client actor stopped before serving the request")

// reroute hands msg, which the stopped actor from will never serve,
// back to the ClientManager, which routes it to the client's new actor;
// it fails msg when from was the ClientManager.
func (c *Clients) reroute(msg mailed, from *actor.PID) {
	c.forget(from)
	root, manager := c.root.Load(), c.manager.Load()
	id, rerouted := msg.routing()
	switch {
	case c.closed.Load() || root == nil || manager == nil || manager.Equal(from):
		msg.failWith(c.notRunning())
	case *rerouted >= maxReroutes:
		msg.failWith(fmt.Errorf("%w (%s, routed %d times)", ErrClientStopped, id, *rerouted+1))
	default:
		*rerouted++
		c.inbox.post(msg, manager)
		root.Send(manager, msg)
	}
}

// mailed is a request the inbox keeps: a *chatRequest or a
// *streamRequest.
type mailed interface {
	// requestID is the request's id, unique among the Clients' requests.
	requestID() uint64
	// routing returns the LM id it is for, and its count of reroutes.
	routing() (lmID string, rerouted *int)
	// failWith ends the request with err.
	failWith(err error)
}

func (msg *chatRequest) requestID() uint64         { return msg.id }
func (msg *chatRequest) routing() (string, *int)   { return msg.client, &msg.rerouted }
func (msg *chatRequest) failWith(err error)        { msg.respond(&chatReply{err: err}) }
func (msg *streamRequest) requestID() uint64       { return msg.id }
func (msg *streamRequest) routing() (string, *int) { return msg.client, &msg.rerouted }
func (msg *streamRequest) failWith(err error)      { msg.fail(err) }

// inbox holds the requests and streams on their way to an actor's
// mailbox that no one has taken yet: protoactor drops what is left in the mailbox of
// an actor that stops (a client past its restart intensity, say), so the
// actor's Stopped gives those back instead of losing them. Whoever takes
// a request first serves it: the actor it was posted to, or, once that
// stopped, its Stopped or the dead-letter handler, which reroute it.
type inbox struct {
	m       sync.Map // request id -> posted
	reroute func(msg mailed, from *actor.PID)
}

// posted is a request and the actor it was sent to, by address and id,
// which is how a PID is resolved.
type posted struct {
	msg              mailed
	address, process string
}

// post records msg as sent to to.
func (in *inbox) post(msg mailed, to *actor.PID) {
	in.m.Store(msg.requestID(), posted{msg, to.Address, to.Id})
}

// take takes msg, sent to to, from the inbox, reporting whether it was
// there: false means someone else took it, and serves it.
func (in *inbox) take(msg mailed, to *actor.PID) bool {
	return in.m.CompareAndDelete(msg.requestID(), posted{msg, to.Address, to.Id})
}

// failAll fails, with err, every request no one has taken.
func (in *inbox) failAll(err error) {
	in.m.Range(func(_, v any) bool {
		p := v.(posted)
		if in.m.CompareAndDelete(p.msg.requestID(), p) {
			p.msg.failWith(err)
		}
		return true
	})
}

// giveBack reroutes every request posted to self that no one took: self
// has stopped, and its mailbox is dropped.
func (in *inbox) giveBack(self *actor.PID) {
	in.m.Range(func(_, v any) bool {
		if p := v.(posted); p.address == self.Address && p.process == self.Id && in.take(p.msg, self) {
			in.reroute(p.msg, self)
		}
		return true
	})
}

// resolve maps an LM id to a client id, provider and model.
func (c *Clients) resolve(id string) (clientID string, p config.Provider, model string, custom lm.LM, err error) {
	name, model, _ := splitID(id)
	if m, ok := c.custom[name]; ok {
		if model == "" {
			return name, config.Provider{}, "", m, nil
		}
		return name + "/" + model, config.Provider{}, model, m, nil
	}
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	p, model, err = cfg.ResolveModel(id)
	if err != nil {
		return "", p, "", nil, err
	}
	return p.Name + "/" + model, p, model, nil, nil
}

func splitID(id string) (name, model string, hasModel bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == '/' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

// client returns the durable state of a client, creating it on first use.
func (c *Clients) client(clientID string, p config.Provider, model string, custom lm.LM) (*clientShared, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.clients[clientID]; ok {
		return cs, nil
	}
	if c.closed.Load() {
		return nil, ErrClosed
	}
	m := custom
	if m == nil {
		if c.factory == nil {
			return nil, fmt.Errorf("actors: no provider factory for %q", p.Name)
		}
		var err error
		if m, err = c.factory(p, model); err != nil {
			return nil, fmt.Errorf("actors: provider %s: %w", p.Name, err)
		}
	}
	name := p.Name
	if custom != nil {
		name, _, _ = splitID(clientID)
	}
	cs, err := newClientShared(clientID, name, model, SettingsFrom(c.cfg, p), m, c.store)
	if err != nil {
		return nil, err
	}
	cs.tel.prices = c.prices
	cs.provCfg = p
	cs.uncapped = c.uncapped
	cs.tel.ins, cs.tel.provCfg = &c.ins, p
	c.clients[clientID] = cs
	return cs, nil
}

// setConfig records cfg and updates every client's settings; providers
// whose configuration changed get a new LM.
func (c *Clients) setConfig(cfg config.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg = cfg.Clone()
	for _, cs := range c.clients {
		p := config.Provider{}
		var m lm.LM
		if _, ok := c.custom[cs.provider]; !ok {
			if np, ok := cfg.Provider(cs.provider); ok {
				p = np
				if !reflect.DeepEqual(np, cs.provCfg) && c.factory != nil {
					if nm, err := c.factory(np, cs.model); err == nil {
						m = nm
						cs.provCfg = np
					}
				}
			} else {
				p = cs.provCfg
			}
		}
		cs.update(SettingsFrom(cfg, p), m)
	}
}

// config returns the configuration the clients run with.
func (c *Clients) config() config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.Clone()
}

// Status is a snapshot of the ClientManager.
type Status struct {
	// Providers lists the provider names: configured ones, then custom
	// ones, each sorted.
	Providers []string
	// Clients holds one entry per client created so far, by ID.
	Clients []ClientStatus
	// Restarts counts restarts of the ClientManager.
	Restarts int64
}

func (c *Clients) status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{Restarts: c.restarts.Load()}
	for _, p := range c.cfg.Providers {
		st.Providers = append(st.Providers, p.Name)
	}
	sort.Strings(st.Providers)
	var custom []string
	for name := range c.custom {
		if !slices.Contains(st.Providers, name) {
			custom = append(custom, name)
		}
	}
	sort.Strings(custom)
	st.Providers = append(st.Providers, custom...)
	for _, cs := range c.clients {
		st.Clients = append(st.Clients, cs.status())
	}
	sort.Slice(st.Clients, func(i, j int) bool { return st.Clients[i].ID < st.Clients[j].ID })
	return st
}

// Messages of the ClientManager.
type (
	statusQuery   struct{}
	syncQuery     struct{}
	configChanged struct{ cfg config.Config }
	killClient    struct{ id string }
)

// clientManager routes requests to client actors, spawning them on first
// use, answers status queries and pushes configuration changes.
type clientManager struct {
	c        *Clients
	children map[string]*actor.PID
	stopping bool // once it is: it routes nothing more
}

func (m *clientManager) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.c.root.Store(ctx.ActorSystem().Root)
		m.c.manager.Store(ctx.Self())
		m.c.readyOne.Do(func() {
			events := ctx.ActorSystem().EventStream
			sub := events.Subscribe(m.c.deadLetter)
			unsubscribe := func() { events.Unsubscribe(sub) }
			m.c.unsubscribe.Store(&unsubscribe)
			close(m.c.ready)
		})
		if m.c.configs != nil {
			m.c.configs.subscribe(ctx, ctx.Self())
		}
	case *actor.Restarting:
		m.c.restarts.Add(1)
		clear(m.children)
		m.c.forget(nil)
	case *actor.Terminated:
		m.c.forget(msg.Who)
		for id, pid := range m.children {
			if pid.Equal(msg.Who) {
				delete(m.children, id)
			}
		}
	case *actor.Stopping:
		// Requests its stopping clients give back must not spawn
		// clients anew: nothing would stop those.
		m.stopping = true
	case *actor.Stopped:
		m.c.inbox.giveBack(ctx.Self())
	case *chatRequest:
		if !m.c.inbox.take(msg, ctx.Self()) {
			return // handed back already
		}
		if m.stopping {
			msg.failWith(m.c.notRunning())
			return
		}
		pid, err := m.route(ctx, msg.client)
		if err != nil {
			msg.respond(&chatReply{err: err})
			return
		}
		m.c.inbox.post(msg, pid)
		ctx.Forward(pid)
	case *streamRequest:
		if !m.c.inbox.take(msg, ctx.Self()) {
			return // handed back already
		}
		if m.stopping {
			msg.failWith(m.c.notRunning())
			return
		}
		pid, err := m.route(ctx, msg.client)
		if err != nil {
			msg.fail(err)
			return
		}
		m.c.inbox.post(msg, pid)
		ctx.Forward(pid)
	case *statusQuery:
		ctx.Respond(m.c.status())
	case *syncQuery:
		ctx.Respond(true)
	case *configChanged:
		m.c.setConfig(msg.cfg)
		m.c.forget(nil)
		for clientID, pid := range m.children {
			cs := m.c.shared(clientID)
			if cs != nil {
				cs.queued.Add(1) // requests queue behind the change
			}
			ctx.Send(pid, &settingsChanged{cs: cs})
		}
	case *killClient:
		if msg.id == "" {
			panic("actors: ClientManager killed on request")
		}
		clientID, _, _, _, err := m.c.resolve(msg.id)
		if pid, ok := m.children[clientID]; ok && err == nil {
			m.c.shared(clientID).crash(ctx, pid, "killed on request")
			ctx.Respond(true)
			return
		}
		ctx.Respond(false)
	}
}

// shared returns the client of clientID ("provider/model"), nil when
// there is none.
func (c *Clients) shared(clientID string) *clientShared {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clients[clientID]
}

// route returns the client actor for an LM id, spawning it when needed.
func (m *clientManager) route(ctx actor.Context, id string) (*actor.PID, error) {
	clientID, p, model, custom, err := m.c.resolve(id)
	if err != nil {
		return nil, err
	}
	cs, err := m.c.client(clientID, p, model, custom)
	if err != nil {
		return nil, err
	}
	name := p.Name
	if custom != nil {
		name, _, _ = splitID(clientID)
	}
	if pid, ok := m.children[clientID]; ok && !alive(ctx, pid) {
		// Stopped, and its Terminated is still on its way here.
		delete(m.children, clientID)
	}
	if pid, ok := m.children[clientID]; ok {
		m.c.routes.Store(id, &route{cs: cs, pid: pid, provider: name, model: model})
		return pid, nil
	}
	observer, in := m.c.observer, &m.c.inbox
	props := actor.PropsFromProducer(func() actor.Actor {
		return &clientActor{shared: cs, observer: observer, inbox: in}
	})
	// A client spawned again gets a name of its own: a PID is resolved by
	// name, and a caller still holding the stopped actor's must reach a
	// dead letter (and be rerouted), not the new actor while it spawns.
	actorName := strings.ReplaceAll(clientID, "/", ":")
	if n := cs.spawns.Add(1); n > 1 {
		actorName += "~" + strconv.FormatInt(n, 10)
	}
	pid, err := ctx.SpawnNamed(props, actorName)
	if err != nil {
		// The name is taken.
		pid = ctx.SpawnPrefix(props, "client")
	}
	m.children[clientID] = pid
	m.c.routes.Store(id, &route{cs: cs, pid: pid, provider: name, model: model})
	return pid, nil
}

// alive reports whether pid is a running local actor.
func alive(ctx actor.Context, pid *actor.PID) bool {
	_, ok := ctx.ActorSystem().ProcessRegistry.GetLocal(pid.Id)
	return ok
}

// Chat sends req to the client actor serving the LM id ("provider/model",
// or "provider" for its default model) and waits for the reply. The ctx
// deadline bounds the wait; without one, defaultTimeout does (0 means the
// configured request timeout times the attempts, plus backoffs). When ctx
// ends first, the provider request is cancelled and Chat returns its
// cause.
//
// After the first request for an id, Chat looks the request up in the
// cache's memory tier itself, and on a miss admits it with the snapshot
// its client actor published: neither queues in a mailbox. While its
// client actor restarts or takes new settings, the request goes to the
// actor, which admits it and hands it back. Either way Chat then runs
// the provider request on the calling goroutine (see the package
// documentation) and writes the cache.
func (c *Clients) Chat(ctx context.Context, id string, req lm.Request, defaultTimeout time.Duration) (lm.Response, error) {
	var resp lm.Response
	err := c.ChatInto(ctx, id, &req, &resp, defaultTimeout)
	return resp, err
}

// ChatInto is Chat with the request passed by pointer and the response
// written to *out (the zero Response on error), for callers whose stack
// holds the call while the provider answers: their frames then hold no
// copy of either. It neither changes nor keeps req, nor keeps out.
func (c *Clients) ChatInto(ctx context.Context, id string, req *lm.Request, out *lm.Response, defaultTimeout time.Duration) error {
	// Split for the caller's stack, which holds this frame while the
	// provider answers: dispatch, which routes the request and answers
	// cache hits, returns before the provider call starts.
	*out = lm.Response{}
	w, msg, err := c.dispatch(ctx, id, req, defaultTimeout, out)
	if w != nil {
		if err = w.serve(ctx, msg, out); err != nil {
			err = c.failed(ctx, msg, out, err)
		}
	}
	return err
}

// dispatch sends req to its client actor, or answers it from the cache's
// memory tier, and waits for the reply. It writes the response to out,
// or returns the work the client actor handed back, for the caller to
// run with serve.
//
//go:noinline
func (c *Clients) dispatch(ctx context.Context, id string, req *lm.Request, defaultTimeout time.Duration, out *lm.Response) (*work, *chatRequest, error) {
	if c.closed.Load() {
		return nil, nil, ErrClosed
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	var (
		root *actor.RootContext
		pid  *actor.PID
		rt   *route
	)
	if v, ok := c.routes.Load(id); ok {
		rt = v.(*route)
		root, pid = c.root.Load(), rt.pid
	} else {
		var err error
		if root, pid, err = c.target(ctx); err != nil {
			return nil, nil, err
		}
	}
	deadline, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		if defaultTimeout <= 0 {
			defaultTimeout = c.requestBudget()
		}
		deadline = time.Now().Add(defaultTimeout)
	}
	timeout := time.Until(deadline)
	if timeout <= 0 {
		return nil, nil, context.DeadlineExceeded
	}
	msg := &chatRequest{
		id:          c.nextID.Add(1),
		client:      id,
		req:         *req,
		deadline:    deadline,
		hasDeadline: hasDeadline,
		span:        trace.SpanContextFromContext(ctx),
	}
	if e, ok := ctx.Value(embedKey{}).(*lm.EmbedRequest); ok {
		msg.embed = e
	}
	if rt != nil {
		if msg.req.Model == "" {
			msg.req.Model = rt.cs.model
		}
		w, hit := rt.cs.prepare(msg, &msg.req, out)
		switch {
		case hit:
			return nil, nil, nil
		case w != nil:
			return w, msg, nil
		}
	}
	// Made after prepare: a cache hit needs no reply channel.
	msg.reply = make(chan *chatReply, 1)
	c.inbox.post(msg, pid)
	root.Send(pid, msg)
	if c.closed.Load() && c.inbox.take(msg, pid) {
		return nil, nil, ErrClosed // Close may have failed the inbox before the post
	}
	r, err := c.wait(ctx, msg, timeout, hasDeadline)
	switch {
	case err != nil:
		return nil, nil, err
	case r.work != nil:
		return r.work, msg, nil
	}
	*out = r.resp
	return nil, nil, r.err
}

// waitTimers holds stopped timers for wait: a request without a deadline
// of its own takes one instead of allocating it. Since Go 1.23 a stopped
// timer's channel holds no stale value.
var waitTimers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// wait waits for msg's reply within ctx, and for at most timeout when ctx
// has no deadline.
func (c *Clients) wait(ctx context.Context, msg *chatRequest, timeout time.Duration, hasDeadline bool) (*chatReply, error) {
	var expired <-chan time.Time
	if !hasDeadline {
		t := waitTimers.Get().(*time.Timer)
		t.Reset(timeout)
		defer func() {
			t.Stop()
			waitTimers.Put(t)
		}()
		expired = t.C
	}
	select {
	case r := <-msg.reply:
		return r, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-expired:
		if c.closed.Load() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("actors: no reply in time: %w", context.DeadlineExceeded)
	}
}

// failed is the outcome of work that failed with err: the cause of ctx
// when ctx ended, and the missed default deadline (or ErrClosed) when the
// request ran out of it.
//
//go:noinline
func (c *Clients) failed(ctx context.Context, msg *chatRequest, out *lm.Response, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		*out = lm.Response{}
		return cause
	}
	if !msg.hasDeadline && !time.Now().Before(msg.deadline) {
		*out = lm.Response{}
		if c.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("actors: no reply in time: %w", context.DeadlineExceeded)
	}
	return err
}

// requestBudget is the longest a request may take under the current
// configuration: every attempt at the request timeout, plus the backoffs.
func (c *Clients) requestBudget() time.Duration {
	c.mu.Lock() // not c.config(): a clone per request costs more than the request's routing
	per, retry := c.cfg.RequestTimeout.Duration(), c.cfg.Retry
	c.mu.Unlock()
	if per <= 0 {
		per = config.DefaultRequestTimeout
	}
	n := max(retry.MaxAttempts, 1)
	return time.Duration(n)*per + time.Duration(n-1)*max(retry.Max.Duration(), time.Second)
}

// Status asks the ClientManager for a snapshot.
func (c *Clients) Status(ctx context.Context) (Status, error) {
	v, err := c.ask(ctx, &statusQuery{})
	if err != nil {
		return Status{}, err
	}
	return v.(Status), nil
}

// Sync returns once the ClientManager has handled every message sent to it
// before the call, such as a configuration change, and so has passed the
// change on to its client actors. Callers send requests straight to client
// actors once routed; after Sync, a request sent to a client arrives after
// the settings the ClientManager forwarded to it.
func (c *Clients) Sync(ctx context.Context) error {
	_, err := c.ask(ctx, &syncQuery{})
	return err
}

// Kill makes a client actor (id is an LM id) crash as if it had failed, or
// the ClientManager itself when id is empty, so that supervision restarts
// it. It is a fault-injection hook for testing supervision. It reports
// whether a client actor was found.
func (c *Clients) Kill(ctx context.Context, id string) (bool, error) {
	if id == "" {
		root, pid, err := c.target(ctx)
		if err != nil {
			return false, err
		}
		root.Send(pid, &killClient{})
		return true, nil
	}
	v, err := c.ask(ctx, &killClient{id: id})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// ask sends msg to the ClientManager and waits for its reply within ctx
// (5 s without a deadline).
func (c *Clients) ask(ctx context.Context, msg any) (any, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	root, pid, err := c.target(ctx)
	if err != nil {
		return nil, err
	}
	return ask(ctx, root, pid, msg)
}

// target returns the ClientManager, waiting within ctx for it to start.
func (c *Clients) target(ctx context.Context) (*actor.RootContext, *actor.PID, error) {
	select {
	case <-c.ready:
		return c.root.Load(), c.manager.Load(), nil
	default:
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-c.ready:
		return c.root.Load(), c.manager.Load(), nil
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	case <-t.C:
		return nil, nil, errors.New("actors: ClientManager not started")
	}
}

// ask sends msg to pid and waits for the reply within ctx's deadline, or
// 5 s without one.
func ask(ctx context.Context, root *actor.RootContext, pid *actor.PID, msg any) (any, error) {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	v, err := root.RequestFuture(pid, msg, timeout).Result()
	if err != nil {
		if errors.Is(err, actor.ErrTimeout) {
			return nil, fmt.Errorf("actors: no reply in time: %w", context.DeadlineExceeded)
		}
		return nil, err
	}
	return v, nil
}

// Close fails the running requests of every client with ErrClosed, waits
// for them to reply (bounded by ctx), and releases the caches. New requests
// fail with ErrClosed. Close is idempotent.
func (c *Clients) Close(ctx context.Context) error {
	c.closed.Store(true)
	if u := c.unsubscribe.Swap(nil); u != nil {
		(*u)()
	}
	// Without the dead-letter handler, a request sent to a stopped
	// actor from now on would wait out its deadline: fail what no
	// actor has taken (see dispatch for those posted from now on).
	c.inbox.failAll(ErrClosed)
	c.mu.Lock()
	clients := make([]*clientShared, 0, len(c.clients))
	for _, cs := range c.clients {
		clients = append(clients, cs)
	}
	c.mu.Unlock()
	var errs []error
	for _, cs := range clients {
		errs = append(errs, cs.close(ctx))
	}
	return errors.Join(errs...)
}

// SetTelemetry makes the client actors trace their calls and record their
// metrics with p's providers, from their next call on; nil turns their
// telemetry off. The TelemetrySetup actor's owner calls it when it has set
// up (or shut down) the runtime's telemetry. With p's no-op providers the
// client actors measure nothing at all.
func (c *Clients) SetTelemetry(p *telemetry.Providers) error {
	ins, err := newInstruments(p)
	if err != nil {
		return fmt.Errorf("actors: telemetry instruments: %w", err)
	}
	c.ins.Store(ins)
	return nil
}

// Closed reports whether Close was called.
func (c *Clients) Closed() bool { return c.closed.Load() }
