package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/propagation"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// encodeValues is values as a JSON object. Floating-point numbers are
// always written with a fraction or an exponent ("2.0", not "2"), so that
// decodeValues gives back float64 where there was a float and int64 where
// there was an integer: a float output field stays a float across nodes.
func encodeValues(v programs.Values) ([]byte, error) {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = floats(x)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding values: %w", err)
	}
	return b, nil
}

// decodeValues reads a JSON object written by encodeValues; numbers come
// back as float64 when written with a fraction or an exponent, else int64
// (float64 beyond int64's range).
func decodeValues(b []byte) (programs.Values, error) {
	if len(b) == 0 {
		return programs.Values{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("cluster: decoding values: %w", err)
	}
	if v == nil { // JSON null
		return programs.Values{}, nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("cluster: decoding values: data after the object")
	}
	for k, x := range v {
		n, err := numbers(x)
		if err != nil {
			return nil, fmt.Errorf("cluster: decoding values: field %q: %w", k, err)
		}
		v[k] = n
	}
	return v, nil
}

func decodeValuesList(b []byte) ([]programs.Values, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("cluster: decoding completions: %w", err)
	}
	out := make([]programs.Values, len(raw))
	for i, r := range raw {
		v, err := decodeValues(r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// numbers turns the json.Numbers in v into int64 or float64; a number
// out of float64's range (which would become an infinity that JSON cannot
// encode again) is an error.
func numbers(v any) (any, error) {
	var err error
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(x.String(), ".eE") {
			if i, err := x.Int64(); err == nil {
				return i, nil
			}
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number %.40s out of range", x.String())
		}
		return f, nil
	case []any:
		for i := range x {
			if x[i], err = numbers(x[i]); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k := range x {
			if x[k], err = numbers(x[k]); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// floatText is a float64 that marshals with a fraction or an exponent.
type floatText float64

func (f floatText) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil, fmt.Errorf("cluster: %v cannot cross the wire", x)
	}
	b := strconv.AppendFloat(nil, x, 'g', -1, 64)
	if !bytes.ContainsAny(b, ".eE") {
		b = append(b, '.', '0')
	}
	return b, nil
}

// floats returns v with its floating-point numbers, at any depth of
// []any and map[string]any, as floatText.
func floats(v any) any {
	switch x := v.(type) {
	case float64:
		return floatText(x)
	case float32:
		return floatText(x)
	case []float64:
		out := make([]any, len(x))
		for i, f := range x {
			out[i] = floatText(f)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = floats(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k := range x {
			out[k] = floats(x[k])
		}
		return out
	}
	return v
}

// traceCarrier carries the W3C trace context in a message.
type traceCarrier struct{ parent, state *string }

func (c traceCarrier) Get(key string) string {
	switch key {
	case "traceparent":
		return *c.parent
	case "tracestate":
		return *c.state
	}
	return ""
}

func (c traceCarrier) Set(key, value string) {
	switch key {
	case "traceparent":
		*c.parent = value
	case "tracestate":
		*c.state = value
	}
}

func (c traceCarrier) Keys() []string { return []string{"traceparent", "tracestate"} }

// injectTrace writes ctx's span context into m.
func injectTrace(ctx context.Context, m *pb.Evaluate) {
	propagation.TraceContext{}.Inject(ctx, traceCarrier{&m.Traceparent, &m.Tracestate})
}

// extractTrace returns ctx with m's remote span context as parent.
func extractTrace(ctx context.Context, m *pb.Evaluate) context.Context {
	return propagation.TraceContext{}.Extract(ctx, traceCarrier{&m.Traceparent, &m.Tracestate})
}

// Error kinds of a remote failure (RemoteError.Kind).
const (
	// KindProgram is an error the program returned.
	KindProgram = "program"
	// KindPanic is a panic of the program on the node.
	KindPanic = "panic"
	// KindTimeout is a call that exceeded its deadline on the node.
	KindTimeout = "timeout"
	// KindCanceled is a call cancelled on the node (it was shutting down).
	KindCanceled = "canceled"
	// KindUnknownProgram is a program kind the node has not registered.
	KindUnknownProgram = "kind"
	// KindState is saved state the node could not load into its program.
	KindState = "state"
	// KindReply is a node's reply that the coordinator could not use: a
	// prediction that does not decode, or a trace that does not replay
	// into the program.
	KindReply = "reply"
)

// ErrRemote is matched (errors.Is) by every *RemoteError.
var ErrRemote = errors.New("cluster: remote call failed")

// RemoteError is an example's program call that failed on a node. The
// original error does not cross the wire: its text and kind do.
type RemoteError struct {
	// Node is the address of the node that ran the call.
	Node string
	// Kind classifies the failure: KindProgram, KindPanic, KindTimeout,
	// KindCanceled, KindUnknownProgram, KindState, or KindReply (found on
	// the coordinator).
	Kind string
	// Message is the original error's text.
	Message string

	cause error // see Unwrap
}

// remoteError is the *RemoteError a failed result describes.
func remoteError(r *pb.Result) *RemoteError {
	e := &RemoteError{Node: r.Node, Kind: r.ErrorKind, Message: r.Error}
	if c := r.Cause; c != nil {
		if pe := providerErrorFromWire(c); pe != nil {
			e.cause = pe
		} else if targets := sentinelsFromWire(c); len(targets) > 0 {
			e.cause = &remoteCause{msg: r.Error, targets: targets}
		}
	}
	return e
}

// Unwrap returns the cause rebuilt from the wire, if the original error
// was a provider failure or matched sentinel errors: errors.As finds the
// *lm.ProviderError (status, retryability, Retry-After), and errors.Is
// the sentinels (lm.ErrRateLimited, lm.ErrCircuitOpen, ...). Other types
// (an adapter's parse error, say) do not cross the wire; their text does.
func (e *RemoteError) Unwrap() error { return e.cause }

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("cluster: node %s: %s: %s", e.Node, e.Kind, e.Message)
}

// Is matches ErrRemote, and context.DeadlineExceeded for KindTimeout.
func (e *RemoteError) Is(target error) bool {
	return target == ErrRemote || e.Kind == KindTimeout && target == context.DeadlineExceeded
}

// prediction rebuilds the prediction of a successful result.
func prediction(r *pb.Result) (programs.Prediction, error) {
	vals, err := decodeValues(r.Values)
	if err != nil {
		return programs.Prediction{}, err
	}
	comps, err := decodeValuesList(r.Completions)
	if err != nil {
		return programs.Prediction{}, err
	}
	p := programs.Prediction{Values: vals, Completions: comps, Model: r.Model, Cached: r.Cached}
	p.Usage = usageFromWire(r.Usage)
	return p, nil
}

// replay records the remote trace entries in ctx's trace (programs.WithTrace)
// by calling each named predictor of prog again, with an LM that answers
// the recorded outputs: the trace then holds the coordinator's own
// predictors, as a local run would.
func replay(ctx context.Context, prog programs.Program, entries []*pb.TraceEntry) error {
	if len(entries) == 0 {
		return nil
	}
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		return err
	}
	byName := make(map[string]*programs.Predictor, len(nps))
	for _, np := range nps {
		byName[np.Name] = np.Predictor
	}
	for _, e := range entries {
		p, ok := byName[e.Predictor]
		if !ok {
			return fmt.Errorf("cluster: traced predictor %q is not in the program", e.Predictor)
		}
		in, err := decodeValues(e.Inputs)
		if err != nil {
			return err
		}
		out, err := decodeValues(e.Outputs)
		if err != nil {
			return err
		}
		if _, err := p.Call(ctx, in, programs.WithLM(replayLM{sig: p.Signature(), adapter: p.Adapter(), outputs: out})); err != nil {
			return fmt.Errorf("cluster: replaying the trace of %q: %w", e.Predictor, err)
		}
	}
	return nil
}

// outputFormatter is an adapter that renders outputs as a reply (Chat and
// JSON do).
type outputFormatter interface {
	FormatOutputs(sig signature.Signature, outputs adapter.Values) (string, error)
}

// replayLM answers every request with recorded outputs.
type replayLM struct {
	sig     signature.Signature
	adapter adapter.Adapter
	outputs programs.Values
}

func (r replayLM) Chat(context.Context, lm.Request) (lm.Response, error) {
	var text string
	if f, ok := r.adapter.(outputFormatter); ok {
		s, err := f.FormatOutputs(r.sig, r.outputs)
		if err != nil {
			return lm.Response{}, err
		}
		text = s
	} else {
		b, err := json.Marshal(r.outputs)
		if err != nil {
			return lm.Response{}, err
		}
		text = string(b)
	}
	return lm.Response{Model: "replay", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: text}, FinishReason: "stop"}}}, nil
}
