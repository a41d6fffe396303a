package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protocluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
)

// coordinatorName is the name of a coordinator's actor: nodes send Join
// and Leave to it.
const coordinatorName = "dspex-coordinator"

// Defaults of CoordinatorConfig.
const (
	DefaultPingInterval   = 250 * time.Millisecond
	DefaultFailureTimeout = 3 * time.Second
	DefaultSpawnTimeout   = 5 * time.Second
)

// CoordinatorConfig configures a coordinator.
type CoordinatorConfig struct {
	// Endpoint is where the coordinator listens (loopback by default):
	// nodes join it there and send results to it.
	Endpoint
	// Membership lists nodes besides those that join by themselves; nil
	// means joining nodes only.
	Membership Membership
	// Discovery, when set, makes the coordinator a client of a
	// protoactor-go cluster: it dials every node of the cluster's
	// topology, besides Membership's and those that join by themselves.
	Discovery *Discovery
	// PingInterval is how often the coordinator pings each node's session
	// (DefaultPingInterval when zero).
	PingInterval time.Duration
	// FailureTimeout declares a node dead when it has not answered for
	// that long (DefaultFailureTimeout when zero): its unfinished examples
	// go to other nodes. A node whose process or connection dies is
	// declared dead sooner, as soon as its endpoint terminates.
	FailureTimeout time.Duration
	// SpawnTimeout bounds opening a session on a node
	// (DefaultSpawnTimeout when zero).
	SpawnTimeout time.Duration
}

// DefaultCoordinatorConfig returns a configuration listening on
// DefaultListen with the default timings.
func DefaultCoordinatorConfig() CoordinatorConfig {
	return CoordinatorConfig{Endpoint: Endpoint{Listen: DefaultListen}, PingInterval: DefaultPingInterval,
		FailureTimeout: DefaultFailureTimeout, SpawnTimeout: DefaultSpawnTimeout}
}

// Coordinator spreads the examples of evaluations over the live nodes of a
// cluster. Use it through Dispatcher with evaluate.WithDispatcher (and
// teleprompter.WithEvaluateOptions for optimizers). It is safe for
// concurrent use; Close it when done.
type Coordinator struct {
	cfg     CoordinatorConfig
	system  *actor.ActorSystem
	remote  *remote.Remote
	cluster *protocluster.Cluster // with Discovery
	address string
	pid     *actor.PID
	nextID  atomic.Uint64
	changed chan struct{} // closed and replaced at each membership change, under mu
	closed  chan struct{} // closed by Close

	mu    sync.Mutex
	stats Stats

	stop      context.CancelFunc
	bg        sync.WaitGroup // ticker, membership watcher, spawners
	closeOnce sync.Once
	closeErr  error // what Close returns, set by the first
}

// Stats is a snapshot of a coordinator.
type Stats struct {
	// Nodes lists every node the coordinator has seen, by address.
	Nodes []NodeStats
	// Live counts the live nodes.
	Live int
	// Dispatched counts the calls sent to nodes (a reassigned call counts
	// again); Completed the results accepted.
	Dispatched, Completed int64
	// Reassigned counts calls given to another node after their node
	// died or said it lacks the program kind; Duplicates the results dropped because their call had already
	// ended (a node declared dead that answered late).
	Reassigned, Duplicates int64
	// Waiting counts calls waiting for a node.
	Waiting int
}

// NodeStats describes one node as its coordinator sees it.
type NodeStats struct {
	// Address is the node's address; Name its configured name.
	Address, Name string
	// Live reports that the node has a session and answers.
	Live bool
	// Capacity is how many calls the node takes at once; Running how many
	// it has now.
	Capacity, Running int
	// Completed counts the results the node delivered; Deaths how often it
	// was declared dead.
	Completed, Deaths int64
}

// String is a one-line summary, e.g.
// "3/3 nodes live; 127.0.0.1:4001 1000, 127.0.0.1:4002 998 ...".
func (s Stats) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d/%d nodes live, %d completed, %d reassigned, %d duplicates dropped", s.Live, len(s.Nodes),
		s.Completed, s.Reassigned, s.Duplicates)
	for _, n := range s.Nodes {
		state := ""
		if !n.Live {
			state = " (dead)"
		}
		fmt.Fprintf(&b, "; %s%s %d", n.Name, state, n.Completed)
	}
	return b.String()
}

// StartCoordinator starts a coordinator: its remote endpoint, where nodes
// join, and the watch of cfg.Membership.
func StartCoordinator(ctx context.Context, cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.PingInterval < 0 || cfg.FailureTimeout < 0 || cfg.SpawnTimeout < 0 {
		return nil, errors.New("cluster: StartCoordinator: negative timing")
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.FailureTimeout == 0 {
		cfg.FailureTimeout = DefaultFailureTimeout
	}
	if cfg.SpawnTimeout == 0 {
		cfg.SpawnTimeout = DefaultSpawnTimeout
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sys, r, pc, addr, err := startEndpoint(cfg.Endpoint, cfg.Discovery, false)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{cfg: cfg, system: sys, remote: r, cluster: pc, address: addr, changed: make(chan struct{}),
		closed: make(chan struct{})}
	// Call ids start at random: a late result meant for an earlier
	// coordinator at the same address matches no call of this one.
	c.nextID.Store(rand.Uint64() >> 1)
	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.pid, err = sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newCoordinatorActor(c, bg) }), coordinatorName)
	if err != nil {
		stop()
		stopCluster(pc)
		shutdown(sys, r)
		return nil, fmt.Errorf("cluster: StartCoordinator: %w", err)
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		t := time.NewTicker(cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				sys.Root.Send(c.pid, tick{})
			}
		}
	}()
	var ms unionMembership
	if cfg.Membership != nil {
		ms = append(ms, cfg.Membership)
	}
	if pc != nil {
		ms = append(ms, topologyMembership{sys: sys})
	}
	if len(ms) > 0 {
		var m Membership = ms
		if len(ms) == 1 {
			m = ms[0]
		}
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			_ = m.Watch(bg, func(addrs []string) { sys.Root.Send(c.pid, members{addrs: slices.Clone(addrs)}) })
		}()
	}
	return c, nil
}

// Address returns the address nodes join (NodeConfig.Join).
func (c *Coordinator) Address() string { return c.address }

// Stats returns a snapshot of the nodes and calls.
func (c *Coordinator) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Nodes = slices.Clone(s.Nodes)
	return s
}

// WaitNodes waits until at least n nodes are live, or ctx ends.
func (c *Coordinator) WaitNodes(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		live, ch := c.stats.Live, c.changed
		c.mu.Unlock()
		if live >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: %d of %d nodes live: %w", live, n, ctx.Err())
		case <-ch:
		}
	}
}

// Close stops the coordinator: calls in flight fail with an error, the
// sessions on the nodes end (they watch the coordinator), and the endpoint
// stops. ctx bounds the wait for sessions being opened (each ends within
// twice SpawnTimeout: the spawn, then the Ping). Close is idempotent: later
// calls return what the first returned.
func (c *Coordinator) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.stop()
		_ = c.system.Root.StopFuture(c.pid).Wait()
		if err := wait(ctx, &c.bg); err != nil {
			c.closeErr = fmt.Errorf("cluster: coordinator close: %w", err)
		}
		stopCluster(c.cluster)
		shutdown(c.system, c.remote)
	})
	return c.closeErr
}

// Dispatcher returns an evaluate.Dispatcher that runs each example's
// program call on a live node, as a program of the registered kind: the
// node builds it with its constructor and loads the program's saved state
// (programs.Save). The nodes must register kind.
//
// A call waits while no node is live. When its node dies (or is declared
// dead after FailureTimeout), the call goes to another node; a result is
// accepted once per call, later ones are dropped, so every example of a
// run is scored exactly once. A remote failure is a *RemoteError.
func (c *Coordinator) Dispatcher(kind string) evaluate.Dispatcher {
	return dispatcher{c: c, kind: kind}
}

type dispatcher struct {
	c    *Coordinator
	kind string
}

// Status implements evaluate.StatusReporter, for the progress bar of the
// runs it dispatches: live nodes over the nodes seen, and the calls
// reassigned after a node died, if any ("2/3 nodes, 41 reassigned").
func (d dispatcher) Status() string {
	d.c.mu.Lock()
	live, seen, reassigned := d.c.stats.Live, len(d.c.stats.Nodes), d.c.stats.Reassigned
	d.c.mu.Unlock()
	if reassigned > 0 {
		return fmt.Sprintf("%d/%d nodes, %d reassigned", live, seen, reassigned)
	}
	return fmt.Sprintf("%d/%d nodes", live, seen)
}

// Forward implements evaluate.Dispatcher.
func (d dispatcher) Forward(ctx context.Context, call evaluate.Call) (programs.Prediction, error) {
	inputs := call.Example.Inputs()
	pp, err := evaluate.PortableFor(call.Program, inputs)
	if err != nil {
		return programs.Prediction{}, err
	}
	var state bytes.Buffer
	if err := programs.Save(&state, pp.Program); err != nil {
		return programs.Prediction{}, fmt.Errorf("cluster: saving the program: %w", err)
	}
	in, err := encodeValues(inputs)
	if err != nil {
		return programs.Prediction{}, err
	}
	m := &pb.Evaluate{
		CallId:    d.c.nextID.Add(1),
		Kind:      d.kind,
		State:     state.Bytes(),
		ExampleId: call.Example.ID(),
		Index:     int64(call.Index),
		Inputs:    in,
		Traces:    call.Traces,
		Rollout:   int64(pp.Rollout),
	}
	if pp.Temperature != nil {
		m.HasTemperature, m.Temperature = true, *pp.Temperature
	}
	if dl, ok := ctx.Deadline(); ok {
		m.TimeoutMs = max(time.Until(dl).Milliseconds(), 1)
	}
	injectTrace(ctx, m)
	p := &pending{msg: m, done: make(chan *pb.Result, 1)}
	select {
	case <-d.c.closed:
		return programs.Prediction{}, fmt.Errorf("cluster: coordinator: %w", errClosed)
	default:
	}
	d.c.system.Root.Send(d.c.pid, dispatch{p: p})
	var res *pb.Result
	select {
	case res = <-p.done:
	case <-d.c.closed:
		// Close answers every call it knows of; one it raced past gets
		// no answer.
		select {
		case res = <-p.done:
		default:
		}
	case <-ctx.Done():
		d.c.system.Root.Send(d.c.pid, cancelCall{id: m.CallId})
		return programs.Prediction{}, fmt.Errorf("cluster: %w", ctx.Err())
	}
	if res == nil {
		return programs.Prediction{}, fmt.Errorf("cluster: coordinator: %w", errClosed)
	}
	chargeRemote(ctx, res)
	if res.Error != "" {
		return programs.Prediction{}, remoteError(res)
	}
	pred, err := prediction(res)
	if err == nil && call.Traces {
		err = replay(ctx, pp.Program, res.Trace)
	}
	if err != nil {
		return programs.Prediction{}, &RemoteError{Node: res.Node, Kind: KindReply, Message: err.Error(), cause: err}
	}
	return pred, nil
}

// chargeRemote counts the LM calls a node reported for res, failed runs'
// included, now that they have returned: against the caller's budgets, and
// in the caller's usage meters (an evaluation's calls and cost) under
// "cluster/<node>".
func chargeRemote(ctx context.Context, res *pb.Result) {
	s := spendFrom(res.Spend)
	if s.Calls == 0 {
		return
	}
	budget.Charge(ctx, s)
	history.Add(ctx, "cluster/"+res.Node, history.ModelUsage{Calls: s.Calls, Usage: s.Usage, Cost: s.Cost})
}

// spendFrom is the budget.Spend a node reported.
func spendFrom(s *pb.Spend) budget.Spend {
	if s == nil {
		return budget.Spend{}
	}
	out := budget.Spend{Calls: int(s.Calls),
		Cost: pricing.Cost{Amount: s.Cost, Currency: s.Currency, Calls: int(s.Calls), Unpriced: int(s.Unpriced)}}
	if u := s.Usage; u != nil {
		out.Usage = lm.Usage{PromptTokens: int(u.PromptTokens), CompletionTokens: int(u.CompletionTokens), TotalTokens: int(u.TotalTokens)}
	}
	return out
}

// Messages of the coordinator actor.
type (
	dispatch   struct{ p *pending }
	cancelCall struct{ id uint64 }
	tick       struct{}
	members    struct{ addrs []string }
	// sessionUp reports a session opened on a node (err when it failed).
	sessionUp struct {
		addr     string
		pid      *actor.PID
		capacity int
		name     string
		err      error
	}
)

// pending is a call from Forward until its result is accepted.
type pending struct {
	msg  *pb.Evaluate
	done chan *pb.Result // buffered: the actor never blocks on it
	node *member         // where it runs; nil while waiting
}

// member is a node as the coordinator actor sees it.
type member struct {
	addr, name string
	session    *actor.PID
	live       bool
	spawning   bool
	listed     bool // listed by Membership: retried until it answers
	joined     bool // announced itself recently
	joinedAt   time.Time
	capacity   int
	running    map[uint64]*pending
	lacks      map[string]bool // program kinds the node said it has not registered
	lastSeen   time.Time       // last answer of its session: a pong or a result
	completed  int64
	deaths     int64
}

// coordinatorActor owns the membership and the calls.
type coordinatorActor struct {
	c        *Coordinator
	bg       context.Context
	nodes    map[string]*member
	bySess   map[string]*member // session PID id@address -> member
	aliases  map[string]string  // another address of a node -> its key in nodes
	calls    map[uint64]*pending
	waiting  []*pending
	stats    Stats
	pingSeq  uint64
	sessName string
	// outbox holds the results of this message's handling; they reach
	// their callers after publish, so that a caller that has seen its
	// result sees it counted in Stats too.
	outbox []delivery
}

// delivery is a result (nil: the coordinator is closing) for a caller.
type delivery struct {
	p *pending
	r *pb.Result
}

// deliver queues r for p's caller until the end of the current message.
func (a *coordinatorActor) deliver(p *pending, r *pb.Result) {
	a.outbox = append(a.outbox, delivery{p, r})
}

func newCoordinatorActor(c *Coordinator, bg context.Context) *coordinatorActor {
	return &coordinatorActor{c: c, bg: bg, nodes: make(map[string]*member), bySess: make(map[string]*member),
		aliases: make(map[string]string), calls: make(map[uint64]*pending),
		sessName: fmt.Sprintf("dspex-session-%s-%d", c.address, time.Now().UnixNano())}
}

func sessKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

func (a *coordinatorActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case dispatch:
		if a.bg.Err() != nil {
			a.deliver(m.p, nil) // closing
			break
		}
		a.calls[m.p.msg.CallId] = m.p
		a.waiting = append(a.waiting, m.p)
		a.pump(ctx)
	case cancelCall:
		a.cancel(ctx, m.id)
	case *pb.Result:
		a.result(ctx, m)
	case *pb.Join:
		mem := a.member(m.Address)
		mem.joined, mem.joinedAt = true, time.Now()
		if m.Name != "" {
			mem.name = m.Name
		}
		a.open(ctx, mem)
	case *pb.Leave:
		if mem, ok := a.lookup(m.Address); ok {
			mem.joined = false
			a.dead(ctx, mem, true)
		}
	case members:
		for _, mem := range a.nodes {
			mem.listed = false
		}
		for _, addr := range m.addrs {
			a.member(addr).listed = true
		}
		for _, mem := range a.nodes {
			a.open(ctx, mem)
		}
	case sessionUp:
		a.up(ctx, m)
	case *pb.Pong:
		if s := ctx.Sender(); s != nil {
			if mem, ok := a.bySess[sessKey(s)]; ok {
				mem.lastSeen = time.Now()
			}
		}
	case tick:
		a.tick(ctx)
	case *actor.Terminated:
		if mem, ok := a.bySess[sessKey(m.Who)]; ok {
			// Not joined any more until it announces itself again: a dead
			// process is not dialled over and over.
			mem.joined = false
			a.dead(ctx, mem, false)
		}
	case *actor.Stopping:
		for _, p := range a.calls {
			a.deliver(p, nil)
		}
		a.calls, a.waiting = map[uint64]*pending{}, nil
		for _, mem := range a.nodes {
			if mem.session != nil {
				ctx.Stop(mem.session)
			}
		}
	}
	a.publish()
	for _, d := range a.outbox {
		d.p.done <- d.r
	}
	clear(a.outbox)
	a.outbox = a.outbox[:0]
}

// lookup returns the member at addr, or at the address addr is an alias
// of.
func (a *coordinatorActor) lookup(addr string) (*member, bool) {
	if canon, ok := a.aliases[addr]; ok {
		if mem, ok := a.nodes[canon]; ok {
			return mem, true
		}
		delete(a.aliases, addr) // its member was forgotten
	}
	mem, ok := a.nodes[addr]
	return mem, ok
}

// member returns the member at addr (or at the address addr is an alias
// of), adding it if there is none.
func (a *coordinatorActor) member(addr string) *member {
	mem, ok := a.lookup(addr)
	if !ok {
		mem = &member{addr: addr, name: addr, running: make(map[uint64]*pending)}
		a.nodes[addr] = mem
	}
	return mem
}

// open starts opening a session on a wanted node that has none.
func (a *coordinatorActor) open(ctx actor.Context, mem *member) {
	if mem.live || mem.spawning || !mem.listed && !mem.joined || a.bg.Err() != nil {
		return
	}
	mem.spawning = true
	c, self, name, addr := a.c, ctx.Self(), a.sessName, mem.addr
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		up := sessionUp{addr: addr}
		up.pid, up.capacity, up.name, up.err = c.openSession(addr, name)
		c.system.Root.Send(self, up)
	}()
}

// openSession spawns the session actor on the node at addr and asks it
// for the node's capacity.
func (c *Coordinator) openSession(addr, name string) (*actor.PID, int, string, error) {
	res, err := c.remote.SpawnNamed(addr, name, sessionKind, c.cfg.SpawnTimeout)
	if err != nil {
		return nil, 0, "", err
	}
	code := remote.ResponseStatusCode(res.StatusCode)
	if code != remote.ResponseStatusCodeOK && code != remote.ResponseStatusCodePROCESSNAMEALREADYEXIST || res.Pid == nil {
		return nil, 0, "", fmt.Errorf("cluster: opening a session on %s: status %v", addr, code)
	}
	// The Pong must come to the coordinator actor; ask on a future. A
	// session this call spawned that does not answer is stopped: it never
	// adopted us, so it would not stop when we do. One that existed (the
	// same node under another address) may be serving a live member.
	abandon := func() {
		if code == remote.ResponseStatusCodeOK {
			c.system.Root.Stop(res.Pid)
		}
	}
	reply, err := c.system.Root.RequestFuture(res.Pid, &pb.Ping{}, c.cfg.SpawnTimeout).Result()
	if err != nil {
		abandon()
		return nil, 0, "", fmt.Errorf("cluster: pinging the session on %s: %w", addr, err)
	}
	pong, ok := reply.(*pb.Pong)
	if !ok {
		abandon()
		return nil, 0, "", fmt.Errorf("cluster: session on %s answered %T", addr, reply)
	}
	return res.Pid, max(int(pong.Capacity), 1), pong.Name, nil
}

func (a *coordinatorActor) up(ctx actor.Context, m sessionUp) {
	mem := a.member(m.addr)
	mem.spawning = false
	if m.err != nil {
		return // retried at the next tick or join
	}
	if other, ok := a.bySess[sessKey(m.pid)]; ok && other != mem {
		// The same node under another address (localhost:7401 and
		// 127.0.0.1:7401 lead to the same session): one member serves
		// both, so that its capacity counts once and it dies once.
		other.listed, other.joined = other.listed || mem.listed, other.joined || mem.joined
		other.joinedAt = later(other.joinedAt, mem.joinedAt)
		delete(a.nodes, mem.addr)
		a.aliases[mem.addr] = other.addr
		return
	}
	if a.bg.Err() != nil || !mem.listed && !mem.joined {
		// Closing, or the node left while its session was being opened.
		ctx.Stop(m.pid)
		return
	}
	mem.session, mem.capacity, mem.live, mem.lastSeen = m.pid, m.capacity, true, time.Now()
	if m.name != "" {
		mem.name = m.name
	}
	a.bySess[sessKey(m.pid)] = mem
	ctx.Watch(m.pid)
	// The session watches the sender of its first message: make it us.
	ctx.Request(m.pid, &pb.Ping{})
	a.pump(ctx)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// dead declares a node dead and gives its calls to other nodes. A session
// that may still run (the node stopped answering, or left) is told to
// stop; one whose endpoint terminated is not written to again.
func (a *coordinatorActor) dead(ctx actor.Context, mem *member, stopSession bool) {
	if !mem.live {
		return
	}
	mem.live = false
	mem.deaths++
	clear(mem.lacks) // it may come back with other kinds
	if mem.session != nil {
		delete(a.bySess, sessKey(mem.session))
		if stopSession {
			ctx.Unwatch(mem.session)
			ctx.Stop(mem.session) // if it is only partitioned, it stops running our calls
		}
		mem.session = nil
	}
	requeue := make([]*pending, 0, len(mem.running))
	for _, p := range mem.running {
		p.node = nil
		requeue = append(requeue, p)
	}
	sort.Slice(requeue, func(i, j int) bool { return requeue[i].msg.CallId < requeue[j].msg.CallId })
	clear(mem.running)
	a.stats.Reassigned += int64(len(requeue))
	a.waiting = append(requeue, a.waiting...)
	a.pump(ctx)
}

func (a *coordinatorActor) tick(ctx actor.Context) {
	now := time.Now()
	for _, mem := range a.nodes {
		if mem.live {
			if now.Sub(mem.lastSeen) > a.c.cfg.FailureTimeout {
				a.dead(ctx, mem, true)
				continue
			}
			a.pingSeq++
			ctx.Request(mem.session, &pb.Ping{Seq: a.pingSeq})
			continue
		}
		// A joined node that stopped announcing itself is not retried.
		if mem.joined && now.Sub(mem.joinedAt) > a.c.cfg.FailureTimeout {
			mem.joined = false
		}
		// A node nobody wants any more is forgotten after a while, so that
		// a long-lived coordinator does not keep every address it saw.
		if !mem.listed && !mem.joined && !mem.spawning && len(mem.running) == 0 &&
			now.Sub(mem.lastSeen) > a.pruneAfter() && now.Sub(mem.joinedAt) > a.pruneAfter() {
			delete(a.nodes, mem.addr)
			continue
		}
		a.open(ctx, mem)
	}
}

// pruneAfter is how long a dead node that is neither listed nor joined
// stays in the coordinator's view (and Stats).
func (a *coordinatorActor) pruneAfter() time.Duration {
	return max(20*a.c.cfg.FailureTimeout, time.Minute)
}

// pump sends waiting calls, in order, to the least loaded live nodes with
// room that have the call's program kind. A call whose kind no live node
// has fails with KindUnknownProgram.
func (a *coordinatorActor) pump(ctx actor.Context) {
	for len(a.waiting) > 0 {
		p := a.waiting[0]
		var best *member
		capable := false
		for _, mem := range a.nodes {
			if !mem.live || mem.lacks[p.msg.Kind] {
				continue
			}
			capable = true
			if len(mem.running) >= mem.capacity {
				continue
			}
			if best == nil || load(mem) < load(best) || load(mem) == load(best) && mem.addr < best.addr {
				best = mem
			}
		}
		if best == nil {
			if capable || !a.anyLive() {
				return // wait for room, or for a node
			}
			a.waiting = a.waiting[1:]
			delete(a.calls, p.msg.CallId)
			a.deliver(p, &pb.Result{CallId: p.msg.CallId, ErrorKind: KindUnknownProgram,
				Error: fmt.Sprintf("program kind %q is not registered on any live node", p.msg.Kind)})
			continue
		}
		a.waiting = a.waiting[1:]
		p.node = best
		best.running[p.msg.CallId] = p
		a.stats.Dispatched++
		ctx.Request(best.session, p.msg)
	}
}

func load(m *member) float64 { return float64(len(m.running)) / float64(m.capacity) }

func (a *coordinatorActor) anyLive() bool {
	for _, mem := range a.nodes {
		if mem.live {
			return true
		}
	}
	return false
}

func (a *coordinatorActor) result(ctx actor.Context, r *pb.Result) {
	p, ok := a.calls[r.CallId]
	if !ok {
		a.stats.Duplicates++
		return
	}
	// The node that sent the result: by its evaluator's address (the
	// address the node reports may be an alias of the one dialled).
	src := a.from(ctx.Sender())
	if src == nil {
		src, _ = a.lookup(r.Node)
	}
	if src != nil {
		src.lastSeen = time.Now()
	}
	if r.ErrorKind == KindUnknownProgram && p.node != nil && p.node == src {
		// The node lacks the kind (a rolling upgrade, a misconfigured
		// node): send it no more of that kind, and give the call to one
		// that has it; pump fails it if none has.
		mem := p.node
		if mem.lacks == nil {
			mem.lacks = make(map[string]bool)
		}
		mem.lacks[p.msg.Kind] = true
		delete(mem.running, r.CallId)
		p.node = nil
		a.stats.Reassigned++
		a.waiting = append([]*pending{p}, a.waiting...)
		a.pump(ctx)
		return
	}
	delete(a.calls, r.CallId)
	if src != nil {
		src.completed++
	}
	if p.node != nil {
		delete(p.node.running, r.CallId)
		if p.node != src && p.node.live {
			ctx.Send(p.node.session, &pb.Cancel{CallId: r.CallId})
		}
	} else {
		a.waiting = slices.DeleteFunc(a.waiting, func(q *pending) bool { return q == p })
	}
	a.stats.Completed++
	a.deliver(p, r)
	a.pump(ctx)
}

// from returns the member whose session runs where sender (a node's
// evaluator) runs, or nil.
func (a *coordinatorActor) from(sender *actor.PID) *member {
	if sender == nil {
		return nil
	}
	for _, mem := range a.nodes {
		if mem.session != nil && mem.session.Address == sender.Address {
			return mem
		}
	}
	return nil
}

func (a *coordinatorActor) cancel(ctx actor.Context, id uint64) {
	p, ok := a.calls[id]
	if !ok {
		return
	}
	delete(a.calls, id)
	if p.node != nil {
		delete(p.node.running, id)
		if p.node.live {
			ctx.Send(p.node.session, &pb.Cancel{CallId: id})
		}
	} else {
		a.waiting = slices.DeleteFunc(a.waiting, func(q *pending) bool { return q == p })
	}
	a.pump(ctx)
}

// publish copies the actor's view to the Coordinator for Stats and
// WaitNodes.
func (a *coordinatorActor) publish() {
	s := a.stats
	s.Waiting = len(a.waiting)
	s.Live = 0
	s.Nodes = make([]NodeStats, 0, len(a.nodes))
	for _, mem := range a.nodes {
		if mem.live {
			s.Live++
		}
		s.Nodes = append(s.Nodes, NodeStats{Address: mem.addr, Name: mem.name, Live: mem.live, Capacity: mem.capacity,
			Running: len(mem.running), Completed: mem.completed, Deaths: mem.deaths})
	}
	sort.Slice(s.Nodes, func(i, j int) bool { return s.Nodes[i].Address < s.Nodes[j].Address })
	c := a.c
	c.mu.Lock()
	changed := s.Live != c.stats.Live || len(s.Nodes) != len(c.stats.Nodes)
	c.stats = s
	if changed {
		close(c.changed)
		c.changed = make(chan struct{})
	}
	c.mu.Unlock()
}
