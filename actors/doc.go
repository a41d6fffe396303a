// Package actors holds the actors of the dspex runtime and the typed Go
// entry points that talk to them. Programs never see them: the root package
// dspex builds the supervision tree and hands out plain lm.LM values.
//
// # Actors
//
//   - ConfigManager (ConfigManagerProps over *Configs) holds the typed
//     configuration. Updates are validated; an invalid one is rejected with
//     its *config.ValidationError and the last good configuration stays.
//     Subscribers (the ClientManager) are told of every accepted change.
//     The last good configuration and the subscribers live in *Configs,
//     outside the actor, so a restarted ConfigManager starts from them.
//   - TelemetrySetup (TelemetryProps over *Telemetry) installs telemetry
//     when it starts and flushes and shuts it down when it stops.
//   - ClientManager (ClientManagerProps over *Clients) routes each request
//     to the client actor of its "provider/model", spawning it on first use
//     under the supervisor strategy it was given; it answers status queries
//     and pushes configuration changes to its clients.
//   - One client actor per provider and model owns the traffic to it: a
//     response cache (bigcache), a circuit breaker (gobreaker), request and
//     token rate limits (x/time/rate), retries with exponential backoff and
//     jitter that honour Retry-After, and a cap on requests in flight.
//
// # Concurrency
//
// A client actor never serialises calls. What it owns is what a request
// is served with: a snapshot of the provider, circuit breaker and
// settings, taken when it starts and whenever its settings change, and
// published for callers to read. The caller's goroutine, in
// (*Clients).Chat, runs the request: a cache lookup, then with the
// actor's snapshot the rate limits, in-flight cap, breaker, retries, the
// provider call and the cache write. A request costs no goroutine and no
// second stack, so a request in flight holds about what a bare go-openai
// call holds; and, once its client is routed and started, no mailbox
// round trip either, which would cost two goroutine hand-offs per call.
//
// The mailbox serves what must be ordered. A request goes through it
// when its client has no snapshot yet (its first request, or while the
// actor restarts), for an embedding, and while a crash or a settings
// change is on its way to the actor: the ClientManager counts a change
// before it sends it, and the actor publishes the new snapshot before it
// counts the change handled, so a request made after a change (after
// UpdateConfig returns, say) is served with the snapshot taken after it.
// The actor then counts the request, refuses it when closed, looks up the
// cache, and hands the request back to its caller over the reply channel
// with its snapshot. protoactor drops what is left in the mailbox of an
// actor that stops, as a client actor does past its restart intensity:
// every request and stream sent to a mailbox is kept in an inbox until
// its actor takes it, and a stopped actor gives back what it never took (a request
// sent to it afterwards comes back as a dead letter). Either way the
// request goes back to the ClientManager, which routes it to a new actor
// for the client, spawned under a name of its own; a request whose actor
// stops four times before serving it fails with ErrClientStopped.
//
// The caller's stack holds every frame from Clients.Chat down to the
// provider call while the provider answers, so that path is kept flat and
// its frames small: the routing and cache-hit part (dispatch) returns
// before the call, the breaker is gobreaker's two-step form, the retries
// are a loop in the frame that calls the provider, requests and
// responses go through pointers (the provider through lm.InPlace), and
// cold paths are helpers of their own. The deepest point before the
// provider answers, inside go-openai's encoding of the request, then
// mostly fits the 8 KiB a goroutine's stack starts at or soon reaches, as
// a bare go-openai call's does, with little to spare: an allocation there
// that takes the allocator's slow path can still push it over (go run
// ./cmd/bench -frames shows where).
//
// Either way, a request is served with the settings and breaker of the
// latest actor incarnation, after every configuration change and restart
// queued before it. The request's context derives from the caller's:
// cancelling it cancels the provider request; a caller that gives up
// before the hand-off leaves the request unrun. Each running request is
// registered under its id, so Close cancels it, and Close waits until
// every admitted request has ended. A panic in the provider is recovered
// where the request runs: the caller gets an error wrapping ErrProviderPanic,
// and the actor is then made to crash so that its supervisor restarts it
// (and, past the restart intensity, escalates as its supervision spec
// declares).
//
// Streams keep a goroutine per request (reused when idle): their producer
// runs ahead of the consumer by a buffer of chunks, and the consumer's
// iterator is the caller's goroutine.
//
// # State that outlives restarts
//
// Restarting an actor resets its fields. What must survive — each client's
// cache, counters, rate limiters, in-flight gate and running requests; the
// configuration — lives in *Clients and *Configs, created by the runtime
// and handed to the actors' producers. A restarted client actor rebuilds
// only its circuit breaker and takes the latest settings and provider.
//
// # Calling the actors
//
// (*Clients).Chat sends a request to its client actor (through the
// ClientManager the first time) with a reply channel, not a future: the
// caller's context deadline bounds the wait and the request; cancelling
// the context cancels the provider request. Messages,
// PIDs and props stay unexported or inside this package and supervision.
package actors
