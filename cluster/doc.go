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
// Endpoints bind to 127.0.0.1 unless configured otherwise
// (Endpoint.Listen). Endpoint.TLS switches on TLS, and with TLS.Mutual
// mutual TLS, for both the gRPC server and the connections a process
// dials (client certificates must chain to TLS.CAFile); every process of
// a cluster needs the same setting. Nothing secret
// crosses the wire: saved state holds no API keys, and each node reads its
// own, or holds none and uses a gateway. A gateway spends its keys for any
// peer that reaches it: beyond loopback, give it mutual TLS.
package cluster
