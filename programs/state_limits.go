package programs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/dspex-go/dspex/signature"
)

// Default limits of Load and LoadDSPy: far above any real program, low
// enough that a hostile or corrupt file fails with an error rather than
// exhausting memory.
const (
	// DefaultMaxStateBytes caps the size of saved state: 16 MiB.
	DefaultMaxStateBytes = 16 << 20
	// DefaultMaxDemos caps the demos of one saved predictor.
	DefaultMaxDemos = 1000
)

// ErrStateTooLarge means saved state passed a limit of Load or LoadDSPy:
// its size (WithMaxStateBytes) or a predictor's demo count (WithMaxDemos).
var ErrStateTooLarge = errors.New("programs: saved state too large")

// ErrDemoType means a saved demo value does not have its field's type. It
// is matched through a *DemoError.
var ErrDemoType = errors.New("programs: demo value does not match its field's type")

// DemoError is a saved demo value that does not fit its field's declared
// type. It matches ErrDemoType.
type DemoError struct {
	// Predictor names the predictor the demo belongs to.
	Predictor string
	// Demo is the demo's index in the predictor's saved demos.
	Demo int
	// Field names the field; Type is its declared type.
	Field string
	Type  signature.Type
	// Reason says what the saved value is instead.
	Reason string
}

// Error implements error.
func (e *DemoError) Error() string {
	return fmt.Sprintf("programs: predictor %q, demo %d, field %q: want %s, %s", e.Predictor, e.Demo, e.Field, e.Type, e.Reason)
}

// Is reports whether target is ErrDemoType.
func (e *DemoError) Is(target error) bool { return target == ErrDemoType }

// LoadOption configures Load and LoadDSPy.
type LoadOption interface {
	applyLoad(*loadConfig)
}

type loadConfig struct {
	maxBytes int64
	maxDemos int
}

type loadOptionFunc func(*loadConfig)

func (f loadOptionFunc) applyLoad(c *loadConfig) { f(c) }

// WithMaxStateBytes caps the bytes Load and LoadDSPy read: longer input
// fails with ErrStateTooLarge once the limit is passed, without reading
// further. n <= 0 means DefaultMaxStateBytes.
func WithMaxStateBytes(n int64) LoadOption {
	return loadOptionFunc(func(c *loadConfig) { c.maxBytes = n })
}

// WithMaxDemos caps the demos of each saved predictor: more fail with
// ErrStateTooLarge. n <= 0 means DefaultMaxDemos.
func WithMaxDemos(n int) LoadOption {
	return loadOptionFunc(func(c *loadConfig) { c.maxDemos = n })
}

func newLoadConfig(opts []LoadOption) loadConfig {
	var c loadConfig
	for _, o := range opts {
		o.applyLoad(&c)
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxStateBytes
	}
	if c.maxDemos <= 0 {
		c.maxDemos = DefaultMaxDemos
	}
	return c
}

// cappedReader fails once more than limit bytes were read from r.
type cappedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, c.err()
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return n + int(c.left), c.err()
	}
	return n, err
}

func (c *cappedReader) err() error {
	return fmt.Errorf("%w: more than %d bytes (see WithMaxStateBytes)", ErrStateTooLarge, c.limit)
}

// decodeState decodes one JSON value from r, at most cfg.maxBytes of it,
// into v, with numbers as json.Number.
func decodeState(fn string, r io.Reader, cfg loadConfig, v any) error {
	cr := &cappedReader{r: r, left: cfg.maxBytes, limit: cfg.maxBytes}
	dec := json.NewDecoder(cr)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if cr.left < 0 {
			err = cr.err() // the decoder may report the cut as a syntax error
		}
		return fmt.Errorf("programs: %s: %w", fn, err)
	}
	return nil
}

// checkDemoCount refuses more than cfg.maxDemos demos for one predictor.
func checkDemoCount(fn, predictor string, n int, cfg loadConfig) error {
	if n > cfg.maxDemos {
		return fmt.Errorf("programs: %s: predictor %q: %w: %d demos, the limit is %d (see WithMaxDemos)",
			fn, predictor, ErrStateTooLarge, n, cfg.maxDemos)
	}
	return nil
}

// demoValue converts a saved demo value, decoded with UseNumber, to the Go
// type its field type t calls for, or says why it cannot: a JSON null is
// kept as nil for any type; str takes strings; int takes whole numbers
// within int64; float takes finite numbers; bool takes booleans; list and
// dict take arrays and objects whose elements fit their element type; json
// takes anything. Kinds it does not know are converted as json.
func demoValue(v any, t signature.Type) (any, string) {
	if v == nil {
		return nil, ""
	}
	switch t.Kind {
	case signature.String:
		if _, ok := v.(string); !ok {
			return nil, "found " + jsonKind(v)
		}
		return v, ""
	case signature.Int:
		n, ok := v.(json.Number)
		if !ok {
			return nil, "found " + jsonKind(v)
		}
		if i, err := n.Int64(); err == nil {
			return i, ""
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return nil, fmt.Sprintf("found %s, not an integer within int64", truncateValue(n.String()))
		}
		return int64(f), ""
	case signature.Float:
		n, ok := v.(json.Number)
		if !ok {
			return nil, "found " + jsonKind(v)
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Sprintf("found %s, not a finite float64", truncateValue(n.String()))
		}
		return f, ""
	case signature.Bool:
		if _, ok := v.(bool); !ok {
			return nil, "found " + jsonKind(v)
		}
		return v, ""
	case signature.List:
		x, ok := v.([]any)
		if !ok {
			return nil, "found " + jsonKind(v)
		}
		if t.Elem == nil {
			return fromJSON(x, &t), ""
		}
		for i := range x {
			e, why := demoValue(x[i], *t.Elem)
			if why != "" {
				return nil, fmt.Sprintf("element %d: %s", i, why)
			}
			x[i] = e
		}
		return x, ""
	case signature.Map:
		x, ok := v.(map[string]any)
		if !ok {
			return nil, "found " + jsonKind(v)
		}
		if t.Elem == nil {
			return fromJSON(x, &t), ""
		}
		for k := range x {
			e, why := demoValue(x[k], *t.Elem)
			if why != "" {
				return nil, fmt.Sprintf("key %q: %s", truncateValue(k), why)
			}
			x[k] = e
		}
		return x, ""
	}
	return fromJSON(v, &t), ""
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "the number " + truncateValue(x.String())
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// truncateValue shortens s for an error message.
func truncateValue(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
