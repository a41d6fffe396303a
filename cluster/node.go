package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protocluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// sessionKind is the remote kind every node registers: a coordinator
// spawns one session actor of it on each node it uses.
const sessionKind = "dspex.cluster.session"

// DefaultCapacity is how many examples a node runs at once unless
// NodeConfig.Capacity says otherwise.
const DefaultCapacity = 64

// DefaultHeartbeat is how often a node announces itself to its seeds.
const DefaultHeartbeat = 500 * time.Millisecond

// NodeConfig configures a node.
type NodeConfig struct {
	// Endpoint is where the node listens (loopback by default) and how it
	// secures its connections.
	Endpoint
	// Name names the node in coordinators' status (its address when
	// empty).
	Name string
	// Join lists the coordinators' addresses (host:port) the node
	// announces itself to, at start and every Heartbeat. A node with no
	// seeds waits for coordinators configured with its address
	// (StaticMembership).
	Join []string
	// Heartbeat is how often the node announces itself (DefaultHeartbeat
	// when zero).
	Heartbeat time.Duration
	// Capacity caps the examples the node runs at once; coordinators send
	// it no more (DefaultCapacity when zero).
	Capacity int
	// LM is the language model the node's programs call (put in each
	// call's context with lm.NewContext): usually the node's own dspex
	// runtime's LM, so that calls go through its client actors. Required
	// unless Gateway is set.
	LM lm.LM
	// Gateway, when set, is the address of a gateway (StartGateway, or
	// cmd/node -serve-gateway) that makes the node's LM calls with its own
	// LM, keys and limits: the node's LM is a GatewayLM over the node's
	// endpoint, and LM must be nil.
	Gateway string
	// Registry holds the program kinds the node can build
	// (DefaultRegistry() when nil).
	Registry *Registry
	// Discovery, when set, makes the node a member of a protoactor-go
	// cluster, where coordinators with the same Discovery find it (with
	// or without Join).
	Discovery *Discovery
}

// DefaultNodeConfig returns a configuration listening on DefaultListen
// with DefaultCapacity and DefaultHeartbeat; set LM and Join.
func DefaultNodeConfig() NodeConfig {
	return NodeConfig{Endpoint: Endpoint{Listen: DefaultListen}, Capacity: DefaultCapacity, Heartbeat: DefaultHeartbeat}
}

// Node hosts evaluator actors for coordinators: a coordinator opens a
// session actor on the node, and the session runs each example it is sent
// in a short-lived evaluator actor, with the node's LM. Close it when done.
type Node struct {
	cfg     NodeConfig
	system  *actor.ActorSystem
	remote  *remote.Remote
	cluster *protocluster.Cluster // with Discovery
	address string
	cache   programCache
	gateway *GatewayLM    // the LM, with NodeConfig.Gateway
	ready   chan struct{} // closed when StartNode has set the fields above

	mu       sync.Mutex
	sessions map[string]*actor.PID // running sessions, to stop on Close
	closing  bool                  // set by Close: no call starts

	ctx    context.Context // cancelled by Close: ends every running call
	cancel context.CancelFunc
	calls  sync.WaitGroup // running program calls
	beats  sync.WaitGroup // the heartbeat goroutine

	closeOnce sync.Once
	closeErr  error
}

// StartNode starts a node: its remote endpoint, and heartbeats to the
// seeds in cfg.Join.
func StartNode(ctx context.Context, cfg NodeConfig) (*Node, error) {
	if (cfg.LM == nil) == (cfg.Gateway == "") {
		return nil, errors.New("cluster: StartNode: give exactly one of LM and Gateway")
	}
	if cfg.Capacity < 0 || cfg.Heartbeat < 0 {
		return nil, errors.New("cluster: StartNode: negative capacity or heartbeat")
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Registry == nil {
		cfg.Registry = defaultRegistry
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, ready: make(chan struct{})}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	props := actor.PropsFromProducer(func() actor.Actor { return newSession(n) },
		actor.WithSupervisor(actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })))
	sys, r, pc, addr, err := startEndpoint(cfg.Endpoint, cfg.Discovery, true, remote.NewKind(sessionKind, props))
	if err != nil {
		n.cancel()
		return nil, err
	}
	n.system, n.remote, n.cluster, n.address = sys, r, pc, addr
	if cfg.Gateway != "" {
		n.useGateway()
	}
	close(n.ready)
	if len(cfg.Join) > 0 {
		n.beats.Add(1)
		go n.heartbeat()
	}
	return n, nil
}

// name is the node's configured name, else its address addr.
func (n *Node) name(addr string) string {
	if n.cfg.Name != "" {
		return n.cfg.Name
	}
	return addr
}

// Address returns the address coordinators reach the node at.
func (n *Node) Address() string { return n.address }

// heartbeat announces the node to its seeds until Close.
func (n *Node) heartbeat() {
	defer n.beats.Done()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		n.announce(&pb.Join{Address: n.address, Capacity: int32(n.cfg.Capacity), Name: n.name(n.address)})
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) announce(msg any) {
	for _, seed := range n.cfg.Join {
		n.system.Root.Send(actor.NewPID(seed, coordinatorName), msg)
	}
}

// Close tells the seeds the node leaves, cancels the calls it runs (their
// coordinators give them to other nodes), stops its actors and its
// endpoint. ctx bounds the wait for running calls. Close is idempotent.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		// No call starts from now on; the running ones are cancelled.
		n.mu.Lock()
		n.closing = true
		sessions := make([]*actor.PID, 0, len(n.sessions))
		for _, pid := range n.sessions {
			sessions = append(sessions, pid)
		}
		n.mu.Unlock()
		n.cancel()
		// The heartbeat stops before the Leave, so that no Join follows it.
		n.beats.Wait()
		if len(n.cfg.Join) > 0 {
			n.announce(&pb.Leave{Address: n.address})
		}
		// The sessions stop first, with their evaluators: every
		// coordinator, which watches its session, gives the calls to other
		// nodes at once, whether it found the node by Join, Membership or
		// Discovery. A session opened from now on stops as it starts.
		for _, pid := range sessions {
			_ = n.system.Root.StopFuture(pid).Wait()
		}
		if err := wait(ctx, &n.calls); err != nil {
			n.closeErr = fmt.Errorf("cluster: node close: calls still running: %w", err)
		}
		if n.gateway != nil {
			_ = n.gateway.Close(ctx)
		}
		stopCluster(n.cluster)
		shutdown(n.system, n.remote)
	})
	return n.closeErr
}

// wait waits for wg, or until ctx ends (then it returns ctx.Err(), and the
// goroutine waiting for wg ends when wg does).
func wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdown stops an actor system with remote: the given actors first (the
// system's Shutdown does not stop them), then the gRPC server, then every
// actor left (remote's endpoint writers close their connections as they
// stop), then the system.
//
// It does not use remote's graceful Shutdown: in protoactor-go e952b3c that
// writes flags (endpointReader.suspended, endpointManager.stopped) that
// stream handlers read without synchronisation, a data race whenever a
// peer is still sending.
func shutdown(sys *actor.ActorSystem, r *remote.Remote, pids ...*actor.PID) {
	for _, pid := range pids {
		_ = sys.Root.StopFuture(pid).Wait()
	}
	r.Shutdown(false)
	for _, bucket := range sys.ProcessRegistry.LocalPIDs.LocalPIDs {
		for _, id := range bucket.Keys() {
			// Futures and guardians are processes, not actors: they do
			// not answer a stop.
			if id == "deadletter" || id == "eventstream" || strings.HasPrefix(id, "future") || strings.HasPrefix(id, "guardian") {
				continue
			}
			_ = sys.Root.StopFuture(actor.NewPID(sys.Address(), id)).Wait()
		}
	}
	sys.Shutdown()
}

// session serves one coordinator on a node.
type session struct {
	n           *Node
	coordinator *actor.PID
	running     map[uint64]*actor.PID // call id -> evaluator
	byActor     map[string]uint64     // evaluator id -> call id
}

func newSession(n *Node) *session {
	return &session{n: n, running: make(map[uint64]*actor.PID), byActor: make(map[string]uint64)}
}

func (s *session) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		s.n.mu.Lock()
		defer s.n.mu.Unlock()
		if s.n.closing {
			// Its coordinator's Ping times out: the node is not opened.
			c.Stop(c.Self())
			return
		}
		if s.n.sessions == nil {
			s.n.sessions = make(map[string]*actor.PID)
		}
		s.n.sessions[c.Self().Id] = c.Self()
	case *actor.Stopped:
		s.n.mu.Lock()
		delete(s.n.sessions, c.Self().Id)
		s.n.mu.Unlock()
	case *pb.Ping:
		s.adopt(c)
		if c.Sender() != nil {
			// Request, not Respond: the pong carries the session as its
			// sender, by which the coordinator knows whose it is.
			c.Request(c.Sender(), &pb.Pong{Seq: m.Seq, Running: int32(len(s.running)), Capacity: int32(s.n.cfg.Capacity),
				Name: s.n.name(c.ActorSystem().Address())})
		}
	case *pb.Evaluate:
		s.adopt(c)
		if _, dup := s.running[m.CallId]; dup || c.Sender() == nil {
			return
		}
		reply, n := c.Sender(), s.n
		pid := c.SpawnPrefix(actor.PropsFromProducer(func() actor.Actor {
			return &nodeEvaluator{n: n, msg: m, reply: reply}
		}), "ex")
		s.running[m.CallId] = pid
		s.byActor[pid.Id] = m.CallId
	case *pb.Cancel:
		if pid, ok := s.running[m.CallId]; ok {
			c.Stop(pid)
		}
	case *actor.Terminated:
		if s.coordinator != nil && m.Who.Equal(s.coordinator) {
			// The coordinator is gone: nobody wants the results.
			c.Stop(c.Self())
			return
		}
		if id, ok := s.byActor[m.Who.Id]; ok {
			delete(s.byActor, m.Who.Id)
			delete(s.running, id)
		}
	}
}

// adopt watches the coordinator that first talks to the session.
func (s *session) adopt(c actor.Context) {
	if s.coordinator == nil && c.Sender() != nil && c.Sender().Id == coordinatorName {
		s.coordinator = c.Sender()
		c.Watch(s.coordinator)
	}
}

// nodeEvaluator runs one example's program call on a goroutine it owns
// and sends the result to the coordinator.
type nodeEvaluator struct {
	n      *Node
	msg    *pb.Evaluate
	reply  *actor.PID
	cancel context.CancelFunc
}

// evalDone carries the result from the call goroutine to its evaluator.
type evalDone struct{ res *pb.Result }

func (e *nodeEvaluator) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		ctx, cancel := context.WithCancel(e.n.ctx)
		e.cancel = cancel
		// The system's address, not n.address: with Discovery a node is
		// found, and sent work, before StartNode returns.
		self, root, n, msg, addr := c.Self(), c.ActorSystem().Root, e.n, e.msg, c.ActorSystem().Address()
		n.mu.Lock()
		if n.closing {
			n.mu.Unlock()
			// Nothing is sent: the coordinator gives the call to another
			// node when this one leaves.
			c.Stop(self)
			return
		}
		n.calls.Add(1)
		n.mu.Unlock()
		go func() {
			defer n.calls.Done()
			// With Discovery, work can arrive before StartNode has set
			// the node up (its LM, with a gateway).
			var res *pb.Result
			select {
			case <-n.ready:
				res = n.run(ctx, msg, addr)
			case <-ctx.Done():
				res = &pb.Result{CallId: msg.CallId, Node: addr, ErrorKind: KindCanceled, Error: ctx.Err().Error()}
			}
			root.Send(self, evalDone{res: res})
		}()
	case evalDone:
		if e.n.ctx.Err() == nil {
			c.Request(e.reply, m.res) // the sender tells the coordinator which node answered
		}
		c.Stop(c.Self())
	case *actor.Stopping:
		if e.cancel != nil {
			e.cancel()
		}
	}
}

// run executes one Evaluate on the node at addr. It never panics: a panic
// anywhere in it (a program kind's constructor, loading the state, the
// program, encoding the result) is the call's KindPanic failure, so that
// one bad example cannot take down node after node as it is reassigned.
func (n *Node) run(ctx context.Context, m *pb.Evaluate, addr string) (out *pb.Result) {
	start := time.Now()
	res := &pb.Result{CallId: m.CallId, Node: addr}
	fail := func(kind string, err error) *pb.Result {
		res.ErrorKind, res.Error, res.Cause = kind, err.Error(), chatErrorToWire(err)
		res.LatencyUs = time.Since(start).Microseconds()
		return res
	}
	defer func() {
		if v := recover(); v != nil {
			res = &pb.Result{CallId: m.CallId, Node: addr}
			out = fail(KindPanic, &panicError{value: v})
		}
	}()
	prog, names, err := n.cache.program(n.cfg.Registry, m)
	if err != nil {
		var kerr *unknownKindError
		if errors.As(err, &kerr) {
			return fail(KindUnknownProgram, err)
		}
		return fail(KindState, err)
	}
	inputs, err := decodeValues(m.Inputs)
	if err != nil {
		return fail(KindState, err)
	}
	ctx = lm.NewContext(extractTrace(ctx, m), n.cfg.LM)
	if m.TimeoutMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(m.TimeoutMs)*time.Millisecond)
		defer cancel()
	}
	var tr *programs.Trace
	if m.Traces {
		ctx, tr = programs.WithTrace(ctx)
	}
	ctx, meter := history.WithMeter(ctx)
	pred, err := forward(ctx, prog, inputs)
	res.LatencyUs = time.Since(start).Microseconds()
	res.Spend = spendOf(meter.Total())
	if err != nil {
		var perr *panicError
		switch {
		case errors.As(err, &perr):
			return fail(KindPanic, err)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fail(KindTimeout, err)
		case ctx.Err() != nil:
			return fail(KindCanceled, err)
		}
		return fail(KindProgram, err)
	}
	if res.Values, err = encodeValues(pred.Values); err != nil {
		return fail(KindProgram, err)
	}
	if len(pred.Completions) > 0 {
		if res.Completions, err = json.Marshal(pred.Completions); err != nil {
			return fail(KindProgram, err)
		}
	}
	res.Usage = usageToWire(pred.Usage)
	res.Model, res.Cached = pred.Model, pred.Cached
	if tr != nil {
		for _, e := range tr.Entries() {
			in, err := encodeValues(e.Inputs)
			if err != nil {
				return fail(KindProgram, err)
			}
			out, err := encodeValues(e.Outputs)
			if err != nil {
				return fail(KindProgram, err)
			}
			res.Trace = append(res.Trace, &pb.TraceEntry{Predictor: names.of(e.Predictor), Inputs: in, Outputs: out})
		}
	}
	return res
}

// spendOf is what the recorded LM calls of one program call spent, for the
// caller's budget: the calls sent to providers (cache hits cost nothing).
func spendOf(t history.ModelUsage) *pb.Spend {
	u := t.Usage
	return &pb.Spend{
		Calls: int64(t.Calls - t.Cost.CacheHits),
		Usage: &pb.Usage{PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens), TotalTokens: int64(u.TotalTokens)},
		Cost:  t.Cost.Amount, Currency: t.Cost.Currency, Unpriced: int64(t.Cost.Unpriced),
	}
}

// panicError is a panic of a program on a node.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("program panicked: %v", e.value) }

func forward(ctx context.Context, prog programs.Program, inputs programs.Values) (pred programs.Prediction, err error) {
	defer func() {
		if v := recover(); v != nil {
			pred, err = programs.Prediction{}, &panicError{value: v}
		}
	}()
	return prog.Forward(ctx, inputs)
}

type unknownKindError struct{ kind string }

func (e *unknownKindError) Error() string {
	return fmt.Sprintf("program kind %q is not registered on this node", e.kind)
}

// predictorNames names the predictors of a built program, for traces.
type predictorNames []programs.NamedPredictor

// of returns the name of a traced predictor: by identity, else by its own
// name, else by its signature when exactly one predictor has it.
func (ns predictorNames) of(p *programs.Predictor) string {
	if p == nil {
		return ""
	}
	for _, np := range ns {
		if np.Predictor == p {
			return np.Name
		}
	}
	for _, np := range ns {
		if np.Name == p.Name() {
			return np.Name
		}
	}
	found := ""
	for _, np := range ns {
		if np.Predictor.Signature().Equal(p.Signature()) {
			if found != "" {
				return ""
			}
			found = np.Name
		}
	}
	return found
}

// programCache keeps the programs a node built, by kind, state and call
// settings: a run ships the same state with every example.
type programCache struct {
	mu    sync.Mutex
	progs map[[32]byte]builtProgram
}

type builtProgram struct {
	prog  programs.Program
	names predictorNames
}

// maxCachedPrograms bounds the cache; it is emptied when full.
const maxCachedPrograms = 256

func (pc *programCache) program(reg *Registry, m *pb.Evaluate) (programs.Program, predictorNames, error) {
	h := sha256.New()
	h.Write([]byte(m.Kind))
	h.Write([]byte{0})
	h.Write(m.State)
	var settings [17]byte
	binary.LittleEndian.PutUint64(settings[:8], uint64(m.Rollout))
	if m.HasTemperature {
		settings[8] = 1
		binary.LittleEndian.PutUint64(settings[9:], math.Float64bits(m.Temperature))
	}
	h.Write(settings[:])
	var key [32]byte
	h.Sum(key[:0])
	pc.mu.Lock()
	b, ok := pc.progs[key]
	pc.mu.Unlock()
	if ok {
		return b.prog, b.names, nil
	}
	b, err := build(reg, m)
	if err != nil {
		return nil, nil, err
	}
	pc.mu.Lock()
	if pc.progs == nil || len(pc.progs) >= maxCachedPrograms {
		pc.progs = make(map[[32]byte]builtProgram)
	}
	pc.progs[key] = b
	pc.mu.Unlock()
	return b.prog, b.names, nil
}

// build constructs the program of m's kind and loads m's state into it.
func build(reg *Registry, m *pb.Evaluate) (builtProgram, error) {
	ctor, ok := reg.Lookup(m.Kind)
	if !ok {
		return builtProgram{}, &unknownKindError{kind: m.Kind}
	}
	prog, err := ctor()
	if err != nil {
		return builtProgram{}, fmt.Errorf("building %q: %w", m.Kind, err)
	}
	if prog, err = programs.Load(bytes.NewReader(m.State), prog); err != nil {
		return builtProgram{}, fmt.Errorf("loading the state of %q: %w", m.Kind, err)
	}
	var opts []programs.Option
	if m.Rollout != 0 {
		opts = append(opts, programs.WithRollout(int(m.Rollout)))
	}
	if m.HasTemperature {
		opts = append(opts, programs.WithTemperature(m.Temperature))
	}
	if len(opts) > 0 {
		prog, err = programs.MapPredictors(prog, func(_ string, p *programs.Predictor) (*programs.Predictor, error) {
			return p.WithOptions(opts...)
		})
		if err != nil {
			return builtProgram{}, fmt.Errorf("settings of %q: %w", m.Kind, err)
		}
	}
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		return builtProgram{}, err
	}
	return builtProgram{prog: prog, names: nps}, nil
}
