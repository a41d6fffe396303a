package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.opentelemetry.io/otel/propagation"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
)

// gatewayName is the name of a gateway's actor: GatewayLMs send their
// ChatRequests to it.
const gatewayName = "dspex-gateway"

// DefaultGatewayMaxTimeout bounds a call at a gateway unless
// GatewayConfig.MaxTimeout says otherwise.
const DefaultGatewayMaxTimeout = 10 * time.Minute

// GatewayConfig configures a gateway.
type GatewayConfig struct {
	// Endpoint is where the gateway listens (loopback by default) and how
	// it secures its connections. A gateway that holds API keys and
	// listens beyond loopback wants mutual TLS: any peer that reaches it
	// can spend its keys.
	Endpoint
	// LM is the language model the gateway serves: usually its own dspex
	// runtime's LM (Runtime.LM), so that every call of every node passes
	// through the gateway's client actors, with their cache, circuit
	// breaker, retries, rate limit and concurrency cap, which then hold
	// for the whole cluster. The API keys are the LM's: they never leave
	// the gateway. Required.
	LM lm.LM
	// MaxInFlight caps the calls the gateway runs at once; more wait for
	// a slot (within their deadline). Zero means no cap of the gateway's
	// own: the LM's (the runtime's client concurrency) applies.
	MaxInFlight int
	// MaxTimeout bounds every call, whatever the caller's deadline
	// (DefaultGatewayMaxTimeout when zero).
	MaxTimeout time.Duration
	// Models are the models callers may name (lm.Request.Model): usually
	// the provider's configured models. A call naming another model is
	// refused with ErrModelNotAllowed before it reaches the LM; a call
	// naming none gets the LM's default model. Empty: callers may not name
	// a model at all.
	Models []string
}

// ErrModelNotAllowed means a gateway refused a call for a model outside
// its GatewayConfig.Models.
var ErrModelNotAllowed = errors.New("cluster: model not allowed by the gateway")

// DefaultGatewayConfig returns a configuration listening on DefaultListen,
// with no cap of its own and DefaultGatewayMaxTimeout; set LM.
func DefaultGatewayConfig() GatewayConfig {
	return GatewayConfig{Endpoint: Endpoint{Listen: DefaultListen}, MaxTimeout: DefaultGatewayMaxTimeout}
}

// Gateway serves LM calls for the nodes of a cluster (NodeConfig.Gateway,
// GatewayLM) with its own LM, which holds the API keys and the
// cluster-wide limits. Each call runs on its own goroutine, so that calls
// overlap up to the LM's (and MaxInFlight's) limits. It is safe for
// concurrent use; Close it when done.
type Gateway struct {
	cfg     GatewayConfig
	system  *actor.ActorSystem
	remote  *remote.Remote
	address string
	pid     *actor.PID
	slots   chan struct{} // MaxInFlight tokens; nil without a cap

	ctx    context.Context // cancelled by Close: ends every call
	cancel context.CancelFunc
	calls  sync.WaitGroup // running call goroutines

	served, failed, running, peak atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// GatewayStats counts what a gateway did.
type GatewayStats struct {
	// Served counts the calls answered with a response; Failed those
	// answered with an error.
	Served, Failed int64
	// Running counts the calls in the gateway's LM now; Peak is the most
	// there were at once.
	Running, Peak int64
}

// StartGateway starts a gateway: its remote endpoint and the actor that
// serves ChatRequests on it.
func StartGateway(ctx context.Context, cfg GatewayConfig) (*Gateway, error) {
	if cfg.LM == nil {
		return nil, errors.New("cluster: StartGateway: no LM")
	}
	if cfg.MaxInFlight < 0 || cfg.MaxTimeout < 0 {
		return nil, errors.New("cluster: StartGateway: negative MaxInFlight or MaxTimeout")
	}
	if cfg.MaxTimeout == 0 {
		cfg.MaxTimeout = DefaultGatewayMaxTimeout
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg}
	if cfg.MaxInFlight > 0 {
		g.slots = make(chan struct{}, cfg.MaxInFlight)
	}
	sys, r, addr, err := startRemote(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	g.system, g.remote, g.address = sys, r, addr
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.pid, err = sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newGatewayActor(g) }), gatewayName)
	if err != nil {
		g.cancel()
		shutdown(sys, r)
		return nil, fmt.Errorf("cluster: StartGateway: %w", err)
	}
	return g, nil
}

// Address returns the address nodes reach the gateway at
// (NodeConfig.Gateway, GatewayClientConfig.Gateway).
func (g *Gateway) Address() string { return g.address }

// Stats returns what the gateway has done so far.
func (g *Gateway) Stats() GatewayStats {
	return GatewayStats{Served: g.served.Load(), Failed: g.failed.Load(), Running: g.running.Load(), Peak: g.peak.Load()}
}

// Close stops the gateway: running calls are cancelled (their callers get
// a *GatewayError matching ErrGatewayUnreachable), then the endpoint
// stops. ctx bounds the wait for the calls to return. The gateway's LM
// is not closed. Close is idempotent.
func (g *Gateway) Close(ctx context.Context) error {
	g.closeOnce.Do(func() {
		// Cancelled calls answer that the gateway is closing; callers
		// watching the actor see it terminate.
		g.cancel()
		_ = g.system.Root.StopFuture(g.pid).Wait()
		if err := wait(ctx, &g.calls); err != nil {
			g.closeErr = fmt.Errorf("cluster: gateway close: calls still running: %w", err)
		}
		shutdown(g.system, g.remote)
	})
	return g.closeErr
}

// gatewayCall identifies a call at the gateway: its sender and the
// sender's request id.
type gatewayCall struct {
	sender string
	id     uint64
}

// gatewayDone tells the gateway actor that a call returned.
type gatewayDone struct{ call gatewayCall }

// gatewayActor receives the calls and hands each to a goroutine; it keeps
// their cancel functions, by sender, so that a ChatCancel or the death of
// a sender cancels them.
type gatewayActor struct {
	g        *Gateway
	calls    map[gatewayCall]context.CancelFunc
	bySender map[string]map[uint64]struct{}
}

func newGatewayActor(g *Gateway) *gatewayActor {
	return &gatewayActor{g: g, calls: make(map[gatewayCall]context.CancelFunc), bySender: make(map[string]map[uint64]struct{})}
}

func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

func (a *gatewayActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *pb.ChatRequest:
		sender := c.Sender()
		if sender == nil {
			return // nobody to answer
		}
		key := gatewayCall{sender: pidKey(sender), id: m.Id}
		if _, dup := a.calls[key]; dup {
			return
		}
		timeout := a.g.cfg.MaxTimeout
		if m.TimeoutMs > 0 {
			timeout = min(timeout, time.Duration(m.TimeoutMs)*time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(a.g.ctx, timeout)
		a.calls[key] = cancel
		ids, known := a.bySender[key.sender]
		if !known {
			ids = make(map[uint64]struct{})
			a.bySender[key.sender] = ids
			// A GatewayLM's client actor lives as long as its node:
			// watch it, to cancel its calls when the node dies. A
			// future (a plain RequestFuture) does not answer watches.
			if !strings.HasPrefix(sender.Id, "future") {
				c.Watch(sender)
			}
		}
		ids[m.Id] = struct{}{}
		g, self := a.g, c.Self()
		g.calls.Add(1)
		go func() {
			defer g.calls.Done()
			reply := g.serve(ctx, m)
			reply.Id = m.Id
			g.system.Root.Send(sender, reply)
			g.system.Root.Send(self, gatewayDone{call: key})
		}()
	case *pb.ChatCancel:
		if s := c.Sender(); s != nil {
			if cancel, ok := a.calls[gatewayCall{sender: pidKey(s), id: m.Id}]; ok {
				cancel()
			}
		}
	case gatewayDone:
		if cancel, ok := a.calls[m.call]; ok {
			cancel()
			delete(a.calls, m.call)
			delete(a.bySender[m.call.sender], m.call.id)
		}
		if ids, ok := a.bySender[m.call.sender]; ok && len(ids) == 0 && strings.Contains(m.call.sender, "/future") {
			delete(a.bySender, m.call.sender) // futures are used once
		}
	case *pb.Ping:
		c.Respond(&pb.Pong{Seq: m.Seq, Running: int32(a.g.running.Load()), Capacity: int32(a.g.cfg.MaxInFlight), Name: gatewayName})
	case *actor.Terminated:
		// A caller's node died: nobody wants its answers.
		sender := pidKey(m.Who)
		for id := range a.bySender[sender] {
			if cancel, ok := a.calls[gatewayCall{sender: sender, id: id}]; ok {
				cancel()
			}
		}
		delete(a.bySender, sender)
		unwatchedBy(c, m.Who) // a GatewayLM watches its gateway
	case *actor.Stopping:
		for _, cancel := range a.calls {
			cancel()
		}
	}
}

// serve runs one call with the gateway's LM; it never panics.
func (g *Gateway) serve(ctx context.Context, m *pb.ChatRequest) (reply *pb.ChatResponse) {
	defer func() {
		if v := recover(); v != nil {
			g.failed.Add(1)
			reply = &pb.ChatResponse{Error: &pb.ChatError{Kind: chatErrPanic, Message: fmt.Sprintf("the gateway's LM panicked: %v", v)}}
		}
	}()
	fail := func(err error) *pb.ChatResponse {
		g.failed.Add(1)
		e := chatErrorToWire(err)
		if g.ctx.Err() != nil {
			e = &pb.ChatError{Kind: chatErrClosed, Message: "the gateway is shutting down"}
		}
		return &pb.ChatResponse{Error: e}
	}
	if g.slots != nil {
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
		case <-ctx.Done():
			return fail(fmt.Errorf("cluster: gateway: waiting for a slot: %w", ctx.Err()))
		}
	}
	req := chatFromWire(m)
	if req.Model != "" && !slices.Contains(g.cfg.Models, req.Model) {
		return fail(fmt.Errorf("%w: %q (allowed: %s)", ErrModelNotAllowed, req.Model, allowedList(g.cfg.Models)))
	}
	raise(&g.peak, g.running.Add(1))
	defer g.running.Add(-1)
	ctx = propagation.TraceContext{}.Extract(ctx, traceCarrier{&m.Traceparent, &m.Tracestate})
	resp, err := g.cfg.LM.Chat(ctx, req)
	if err != nil {
		return fail(err)
	}
	g.served.Add(1)
	return responseToWire(resp)
}

// allowedList describes the allowed models for an error.
func allowedList(models []string) string {
	if len(models) == 0 {
		return "none: leave the model empty for the gateway's default"
	}
	return strings.Join(models, ", ")
}

// raise makes peak at least n.
func raise(peak *atomic.Int64, n int64) {
	for {
		m := peak.Load()
		if n <= m || peak.CompareAndSwap(m, n) {
			return
		}
	}
}

// Kinds of ChatError.
const (
	chatErrProvider = "provider"
	chatErrPanic    = "panic"
	chatErrClosed   = "closed"
	chatErrOther    = "error"
)

// wireSentinels are the sentinel errors whose matching crosses the wire,
// by name.
var wireSentinels = []struct {
	name string
	err  error
}{
	{"rate_limited", lm.ErrRateLimited},
	{"circuit_open", lm.ErrCircuitOpen},
	{"no_choices", lm.ErrNoChoices},
	{"no_lm", lm.ErrNoLM},
	{"canceled", context.Canceled},
	{"deadline_exceeded", context.DeadlineExceeded},
	{"gateway_unreachable", ErrGatewayUnreachable},
	{"model_not_allowed", ErrModelNotAllowed},
}

// chatToWire is req as a ChatRequest (without id, timeout or trace).
func chatToWire(req lm.Request) *pb.ChatRequest {
	m := &pb.ChatRequest{
		Model:          req.Model,
		Messages:       make([]*pb.ChatMessage, len(req.Messages)),
		MaxTokens:      int64(req.MaxTokens),
		N:              int64(req.N),
		Stop:           req.Stop,
		ResponseFormat: string(req.ResponseFormat),
		RolloutId:      int64(req.RolloutID),
		NoCache:        req.NoCache,
	}
	for i, msg := range req.Messages {
		m.Messages[i] = messageToWire(msg)
	}
	m.ToolChoice = string(req.ToolChoice)
	for _, t := range req.Tools {
		m.Tools = append(m.Tools, &pb.ToolDef{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	if req.Temperature != nil {
		m.HasTemperature, m.Temperature = true, *req.Temperature
	}
	if req.Seed != nil {
		m.HasSeed, m.Seed = true, int64(*req.Seed)
	}
	return m
}

// messageToWire is msg as a ChatMessage, its content parts and tool calls
// included.
func messageToWire(msg lm.Message) *pb.ChatMessage {
	m := &pb.ChatMessage{Role: string(msg.Role), Content: msg.Content, ToolCallId: msg.ToolCallID}
	for _, p := range msg.Parts {
		m.Parts = append(m.Parts, &pb.ContentPart{Type: string(p.Type), Text: p.Text, ImageUrl: p.ImageURL})
	}
	for _, c := range msg.ToolCalls {
		m.ToolCalls = append(m.ToolCalls, &pb.ToolCall{Id: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	return m
}

// messageFromWire is the lm.Message of m.
func messageFromWire(m *pb.ChatMessage) lm.Message {
	msg := lm.Message{Role: lm.Role(m.GetRole()), Content: m.GetContent(), ToolCallID: m.GetToolCallId()}
	for _, p := range m.GetParts() {
		msg.Parts = append(msg.Parts, lm.ContentPart{Type: lm.PartType(p.GetType()), Text: p.GetText(), ImageURL: p.GetImageUrl()})
	}
	for _, c := range m.GetToolCalls() {
		msg.ToolCalls = append(msg.ToolCalls, lm.ToolCall{ID: c.GetId(), Name: c.GetName(), Arguments: c.GetArguments()})
	}
	return msg
}

// chatFromWire is the lm.Request of m.
func chatFromWire(m *pb.ChatRequest) lm.Request {
	req := lm.Request{
		Model:          m.Model,
		Messages:       make([]lm.Message, len(m.Messages)),
		MaxTokens:      int(m.MaxTokens),
		N:              int(m.N),
		Stop:           m.Stop,
		ResponseFormat: lm.Format(m.ResponseFormat),
		RolloutID:      int(m.RolloutId),
		NoCache:        m.NoCache,
	}
	for i, msg := range m.Messages {
		req.Messages[i] = messageFromWire(msg)
	}
	req.ToolChoice = lm.ToolChoice(m.ToolChoice)
	for _, t := range m.Tools {
		req.Tools = append(req.Tools, lm.ToolDef{Name: t.GetName(), Description: t.GetDescription(), Parameters: t.GetParameters()})
	}
	if m.HasTemperature {
		req.Temperature = lm.Float(m.Temperature)
	}
	if m.HasSeed {
		req.Seed = lm.Int(int(m.Seed))
	}
	return req
}

// responseToWire is resp as a ChatResponse (without id).
func responseToWire(resp lm.Response) *pb.ChatResponse {
	m := &pb.ChatResponse{
		ResponseId: resp.ID,
		Model:      resp.Model,
		Choices:    make([]*pb.ChatChoice, len(resp.Choices)),
		Usage:      usageToWire(resp.Usage),
		Cached:     resp.Cached,
	}
	for i, c := range resp.Choices {
		m.Choices[i] = &pb.ChatChoice{Message: messageToWire(c.Message), FinishReason: c.FinishReason}
	}
	return m
}

// responseFromWire is the lm.Response of a successful m.
func responseFromWire(m *pb.ChatResponse) lm.Response {
	resp := lm.Response{ID: m.ResponseId, Model: m.Model, Cached: m.Cached}
	if len(m.Choices) > 0 {
		resp.Choices = make([]lm.Choice, len(m.Choices))
		for i, c := range m.Choices {
			resp.Choices[i] = lm.Choice{Message: messageFromWire(c.GetMessage()), FinishReason: c.FinishReason}
		}
	}
	resp.Usage = usageFromWire(m.Usage)
	return resp
}

// chatErrorToWire describes err for the wire: its text, the sentinels it
// matches and, for a provider failure, the *lm.ProviderError's fields.
func chatErrorToWire(err error) *pb.ChatError {
	e := &pb.ChatError{Kind: chatErrOther, Message: err.Error()}
	for _, s := range wireSentinels {
		if errors.Is(err, s.err) {
			e.Sentinels = append(e.Sentinels, s.name)
		}
	}
	var pe *lm.ProviderError
	if errors.As(err, &pe) {
		e.Kind, e.Provider, e.Model, e.Status, e.Retryable = chatErrProvider, pe.Provider, pe.Model, int32(pe.Status), pe.Retryable
		e.RetryAfterMs = pe.RetryAfter.Milliseconds()
		if pe.Err != nil {
			e.Cause = pe.Err.Error()
		}
	}
	return e
}

// chatErrorFromWire rebuilds the error e describes, as the gateway at
// addr sent it: a provider failure is an *lm.ProviderError, anything else
// a *GatewayError. Both match the sentinels the original matched.
func chatErrorFromWire(addr string, e *pb.ChatError) error {
	if pe := providerErrorFromWire(e); pe != nil {
		return pe
	}
	targets := sentinelsFromWire(e)
	if e.Kind == chatErrClosed {
		targets = append(targets, ErrGatewayUnreachable)
	}
	return &GatewayError{Gateway: addr, Err: &remoteCause{msg: e.Message, targets: targets}}
}

// sentinelsFromWire returns the sentinel errors e names.
func sentinelsFromWire(e *pb.ChatError) []error {
	var targets []error
	for _, name := range e.Sentinels {
		for _, s := range wireSentinels {
			if s.name == name {
				targets = append(targets, s.err)
			}
		}
	}
	return targets
}

// providerErrorFromWire rebuilds the *lm.ProviderError e describes, or
// returns nil when e is not a provider failure.
func providerErrorFromWire(e *pb.ChatError) *lm.ProviderError {
	if e.Kind != chatErrProvider {
		return nil
	}
	targets := sentinelsFromWire(e)
	pe := &lm.ProviderError{Provider: e.Provider, Model: e.Model, Status: int(e.Status), Retryable: e.Retryable,
		RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond}
	if e.Cause != "" || len(targets) > 0 {
		pe.Err = &remoteCause{msg: e.Cause, targets: targets}
	}
	return pe
}

// remoteCause is an error that crossed the wire: its text, and the
// sentinels the original matched.
type remoteCause struct {
	msg     string
	targets []error
}

func (e *remoteCause) Error() string   { return e.msg }
func (e *remoteCause) Unwrap() []error { return e.targets }
