package serve

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// Kind builds a program of one kind over a signature, with opts (the LM,
// the adapter...) applied to its predictors.
type Kind func(sig signature.Signature, opts ...programs.Option) (programs.StreamProgram, error)

// Kinds returns the built-in program kinds: "predict" (DSPy's Predict)
// and "cot" (ChainOfThought, with a reasoning output). A binary serving
// its own Go modules adds its kinds to this map.
func Kinds() map[string]Kind {
	return map[string]Kind{
		"predict": func(sig signature.Signature, opts ...programs.Option) (programs.StreamProgram, error) {
			return programs.NewPredictFrom(sig, opts...)
		},
		"cot": func(sig signature.Signature, opts ...programs.Option) (programs.StreamProgram, error) {
			return programs.NewChainOfThoughtFrom(sig, opts...)
		},
	}
}

// LoadState returns prog with the learned state in data: dspex's format
// (programs.Save, recognised by its "dspex" key) or DSPy's
// (program.save("x.json") in Python).
func LoadState(data []byte, prog programs.StreamProgram) (programs.StreamProgram, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("serve: saved state is not a JSON object: %w", err)
	}
	if _, ok := top["dspex"]; ok {
		return programs.Load(bytes.NewReader(data), prog)
	}
	return programs.LoadDSPy(bytes.NewReader(data), prog)
}
