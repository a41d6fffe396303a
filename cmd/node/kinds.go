package main

import (
	"fmt"
	"slices"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// kinds are the program kinds this command's nodes run and its
// coordinator evaluates.
var kinds = map[string]cluster.Constructor{
	"qa-predict": func() (programs.Program, error) {
		return programs.NewPredictFrom(signature.MustParse("question -> answer"))
	},
	"qa-cot": func() (programs.Program, error) {
		return programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))
	},
}

// registerKinds registers the kinds named in only, or all of them when
// only is empty.
func registerKinds(reg *cluster.Registry, only []string) error {
	for _, name := range only {
		if _, ok := kinds[name]; !ok {
			return fmt.Errorf("unknown program kind %q in -kinds", name)
		}
	}
	for name, ctor := range kinds {
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		if err := reg.Register(name, ctor); err != nil {
			return err
		}
	}
	return nil
}
