package programs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dspex-go/dspex/signature"
)

// ErrLegacyDSPyState is returned by LoadDSPy for state saved by DSPy 2.5 or
// earlier, whose ChainOfThought predictors hold an "extended_signature";
// DSPy 2.6+ refuses it too ("Loading extended_signature is no longer
// supported in DSPy 2.6+").
var ErrLegacyDSPyState = errors.New("programs: loading extended_signature is no longer supported in DSPy 2.6+ (state saved by DSPy 2.5 or earlier)")

// dspyMetadataKey is the top-level key DSPy's save writes besides the
// predictors.
const dspyMetadataKey = "metadata"

// dspyPredictor is one predictor's entry in DSPy's program.save JSON.
type dspyPredictor struct {
	Traces    []any           `json:"traces"`
	Train     []any           `json:"train"`
	Demos     []Values        `json:"demos"`
	Signature dspySignature   `json:"signature"`
	LM        json.RawMessage `json:"lm"`
}

type dspySignature struct {
	Instructions string      `json:"instructions"`
	Fields       []dspyField `json:"fields"`
}

type dspyField struct {
	Prefix      string `json:"prefix"`
	Description string `json:"description"`
}

// dspyDefaultDesc is the description DSPy gives a field declared without
// one: "${name}".
func dspyDefaultDesc(name string) string { return "${" + name + "}" }

// SaveDSPy writes the learned state of prog in the JSON format of DSPy 3.x's
// program.save("x.json"), so that a DSPy program of the same shape (the
// same predictor names, as DSPy's named_predictors gives them, with the same
// fields) can load it with program.load. The object has one key per
// predictor, in NamedPredictors order:
//
//	{"traces": [], "train": [], "demos": [...],
//	 "signature": {"instructions": "...", "fields": [{"prefix": "Question:", "description": "${question}"}, ...]},
//	 "lm": null}
//
// with the fields listed inputs first, then outputs, each with its prefix
// (DefaultPrefix when unset) and description (DSPy's "${name}" when unset);
// and a "metadata" key holding an empty "dependency_versions" object (DSPy
// compares the versions listed there to its own, and warns on a mismatch).
// The LM is always written as null: no model settings or keys are saved.
func SaveDSPy(w io.Writer, prog any) error {
	nps, err := NamedPredictors(prog)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("{\n")
	for _, np := range nps {
		if np.Name == dspyMetadataKey {
			return fmt.Errorf("programs: SaveDSPy: a predictor named %q clashes with DSPy's metadata key", np.Name)
		}
		sig := np.Predictor.Signature()
		dp := dspyPredictor{Traces: []any{}, Train: []any{}, Demos: np.Predictor.Demos(),
			Signature: dspySignature{Instructions: sig.Instructions()}, LM: json.RawMessage("null")}
		if dp.Demos == nil {
			dp.Demos = []Values{}
		}
		for _, f := range allFields(sig) {
			desc := f.Desc
			if desc == "" {
				desc = dspyDefaultDesc(f.Name)
			}
			dp.Signature.Fields = append(dp.Signature.Fields, dspyField{Prefix: f.Label(), Description: desc})
		}
		if err := writeEntry(&buf, np.Name, dp); err != nil {
			return fmt.Errorf("programs: SaveDSPy: predictor %q: %w", np.Name, err)
		}
		buf.WriteString(",\n")
	}
	meta := map[string]any{"dependency_versions": map[string]string{}}
	if err := writeEntry(&buf, dspyMetadataKey, meta); err != nil {
		return err
	}
	buf.WriteString("\n}\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// writeEntry writes `  "key": value` with value indented as a member of the
// top-level object.
func writeEntry(buf *bytes.Buffer, key string, v any) error {
	k, err := json.Marshal(key)
	if err != nil {
		return err
	}
	var val bytes.Buffer
	enc := json.NewEncoder(&val)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.WriteString("  ")
	buf.Write(k)
	buf.WriteString(": ")
	buf.Write(bytes.TrimRight(val.Bytes(), "\n"))
	return nil
}

// LoadDSPy reads the JSON DSPy 3.x's program.save("x.json") writes and
// returns a copy of prog with it, as Load does for Save's format: each
// predictor gets the saved instructions, field prefixes and descriptions
// ("${name}" meaning no description) and demos (DSPy's bootstrapped demos
// keep their extra keys, such as "augmented"). "traces", "train", "lm" and
// "metadata" are ignored: the LM stays the one prog's predictors have.
//
// As in DSPy's load_state (dspy/primitives/base_module.py and
// dspy/signatures/signature.py at stanfordnlp/dspy 4ed377ee): every
// predictor of prog must have a key in the file, else the error is a
// *ShapeError naming the missing ones; keys prog does not have are ignored;
// DSPy does not save field names, so fields are matched by position
// (inputs, then outputs) as far as both lists go, the rest keeping what
// they had. A predictor saved by DSPy 2.5 or earlier, with an
// "extended_signature" key, is refused with ErrLegacyDSPyState, as DSPy
// 2.6+ refuses it. Demo values are checked against their fields' types, and
// the input's size and demo counts are capped, as Load does.
func LoadDSPy[P any](r io.Reader, prog P, opts ...LoadOption) (P, error) {
	cfg := newLoadConfig(opts)
	var top map[string]json.RawMessage
	if err := decodeState("LoadDSPy", r, cfg, &top); err != nil {
		return prog, err
	}
	if _, ok := top["dspex"]; ok {
		return prog, fmt.Errorf("programs: LoadDSPy: this is a dspex state file; use Load")
	}
	nps, err := NamedPredictors(prog)
	if err != nil {
		return prog, err
	}
	// As DSPy's BaseModule.load_state: every predictor of the program must
	// have saved state; keys the program does not have are ignored.
	var missing, have []string
	for _, np := range nps {
		have = append(have, np.Name)
		if _, ok := top[np.Name]; !ok {
			missing = append(missing, np.Name)
		}
	}
	if len(missing) > 0 {
		return prog, &ShapeError{Reason: "no saved state for " + quoteList(missing) + " (the program has " + quoteList(have) + ")"}
	}
	replace := make(map[string]*Predictor, len(nps))
	for _, np := range nps {
		var legacy struct {
			Extended json.RawMessage `json:"extended_signature"`
		}
		if json.Unmarshal(top[np.Name], &legacy) == nil && legacy.Extended != nil {
			return prog, fmt.Errorf("programs: LoadDSPy: predictor %q: %w", np.Name, ErrLegacyDSPyState)
		}
		var dp dspyPredictor
		dec := json.NewDecoder(bytes.NewReader(top[np.Name]))
		dec.UseNumber()
		if err := dec.Decode(&dp); err != nil {
			return prog, fmt.Errorf("programs: LoadDSPy: predictor %q: %w", np.Name, err)
		}
		if err := checkDemoCount("LoadDSPy", np.Name, len(dp.Demos), cfg); err != nil {
			return prog, err
		}
		sig := np.Predictor.Signature()
		fields := allFields(sig)
		// Fields are matched by position and, as DSPy's zip does, only as
		// far as both lists go: the others keep what they had.
		updates := make([]fieldUpdate, len(fields))
		for i, f := range fields {
			if i < len(dp.Signature.Fields) {
				updates[i] = fromDSPyField(f, dp.Signature.Fields[i])
			} else {
				updates[i] = fieldUpdate{prefix: f.Prefix, desc: f.Desc}
			}
		}
		q, err := restore(np, dp.Signature.Instructions, updates, dp.Demos)
		if err != nil {
			return prog, err
		}
		replace[np.Name] = q
	}
	return WithPredictors(prog, replace)
}

// fromDSPyField maps a saved DSPy field onto f: a prefix equal to the one f
// shows keeps f's own (so an unset prefix stays unset), and "${name}" means
// no description.
func fromDSPyField(f signature.Field, d dspyField) fieldUpdate {
	u := fieldUpdate{prefix: d.Prefix, desc: d.Description}
	if d.Prefix == f.Label() {
		u.prefix = f.Prefix
	}
	if d.Description == dspyDefaultDesc(f.Name) {
		u.desc = ""
	}
	return u
}
