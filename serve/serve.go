// Package serve serves dspex programs over HTTP: POST a JSON object of a
// program's inputs, get its outputs (or stream them as server-sent
// events). cmd/serve runs it over saved programs.
//
// # Endpoints
//
//   - POST /v1/programs/{name}: the body is a JSON object holding the
//     program's inputs. The reply is {"outputs": {...}, "usage": {...},
//     "model": "...", "cached": false}. With "Accept: text/event-stream"
//     the reply is a stream of server-sent events: "chunk" events
//     ({"predictor", "field", "text"}) as the LM writes each output field,
//     "status" events for tool calls ({"tool", "args", "returned",
//     "observation"}), then one "prediction" event with the reply above,
//     or one "error" event. A client that goes away cancels the LM call.
//   - GET /v1/programs: the programs with their signatures.
//   - GET /v1/openapi.json: an OpenAPI 3 document generated from the
//     signatures.
//   - GET /healthz (the process is up) and GET /readyz (it takes requests;
//     503 once draining).
//
// # Errors
//
// Every error is a JSON object {"error": {"code", "message", "field"}}:
//
//	400 not_json        the body is not a JSON object
//	400 missing_input   an input field is absent or null (field names it)
//	400 wrong_type      an input has the wrong JSON type (field names it)
//	400 unknown_field   the body has a key that is not an input (field names it)
//	404 not_found       no program of that name, or no such endpoint
//	405 method_not_allowed  a program called with another method than POST
//	413 body_too_large  the body exceeds the configured limit
//	415 unsupported_media_type  a Content-Type other than JSON (curl's
//	                    default, application/x-www-form-urlencoded, is
//	                    read as JSON)
//	422 request_budget_exceeded  the call needed more than
//	                    Config.RequestBudget allows each call (the same
//	                    request would fail again: no Retry-After)
//	502 lm_failed       the LM failed or its reply did not parse
//	503 unavailable     the circuit breaker is open or the provider rate
//	                    limits; Retry-After says when to try again
//	503 budget_exceeded the server-wide Config.Budget is spent; Retry-After
//	                    is Config.RetryAfter (the budget is a process's:
//	                    an operator restarts or reconfigures the server)
//	503 draining        the server is shutting down
//	504 timeout         the call outlived its deadline
//
// A budget error's message names the cap that was hit (calls, tokens or
// cost). A call that is refused or fails writes nothing but the error:
// outputs are sent only once the whole prediction has parsed.
//
// # Metrics
//
// With Config.MeterProvider set, the server records the OpenTelemetry HTTP
// server metrics http.server.request.duration (seconds, by method, route
// and status code) and http.server.active_requests; the LM metrics come
// from the runtime whose LM the programs use. cmd/serve -metrics exports
// both to Prometheus on /metrics.
package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// Program is one program served under a name.
type Program struct {
	// Name is the path segment it is served under.
	Name string
	// Signature describes its inputs and outputs.
	Signature signature.Signature
	// Program runs it.
	Program programs.StreamProgram
}

// Config configures a Server.
type Config struct {
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Timeout bounds each program call; 0 means none beyond the client's.
	Timeout time.Duration
	// RetryAfter is sent with 503 replies when the LM error does not say
	// how long to wait; 0 means 30 s.
	RetryAfter time.Duration
	// Budget caps the LM calls of all the calls the server serves, over
	// its life (see package budget); zero fields are no cap. Once it is
	// spent, calls get 503 budget_exceeded.
	Budget budget.Budget
	// RequestBudget caps the LM calls of each call; zero fields are no
	// cap. A call that needs more gets 422 request_budget_exceeded.
	RequestBudget budget.Budget
	// MeterProvider records the HTTP server metrics; nil records none.
	MeterProvider metric.MeterProvider
}

// DefaultMaxBodyBytes is the default cap of request bodies.
const DefaultMaxBodyBytes = 1 << 20

// Server is the HTTP handler of a set of programs. It is safe for
// concurrent use.
type Server struct {
	cfg      Config
	progs    map[string]*served
	names    []string
	mux      *http.ServeMux
	draining atomic.Bool
	openapi  []byte
	// budget carries the server-wide budget's account; nil without one.
	budget  context.Context
	metrics *httpMetrics // nil without a meter provider
}

// served is a program with what each call needs of its signature,
// computed once.
type served struct {
	sig    signature.Signature
	prog   programs.StreamProgram
	inputs []signature.Field
}

// New returns a server for progs. Names must be unique path segments.
func New(cfg Config, progs ...Program) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 30 * time.Second
	}
	s := &Server{cfg: cfg, progs: map[string]*served{}, mux: http.NewServeMux()}
	for _, p := range progs {
		switch {
		case p.Name == "" || strings.ContainsAny(p.Name, "/?#% "):
			return nil, fmt.Errorf("serve: program name %q is not a path segment", p.Name)
		case s.progs[p.Name] != nil:
			return nil, fmt.Errorf("serve: two programs are named %q", p.Name)
		case p.Program == nil || p.Signature.IsZero():
			return nil, fmt.Errorf("serve: program %q has no program or signature", p.Name)
		}
		s.progs[p.Name] = &served{sig: p.Signature, prog: p.Program, inputs: p.Signature.Inputs()}
		s.names = append(s.names, p.Name)
	}
	if cfg.Budget != (budget.Budget{}) {
		s.budget = budget.With(context.Background(), cfg.Budget)
	}
	if cfg.MeterProvider != nil {
		m, err := newHTTPMetrics(cfg.MeterProvider)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	slices.Sort(s.names)
	doc, err := json.MarshalIndent(s.openAPI(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("serve: OpenAPI document: %w", err)
	}
	s.openapi = doc
	s.mux.HandleFunc("POST /v1/programs/{name}", s.handleCall)
	s.mux.HandleFunc("/v1/programs/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "", r.Method+" "+r.URL.Path+": a program is called with POST")
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "", "no endpoint "+r.Method+" "+r.URL.Path)
	})
	s.mux.HandleFunc("GET /v1/programs", s.handleList)
	s.mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.openapi)
	})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.draining.Load() {
			writeError(w, http.StatusServiceUnavailable, "draining", "", "the server is shutting down")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.metrics.serve(s.mux, w, r)
}

// Drain makes /readyz report 503 and refuses new program calls with 503,
// so that a load balancer stops sending traffic; calls already accepted
// run to their end. http.Server.Shutdown then waits for them.
func (s *Server) Drain() { s.draining.Store(true) }

// Error is the body of every error reply.
type Error struct {
	// Code is the machine-readable kind of error (see the package
	// documentation).
	Code string `json:"code"`
	// Message explains it.
	Message string `json:"message"`
	// Field names the input field at fault, when there is one.
	Field string `json:"field,omitempty"`
}

// Reply is the body of a successful call, and the data of the
// "prediction" event of a streamed one.
type Reply struct {
	// Outputs holds the output fields.
	Outputs map[string]any `json:"outputs"`
	// Usage counts the tokens of every LM call made.
	Usage lm.Usage `json:"usage"`
	// Model is the model that answered.
	Model string `json:"model,omitempty"`
	// Cached reports that every LM response came from the cache.
	Cached bool `json:"cached"`
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the whole body, with its Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = enc.Encode(map[string]Error{"error": {Code: "internal", Message: "encoding the reply: " + err.Error()}})
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, map[string]Error{"error": {Code: code, Message: msg, Field: field}})
}

// inputError is a bad request.
type inputError struct {
	status      int
	code, field string
	msg         string
}

func (e *inputError) Error() string { return e.msg }

func (s *Server) handleList(w http.ResponseWriter, _ *http.Request) {
	type field struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Description string `json:"description,omitempty"`
	}
	type prog struct {
		Name         string  `json:"name"`
		Signature    string  `json:"signature"`
		Instructions string  `json:"instructions,omitempty"`
		Inputs       []field `json:"inputs"`
		Outputs      []field `json:"outputs"`
	}
	fields := func(fs []signature.Field) []field {
		out := make([]field, len(fs))
		for i, f := range fs {
			out[i] = field{Name: f.Name, Type: f.Type.String(), Description: f.Desc}
		}
		return out
	}
	list := make([]prog, 0, len(s.names))
	for _, n := range s.names {
		p := s.progs[n]
		list = append(list, prog{Name: n, Signature: p.sig.String(), Instructions: p.sig.Instructions(),
			Inputs: fields(p.sig.Inputs()), Outputs: fields(p.sig.Outputs())})
	}
	writeJSON(w, http.StatusOK, map[string]any{"programs": list})
}

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	p := s.progs[r.PathValue("name")]
	if p == nil {
		writeError(w, http.StatusNotFound, "not_found", "", fmt.Sprintf("no program named %q", r.PathValue("name")))
		return
	}
	if s.draining.Load() {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "draining", "", "the server is shutting down")
		return
	}
	inputs, err := s.readInputs(w, r, p.inputs)
	if err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			writeError(w, ie.status, ie.code, ie.field, ie.msg)
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "", err.Error())
		return
	}
	ctx := r.Context()
	if s.budget != nil {
		ctx = withValues{Context: ctx, values: s.budget}
		if err := budget.Exceeded(ctx); err != nil { // refused before any work
			s.writeFailure(w, err)
			return
		}
	}
	if s.cfg.RequestBudget != (budget.Budget{}) {
		ctx = budget.With(ctx, s.cfg.RequestBudget)
	}
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	if wantsStream(r) {
		s.stream(ctx, w, p, inputs)
		return
	}
	pred, err := p.prog.Forward(ctx, inputs)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client is gone
		}
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, reply(pred))
}

// writeFailure writes the error reply of a failed call.
func (s *Server) writeFailure(w http.ResponseWriter, err error) {
	status, e, retry := s.classify(err)
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	writeJSON(w, status, map[string]Error{"error": e})
}

// withValues is a context whose values are its own, then those of values:
// a request's context that also carries the server-wide budget.
type withValues struct {
	context.Context
	values context.Context
}

// Value implements context.Context.
func (c withValues) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

func reply(pred programs.Prediction) Reply {
	out := pred.Values // only read, by the encoder
	if out == nil {
		out = map[string]any{}
	}
	return Reply{Outputs: out, Usage: pred.Usage, Model: pred.Model, Cached: pred.Cached}
}

// wantsStream reports whether the client accepts server-sent events.
func wantsStream(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if !strings.Contains(strings.ToLower(accept), "text/event-stream") {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// stream runs the program with its events sent as server-sent events.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, p *served, inputs programs.Values) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			b, _ = json.Marshal(map[string]Error{"error": {Code: "internal", Message: err.Error()}})
			event = "error"
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for ev, err := range p.prog.StreamForward(ctx, inputs) {
		var ok bool
		switch {
		case err != nil:
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return
			}
			_, e, _ := s.classify(err)
			send("error", map[string]Error{"error": e})
			return
		case ev.Chunk != nil:
			ok = send("chunk", ev.Chunk)
		case ev.Status != nil:
			ok = send("status", ev.Status)
		case ev.Prediction != nil:
			ok = send("prediction", reply(*ev.Prediction))
		default:
			ok = true
		}
		if !ok {
			return // the client is gone: leaving the loop stops the call
		}
	}
}

// classify maps a program error to a status, an error body and a
// Retry-After delay.
func (s *Server) classify(err error) (int, Error, time.Duration) {
	var pe *lm.ProviderError
	errors.As(err, &pe)
	retry := s.cfg.RetryAfter
	if pe != nil && pe.RetryAfter > 0 {
		retry = pe.RetryAfter
	}
	var parse *adapter.ParseError
	var spent *budget.ExceededError
	switch {
	case errors.As(err, &spent):
		if s.budget != nil && budget.Exceeded(s.budget) != nil {
			return http.StatusServiceUnavailable, Error{Code: "budget_exceeded",
				Message: "the server's LM budget is spent: " + spent.Error()}, s.cfg.RetryAfter
		}
		return http.StatusUnprocessableEntity, Error{Code: "request_budget_exceeded",
			Message: "the call needs more than the per-call LM budget: " + spent.Error()}, 0
	case errors.Is(err, lm.ErrCircuitOpen):
		return http.StatusServiceUnavailable, Error{Code: "unavailable", Message: "the LM provider is failing; its circuit breaker is open"}, retry
	case errors.Is(err, lm.ErrRateLimited):
		return http.StatusServiceUnavailable, Error{Code: "unavailable", Message: "the LM provider is rate limiting"}, retry
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, Error{Code: "timeout", Message: "the program did not finish in time"}, 0
	case errors.As(err, &parse):
		return http.StatusBadGateway, Error{Code: "lm_failed", Field: parse.Field, Message: "the LM reply did not parse: " + parse.Error()}, 0
	case pe != nil:
		return http.StatusBadGateway, Error{Code: "lm_failed", Message: err.Error()}, 0
	}
	var missing *adapter.MissingInputError
	if errors.As(err, &missing) {
		return http.StatusBadRequest, Error{Code: "missing_input", Message: err.Error()}, 0
	}
	return http.StatusBadGateway, Error{Code: "lm_failed", Message: err.Error()}, 0
}

// readInputs reads the body as a JSON object of inputs and checks it
// against the input fields.
func (s *Server) readInputs(w http.ResponseWriter, r *http.Request, fields []signature.Field) (programs.Values, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		// curl -d sends application/x-www-form-urlencoded unless told
		// otherwise: take its body as JSON too.
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "application/x-www-form-urlencoded") {
			return nil, &inputError{http.StatusUnsupportedMediaType, "unsupported_media_type", "",
				fmt.Sprintf("Content-Type %q is not application/json", ct)}
		}
	}
	tooBig := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &inputError{http.StatusRequestEntityTooLarge, "body_too_large", "",
				fmt.Sprintf("the body exceeds %d bytes", s.cfg.MaxBodyBytes)}
		}
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		if e := tooBig(err); e != nil {
			return nil, e
		}
		msg := "the body is not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, &inputError{http.StatusBadRequest, "not_json", "", msg}
	}
	if _, err := dec.Token(); err != io.EOF {
		if e := tooBig(err); e != nil {
			return nil, e
		}
		return nil, &inputError{http.StatusBadRequest, "not_json", "", "the body has data after its JSON object"}
	}
	inputs := make(programs.Values, len(fields))
	for _, f := range fields {
		v, ok := raw[f.Name]
		if !ok || v == nil {
			return nil, &inputError{http.StatusBadRequest, "missing_input", f.Name, fmt.Sprintf("input %q is missing", f.Name)}
		}
		cv, err := checkType(f.Type, v)
		if err != nil {
			return nil, &inputError{http.StatusBadRequest, "wrong_type", f.Name, fmt.Sprintf("input %q: %v", f.Name, err)}
		}
		inputs[f.Name] = cv
	}
	if len(raw) > len(inputs) { // name the first unknown key, in sorted order
		var unknown []string
		for k := range raw {
			if _, ok := inputs[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		k := slices.Min(unknown)
		return nil, &inputError{http.StatusBadRequest, "unknown_field", k, fmt.Sprintf("%q is not an input of this program", k)}
	}
	return inputs, nil
}

// checkType checks a decoded JSON value (numbers as json.Number) against
// t strictly and converts numbers to int64 or float64.
func checkType(t signature.Type, v any) (any, error) {
	want := func() error { return fmt.Errorf("want %s, got %s", t, jsonKind(v)) }
	switch t.Kind {
	case signature.String:
		if _, ok := v.(string); !ok {
			return nil, want()
		}
		return v, nil
	case signature.Bool:
		if _, ok := v.(bool); !ok {
			return nil, want()
		}
		return v, nil
	case signature.Int:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("want int, got %s", n)
		}
		return i, nil
	case signature.Float:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("want float, got %s", n)
		}
		return f, nil
	case signature.List:
		items, ok := v.([]any)
		if !ok {
			return nil, want()
		}
		out := make([]any, len(items))
		for i, it := range items {
			cv, err := checkType(elem(t), it)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = cv
		}
		return out, nil
	case signature.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, want()
		}
		out := make(map[string]any, len(m))
		for k, it := range m {
			cv, err := checkType(elem(t), it)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = cv
		}
		return out, nil
	}
	return plainJSON(v), nil
}

func elem(t signature.Type) signature.Type {
	if t.Elem == nil {
		return signature.TypeObject
	}
	return *t.Elem
}

// plainJSON turns json.Numbers into int64 or float64 throughout v.
func plainJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = plainJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plainJSON(x[k])
		}
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}
