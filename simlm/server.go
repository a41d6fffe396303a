package simlm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dspex-go/dspex/dataset"
)

// DefaultModel is the model name the server reports when a request names
// none.
const DefaultModel = "simlm-1"

// ErrClosed is returned by Start on a closed server.
var ErrClosed = errors.New("simlm: server closed")

// Config configures a Server.
type Config struct {
	// Addr is the address Start listens on. The default "127.0.0.1:0"
	// picks a free loopback port.
	Addr string
	// Model is the model listed by /v1/models and reported for requests
	// that name none. Requests may name any model.
	Model string
	// Seed seeds the random source of Faults. Answers never depend on it.
	Seed int64
	// Faults is the initial fault injection (none by default).
	Faults Faults
	// Items is what the model knows; nil means dataset.QA() and
	// dataset.Arithmetic().
	Items []dataset.Item
	// Knowledge is the share of facts the model knows (0.85 by default);
	// which ones is fixed per question. Zero means the default: use a tiny
	// positive value for a model that knows almost nothing.
	Knowledge float64
	// TerseRate is the chance that a zero-shot prompt without any hint
	// about style still gets a short answer (0.15 by default).
	TerseRate float64
	// MaxRequestLog is the number of entries Requests keeps (default
	// DefaultMaxRequestLog; negative keeps none).
	MaxRequestLog int
	// MaxBodyBytes caps request bodies (default 8 MiB).
	MaxBodyBytes int64
	// ContextTokens is the simulated context window: a chat request whose
	// messages count more tokens (see the package documentation) is
	// refused with 400 and code "context_length_exceeded", as real
	// providers do (default DefaultContextTokens; negative means no
	// limit).
	ContextTokens int
	// RefusedResponseFormats lists response_format types ("json_schema",
	// "json_object") the simulated model does not support: a chat request
	// asking for one is refused with 400, param "response_format", as
	// OpenAI refuses structured outputs for models without them.
	RefusedResponseFormats []string
}

// DefaultContextTokens is the default simulated context window, in tokens.
const DefaultContextTokens = 8192

// DefaultConfig returns the default configuration: a loopback address with
// a free port, model DefaultModel, no faults, the shipped dataset, 85%
// knowledge and a 15% terse rate.
func DefaultConfig() Config {
	return Config{
		Addr:          "127.0.0.1:0",
		Model:         DefaultModel,
		Knowledge:     0.85,
		TerseRate:     0.15,
		MaxRequestLog: DefaultMaxRequestLog,
		MaxBodyBytes:  8 << 20,
		ContextTokens: DefaultContextTokens,
	}
}

func (c Config) validate() error {
	if c.Knowledge < 0 || c.Knowledge > 1 || math.IsNaN(c.Knowledge) {
		return fmt.Errorf("simlm: Knowledge = %v is not in [0, 1]", c.Knowledge)
	}
	if c.TerseRate < 0 || c.TerseRate > 1 || math.IsNaN(c.TerseRate) {
		return fmt.Errorf("simlm: TerseRate = %v is not in [0, 1]", c.TerseRate)
	}
	return c.Faults.validate()
}

// Option changes the Config of Start.
type Option interface{ apply(*Config) }

type optionFunc func(*Config)

func (f optionFunc) apply(c *Config) { f(c) }

// WithAddr sets the listen address (default "127.0.0.1:0").
func WithAddr(addr string) Option { return optionFunc(func(c *Config) { c.Addr = addr }) }

// WithModel sets the reported model name.
func WithModel(name string) Option { return optionFunc(func(c *Config) { c.Model = name }) }

// WithSeed seeds the fault random source.
func WithSeed(seed int64) Option { return optionFunc(func(c *Config) { c.Seed = seed }) }

// WithFaults sets the initial faults. It replaces all of them, including a
// latency set by an earlier WithLatency.
func WithFaults(f Faults) Option { return optionFunc(func(c *Config) { c.Faults = f }) }

// WithLatency sets Faults.Latency, keeping the other faults.
func WithLatency(d time.Duration) Option {
	return optionFunc(func(c *Config) { c.Faults.Latency = d })
}

// WithItems sets what the model knows.
func WithItems(items []dataset.Item) Option {
	return optionFunc(func(c *Config) { c.Items = items })
}

// WithContextTokens sets the simulated context window (Config.ContextTokens);
// a negative n removes the limit.
func WithContextTokens(n int) Option { return optionFunc(func(c *Config) { c.ContextTokens = n }) }

// WithRefusedResponseFormats makes the model refuse chat requests whose
// response_format asks for one of types (see
// Config.RefusedResponseFormats).
func WithRefusedResponseFormats(types ...string) Option {
	return optionFunc(func(c *Config) { c.RefusedResponseFormats = append([]string(nil), types...) })
}

// WithKnowledge sets the share of facts the model knows.
func WithKnowledge(p float64) Option { return optionFunc(func(c *Config) { c.Knowledge = p }) }

// Server is the simulated OpenAI-compatible model server. It is safe for
// concurrent use.
type Server struct {
	cfg     Config
	model   *model
	handler http.Handler
	stats   counters
	prompts prefixCache // Anthropic prompt caching

	faults atomic.Pointer[Faults]
	rngMu  sync.Mutex
	rng    *rand.Rand
	failMu sync.Mutex
	// failQueue holds the statuses of FailNext, oldest first.
	failQueue []int

	seq    atomic.Int64
	done   chan struct{} // closed by Close
	mu     sync.Mutex    // guards the fields below
	closed bool
	srv    *http.Server
	url    string
	served chan struct{} // closed when Serve returns

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server with DefaultConfig changed by opts, listening on
// Config.Addr. Close it when done.
func Start(opts ...Option) (*Server, error) {
	cfg := DefaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewServer returns a server that is not listening yet: call Start, or
// mount Handler in a server of your own (such as httptest.NewServer). Zero
// fields of cfg take their DefaultConfig values.
func NewServer(cfg Config) (*Server, error) {
	def := DefaultConfig()
	if cfg.Addr == "" {
		cfg.Addr = def.Addr
	}
	if cfg.Model == "" {
		cfg.Model = def.Model
	}
	if cfg.Knowledge == 0 {
		cfg.Knowledge = def.Knowledge
	}
	if cfg.TerseRate == 0 {
		cfg.TerseRate = def.TerseRate
	}
	if cfg.MaxRequestLog == 0 {
		cfg.MaxRequestLog = def.MaxRequestLog
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.ContextTokens == 0 {
		cfg.ContextTokens = def.ContextTokens
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	items := cfg.Items
	if items == nil {
		items = append(dataset.QA(), dataset.Arithmetic()...)
	}
	s := &Server{
		cfg:   cfg,
		model: newModel(items, cfg.Knowledge, cfg.TerseRate),
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x51e1a)),
		done:  make(chan struct{}),
	}
	s.stats.maxLog = cfg.MaxRequestLog
	f := cfg.Faults
	s.faults.Store(&f)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.track(s.handleChat))
	mux.HandleFunc("POST /v1/embeddings", s.track(s.handleEmbeddings))
	mux.HandleFunc("POST /v1/messages", s.track(s.handleMessages))
	mux.HandleFunc("GET /v1/models", s.track(s.handleModels))
	mux.HandleFunc("GET /v1/models/{id}", s.track(s.handleModel))
	s.handler = mux
	return s, nil
}

// Start listens on Config.Addr and serves until Close. It fails if the
// server is already started or closed.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.srv != nil:
		return errors.New("simlm: server already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("simlm: %w", err)
	}
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String() + "/v1"
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return nil
}

// URL returns the base URL of the OpenAI API, such as
// "http://127.0.0.1:41234/v1", or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Model returns the reported model name.
func (s *Server) Model() string { return s.cfg.Model }

// Handler returns the server's HTTP handler, serving /v1/chat/completions,
// /v1/embeddings, /v1/models and Anthropic's /v1/messages. It shares the
// server's faults and counters and can be mounted anywhere, started or not.
func (s *Server) Handler() http.Handler { return s.handler }

// closeTimeout bounds how long Close waits for connections to finish.
const closeTimeout = 5 * time.Second

// Close stops the server: delayed and hanging requests end at once, and
// Close waits for every handler and the serving goroutine to return. It is
// idempotent; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		srv, served := s.srv, s.served
		s.mu.Unlock()
		close(s.done)
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("simlm: close: %w", err)
			_ = srv.Close()
		}
		<-served
	})
	return s.closeErr
}

// outcome is what a handler reports to track.
type outcome struct {
	status     int
	fault      string
	retryAfter time.Duration
}

// track counts and logs a request around its handler.
func (s *Server) track(h func(http.ResponseWriter, *http.Request, int64) outcome) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seq := s.seq.Add(1)
		s.stats.requests.Add(1)
		s.stats.enter()
		start := time.Now()
		out := h(w, r, seq)
		s.stats.leave(RequestLog{
			Seq: seq, Path: r.URL.Path, Start: start, End: time.Now(),
			Status: out.status, Fault: out.fault, RetryAfter: out.retryAfter,
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

func writeError(w http.ResponseWriter, status int, typ, msg string) outcome {
	writeJSON(w, status, errorBody{Error: apiError{Message: msg, Type: typ}})
	return outcome{status: status}
}

func errorType(status int) (typ, msg string) {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error", "simulated rate limit: too many requests"
	case status == http.StatusGatewayTimeout:
		return "timeout", "simulated timeout"
	case status >= 500:
		return "server_error", fmt.Sprintf("simulated server error (HTTP %d)", status)
	default:
		return "invalid_request_error", fmt.Sprintf("simulated error (HTTP %d)", status)
	}
}

// readBody reads and decodes a JSON request body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("the body is not a valid request: %w", err)
	}
	return body, nil
}

// wait sleeps for d unless the client goes away or the server closes; it
// reports whether the full delay passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// applyFaults runs latency and the request's fault. It returns done=true
// when it has already answered (or the client is gone) and garble for a
// garbled reply.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, info RequestInfo) (out outcome, done, garbled bool) {
	f := s.faults.Load()
	fault, faulty := s.pickFault(f, info)
	delay := f.Latency + fault.Delay
	if f.Jitter > 0 {
		delay += time.Duration(s.float() * float64(f.Jitter))
	}
	if !s.wait(r.Context(), delay) {
		return s.interrupted(w, r), true, false
	}
	if !faulty {
		return outcome{}, false, false
	}
	switch {
	case fault.Hang:
		if f.TimeoutMax > 0 && s.wait(r.Context(), f.TimeoutMax) {
			typ, msg := errorType(http.StatusGatewayTimeout)
			out = writeError(w, http.StatusGatewayTimeout, typ, msg)
		} else {
			if f.TimeoutMax <= 0 { // no limit: until the client or the server goes
				select {
				case <-r.Context().Done():
				case <-s.done:
				}
			}
			out = s.interrupted(w, r)
		}
		out.fault = faultHang
		return out, true, false
	case fault.Status != 0:
		ra := fault.RetryAfter
		if ra == 0 {
			ra = f.RetryAfter
		}
		if fault.Status != http.StatusTooManyRequests && fault.Status != http.StatusServiceUnavailable {
			ra = 0
		}
		if ra > 0 {
			secs := int64(math.Ceil(ra.Seconds()))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			w.Header().Set("retry-after-ms", strconv.FormatInt(ra.Milliseconds(), 10))
		}
		typ, msg := errorType(fault.Status)
		out = writeError(w, fault.Status, typ, msg)
		out.fault, out.retryAfter = faultStatus, ra
		return out, true, false
	case fault.Garble:
		return outcome{fault: faultGarbled}, false, true
	case fault.Cut:
		return outcome{fault: faultCut}, false, false
	}
	return outcome{}, false, false
}

// interrupted answers a request cut short by the client or by Close.
func (s *Server) interrupted(w http.ResponseWriter, r *http.Request) outcome {
	if r.Context().Err() != nil {
		return outcome{status: statusClientGone}
	}
	return writeError(w, http.StatusServiceUnavailable, "server_error", "simulator shutting down")
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, seq int64) outcome {
	var req chatRequest
	body, err := s.readBody(w, r, &req)
	if err == nil {
		err = req.validate()
	}
	var (
		msgs   []message
		tools  []offeredTool
		choice toolChoice
	)
	if err == nil {
		tools, choice, err = req.openAITools()
	}
	if err == nil && req.Stream && len(tools) > 0 {
		err = errors.New("the simulator does not stream tool calls")
	}
	if err == nil {
		msgs = make([]message, len(req.Messages))
		for i, m := range req.Messages {
			text, terr := m.text()
			if terr != nil {
				err = fmt.Errorf("messages[%d]: %w", i, terr)
				break
			}
			msgs[i] = message{Role: m.Role, Text: text}
		}
	}
	if err != nil {
		return writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
	}
	if rf := req.ResponseFormat; rf != nil && slices.Contains(s.cfg.RefusedResponseFormats, rf.Type) {
		param := "response_format"
		writeJSON(w, http.StatusBadRequest, errorBody{Error: apiError{Type: "invalid_request_error", Param: &param,
			Message: fmt.Sprintf("Invalid parameter: 'response_format' of type '%s' is not supported with this model.", rf.Type)}})
		return outcome{status: http.StatusBadRequest}
	}
	nPrompt := promptTokens(msgs)
	if n := nPrompt; s.cfg.ContextTokens > 0 && n > s.cfg.ContextTokens {
		param, code := "messages", "context_length_exceeded"
		writeJSON(w, http.StatusBadRequest, errorBody{Error: apiError{Type: "invalid_request_error", Param: &param, Code: &code,
			Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. "+
				"Please reduce the length of the messages.", s.cfg.ContextTokens, n)}})
		return outcome{status: http.StatusBadRequest}
	}
	modelName := req.Model
	if modelName == "" {
		modelName = s.cfg.Model
	}
	out, done, garbled := s.applyFaults(w, r, RequestInfo{Seq: seq, Path: r.URL.Path, Model: modelName, Body: body})
	if done {
		return out
	}
	prompted, past, err := splitToolTurns(&req, msgs)
	if err != nil {
		return writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
	}
	p := parsePrompt(prompted, req.wantsJSON())
	root, _ := req.schema() // checked by validate
	if root != nil {
		// Structured outputs: the request's schema is the law.
		for name, fs := range fieldSchemas(root) {
			p.Schemas[name] = fs
		}
		p.WantJSON = true
	}
	resp := chatResponse{
		ID:                "chatcmpl-simlm-" + strconv.FormatInt(seq, 10),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             modelName,
		SystemFingerprint: "simlm",
	}
	resp.Usage.PromptTokens = nPrompt
	for i := range req.n() {
		var content string
		var calls []toolCallOut
		if len(tools) > 0 {
			content, calls = s.model.toolStep(p, tools, choice, past, salt(&req, i))
		} else {
			content = s.reply(p, salt(&req, i))
		}
		if root != nil && !garbled && len(calls) == 0 {
			content = conformObject(root, content, "")
		}
		if garbled {
			content = garble(content, p.WantJSON)
		}
		content = stopAt(content, req.Stop)
		finish := "stop"
		if cut, ok := truncateTokens(content, req.maxTokens()); ok {
			content, finish = cut, "length"
		}
		resp.Usage.CompletionTokens += countTokens(content)
		msg := respMessage{Role: "assistant", Content: content}
		if len(calls) > 0 && finish == "stop" {
			finish = "tool_calls"
			for _, c := range calls {
				wc := wireToolCall{ID: "call_" + c.ID, Type: "function"}
				wc.Function.Name, wc.Function.Arguments = c.Name, c.Args
				msg.ToolCalls = append(msg.ToolCalls, wc)
				resp.Usage.CompletionTokens += countTokens(c.Name + " " + c.Args)
			}
		}
		resp.Choices = append(resp.Choices, chatChoice{Index: i, Message: msg, FinishReason: finish})
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	s.stats.prompt.Add(int64(resp.Usage.PromptTokens))
	s.stats.completion.Add(int64(resp.Usage.CompletionTokens))
	s.stats.completions.Add(int64(len(resp.Choices)))
	if garbled {
		s.stats.garbled.Add(1)
	}
	if req.Stream {
		return s.writeStream(w, r, &req, resp, out)
	}
	writeJSON(w, http.StatusOK, resp)
	out.status = http.StatusOK
	return out
}

// salt is the sampling luck of choice i: empty at temperature 0 (or
// unset), so the reply depends on the prompt alone; otherwise it mixes the
// temperature, the seed, metadata.rollout_id and the choice index.
func salt(req *chatRequest, choice int) string {
	if req.Temperature == nil || *req.Temperature == 0 {
		return ""
	}
	seed := "none"
	if req.Seed != nil {
		seed = strconv.FormatInt(*req.Seed, 10)
	}
	return fmt.Sprintf("t=%g;seed=%s;rollout=%s;choice=%d", *req.Temperature, seed, req.Metadata["rollout_id"], choice)
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request, seq int64) outcome {
	var req embeddingRequest
	body, err := s.readBody(w, r, &req)
	var texts []string
	if err == nil {
		texts, err = req.inputs()
	}
	if err == nil && (req.Dimensions < 0 || req.Dimensions > maxEmbeddingDim) {
		err = fmt.Errorf("dimensions must be between 1 and %d", maxEmbeddingDim)
	}
	if err == nil && req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		err = fmt.Errorf("unknown encoding_format %q", req.EncodingFormat)
	}
	if err != nil {
		return writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
	}
	modelName := req.Model
	if modelName == "" {
		modelName = s.cfg.Model
	}
	out, done, _ := s.applyFaults(w, r, RequestInfo{Seq: seq, Path: r.URL.Path, Model: modelName, Body: body})
	if done {
		return out
	}
	dim := embeddingDim(modelName, req.Dimensions)
	resp := embeddingResponse{Object: "list", Model: modelName}
	for i, t := range texts {
		v := embed(t, dim)
		var e any = v
		if req.EncodingFormat == "base64" {
			e = base64Floats(v)
		}
		resp.Data = append(resp.Data, embeddingData{Object: "embedding", Embedding: e, Index: i})
		resp.Usage.PromptTokens += countTokens(t)
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	s.stats.prompt.Add(int64(resp.Usage.PromptTokens))
	writeJSON(w, http.StatusOK, resp)
	out.status = http.StatusOK
	return out
}

func (s *Server) modelObject(id string) modelObject {
	return modelObject{ID: id, Object: "model", OwnedBy: "dspex-simlm"}
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request, _ int64) outcome {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelObject{s.modelObject(s.cfg.Model)}})
	return outcome{status: http.StatusOK}
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request, _ int64) outcome {
	writeJSON(w, http.StatusOK, s.modelObject(r.PathValue("id")))
	return outcome{status: http.StatusOK}
}
