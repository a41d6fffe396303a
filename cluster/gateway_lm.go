package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.opentelemetry.io/otel/propagation"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
)

// DefaultGatewayTimeout bounds a GatewayLM call whose context has no
// deadline, unless GatewayClientConfig.Timeout says otherwise.
const DefaultGatewayTimeout = 5 * time.Minute

// ErrGatewayUnreachable is matched (errors.Is) by the *GatewayError of a
// call whose gateway could not be reached, went away while the call ran,
// or is shutting down.
var ErrGatewayUnreachable = errors.New("gateway unreachable")

// GatewayError is a GatewayLM call that failed without a provider's
// answer: the gateway was unreachable or went away (ErrGatewayUnreachable),
// the call's context ended (context.Canceled, context.DeadlineExceeded),
// no answer came within the client's bound (context.DeadlineExceeded), or
// the gateway's LM failed otherwise (its text, and the lm sentinels it
// matched, crossed the wire). A provider's failure at the gateway is an
// *lm.ProviderError instead, as it would be locally.
type GatewayError struct {
	// Gateway is the gateway's address.
	Gateway string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *GatewayError) Error() string { return "cluster: gateway " + e.Gateway + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *GatewayError) Unwrap() error { return e.Err }

// GatewayClientConfig configures a GatewayLM of its own (DialGateway).
type GatewayClientConfig struct {
	// Endpoint is where the client listens: the gateway sends its answers
	// there. Loopback by default; its TLS settings must match the
	// gateway's.
	Endpoint
	// Gateway is the gateway's address (Gateway.Address). Required.
	Gateway string
	// Timeout bounds a call whose context has no deadline
	// (DefaultGatewayTimeout when zero).
	Timeout time.Duration
}

// GatewayLM is an lm.LM whose calls run on a gateway (StartGateway, or
// cmd/node -serve-gateway), with the gateway's LM, keys and limits. A
// request carries no credential; the caller's deadline and trace context
// go with it. A provider failure comes back as an *lm.ProviderError with
// the same provider, model, status, retryability, Retry-After and
// sentinels (lm.ErrRateLimited, lm.ErrCircuitOpen, lm.ErrNoChoices); any
// other failure is a *GatewayError naming the gateway. When the gateway
// dies or closes, the calls waiting for it fail at once (it is watched)
// with ErrGatewayUnreachable, and later calls try to reach it again; while
// nothing listens at its address, they fail after protoactor's connection
// attempt (about 2 s).
//
// A node with NodeConfig.Gateway builds one over its own endpoint;
// DialGateway builds one with an endpoint of its own. It is safe for
// concurrent use; Close it when done.
type GatewayLM struct {
	gateway string
	timeout time.Duration
	system  *actor.ActorSystem
	remote  *remote.Remote // owned, from DialGateway; nil on a node
	pid     *actor.PID     // the client actor
	nextID  atomic.Uint64

	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// DialGateway returns a GatewayLM sending its calls to the gateway at
// cfg.Gateway, over a remote endpoint of its own. It does not contact the
// gateway: calls fail with a *GatewayError until it is reachable.
func DialGateway(ctx context.Context, cfg GatewayClientConfig) (*GatewayLM, error) {
	if cfg.Gateway == "" {
		return nil, errors.New("cluster: DialGateway: no gateway address")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("cluster: DialGateway: negative timeout")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sys, r, _, err := startRemote(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	g := newGatewayLM(sys, cfg.Gateway, cfg.Timeout)
	g.remote = r
	return g, nil
}

// newGatewayLM starts a GatewayLM's client actor on sys.
func newGatewayLM(sys *actor.ActorSystem, gateway string, timeout time.Duration) *GatewayLM {
	if timeout == 0 {
		timeout = DefaultGatewayTimeout
	}
	g := &GatewayLM{gateway: gateway, timeout: timeout, system: sys, done: make(chan struct{})}
	gw := actor.NewPID(gateway, gatewayName)
	g.pid = sys.Root.SpawnPrefix(actor.PropsFromProducer(func() actor.Actor {
		return &gatewayClient{gateway: gw, pending: make(map[uint64]chan<- gatewayReply)}
	}), "gateway-client")
	return g
}

// useGateway makes the node's LM a GatewayLM on the node's own endpoint
// (NodeConfig.Gateway).
func (n *Node) useGateway() {
	n.gateway = newGatewayLM(n.system, n.cfg.Gateway, 0)
	n.cfg.LM = n.gateway
}

// Gateway returns the address of the gateway the calls go to.
func (g *GatewayLM) Gateway() string { return g.gateway }

// String names the LM and its gateway.
func (g *GatewayLM) String() string { return "cluster.GatewayLM(" + g.gateway + ")" }

// Chat implements lm.LM: it sends req to the gateway and waits for the
// answer, until ctx ends (the gateway is told to cancel the call) or, when
// ctx has no deadline, the client's timeout passes.
func (g *GatewayLM) Chat(ctx context.Context, req lm.Request) (lm.Response, error) {
	if err := ctx.Err(); err != nil {
		return lm.Response{}, &GatewayError{Gateway: g.gateway, Err: err}
	}
	select {
	case <-g.done:
		return lm.Response{}, &GatewayError{Gateway: g.gateway, Err: errClosed}
	default:
	}
	parent := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, g.timeout,
			fmt.Errorf("no answer within %v: %w", g.timeout, context.DeadlineExceeded))
		defer cancel()
	}
	m := chatToWire(req)
	m.Id = g.nextID.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		m.TimeoutMs = max(time.Until(dl).Milliseconds(), 1)
	}
	propagation.TraceContext{}.Inject(ctx, traceCarrier{&m.Traceparent, &m.Tracestate})
	replies := make(chan gatewayReply, 1)
	g.system.Root.Send(g.pid, gatewaySend{id: m.Id, msg: m, reply: replies})
	select {
	case r := <-replies:
		if r.err != nil {
			return lm.Response{}, &GatewayError{Gateway: g.gateway, Err: r.err}
		}
		if r.resp.Error != nil {
			return lm.Response{}, chatErrorFromWire(g.gateway, r.resp.Error)
		}
		return responseFromWire(r.resp), nil
	case <-ctx.Done():
		g.system.Root.Send(g.pid, gatewayWithdraw{id: m.Id})
		err := parent.Err()
		if err == nil {
			err = context.Cause(ctx) // the client's own bound
		}
		return lm.Response{}, &GatewayError{Gateway: g.gateway, Err: err}
	case <-g.done:
		return lm.Response{}, &GatewayError{Gateway: g.gateway, Err: errClosed}
	}
}

// Close stops the GatewayLM: calls in flight fail with a *GatewayError,
// later ones at once; a GatewayLM of DialGateway stops its endpoint too.
// ctx is unused: Close does not wait for the gateway. Close is idempotent.
func (g *GatewayLM) Close(context.Context) error {
	g.closeOnce.Do(func() {
		close(g.done)
		if g.remote != nil {
			shutdown(g.system, g.remote, g.pid)
			return
		}
		_ = g.system.Root.StopFuture(g.pid).Wait()
	})
	return nil
}

// Messages of a GatewayLM's client actor.
type (
	// gatewaySend sends a request to the gateway.
	gatewaySend struct {
		id    uint64
		msg   *pb.ChatRequest
		reply chan<- gatewayReply // buffered: never blocks the actor
	}
	// gatewayWithdraw withdraws a request.
	gatewayWithdraw struct{ id uint64 }
	// gatewayReply is the gateway's answer, or why none will come.
	gatewayReply struct {
		resp *pb.ChatResponse
		err  error
	}
)

// gatewayClient sends the requests of a GatewayLM and routes the answers
// back by id. It watches the gateway, so that the requests it waits for
// fail as soon as the gateway is unreachable.
type gatewayClient struct {
	gateway  *actor.PID
	pending  map[uint64]chan<- gatewayReply
	watching bool
}

func (a *gatewayClient) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case gatewaySend:
		if !a.watching {
			// Watching again after the gateway went away reconnects: a
			// gateway still unreachable terminates the watch at once.
			c.Watch(a.gateway)
			a.watching = true
		}
		a.pending[m.id] = m.reply
		c.Request(a.gateway, m.msg)
	case gatewayWithdraw:
		if _, ok := a.pending[m.id]; ok {
			delete(a.pending, m.id)
			// With the sender: the gateway knows calls by sender and id.
			c.Request(a.gateway, &pb.ChatCancel{Id: m.id})
		}
	case *pb.ChatResponse:
		if reply, ok := a.pending[m.Id]; ok {
			delete(a.pending, m.Id)
			reply <- gatewayReply{resp: m}
		}
	case *actor.Terminated:
		if !m.Who.Equal(a.gateway) {
			return
		}
		a.watching = false
		var why string
		switch m.Why {
		case actor.TerminatedReason_NotFound:
			why = noGateway
		case actor.TerminatedReason_AddressTerminated:
			why = "connection refused or lost"
		default:
			why = "the gateway stopped"
		}
		a.forget(c)
		a.fail(fmt.Errorf("%w: %s", ErrGatewayUnreachable, why))
	case *actor.DeadLetterResponse:
		// A request reached a process that runs no gateway (a remote
		// watch of a missing actor goes unanswered), or could not leave
		// this one: the connection failed.
		if m.Target != nil && m.Target.Id == gatewayName {
			a.forget(c)
			a.watching = false
			a.fail(fmt.Errorf("%w: %s", ErrGatewayUnreachable, noGateway))
		}
	case *actor.Stopping:
		a.fail(errClosed)
	}
}

const noGateway = "no gateway answers at that address"

// forget drops the gateway's watch of this actor (the gateway watches its
// callers): see unwatchedBy.
func (a *gatewayClient) forget(c actor.Context) { unwatchedBy(c, a.gateway) }

// unwatchedBy removes watcher, a remote actor that has gone, from the
// watchers of c's actor. Otherwise, when the actor stops, protoactor dials
// the watcher's address to tell it, and a connection that cannot be made
// holds up the endpoint's shutdown for seconds.
func unwatchedBy(c actor.Context, watcher *actor.PID) {
	if ref, ok := c.ActorSystem().ProcessRegistry.GetLocal(c.Self().Id); ok {
		ref.SendSystemMessage(c.Self(), &actor.Unwatch{Watcher: watcher})
	}
}

// fail answers every pending request with err.
func (a *gatewayClient) fail(err error) {
	for id, reply := range a.pending {
		reply <- gatewayReply{err: err}
		delete(a.pending, id)
	}
}
