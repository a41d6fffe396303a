package programs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dspex-go/dspex/signature"
)

// StateVersion is the version of the state format Save writes, stored under
// the "dspex" key.
const StateVersion = 1

// ErrShapeMismatch means saved state does not fit the program it is loaded
// into: other predictor names, or a predictor with other fields. It is
// matched through a *ShapeError.
var ErrShapeMismatch = errors.New("programs: saved state does not match the program")

// ShapeError is saved state that does not fit the program it is loaded
// into. It matches ErrShapeMismatch.
type ShapeError struct {
	// Predictor names the predictor at fault; empty when the problem is the
	// set of predictors.
	Predictor string
	// Reason says what differs.
	Reason string
}

// Error implements error.
func (e *ShapeError) Error() string {
	if e.Predictor == "" {
		return "programs: saved state does not match the program: " + e.Reason
	}
	return fmt.Sprintf("programs: saved state does not match the program: predictor %q: %s", e.Predictor, e.Reason)
}

// Is reports whether target is ErrShapeMismatch.
func (e *ShapeError) Is(target error) bool { return target == ErrShapeMismatch }

// programState is the dspex state format.
type programState struct {
	Version    int              `json:"dspex"`
	Predictors []predictorState `json:"predictors"`
}

type predictorState struct {
	Name      string         `json:"name"`
	Signature signatureState `json:"signature"`
	Demos     []Values       `json:"demos"`
}

type signatureState struct {
	Instructions string       `json:"instructions"`
	Fields       []fieldState `json:"fields"`
}

type fieldState struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Type        string `json:"type"`
	Prefix      string `json:"prefix,omitempty"`
	Description string `json:"description,omitempty"`
}

// allFields returns a signature's inputs then its outputs.
func allFields(sig signature.Signature) []signature.Field {
	return append(sig.Inputs(), sig.Outputs()...)
}

func roleOf(sig signature.Signature, i int) signature.Role {
	if i < len(sig.Inputs()) {
		return signature.Input
	}
	return signature.Output
}

// Save writes the learned state of prog as JSON: for each predictor (see
// NamedPredictors), its name, its signature's instructions and fields (with
// names, roles and types, to check the shape on load, and the prefixes and
// descriptions an optimizer may have changed) and its demos. LMs, adapters
// and call settings are not saved, so neither are API keys.
//
// The object carries the format version under "dspex" (StateVersion).
func Save(w io.Writer, prog any) error {
	nps, err := NamedPredictors(prog)
	if err != nil {
		return err
	}
	st := programState{Version: StateVersion, Predictors: make([]predictorState, 0, len(nps))}
	for _, np := range nps {
		sig := np.Predictor.Signature()
		ps := predictorState{Name: np.Name, Demos: np.Predictor.Demos(),
			Signature: signatureState{Instructions: sig.Instructions()}}
		if ps.Demos == nil {
			ps.Demos = []Values{}
		}
		for i, f := range allFields(sig) {
			ps.Signature.Fields = append(ps.Signature.Fields, fieldState{
				Name: f.Name, Role: roleOf(sig, i).String(), Type: f.Type.String(), Prefix: f.Prefix, Description: f.Desc})
		}
		st.Predictors = append(st.Predictors, ps)
	}
	return writeJSON(w, st)
}

// Load reads state written by Save and returns a copy of prog with it: each
// predictor gets the saved instructions, field prefixes and descriptions and
// demos, and keeps its LM, adapter and call settings. prog itself is not
// modified.
//
// The saved predictors must be exactly prog's, by name, and each must have
// the same fields (names, roles, types, order); otherwise the error is a
// *ShapeError (errors.Is(err, ErrShapeMismatch)) naming the difference.
//
// Each demo value is checked against its field's declared type and
// restored to it (numbers to int64 or float64); a value that does not fit
// (a string for an int, an object for a str, 1e300 for an int) fails with a
// *DemoError (errors.Is(err, ErrDemoType)) naming the predictor, the demo
// and the field. Keys that are not fields (DSPy's "augmented") are kept.
//
// Input past DefaultMaxStateBytes (16 MiB), or a predictor with more than
// DefaultMaxDemos demos, fails with ErrStateTooLarge; the options raise or
// lower the limits.
func Load[P any](r io.Reader, prog P, opts ...LoadOption) (P, error) {
	cfg := newLoadConfig(opts)
	var st programState
	if err := decodeState("Load", r, cfg, &st); err != nil {
		return prog, err
	}
	if st.Version != StateVersion {
		return prog, fmt.Errorf("programs: Load: unsupported state version %d (want %d; is this a dspex state file? "+
			"use LoadDSPy for DSPy's format)", st.Version, StateVersion)
	}
	nps, err := NamedPredictors(prog)
	if err != nil {
		return prog, err
	}
	saved := make(map[string]predictorState, len(st.Predictors))
	var savedNames []string
	for _, ps := range st.Predictors {
		if _, dup := saved[ps.Name]; dup {
			return prog, fmt.Errorf("programs: Load: predictor %q is saved twice", ps.Name)
		}
		if err := checkDemoCount("Load", ps.Name, len(ps.Demos), cfg); err != nil {
			return prog, err
		}
		saved[ps.Name] = ps
		savedNames = append(savedNames, ps.Name)
	}
	if err := sameNames(nps, savedNames); err != nil {
		return prog, err
	}
	replace := make(map[string]*Predictor, len(nps))
	for _, np := range nps {
		ps := saved[np.Name]
		sig := np.Predictor.Signature()
		fields := allFields(sig)
		if len(ps.Signature.Fields) != len(fields) {
			return prog, &ShapeError{Predictor: np.Name, Reason: fmt.Sprintf("saved with %d fields, the program has %d (%s)",
				len(ps.Signature.Fields), len(fields), sig)}
		}
		var updates []fieldUpdate
		for i, f := range fields {
			sf := ps.Signature.Fields[i]
			if sf.Name != f.Name || sf.Role != roleOf(sig, i).String() || sf.Type != f.Type.String() {
				return prog, &ShapeError{Predictor: np.Name, Reason: fmt.Sprintf("field %d saved as %s %s: %s, the program has %s %s: %s",
					i, sf.Role, sf.Name, sf.Type, roleOf(sig, i), f.Name, f.Type)}
			}
			updates = append(updates, fieldUpdate{prefix: sf.Prefix, desc: sf.Description})
		}
		q, err := restore(np, ps.Signature.Instructions, updates, ps.Demos, false)
		if err != nil {
			return prog, err
		}
		replace[np.Name] = q
	}
	return WithPredictors(prog, replace)
}

// fieldUpdate is the saved prefix and description of a field.
type fieldUpdate struct{ prefix, desc string }

// restore returns np's predictor with the saved instructions, fields and
// demos. With rawExtras, numbers under demo keys that are not fields stay
// json.Number, so that they are written back exactly as they were read.
func restore(np NamedPredictor, instructions string, fields []fieldUpdate, demos []Values, rawExtras bool) (*Predictor, error) {
	sig := np.Predictor.Signature().WithInstructions(instructions)
	for i, f := range allFields(sig) {
		f.Prefix, f.Desc = fields[i].prefix, fields[i].desc
		var err error
		if sig, err = sig.WithField(f); err != nil {
			return nil, fmt.Errorf("programs: predictor %q: %w", np.Name, err)
		}
	}
	for i, d := range demos {
		for k, v := range d {
			f, _, ok := sig.Field(k)
			if !ok {
				if !rawExtras {
					d[k] = fromJSON(v, nil)
				}
				continue
			}
			x, why := demoValue(v, f.Type)
			if why != "" {
				return nil, &DemoError{Predictor: np.Name, Demo: i, Field: k, Type: f.Type, Reason: why}
			}
			d[k] = x
		}
	}
	return np.Predictor.WithSignature(sig).WithDemos(demos), nil
}

// fromJSON converts a value decoded with UseNumber to the Go type its field
// type calls for: json.Number to int64 for int fields, float64 for float
// fields, and otherwise int64 when whole and float64 when not.
func fromJSON(v any, t *signature.Type) any {
	switch x := v.(type) {
	case json.Number:
		if t != nil && t.Kind == signature.Float {
			f, _ := x.Float64()
			return f
		}
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		var elem *signature.Type
		if t != nil && t.Kind == signature.List && t.Elem != nil {
			elem = t.Elem
		}
		for i := range x {
			x[i] = fromJSON(x[i], elem)
		}
		return x
	case map[string]any:
		var elem *signature.Type
		if t != nil && t.Kind == signature.Map && t.Elem != nil {
			elem = t.Elem
		}
		for k := range x {
			x[k] = fromJSON(x[k], elem)
		}
		return x
	}
	return v
}

// sameNames returns a *ShapeError unless the saved names are exactly the
// program's.
func sameNames(nps []NamedPredictor, saved []string) error {
	var have []string
	for _, np := range nps {
		have = append(have, np.Name)
	}
	var missing, extra []string
	for _, n := range have {
		if !slices.Contains(saved, n) {
			missing = append(missing, n)
		}
	}
	for _, n := range saved {
		if !slices.Contains(have, n) {
			extra = append(extra, n)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "no saved state for "+quoteList(missing))
	}
	if len(extra) > 0 {
		parts = append(parts, "saved state for unknown "+quoteList(extra))
	}
	return &ShapeError{Reason: strings.Join(parts, "; ") + " (the program has " + quoteList(have) + ")"}
}

func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("programs: encoding state: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
