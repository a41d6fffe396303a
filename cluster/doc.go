// Package cluster runs evaluations and optimisations across processes and
// machines: a coordinator spreads the examples of evaluate runs over the
// live nodes of a cluster, whose evaluator actors run the program with
// their own dspex runtime and LM. It is built on protoactor-go remote
// (gRPC): nodes and coordinators are actor systems that spawn actors on
// each other and exchange protobuf messages (package cluster/pb).
//
// # Nodes
//
// A node (StartNode, or the command cmd/node) listens on a loopback port
// by default and announces itself to the coordinators listed in
// NodeConfig.Join, again at every heartbeat. Its programs call
// NodeConfig.LM, usually its own runtime's LM, so LM calls are made where
// the evaluator runs, through that node's client actors, cache, breaker and
// rate limits; or, with NodeConfig.Gateway, through a gateway's (see
// Gateway).
//
// # Programs travel as saved state
//
// A program does not cross the wire: its learned state (programs.Save:
// instructions, fields, demos) does, with the name of a registered kind.
// Both sides register the kind (Register, or a Registry of their own) with
// a constructor; the node builds the program and loads the state, once per
// distinct state:
//
//	cluster.Register("qa-cot", func() (programs.Program, error) {
//		return programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))
//	})
//
// Each Evaluate message carries the kind, the state, the example's inputs
// and the W3C trace context (traceparent) of the coordinator's example
// span, so the node's spans join the coordinator's trace. The metric runs
// on the coordinator, on the prediction (and, with evaluate.WithTraces, the
// predictor calls) the node sends back. Programs that change per example
// (a bootstrapping teacher) implement evaluate.Portable.
//
// # Coordinator
//
// StartCoordinator listens for nodes; Dispatcher(kind) plugs it into
// evaluate (evaluate.WithDispatcher) and into optimizers
// (teleprompter.WithEvaluateOptions):
//
//	c, err := cluster.StartCoordinator(ctx, cluster.DefaultCoordinatorConfig())
//	...
//	res, err := evaluate.Run(ctx, prog, devset, metric,
//		evaluate.WithDispatcher(c.Dispatcher("qa-cot")), evaluate.WithConcurrency(96))
//
// A call goes to the live node with the lowest load (running calls over
// capacity) and waits while no node has room. Stats counts the nodes and
// what each did.
//
// # Membership and failures
//
// Nodes join by themselves (NodeConfig.Join, a static seed list of
// coordinators); Membership (StaticMembership, or an implementation of
// your own) adds nodes the coordinator should dial. The cluster provider
// is configuration too: with Discovery, nodes become members of a
// protoactor-go cluster and coordinators its clients, dialling every node
// of its topology. Any protoactor provider plugs in (consul.New(),
// etcd.New(), k8s.New(), zk.New()); Automanaged needs no external service
// and binds loopback:
//
//	d := &cluster.Discovery{Provider: cluster.Automanaged(cluster.AutomanagedConfig{
//		Listen: "127.0.0.1:6331", Hosts: []string{"127.0.0.1:6331", "127.0.0.1:6332"}})}
//	cfg := cluster.DefaultNodeConfig()
//	cfg.Discovery = d // each process its own Discovery and provider value
//
// The coordinator opens a session actor on each node (remote spawn of a kind every node
// registers), watches it and pings it. A node is dead when its endpoint
// terminates (process killed, connection lost: about 20 ms on loopback),
// when it has not answered for FailureTimeout (a partition), or when it
// leaves (Node.Close, or SIGTERM to cmd/node, stops its sessions first);
// its unfinished calls go to other nodes at once. A result is accepted
// once per call and later ones are dropped (Stats.Duplicates), so each
// example of a run ends in the result exactly once. A node reached under
// two addresses (localhost and 127.0.0.1) is one node: the coordinator
// knows it by its session.
//
// # Gateway
//
// A gateway (StartGateway, or cmd/node -serve-gateway) is a process that
// holds the API keys and makes the LM calls of many nodes with its own LM,
// usually its own dspex runtime's: every call of the cluster then passes
// through the gateway's client actors, so their cache, circuit breaker,
// retries, rate limit and concurrency cap hold for the whole cluster.
// GatewayConfig.MaxInFlight adds a cap of the gateway's own. A node with
// NodeConfig.Gateway (and no LM) sends its calls there, and needs no
// provider and no key:
//
//	g, err := cluster.StartGateway(ctx, cluster.GatewayConfig{LM: rt.LM(""), MaxInFlight: 32})
//	...
//	cfg := cluster.DefaultNodeConfig()
//	cfg.Join, cfg.Gateway = []string{coordinator}, g.Address()
//	n, err := cluster.StartNode(ctx, cfg)
//
// Any other process uses a gateway through a GatewayLM of its own
// (DialGateway), an lm.LM. Each call is a protobuf ChatRequest to the
// gateway's actor, with the caller's deadline (or GatewayClientConfig's
// bound) and W3C trace context, and no credential; the gateway runs every
// call on a goroutine of its own (it never serialises them), answers the
// caller, turns a panic of its LM into an error, and cancels a call when
// its caller gives up or its node dies. A provider's failure comes back as
// an *lm.ProviderError with the same provider, model, status,
// retryability, Retry-After and sentinels (lm.ErrRateLimited,
// lm.ErrCircuitOpen, lm.ErrNoChoices), as it would locally; any other
// failure is a *GatewayError naming the gateway. A GatewayLM watches its
// gateway: when the gateway dies or closes, the calls waiting for it fail
// at once with ErrGatewayUnreachable, and later calls reach it again once
// it is back (while nothing listens at its address, a call fails after
// protoactor's connection attempt, about 2 s).
//
// # One endpoint per process
//
// Nodes, coordinators and gateways are meant to run one per process, as
// cmd/node does. Several in one process work, but protoactor-go's
// remote.Start (e952b3c) sets gRPC's global logger, which the race
// detector reports as a data race with any endpoint already serving.
//
// # Security
//
// Every endpoint (node, coordinator, gateway, GatewayLM client)
// authenticates the peers it talks to, by one of two means, or both:
//
//   - Mutual TLS: Endpoint.TLS with TLS.Mutual. Both sides present a
//     certificate chaining to TLS.CAFile, for the gRPC server and for the
//     connections the process dials.
//   - A shared cluster secret, for users without a PKI: Endpoint.Secret,
//     or the DSPEX_CLUSTER_SECRET environment variable (EnvClusterSecret;
//     at least MinSecretLength bytes, the same on every process; it never
//     prints and never crosses the wire).
//
// The secret is checked by an HMAC-SHA256 challenge-response at the start
// of every connection, in gRPC's transport credentials, before any gRPC
// byte: the accepting side sends a fresh random challenge; the dialling
// side answers with a challenge of its own and an HMAC of both under the
// secret; the accepting side checks it and proves the secret back with an
// HMAC over the dialler's challenge (under another label, so that no
// answer can be reflected). Each proof covers a nonce the other side
// chose, so a recorded handshake cannot be replayed, and the secret itself
// is never sent. Why a handshake per connection rather than a token per
// message: protoactor remote carries its own system messages (spawn,
// watch, terminate) on the same streams, which tokens in dspex's protobuf
// messages would leave unauthenticated; connections are long-lived, so
// the handshake costs nothing per call; and it needs no clock and no
// replay cache. With TLS configured too, the handshake runs inside the TLS
// session.
//
// protoactor remote sends messages over connections the sender dials: a
// node's results reach a coordinator, and a coordinator's work reaches a
// node, each over a connection the receiver accepted only after
// authentication. So a node accepts work only from authenticated
// coordinators, a coordinator results only from authenticated nodes, and a
// gateway serves only authenticated callers. Every refused connection is
// logged as a warning (Endpoint.SecurityLogger, by default
// Endpoint.Logger) with the peer's address and the reason.
//
// With neither a secret nor mutual TLS an endpoint listens on loopback
// only: a listen address beyond loopback (0.0.0.0, the empty host, a
// routable IP or a host name) fails to start with ErrInsecureListen, whose
// message says what to configure. Server-only TLS does not count: it does
// not authenticate clients.
//
// A gateway spends its API keys only for the models in
// GatewayConfig.Models (cmd/node: the provider's configured models); a
// call naming another model is refused with ErrModelNotAllowed before it
// reaches the LM. Nothing secret crosses the wire: saved state holds no
// API keys, and each node reads its own, or holds none and uses a gateway.
//
// Threat model. Without security (loopback only): any local process can
// join a coordinator as a node, see its prompts and return forged results,
// run work on a node with the node's key, and spend a gateway's keys; use
// it on single-user machines only. With the cluster secret: a process or
// host that reaches an endpoint without the secret gets nothing (its
// connections are refused before any message); but traffic is plain text,
// so an attacker on the network path can read prompts and results and, by
// relaying or hijacking an authenticated connection, alter them; any
// holder of the secret is a full member. Use the secret on trusted
// networks, or together with TLS (server TLS plus the secret authenticates
// both sides and encrypts). With mutual TLS: an attacker on the path can
// neither read nor alter traffic, nor connect without a certificate from
// the cluster's CA; any holder of such a certificate is a full member. In
// every mode members are trusted: an authenticated node's results are
// scored as they come, an authenticated coordinator's programs run on the
// nodes. Per-caller limits at a gateway are not implemented: its
// MaxInFlight and its runtime's limits are shared by all callers.
package cluster
